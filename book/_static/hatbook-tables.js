// Tables of computed results (class hatbook-table): mark the columns of words, so that they are
// left-aligned while numbers stay right-aligned, and put each table in a box of its own that scrolls
// sideways when the table is wider than the text column (hatbook.css draws the edge shadow).
(function () {
  "use strict";
  var NUMBER = /^[−\-+]?[\d.,\s]*\d[\d.,\s]*(%|\s*\(.*\))?$/;
  var MARKER = /^(<\d+|–|n\/a|)$/;

  function isNumber(text) {
    text = text.replace(/\u00a0|\u2009/g, " ").trim();
    return NUMBER.test(text) || MARKER.test(text);
  }

  function markTextColumns(table) {
    var rows = table.tBodies.length ? table.tBodies[0].rows : [];
    var width = 0, words = [], seen = [];
    for (var r = 0; r < rows.length; r++) {
      for (var c = 0; c < rows[r].cells.length; c++) {
        var text = rows[r].cells[c].textContent;
        seen[c] = (seen[c] || 0) + (text.trim() ? 1 : 0);
        if (!isNumber(text)) { words[c] = (words[c] || 0) + 1; }
        width = Math.max(width, c + 1);
      }
    }
    for (var col = 0; col < width; col++) {
      if ((words[col] || 0) * 2 < (seen[col] || 0)) { continue; }
      var cells = table.querySelectorAll("tr > :nth-child(" + (col + 1) + ")");
      for (var i = 0; i < cells.length; i++) { cells[i].classList.add("hatbook-text"); }
    }
  }

  function wrap(table) {
    if (table.parentElement && table.parentElement.classList.contains("hatbook-table-scroll")) { return; }
    var box = document.createElement("div");
    box.className = "hatbook-table-scroll";
    box.setAttribute("role", "region");
    box.setAttribute("tabindex", "0");
    var caption = table.caption ? table.caption.textContent.trim() : "";
    box.setAttribute("aria-label", caption || "Table");
    table.parentNode.insertBefore(box, table);
    if (caption) {
      // the caption is shown above the box, wrapped to the text column; the table keeps it for screen readers
      var shown = document.createElement("p");
      shown.className = "hatbook-table-caption";
      shown.setAttribute("aria-hidden", "true");
      shown.textContent = caption;
      box.parentNode.insertBefore(shown, box);
      table.caption.classList.add("hatbook-visually-hidden");
    }
    box.appendChild(table);
    if (box.scrollWidth > box.clientWidth + 1) { box.classList.add("hatbook-wide"); }
  }

  function run() {
    var tables = document.querySelectorAll("table.hatbook-table");
    for (var i = 0; i < tables.length; i++) {
      markTextColumns(tables[i]);
      wrap(tables[i]);
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
})();

// The contents' expand/collapse toggles (<summary> holding only an icon) get a name a screen reader can
// say, from the entry they open (axe-core, summary-name).
(function () {
  "use strict";
  function name() {
    var toggles = document.querySelectorAll("nav summary, .bd-sidebar summary");
    for (var i = 0; i < toggles.length; i++) {
      var summary = toggles[i];
      if (summary.textContent.trim() || summary.hasAttribute("aria-label")) { continue; }
      var item = summary.closest("li");
      var link = item ? item.querySelector(":scope > a") : null;
      var label = link ? link.textContent.trim() : "";
      summary.setAttribute("aria-label", label ? "Sections of " + label : "Show or hide sections");
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", name); } else { name(); }
})();
