"""``hatbook rerun --pdf``: the variant's PDF goes through the PDF edition's builder, and its failure is one
rerun error (the name was once left undefined, so --pdf ended in a NameError)."""

from pathlib import Path

import pytest

from hatbook import pdf, rerun


def test_the_variant_pdf_is_built_by_the_pdf_edition(monkeypatch, tmp_path):
    calls = []

    def fake_build(source, output, title, log=print):
        calls.append((Path(source), Path(output), title))
        return Path(output) / "book.pdf"

    monkeypatch.setattr(pdf, "build_pdf", fake_build)
    variant = rerun.Variant("Bergen", 2022, None, 5)
    built = rerun.build_variant_pdf(tmp_path / "book", tmp_path / "staging", variant, log=lambda line: None)
    assert built == tmp_path / "staging" / "pdf" / "book.pdf"
    assert calls[0][2].startswith(variant.title)


def test_a_failed_pdf_is_one_rerun_error(monkeypatch, tmp_path):
    def failing(*args, **kwargs):
        raise pdf.PdfError("xelatex not found")

    monkeypatch.setattr(pdf, "build_pdf", failing)
    with pytest.raises(rerun.RerunError, match="xelatex not found"):
        rerun.build_variant_pdf(tmp_path, tmp_path, rerun.Variant("all", 2025, None, 5), log=lambda line: None)
