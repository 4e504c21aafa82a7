"""The PDF edition: the whole book as one PDF, through Jupyter Book's LaTeX builder and xelatex.

``make pdf`` (``python -m hatbook.pdf --strict``) builds the published edition into
``_build/pdf/<name>.pdf``; ``hatbook rerun --pdf`` calls :func:`build_pdf` on a variant's sources. The
LaTeX side of the book (tables from HTML outputs, chart sizes, title page, no running figure numbers) is
``book/_ext/pdf_edition.py`` and ``book/_static/latex/``.

The build runs in a work folder of its own (never the HTML build's), in two steps: Sphinx writes the
LaTeX (executing the notebooks, with a cache of its own), then ``make all-pdf`` in the LaTeX folder runs
latexmk with xelatex and xindy. The PDF replaces the previous one only when both steps succeeded.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from hatbook import jupyter_book_command

ROOT = Path(__file__).resolve().parent.parent

#: Debian packages that give xelatex, latexmk, xindy and the fonts the LaTeX builder uses.
DEBIAN_PACKAGES = [
    "texlive-xetex",
    "texlive-latex-extra",
    "texlive-fonts-recommended",
    "latexmk",
    "xindy",
    "fonts-freefont-otf",
]
TOOLS = ["xelatex", "latexmk", "xindy", "make"]
FONTS = ["FreeSerif", "FreeSans", "FreeMono"]  # Sphinx's default fonts for xelatex

PUBLISHED_EDITION = "Published edition"
#: Folders whose content the notebooks read: when it changes, cached notebook outputs are stale.
INPUT_FOLDERS = ["data", "analysis", "synthetic"]


class PdfError(RuntimeError):
    """The PDF could not be built; the message says why (and what to install, when a tool is missing)."""


def install_hint() -> str:
    packages = " ".join(DEBIAN_PACKAGES)
    return (
        "The PDF edition needs TeX Live with xelatex, latexmk and xindy, and the FreeFont fonts. "
        f"On Debian or Ubuntu: `make pdf-deps` (that is: sudo apt-get install {packages}). "
        "Elsewhere, install a TeX Live distribution that includes XeLaTeX and latexmk, and the GNU FreeFont fonts."
    )


def missing_tools() -> list[str]:
    """The programs and fonts the PDF build needs that this machine lacks."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
        missing += [f"font {font}" for font in FONTS if font not in listed]
    return missing


def check_tools() -> None:
    missing = missing_tools()
    if missing:
        raise PdfError(f"cannot build the PDF: missing {', '.join(missing)}.\n{install_hint()}")


# --- configuration --------------------------------------------------------------------------------------


def book_title(source_dir: Path, config: dict) -> str:
    """The report's title: the first heading of the book's root page (else the configured title)."""
    try:
        toc = yaml.safe_load((source_dir / "_toc.yml").read_text(encoding="utf-8"))
        root = source_dir / f"{toc['root']}.md"
        for line in root.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    return str(config.get("title", "")).strip()


def document_name(config: dict) -> str:
    """The PDF's file name without suffix, from ``latex.latex_documents.targetname`` (``hat-evaluation``)."""
    target = ((config.get("latex") or {}).get("latex_documents") or {}).get("targetname", "book.tex")
    return Path(target).stem


def data_source_text(edition_title: str | None) -> str | None:
    """The title page's note on the data; ``None`` keeps the published edition's note (pdf_edition.py)."""
    if edition_title is None:
        return None
    return (
        "This rerun's statistics are recomputed by the book's code from the report's published tables "
        "(data/published) and from patient-level data with the schema of the evaluation's records: the "
        "bundled synthetic cohort (data/synthetic), an artificial data set calibrated to the report's "
        "figures, unless the edition named above gives another data folder. The book's first page states "
        "the data, the last year included and the rules that protect small counts."
    )


def pdf_config(
    source_dir: Path,
    *,
    title: str | None,
    edition: str | None,
    data_source: str | None,
    execution_cache: Path | None,
) -> dict:
    """The source's ``_config.yml`` with the PDF edition's settings."""
    config = yaml.safe_load((source_dir / "_config.yml").read_text(encoding="utf-8")) or {}
    latex = config.setdefault("latex", {}) or {}
    config["latex"] = latex
    latex["latex_engine"] = "xelatex"
    documents = latex.setdefault("latex_documents", {}) or {}
    latex["latex_documents"] = documents
    documents.setdefault("targetname", "book.tex")
    documents["title"] = book_title(source_dir, config)
    sphinx = config.setdefault("sphinx", {}) or {}
    config["sphinx"] = sphinx
    # the configuration is written elsewhere, and Jupyter Book reads extension folders relative to it
    local = sphinx.get("local_extensions") or {}
    for extension, path in list(local.items()):
        local[extension] = str((source_dir / path).resolve())
    settings = sphinx.setdefault("config", {}) or {}
    sphinx["config"] = settings
    settings["hatbook_pdf_edition"] = edition or title or PUBLISHED_EDITION
    text = data_source or data_source_text(title)
    if text:
        settings["hatbook_pdf_data_source"] = text
    if execution_cache is not None:
        config.setdefault("execute", {})["cache"] = str(execution_cache)
    return config


def prepare_work(work: Path, config: dict, config_name: str, source_dir: Path, execution_cache, log, what: str):
    """Write a build's configuration into its work folder and clear the folder's own execution cache when
    the data or the analysis changed since it was made (notebook outputs are then stale); returns the
    configuration file, the digest file and the current digest (written there after a good build)."""
    config_file = work / config_name
    config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    digest_file = work / ".inputs-digest"
    digest = inputs_digest(source_dir)
    if execution_cache is None and digest_file.exists() and digest_file.read_text().strip() != digest:
        log(f"data or analysis code changed: clearing {what} execution cache")
        # Sphinx's saved environment too: otherwise it re-reads (and re-executes) only changed sources
        shutil.rmtree(work / "_build" / ".jupyter_cache", ignore_errors=True)
        shutil.rmtree(work / "_build" / ".doctrees", ignore_errors=True)
    return config_file, digest_file, digest


def inputs_digest(source_dir: Path) -> str:
    """A digest of the files the notebooks read (see the Makefile's DIGEST for the HTML book)."""
    digest = hashlib.sha256()
    for folder in INPUT_FOLDERS:
        base = source_dir / folder
        if not base.is_dir():
            continue
        for path in sorted(
            p for p in base.rglob("*") if p.is_file() and p.suffix != ".pyc" and "__pycache__" not in p.parts
        ):
            digest.update(path.relative_to(source_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --- build ----------------------------------------------------------------------------------------------


def _latex_errors(log_file: Path, limit: int = 12) -> str:
    """The error lines of a LaTeX log ("! ..." and the two lines after each)."""
    if not log_file.exists():
        return ""
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            found.extend(lines[i : i + 3])
    return "\n".join(found[: limit * 3])


def build_pdf(
    source_dir: str | Path,
    output_dir: str | Path,
    title: str | None = None,
    *,
    edition: str | None = None,
    data_source: str | None = None,
    work_dir: str | Path | None = None,
    execution_cache: str | Path | None = None,
    strict: bool = False,
    log=print,
) -> Path:
    """Build the book in ``source_dir`` as one PDF, ``output_dir/<name>.pdf``; return its path.

    ``title`` names the edition on the title page: ``None`` for the published edition, or a rerun's
    title ("Bergen, data through 2023: ..."); ``edition`` and ``data_source`` override the title
    page's edition line and its note on the data. ``work_dir`` holds the LaTeX build and its notebook
    cache (default: ``output_dir/.work``); ``execution_cache`` points the notebook execution at
    another cache (e.g. the HTML build's, to avoid executing the pages twice). ``strict`` treats
    Sphinx warnings as errors, as ``make book`` does. Raises :class:`PdfError` when a tool is missing
    or a step fails; the previous PDF stays in place then.
    """
    check_tools()
    source_dir = Path(source_dir).resolve()
    output_dir = Path(output_dir).resolve()
    work = Path(work_dir).resolve() if work_dir else output_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)

    config = pdf_config(
        source_dir,
        title=title,
        edition=edition,
        data_source=data_source,
        execution_cache=Path(execution_cache).resolve() if execution_cache else None,
    )
    name = document_name(config)
    config_file, digest_file, digest = prepare_work(
        work, config, "_config.pdf.yml", source_dir, execution_cache, log, "the PDF build's"
    )

    started = time.perf_counter()
    command = [
        jupyter_book_command(),
        "build",
        str(source_dir),
        "--builder",
        "latex",
        "--config",
        str(config_file),
        "--path-output",
        str(work),
        "-n",
        "--keep-going",
    ]
    if strict:
        command.append("-W")
    log("writing the LaTeX (Jupyter Book, LaTeX builder)")
    done = subprocess.run(command, cwd=source_dir, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    (work / "sphinx.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        problems = [
            line for line in (done.stdout + done.stderr).splitlines() if re.search(r"\b(WARNING|ERROR):|Error", line)
        ]
        raise PdfError(
            f"the LaTeX build failed (exit {done.returncode}); log: {work / 'sphinx.log'}\n" + "\n".join(problems[-25:])
        )
    digest_file.write_text(digest + "\n")
    latex_dir = work / "_build" / "latex"
    sphinx_seconds = time.perf_counter() - started

    log("typesetting the PDF (latexmk, xelatex)")
    # a fresh run each time: latexmk's state from a failed run can make it skip steps
    for stale in latex_dir.glob(f"{name}.*"):
        if stale.suffix not in (".tex",):
            stale.unlink()
    env = dict(os.environ, LATEXOPTS="-interaction=nonstopmode -halt-on-error")
    typeset = subprocess.run(
        ["make", "-C", str(latex_dir), "all-pdf"], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env
    )
    (work / "latex.log").write_text(typeset.stdout + typeset.stderr, encoding="utf-8")
    built = latex_dir / f"{name}.pdf"
    if typeset.returncode != 0 or not built.exists():
        raise PdfError(
            f"xelatex failed (exit {typeset.returncode}); logs: {work / 'latex.log'}, {latex_dir / (name + '.log')}\n"
            + _latex_errors(latex_dir / f"{name}.log")
        )
    target = output_dir / f"{name}.pdf"
    partial = output_dir / f".{name}.pdf.partial"
    shutil.copy2(built, partial)
    partial.replace(target)
    total = time.perf_counter() - started
    log(
        f"PDF built in {total:.0f} s (LaTeX writing {sphinx_seconds:.0f} s, "
        f"typesetting {total - sphinx_seconds:.0f} s): {target}"
    )
    return target


def book_folder(source: str | Path, error=RuntimeError) -> Path:
    """``source`` as a resolved path when it is a book's folder (with ``_config.yml`` and ``_toc.yml``);
    otherwise raises ``error`` with a message naming the folder and what it lacks."""
    folder = Path(source).resolve()
    if not folder.is_dir():
        raise error(f"{folder}: the book's folder was not found (--source)")
    missing = [name for name in ("_config.yml", "_toc.yml") if not (folder / name).is_file()]
    if missing:
        raise error(f"{folder}: not a book's folder (--source): no {' and no '.join(missing)}")
    return folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hatbook pdf`` (and ``python -m hatbook.pdf``)."""
    parser.add_argument(
        "--source",
        default=str(ROOT),
        metavar="DIR",
        help="the book's folder, with _config.yml and _toc.yml (default: this repository)",
    )
    parser.add_argument(
        "--output",
        default=str(ROOT / "_build" / "pdf"),
        metavar="DIR",
        help="folder the PDF is written to (default: _build/pdf)",
    )
    parser.add_argument(
        "--work",
        default=None,
        metavar="DIR",
        help="folder for the LaTeX build and its notebook cache (default: OUTPUT/.work)",
    )
    parser.add_argument(
        "--title", default=None, help="a rerun's title for the title page (default: the published edition)"
    )
    parser.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors, as make book does")
    parser.add_argument(
        "--check", action="store_true", help="only check that TeX Live and the fonts are installed, build nothing"
    )


DESCRIPTION = (
    "Build the whole book as one PDF (Jupyter Book's LaTeX builder, then xelatex), into OUTPUT/<name>.pdf. "
    "Needs TeX Live with xelatex, latexmk and xindy, and the FreeFont fonts (make pdf-deps installs them on "
    "Debian or Ubuntu). The previous PDF is replaced only when the build succeeds. Exit status: 0 built, "
    "2 when a tool is missing, the book's folder is not one, or the build fails (the message says which)."
)


def run(args: argparse.Namespace) -> int:
    """Carry out ``hatbook pdf`` with parsed options; the exit status."""
    try:
        if args.check:
            check_tools()
            print("xelatex, latexmk, xindy and the FreeFont fonts are installed")
            return 0
        source = book_folder(args.source, PdfError)
        build_pdf(source, args.output, args.title, work_dir=args.work, strict=args.strict)
    except PdfError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m hatbook.pdf``: the same as ``hatbook pdf``."""
    parser = argparse.ArgumentParser(prog="python -m hatbook.pdf", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
