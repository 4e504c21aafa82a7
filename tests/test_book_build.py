"""The whole book builds with warnings as errors, and its table of contents mirrors the report's."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_book_builds_without_warnings(book_build):
    # Sphinx writes "WARNING: ..." and "ERROR: ..."; the kernel's own log lines ("WARNING | ...") are not
    # about the book.
    warnings = [line for line in book_build.log.splitlines() if re.search(r"\b(WARNING|ERROR):", line)]
    assert book_build.returncode == 0, book_build.log[-4000:]
    assert warnings == []
    assert (book_build.html / "index.html").is_file()


def toc_files() -> list[str]:
    """The pages of _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


def normalise(text: str) -> str:
    """Heading text without permalink signs, with 'N.' and 'Appendix N:' written as 'N'."""
    text = text.replace("¶", "").replace("#", "").lower()
    text = re.sub(r"^((?:appendix )?[0-9]+(?:\.[0-9a-z]+)*)[.:]?(?=\s|$)", r"\1", text.strip())
    return " ".join(text.replace(":", " ").split())


def report_contents() -> list[dict]:
    with open(ROOT / "data" / "published" / "report_contents.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def headings(html_file: Path, tag: str) -> list[str]:
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article") or soup
    return [normalise(h.get_text(" ")) for h in article.find_all(tag)]


def expected(entry: dict) -> str:
    return normalise(f"{entry['number']} {entry['title']}".strip())


def matches(heading: str, entry: dict) -> bool:
    want = expected(entry)
    return heading == want if entry["title"] else heading.startswith(want)


def test_normalise_handles_report_styles():
    assert normalise("6.3. Attitudes") == "6.3 attitudes"
    assert normalise("Appendix 1: Establishment¶") == "appendix 1 establishment"
    assert normalise("3.1 The establishment#") == "3.1 the establishment"


def test_every_report_section_is_a_heading_in_the_book(built_html):
    pages = [built_html / f"{name}.html" for name in toc_files()]
    titles = {page: headings(page, "h1") for page in pages}
    subtitles = {page: headings(page, "h2") for page in pages}
    missing = []
    for entry in report_contents():
        pool = titles if entry["level"] == "1" else subtitles
        if not any(matches(h, entry) for page in pages for h in pool[page]):
            missing.append(f"{entry['number']} {entry['title']}".strip())
    assert missing == [], f"report sections missing from the book: {missing}"


def test_chapters_come_in_the_reports_order(built_html):
    page_titles = [headings(built_html / f"{name}.html", "h1")[0] for name in toc_files()]
    chapters = [entry for entry in report_contents() if entry["level"] == "1"]
    positions = []
    for entry in chapters:
        found = [i for i, title in enumerate(page_titles) if matches(title, entry)]
        assert found, f"no page titled {expected(entry)!r}"
        positions.append(found[0])
    assert positions == sorted(positions), "pages are not in the report's order"


def test_sections_within_a_page_come_in_the_reports_order(built_html):
    entries = report_contents()
    for index, entry in enumerate(entries):
        if entry["level"] != "1":
            continue
        children = []
        for child in entries[index + 1 :]:
            if child["level"] == "1":
                break
            children.append(child)
        if not children:
            continue
        page = next(
            built_html / f"{name}.html"
            for name in toc_files()
            if any(matches(h, entry) for h in headings(built_html / f"{name}.html", "h1"))
        )
        h2 = headings(page, "h2")
        positions = [next(i for i, h in enumerate(h2) if matches(h, child)) for child in children]
        assert positions == sorted(positions), f"sections of {expected(entry)!r} out of order"
