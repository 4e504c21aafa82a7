"""Make the icon fonts of the book: Font Awesome cut down to the icons the theme and the book use.

The theme (pydata-sphinx-theme, under sphinx-book-theme) loads a 1.5 MB script that redraws every
``<i class="fa-...">`` as SVG, and its stylesheet declares the full Font Awesome web fonts (274 KB of
woff2) for the same icons and for its admonition and link marks. The book drops the script
(:mod:`reader`) and ``_static/hatbook-icons.css`` points the font families at the subsets this script
writes into ``book/_static/fonts``:

* the icons named by a class in a built book's pages (``fa-bars``, ``fa-github``, ...), looked up in the
  theme's stylesheet;
* every icon the theme's stylesheets draw by themselves (``--pst-icon-*`` and ``content:`` values in
  Font Awesome's private-use range).

``icons.json`` beside the fonts lists the classes and code points kept; a test checks that every icon
class of a built book is among them, so an icon the theme starts using is not left blank.

Run it with a Python that has fontTools and brotli (``pip install fonttools brotli``), after a build::

    python book/_ext/icon_subset.py _build/html
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "_static" / "fonts"
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
#: Classes that size or style an icon; they name no glyph.
MODIFIERS = {"fa-solid", "fa-regular", "fa-brands", "fa-lg", "fa-xs", "fa-sm", "fa-xl", "fa-fw", "fa-2x", "fa-spin"}
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


def class_codepoints(css: str) -> dict[str, str]:
    """``fa-name`` -> its glyph, from rules such as ``.fa-bars:before{content:"\\f0c9"}``."""
    found = {}
    for selectors, escape in re.findall(r'((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"\\([0-9a-f]+) ?"\}', css):
        for name in re.findall(r"\.(fa-[a-z0-9-]+):before", selectors):
            found[name] = chr(int(escape, 16))
    return found


def used_classes(html: Path) -> set[str]:
    used = set()
    for page in html.rglob("*.html"):
        for attribute in re.findall(r'class="([^"]*)"', page.read_text(encoding="utf-8")):
            used |= set(ICON_CLASS.findall(attribute))
    return used - MODIFIERS


def main(html: Path) -> None:
    from fontTools import subset

    static = html / "_static"
    theme_css = (static / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    book_css = (static / "styles" / "sphinx-book-theme.css").read_text(encoding="utf-8")
    by_class = class_codepoints(theme_css)
    classes = sorted(used_classes(html))
    unknown = [name for name in classes if name not in by_class]
    if unknown:
        sys.exit(f"icon classes not in the theme's stylesheet: {unknown}")
    drawn_by_css = set()
    for value in re.findall(r"--pst-icon-[a-z-]+:\"([^\"]*)\"", theme_css):
        drawn_by_css |= set(PRIVATE_USE.findall(value))
    for value in re.findall(r'content:"([^"]*)"', book_css):
        drawn_by_css |= set(PRIVATE_USE.findall(value))
        drawn_by_css |= {chr(int(e, 16)) for e in re.findall(r"\\(f[0-9a-f]{3})", value)}
    glyphs = sorted({by_class[name] for name in classes} | drawn_by_css)
    FONTS.mkdir(parents=True, exist_ok=True)
    webfonts = static / "vendor" / "fontawesome" / "webfonts"
    for source in ("fa-solid-900", "fa-brands-400"):
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        font = subset.load_font(str(webfonts / f"{source}.woff2"), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(g) for g in glyphs])
        subsetter.subset(font)
        subset.save_font(font, str(FONTS / f"{source}-subset.woff2"), options)
    record = {"classes": classes, "codepoints": [f"{ord(g):x}" for g in glyphs]}
    (FONTS / "icons.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"{len(classes)} classes, {len(glyphs)} glyphs ->", ", ".join(p.name for p in sorted(FONTS.glob("*.woff2"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html"))
