"""Sphinx extension: what a reader meets first, and what every page carries and loads.

* ``{hatbook-share-reproduced}``: the share of the computed ledger statistics that match the report's
  print (the landing page's key figure), from the same glue data as the scorecard page
  (:func:`analysis.presentation.scorecard.collect`); a rerun compares nothing with the report and says so.
* ``{hatbook-pdf-link}``: a link to the PDF edition when the build has one beside the HTML book
  (``make pdf`` writes ``_build/pdf/hat-evaluation.pdf``), otherwise the sentence that says how to make it.
  Both placeholders are filled once every page has been read, and their pages are read again on every
  build, since other pages (or the PDF) feed them.
* **Light pages.** MathJax is loaded only by pages with mathematics, and then as the components the
  book's TeX needs (:data:`MATHJAX_COMPONENTS`: the loader, TeX input with its autoloading packages,
  HTML-CSS output and the assistive MathML that screen readers read; 140 KB gzipped) rather than the
  combined ``tex-chtml.js`` (264 KB, most of it the right-click menu); the theme's 1.5 MB icon script
  (``fontawesome.js``, which redraws each icon as SVG) is dropped from every page: the theme's stylesheet
  draws the same icons from its web fonts, and ``hatbook-icons.css`` points those fonts at a subset of
  the icons the book uses (``book/_static/fonts``, made by ``python book/_ext/icon_subset.py``).
* **Shared links and citation.** Each page gets a description and Open Graph tags (title, description,
  site name, type), so that a link shared in a message or a post shows what the page is; the footer
  names the version, the commit and the date of the build, the licence, how to cite and the changelog.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from html import escape
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
MATHJAX = re.compile(r"mathjax", re.IGNORECASE)
FONTAWESOME_SCRIPT = re.compile(r'\s*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>')
#: Marks of mathematics in a page's body: MyST's math roles and blocks, and TeX delimiters in outputs.
MATH_MARKS = ('class="math', "\\(", "\\[", "$$", "\\begin{")
DESCRIPTION_LENGTH = 200
#: MathJax's loader, and the components it fetches from the same folder (their dependencies, such as
#: the core, follow); TeX packages not in input/tex are autoloaded when a formula uses them.
MATHJAX_STARTUP = "mathjax/startup.js"
MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]


class share_node(nodes.General, nodes.Element):
    """Placeholder for the share of the report reproduced."""


class pdf_node(nodes.General, nodes.Element):
    """Placeholder for the link to the PDF edition."""


class _Placeholder(SphinxDirective):
    has_content = False
    node_class: type = nodes.Element

    def run(self):
        self.env.metadata[self.env.docname]["hatbook_reader_placeholder"] = True
        return [self.node_class()]


class ShareDirective(_Placeholder):
    node_class = share_node


class PdfDirective(_Placeholder):
    node_class = pdf_node


def is_rerun(app) -> bool:
    """A rerun build loads the marks extension (book/_ext/rerun_marks.py, added by hatbook/rerun.py); the
    published build does not."""
    return "rerun_marks" in app.extensions


def share_text(app) -> str:
    if is_rerun(app):
        return "not compared"
    from analysis.presentation.scorecard import collect

    card = collect(Path(app.outdir).parent / "jupyter_execute")
    if card.empty:
        return "n/a"
    from analysis.presentation.formats import percent

    return percent(100 * card.within_precision.mean(), 1)


def pdf_paragraph(app, docname: str) -> nodes.paragraph:
    paragraph = nodes.paragraph(classes=["hatbook-pdf-link"])
    found = sorted((Path(app.outdir).parent / "pdf").glob("*.pdf")) if app.builder.format == "html" else []
    if found:
        href = os.path.relpath(found[0], Path(app.outdir) / Path(docname).parent).replace(os.sep, "/")
        paragraph += nodes.Text("The whole book is also a PDF, for printing and filing: ")
        paragraph += nodes.reference("", found[0].name, refuri=href)
        paragraph += nodes.Text(".")
    else:
        paragraph += nodes.Text("The whole book can also be made as one PDF, for printing and filing: ")
        paragraph += nodes.literal(text="make pdf")
        paragraph += nodes.Text(" builds it into ")
        paragraph += nodes.literal(text="_build/pdf")
        paragraph += nodes.Text(", beside this HTML book, and this page then links to it.")
    return paragraph


REPOSITORY = "https://github.com/seraf-uio/hat-evaluation-executable"
EDITION_TITLE = "Evaluation of heroin-assisted treatment in Norway: an executable edition"


def citation_texts(app) -> tuple[str, str]:
    """The edition's citation as plain text and as BibTeX, with this build's version, commit and date."""
    number, commit, day = version() or "unversioned", _git("rev-parse", "--short", "HEAD"), build_date()
    release = f"version {number}" + (f", commit {commit}" if commit else "")
    url = (app.config.html_baseurl or "").rstrip("/") or REPOSITORY
    plain = (
        f"Executable-edition team ({day[:4]}). {EDITION_TITLE} ({release}, built {day}). "
        "After Eide D, Melis F, Bjørnstad R, et al. Evaluation of heroin-assisted treatment in Norway. "
        f"Oslo: Norwegian Centre for Addiction Research (SERAF), University of Oslo; 2026. {url}"
    )
    bibtex = "\n".join(
        [
            "@misc{hatbook_executable_edition,",
            "  author       = {{Executable-edition team}},",
            f"  title        = {{{EDITION_TITLE}}},",
            f"  year         = {{{day[:4]}}},",
            f"  version      = {{{number}}},",
            f"  note         = {{{release}, built {day}; after Eide et al., SERAF, University of Oslo, 2026}},",
            f"  howpublished = {{\\url{{{url}}}}},",
            "}",
        ]
    )
    return plain, bibtex


class CitationDirective(SphinxDirective):
    """The citation of this build, as plain text and BibTeX (read again on every build)."""

    has_content = False

    def run(self):
        self.env.metadata[self.env.docname]["hatbook_reader_placeholder"] = True
        plain, bibtex = citation_texts(self.env.app)
        quote = nodes.paragraph(text=plain, classes=["hatbook-citation"])
        block = nodes.literal_block(bibtex, bibtex, language="bibtex")
        return [nodes.rubric(text="Plain text"), quote, nodes.rubric(text="BibTeX"), block]


def _fill(app, doctree, docname) -> None:
    for placeholder in list(doctree.findall(share_node)):
        value = nodes.container(classes=["hatbook-card-value"])
        value += nodes.paragraph(text=share_text(app))
        placeholder.replace_self(value)
    for placeholder in list(doctree.findall(pdf_node)):
        placeholder.replace_self(pdf_paragraph(app, docname))


def _light_mathjax(app) -> None:
    """MathJax as its loader and the components the book needs, not the combined tex-chtml.js."""
    if app.builder.format != "html":
        return
    app.config.mathjax_path = MATHJAX_STARTUP
    config = dict(app.config.mathjax3_config or {})
    loader = dict(config.get("loader") or {})
    loader["load"] = list(dict.fromkeys([*(loader.get("load") or []), *MATHJAX_COMPONENTS]))
    config["loader"] = loader
    app.config.mathjax3_config = config


def _always_outdated(app, env, added, changed, removed):
    return [doc for doc, meta in env.metadata.items() if meta.get("hatbook_reader_placeholder")]


# --- what a page loads -------------------------------------------------------------------------------


def has_math(body: str) -> bool:
    return any(mark in body for mark in MATH_MARKS)


def _light(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if scripts and not has_math(context.get("body", "")):
        context["script_files"] = [
            script
            for script in scripts
            if not MATHJAX.search(str(getattr(script, "filename", "") or ""))
            and not MATHJAX.search(getattr(script, "attributes", {}).get("body", "") or "")
        ]
    context["hatbook_without_fontawesome"] = lambda html: FONTAWESOME_SCRIPT.sub("", str(html))
    # a first visit has no stored colour mode; with none by default the theme logs a console error
    context.setdefault("default_mode", "auto")


# --- shared links, version, licence --------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def version() -> str:
    try:
        import tomllib

        return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, ValueError):  # a rerun's staged copy has no pyproject: the installed package
        from importlib import metadata

        try:
            return metadata.version("hatbook")
        except metadata.PackageNotFoundError:
            return ""


def build_date() -> str:
    """The day of the build (``SOURCE_DATE_EPOCH`` when set, for a reproducible build)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return when.date().isoformat()


def description(doctree, limit: int = DESCRIPTION_LENGTH) -> str:
    """The page's first paragraph of prose, cut at a word near ``limit`` characters."""
    if doctree is None:
        return ""
    for paragraph in doctree.findall(nodes.paragraph):
        if paragraph.next_node(nodes.literal_block) is not None:
            continue
        if paragraph.get("classes") or any(
            isinstance(parent, (nodes.admonition, nodes.container, nodes.table, nodes.footnote))
            for parent in _parents(paragraph)
        ):
            continue
        text = " ".join(paragraph.astext().split())
        if len(text) < 40:
            continue
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    return ""


def _parents(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _meta(app, pagename, templatename, context, doctree) -> None:
    site = app.config.html_title or context.get("docstitle") or ""
    title = re.sub(r"<[^>]+>", "", context.get("title") or site)
    if pagename == app.config.root_doc:
        text = f"{site}: the report's findings recomputed by code, checked number by number against the report."
    else:
        text = description(doctree) or site
    tags = [
        f'<meta name="description" content="{escape(text)}" />',
        f'<meta property="og:title" content="{escape(title)}" />',
        f'<meta property="og:description" content="{escape(text)}" />',
        f'<meta property="og:site_name" content="{escape(site)}" />',
        '<meta property="og:type" content="website" />',
        '<meta name="twitter:card" content="summary" />',
    ]
    base = (app.config.html_baseurl or "").rstrip("/")
    if base:
        tags.append(f'<meta property="og:url" content="{escape(base)}/{escape(pagename)}.html" />')
    context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(tags)

    pathto = context["pathto"]
    commit = _git("rev-parse", "--short", "HEAD")
    parts = [
        f"Version {escape(version())}" if version() else "",
        f"commit {escape(commit)}" if commit else "",
        f"built {build_date()}",
    ]
    stamp = ", ".join(p for p in parts if p)
    links = " · ".join(
        f'<a href="{pathto(doc)}">{label}</a>'
        for doc, label in (("book/cite", "Cite this edition"), ("book/changelog", "Changelog"))
        if doc in app.env.all_docs
    )
    context["theme_extra_footer"] = (
        f'<p class="hatbook-footer">{stamp}. Code: MIT licence; the report\'s text and findings: SERAF, '
        f"University of Oslo (2026).{' ' + links if links else ''}</p>"
    )


def setup(app):
    # charts and tables (static drawings, data alternatives, anchors, CSV), and the code of each section
    # in one disclosure: book/_ext/figures.py and reading_flow.py
    app.setup_extension("figures")
    app.setup_extension("reading_flow")
    app.connect("builder-inited", _light_mathjax, priority=900)
    app.add_node(share_node)
    app.add_node(pdf_node)
    app.add_directive("hatbook-share-reproduced", ShareDirective)
    app.add_directive("hatbook-pdf-link", PdfDirective)
    app.add_directive("hatbook-citation", CitationDirective)
    app.connect("doctree-resolved", _fill)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("html-page-context", _light, priority=900)
    app.connect("html-page-context", _meta)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
