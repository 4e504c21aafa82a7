// Charts (book/_ext/figures.py): each box already holds the chart drawn at build time. Vega (900 KB)
// is loaded only when a chart scrolls into view or a reader points at,
// touches or tabs to it; the chart is then redrawn at its column's width, with tooltips. A grid of views
// wider than its column is redrawn with narrower panels, labels at full size (at most three tries; CSS
// scales what is still too wide).
(function () {
  "use strict";
  var loading = {};

  function load(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (done, fail) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = done;
        script.onerror = function () { fail(new Error("could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  function narrower(part, factor) {
    if (Array.isArray(part)) { return part.map(function (p) { return narrower(p, factor); }); }
    if (!part || typeof part !== "object") { return part; }
    var out = {};
    Object.keys(part).forEach(function (key) {
      var value = part[key];
      if (key === "data" || key === "datasets" || key === "config") { out[key] = value; }
      else if (key === "width" && typeof value === "number") { out[key] = Math.max(60, Math.floor(value * factor)); }
      else { out[key] = narrower(value, factor); }
    });
    return out;
  }

  var OPTIONS = {actions: false, renderer: "svg"};

  function fit(box, spec, drawn, tries, factor) {
    var svg = box.querySelector("svg");
    var natural = svg ? parseFloat(svg.getAttribute("width")) : 0, room = box.clientWidth;
    if (!natural || !room || natural <= room + 1 || tries <= 0) { return; }
    factor = factor * room / natural * 0.98;
    drawn.finalize();
    var narrow = narrower(spec, factor), view = (narrow.config || {}).view;
    if (view && typeof view.continuousWidth === "number") {  // panels that take the theme's width
      narrow.config = Object.assign({}, narrow.config, {view: Object.assign({}, view, {continuousWidth: Math.max(60, Math.floor(view.continuousWidth * factor))})});
    }
    window.vegaEmbed(box, narrow, OPTIONS).then(function (again) { fit(box, spec, again, tries - 1, factor); });
  }

  function draw(box) {
    if (box.hatbookDrawing) { return; }
    box.hatbookDrawing = true;
    load(box.getAttribute("data-hatbook-vega"))
      .then(function () {
        var spec = JSON.parse(document.getElementById(box.getAttribute("data-hatbook-spec")).textContent);
        spec.background = "transparent";  // the page's colours show through (dark mode)
        var still = box.querySelector(".hatbook-chart-static");
        box.style.minHeight = box.offsetHeight + "px";  // no jump while the drawing is swapped
        if (still) { still.remove(); }
        return window.vegaEmbed(box, spec, OPTIONS).then(function (drawn) {
          box.style.minHeight = "";
          box.classList.add("hatbook-chart-live");
          if (box.hasAttribute("data-hatbook-grid")) { fit(box, spec, drawn, 3, 1); }
        });
      })
      .catch(function (error) {
        box.hatbookDrawing = false;  // the drawing made at build time stays
        if (window.console) { console.warn(error.message || error); }
      });
  }

  function run() {
    var boxes = document.querySelectorAll(".hatbook-chart[data-hatbook-spec]");
    var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { seen.unobserve(entry.target); draw(entry.target); }
      });
    }) : null;
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      ["pointerenter", "touchstart", "focusin"].forEach(function (event) {
        box.addEventListener(event, function () { draw(this); }, {once: true, passive: true});
      });
      if (seen) { seen.observe(box); } else { draw(box); }
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
})();
