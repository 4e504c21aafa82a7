"""The summary pages of a rerun restate the report, with the report's figures.

The executive summary, the summary of section 6, 6.8 and the recommendations retell the report's reading of
its own results and paste the figures from the pages that compute them. In a rerun those pages compute
another edition's figures, and the report's sentences around them ("When 2025 ended ...", "The ratio lies
above the threshold ...") would then say things of numbers they were not written for. So in every edition
but the published one, a summary page keeps the report's sentences and pastes the report's own figures (the
ledger, ``data/published/statistics.csv``), under a note that says so and points to the pages that hold this
edition's figures. Pastes from pages that no rerun changes (section 3's published tables) are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

#: A paste of a glued value from another page: {glue:text}`page.md::key:format`.
_PASTE = re.compile(r"\{glue:text\}`(?P<page>[\w-]+)\.md::(?P<key>\w+)(?::(?P<spec>[^`]*))?`")


def pastes_computed_pages(text: str, computed: set[str]) -> bool:
    """Whether ``text`` pastes a value from one of the ``computed`` pages (page names without suffix)."""
    return any(match.group("page") in computed for match in _PASTE.finditer(text))


def report_figure(value: float, spec: str | None) -> str:
    """The report's ``value`` written with the paste's format spec, a true minus for a negative number."""
    text = format(float(value), spec) if spec else f"{value:g}"
    return "\u2212" + text[1:] if text.startswith("-") else text


def restate(text: str, computed: set[str], ledger, note: str) -> str:
    """``text`` (a MyST page) with every paste from a ``computed`` page replaced by the report's figure
    (``ledger``: the statistics ledger indexed by key, with a ``value`` column) and ``note`` under its title.
    A key the ledger lacks is left as a paste."""

    def figure(match: re.Match) -> str:
        key = match.group("key")
        if match.group("page") not in computed or key not in ledger.index:
            return match.group(0)
        return report_figure(ledger.at[key, "value"], match.group("spec"))

    restated = _PASTE.sub(figure, text)
    lines = restated.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + "\n" + note + "\n" + "".join(lines[i + 1 :])
    return note + "\n" + restated


def note_for(title: str, computed_links: str) -> str:
    """The note put under the title of a restated summary page."""
    return (
        ":::{note}\n"
        "This page gives the report's own reading of its results, with the report's figures (both clinics, "
        "data through "
        f"31 December 2025). The figures of this edition, {title}, are on the pages that compute them: "
        f"{computed_links}.\n"
        ":::\n"
    )


def restate_summaries(book_dir: Path, computed: list[str], title: str, ledger, keep: tuple[str, ...] = ()) -> list[str]:
    """Restate, in place, every page of ``book_dir`` that pastes from a computed page but is not one
    itself nor named in ``keep``; return the names of the pages restated."""
    names = set(computed)
    links = ", ".join(f"{{doc}}`{name}`" for name in computed)
    restated = []
    for page in sorted(Path(book_dir).glob("*.md")):
        if page.stem in names or page.stem in keep:
            continue
        text = page.read_text(encoding="utf-8")
        if pastes_computed_pages(text, names):
            page.write_text(restate(text, names, ledger, note_for(title, links)), encoding="utf-8")
            restated.append(page.stem)
    return restated
