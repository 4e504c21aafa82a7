// Charts (book/_ext/figures.py): each box already holds the chart drawn at build time, named by the chart's
// description and described by its caption, so a reader who scrolls reads the drawing and the page loads
// nothing more. Vega (900 KB) is loaded only when a reader interacts with a chart: points at it, touches it
// or tabs to it (the box is made focusable for that); scrolling loads nothing. The chart is then redrawn
// at its column's width, with tooltips. A grid of views wider than its column is redrawn with narrower
// panels, labels at full size, by _static/chart_fit.js (analysis/presentation/chart_fit.js, the script
// a notebook's chart also runs), loaded with Vega for such a grid.
(function () {
  "use strict";
  var loading = {};
  var OPTIONS = {actions: false, renderer: "svg"};
  var EVENTS = ["pointerenter", "touchstart", "focusin"];

  function load(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (done, fail) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = done;
        script.onerror = function () {
          delete loading[src];  // tried again at the next interaction
          fail(new Error("could not load " + src));
        };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  function draw(box) {
    if (box.hatbookDrawing) { return; }
    box.hatbookDrawing = true;
    var vega = box.getAttribute("data-hatbook-vega"), grid = box.hasAttribute("data-hatbook-grid");
    // the fitting script sits beside the Vega bundle in _static
    var scripts = [load(vega)].concat(grid ? [load(vega.replace(/[^\/]*$/, "chart_fit.js"))] : []);
    Promise.all(scripts)
      .then(function () {
        var spec = JSON.parse(document.getElementById(box.getAttribute("data-hatbook-spec")).textContent);
        spec.background = "transparent";  // the page's colours show through (dark mode)
        var still = box.querySelector(".hatbook-chart-static");
        box.style.minHeight = box.offsetHeight + "px";  // no jump while the drawing is swapped
        if (still) { still.remove(); }
        return window.vegaEmbed(box, spec, OPTIONS).then(function (drawn) {
          box.style.minHeight = "";
          box.classList.add("hatbook-chart-live");
          EVENTS.forEach(function (event) { box.removeEventListener(event, interact); });
          if (grid) { window.hatbookChartFit(box, spec, drawn, OPTIONS); }
        });
      })
      .catch(function (error) {
        box.hatbookDrawing = false;  // the drawing made at build time stays
        if (window.console) { console.warn(error.message || error); }
      });
  }

  function interact() { draw(this); }

  function run() {
    var boxes = document.querySelectorAll(".hatbook-chart[data-hatbook-spec]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); }  // reached by the keyboard
      EVENTS.forEach(function (event) { box.addEventListener(event, interact, {passive: true}); });
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
})();
