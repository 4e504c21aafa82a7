// A grid of views (concatenated or faceted) wider than its column is redrawn with narrower panels, labels
// and text at full size, until the drawing fits (at most three tries; CSS scales what is still too wide).
// A single view needs none of this: it takes its column's width (charts.responsive).
//
// The one copy of this script. analysis/presentation/charts.py puts it in a chart's inline script, which
// is what a notebook (Jupyter, the executed pages) shows; the book ships it as _static/chart_fit.js
// (book/_static/chart_fit.js links to this file) and book/_static/hatbook-charts.js loads it with Vega.
// Defines one name, hatbookChartFit(box, spec, drawn, options): box the element Vega drew spec into,
// drawn what vegaEmbed returned for it, options vegaEmbed's options.
var hatbookChartFit = (function () {
  "use strict";

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

  function fit(box, spec, drawn, options, tries, factor) {
    var svg = box.querySelector("svg");
    var natural = svg ? parseFloat(svg.getAttribute("width")) : 0, room = box.clientWidth;
    if (!natural || !room || natural <= room + 1 || tries <= 0) { return; }
    factor = factor * room / natural * 0.98;
    drawn.finalize();
    var narrow = narrower(spec, factor), view = (narrow.config || {}).view;
    if (view && typeof view.continuousWidth === "number") {  // panels that take the theme's width
      var width = Math.max(60, Math.floor(view.continuousWidth * factor));
      narrow.config = Object.assign({}, narrow.config, {view: Object.assign({}, view, {continuousWidth: width})});
    }
    window.vegaEmbed(box, narrow, options).then(function (again) { fit(box, spec, again, options, tries - 1, factor); });
  }

  return function (box, spec, drawn, options) { fit(box, spec, drawn, options, 3, 1); };
})();
