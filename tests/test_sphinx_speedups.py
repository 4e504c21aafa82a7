"""hatbook/sphinx_speedups.py leaves a book byte for byte as Sphinx makes it: a small book in the book's theme,
with parts, a nested chapter, a page in a subfolder and a page outside the table of contents, built once by
Sphinx alone and once with the speed-ups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PAGES = {
    "conf.py": 'html_theme = "sphinx_book_theme"\nextensions = []\nproject = "Small"\n',
    "index.rst": """Small book
==========

.. toctree::
   :caption: Front

   a

.. toctree::
   :caption: Results

   b
   sub/c
""",
    "a.rst": "A\n=\n\nText of a.\n",
    "b.rst": "B\n=\n\nText of b.\n\n.. toctree::\n\n   b1\n   b2\n",
    "b1.rst": "B one\n=====\n\nSection\n-------\n\nText.\n",
    "b2.rst": "B two\n=====\n\nText.\n",
    "sub/c.rst": "C\n=\n\nText of c, one folder down.\n",
    "outside.rst": ":orphan:\n\nOutside\n=======\n\nIn no table of contents.\n",
}

BUILD = """
import sys
from sphinx.application import Sphinx
from hatbook import sphinx_speedups
if sys.argv[3] == "fast":
    sphinx_speedups.install()
app = Sphinx(sys.argv[1], sys.argv[1], sys.argv[2], sys.argv[2] + "/.doctrees", "html", status=None, warningiserror=True)
app.build()
print(len(getattr(app.builder, "_hatbook_toctrees", {})))
"""


def build(source: Path, out: Path, how: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(source), str(out), how], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_the_speedups_change_no_byte(tmp_path):
    source = tmp_path / "src"
    for name, text in PAGES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    assert build(source, tmp_path / "plain", "plain") == 0
    kept = build(source, tmp_path / "fast", "fast")
    assert kept == 2  # one tree for the pages of the top folder, one for those of sub/: the quick way was taken
    pages = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*.html"))
    assert {p.as_posix() for p in pages} >= {"index.html", "a.html", "b1.html", "sub/c.html", "outside.html"}
    for page in pages:
        plain = (tmp_path / "plain" / page).read_bytes()
        assert (tmp_path / "fast" / page).read_bytes() == plain, page
    # the pages do differ in what the speed-up marks: each its own entry, with the branches above it
    b1 = (tmp_path / "fast" / "b1.html").read_text(encoding="utf-8")
    assert 'class="current reference internal" href="#">B one</a>' in b1
    assert 'class="toctree-l1 current active has-children"' in b1
    c = (tmp_path / "fast" / "sub" / "c.html").read_text(encoding="utf-8")
    assert 'href="../b1.html"' in c and 'class="current reference internal" href="#">C</a>' in c
