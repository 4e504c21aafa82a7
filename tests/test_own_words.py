"""The book retells the report in its own words: no page repeats a long run of the report's wording."""

from __future__ import annotations

from pathlib import Path

import fingerprint
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bibliographic lists quote titles as published; that is citation, not copying.
LISTS_OF_TITLES = {"ch13_project_publications.md", "references.md"}


def prose(page: str) -> str:
    """A page's text without front matter, headings (they mirror the report's on purpose) and code cells."""
    kept, in_code, in_front = [], False, False
    for number, line in enumerate(page.splitlines()):
        stripped = line.strip()
        if number == 0 and stripped == "---":
            in_front = True
            continue
        if in_front:
            in_front = stripped != "---"
            continue
        if stripped.startswith("```{code-cell"):
            in_code = True
        elif in_code and stripped == "```":
            in_code = False
        elif not in_code and not stripped.startswith("#"):
            kept.append(line)
    return "\n".join(kept)


def copied_runs(text: str, known: set[str]) -> list[str]:
    """Passages of ``text`` whose every RUN_LENGTH-word run is in ``known``, merged where they overlap."""
    word_list = fingerprint.words(text)
    runs: list[list[int]] = []
    for start, digest in enumerate(fingerprint.run_hashes(word_list)):
        if digest in known:
            if runs and start <= runs[-1][1]:
                runs[-1][1] = start + fingerprint.RUN_LENGTH
            else:
                runs.append([start, start + fingerprint.RUN_LENGTH])
    return [" ".join(word_list[a:b]) for a, b in runs]


def test_a_copied_sentence_is_found_and_a_paraphrase_is_not():
    source = "Patients attend the clinic twice daily, every day, and receive a long-acting opioid for the night."
    known = set(fingerprint.run_hashes(fingerprint.words(source)))
    assert copied_runs(
        "As the report says, patients attend the clinic twice daily, every day, and receive a "
        "long-acting opioid for the night.",
        known,
    )
    assert (
        copied_runs(
            "Twice a day, seven days a week, patients come to the clinic; a long-acting opioid covers the night.", known
        )
        == []
    )


def test_proper_names_do_not_count_as_copying():
    assert "oslo university hospital" not in " ".join(fingerprint.words("Oslo University Hospital and the clinic"))


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "book").glob("*.md") if p.name not in LISTS_OF_TITLES))
def test_page_does_not_copy_the_report(page):
    known = fingerprint.load()
    text = prose((ROOT / "book" / page).read_text(encoding="utf-8"))
    assert copied_runs(text, known) == []
