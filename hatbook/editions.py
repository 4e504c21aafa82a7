"""Checks that hold for every edition: what a reader of any variant must never see.

:func:`stray_in_notebook` reads an executed page and :func:`stray_in_text` the text of a built page, and
each returns what should not have reached a reader: warnings and prints of libraries, bare cell values,
``nan``/``NaT``/``None``, floats with more digits than any statistic has, p-values in e-notation, years
after the edition's data end in its prose, and (outside the published edition) comparisons with the
report's prints.

    python -m hatbook.editions try --clinic Bergen --year 2022 [--data DIR] [--page ch06_7_cost_utility]

executes the computed pages of one edition (without building the book: a quick check while working) and
prints, page by page, whether it ran and what stray output it left; exit status 1 when anything is found.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

#: Output MIME types that are a table, a chart or a glued value, not a bare value.
_SHOWN_TYPES = ("text/html", "text/markdown", "image/png", "image/svg+xml", "application/vnd.vegalite")
#: Words a reader must never see as a value.
_RAW_WORDS = re.compile(r"(?<![\w-])(nan|NaN|NaT|<NA>|inf|-inf)(?![\w-])|(?<![\w-])None(?=\s*([,;:)\]|]|$))")
#: A float written with more digits than any statistic of the book has.
_LONG_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{7,}(?![\w.])")
#: A number in e-notation (a p-value as 9.41e-08).
_E_NOTATION = re.compile(r"(?<![\w.])\d+(\.\d+)?e[-+]\d{2,3}(?![\w])")
#: Text of a library warning or error.
_LIBRARY_NOISE = re.compile(
    r"(Warning:|Traceback \(most recent call last\)|ConvergenceWarning|RuntimeWarning|"
    r"optimization failed to converge|\|grad\||Error:)"
)
#: A unit written after a value that is not there ("n/a %", "– %").
_UNIT_AFTER_MARKER = re.compile(r"(?<![\w/])(n/a|–)\s?%")
#: The heading of the comparison with the report's prints.
COMPARISON_HEADING = "Checked against the report"


def stray_in_notebook(notebook) -> list[str]:
    """What an executed notebook (an ``nbformat`` node) shows that no reader should see."""
    found = []
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                text = "".join(output.get("text", "")).strip()
                if text:
                    found.append(f"cell {number}: printed to {output.get('name')}: {text[:160]!r}")
            elif kind == "error":
                found.append(f"cell {number}: error {output.get('ename')}: {output.get('evalue')}")
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                glued = bool(output.get("metadata", {}).get("scrapbook"))
                if glued:
                    # a glued number is formatted where the prose pastes it; a glued table, sentence or
                    # text is shown as it is, so it is read like any other output
                    prefix = "application/papermill.record/"
                    data = {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in data.items()}
                    plain = "".join(data.get("text/plain", ""))
                    if plain.startswith(("'", '"')):
                        for problem in _text_problems(plain.strip("'\"")):
                            found.append(f"cell {number}: glued text: {problem}")
                elif not any(k in data for k in _SHOWN_TYPES) and "text/plain" in data:
                    text = "".join(data["text/plain"]).strip()
                    found.append(f"cell {number}: bare value {text[:80]!r}")
                for kind_ in ("text/html", "text/markdown"):
                    text = "".join(data.get(kind_, ""))
                    for problem in _text_problems(_visible(text)):
                        found.append(f"cell {number}: {problem}")
    return found


def _visible(markup: str) -> str:
    """The text of HTML a reader sees: no tags, no scripts or styles, no chart specifications."""
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?s)<[^>]+>", " ", markup)
    return re.sub(r"\s+", " ", markup)


def _text_problems(text: str) -> list[str]:
    problems = []
    for pattern, what in (
        (_RAW_WORDS, "raw value"),
        (_LONG_FLOAT, "float with too many digits"),
        (_E_NOTATION, "number in e-notation"),
        (_LIBRARY_NOISE, "library message"),
        (_UNIT_AFTER_MARKER, "unit after a missing or withheld value"),
    ):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 50)
            problems.append(f"{what} {match.group(0)!r} in …{text[start : match.end() + 50]}…")
    return problems


def prose_of_page(html_text: str) -> str:
    """The prose of a built page: its article, without code cells, their outputs, tables' source or
    scripts (what a reader reads as text)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    article = soup.find("article") or soup
    for node in article.select("script, style, div.cell_input, div.highlight, .bd-toc, nav, pre"):
        node.decompose()
    # a citation's year ("Garratt et al., 2025") is the year of a source, not a statement about the data
    for node in article.select('a[href*="references.html"]'):
        node.decompose()
    return re.sub(r"\s+", " ", article.get_text(" "))


def stray_in_text(text: str, *, last_year: int | None = None, published: bool = True) -> list[str]:
    """What the visible text of a built page shows that no reader should see (see the module docstring).

    ``last_year``: a year after it in the prose is an error unless the sentence marks it as the report's
    (the reruns' banner and the comparison with the report's text may name 2025)."""
    problems = _text_problems(text)
    if not published and COMPARISON_HEADING in text:
        problems.append(f"a comparison with the report's prints ({COMPARISON_HEADING!r}) outside the published edition")
    if last_year is not None:
        # years of the pilot after the data end; a sentence about the report's own data ("The report, with
        # data through 2025, found ...") and a price year ("in 2023 NOK") may name them
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if re.search(r"\breport", sentence, re.IGNORECASE):
                continue
            for match in re.finditer(r"\b(202[2-5])\b(?!\s*(NOK|prices|kroner))", sentence):
                if int(match.group(1)) > last_year:
                    start = max(0, match.start() - 60)
                    problems.append(
                        f"year {match.group(1)} after the data end in …{sentence[start : match.end() + 40]}…"
                    )
    return problems


# --- trying an edition's pages ---------------------------------------------------------------------------


def try_edition(variant, pages: list[str] | None = None, *, jobs: int = 2, keep: Path | None = None, log=print) -> dict:
    """Execute the computed pages of ``variant`` (a :class:`hatbook.rerun.Variant`) without building the
    book; return {page: {"ok": bool, "error": str, "stray": [...], "glued": {...}}}."""
    import nbformat

    from hatbook.rerun import PageFailed, PagePool, computed_pages, glued_values, stage_sources

    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="hatbook-try-"))
    if work.exists():
        shutil.rmtree(work)
    source = stage_sources(variant, work)
    chosen = [p for p in computed_pages(source / "book") if not pages or p.stem in pages]
    results: dict[str, dict] = {}
    # one kernel per job, running its pages one after another (the rerun engine's kernels)
    pool = PagePool(jobs, source / "book")
    for page, outcome in pool.run([(page, variant) for page in chosen]):
        if isinstance(outcome, PageFailed):
            results[page.stem] = {"ok": False, "error": str(outcome), "stray": [], "glued": {}}
            log(f"{page.stem}: FAILED\n  {str(outcome).replace(chr(10), chr(10) + '  ')}")
            continue
        node = nbformat.read(outcome, as_version=4)
        stray = stray_in_notebook(node)
        results[page.stem] = {"ok": True, "error": "", "stray": stray, "glued": glued_values(outcome)}
        log(
            f"{page.stem}: ran in {pool.seconds.get(page.stem, 0):.0f} s"
            + (f", {len(stray)} stray output(s)" if stray else ", clean")
        )
        for line in stray:
            log(f"  {line}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hatbook.editions")
    sub = parser.add_subparsers(dest="command", required=True)
    trial = sub.add_parser("try", help="execute one edition's computed pages and report stray output")
    trial.add_argument("--clinic", default="all")
    trial.add_argument("--year", type=int, default=2025)
    trial.add_argument("--data", type=Path, default=None)
    trial.add_argument("--threshold", type=int, default=5)
    trial.add_argument("--page", action="append", help="a page name (repeatable); default: every computed page")
    trial.add_argument("--jobs", type=int, default=2)
    trial.add_argument("--keep", type=Path, default=None, help="keep the executed notebooks in this folder")
    trial.add_argument("--json", type=Path, default=None, help="write the results (with glued values) here")
    args = parser.parse_args(argv)
    from hatbook.rerun import Variant

    variant = Variant(args.clinic, args.year, args.data.resolve() if args.data else None, args.threshold)
    results = try_edition(variant, args.page, jobs=args.jobs, keep=args.keep)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    bad = [name for name, r in results.items() if not r["ok"] or r["stray"]]
    print(
        f"{len(results) - len(bad)} of {len(results)} pages clean"
        + (f"; not clean: {', '.join(sorted(bad))}" if bad else "")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
