"""Layer 3, what a reader sees: numbers in words (``formats``), charts (``charts``, ``cea_charts``), disclosure
control (``disclosure``, ``linked_suppression``), the card of glued statistics and its comparison with the report
(``scorecard``) and the edition a page is computed for (``edition``). Imports the data and methods layers only."""
