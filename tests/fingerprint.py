"""A fingerprint of the report's wording, so tests can check that the book is written in its own words.

The report's text is not part of this repository. What is kept is a set of short hashes of every run of
``RUN_LENGTH`` consecutive words in it (``tests/data/report_fingerprint.txt.gz``): enough to recognise a
copied passage, not enough to rebuild the text. Institutions' and registries' names are removed before
hashing, because naming them is not copying.

Regenerate after a change to the rules here:

    python tests/fingerprint.py path/to/the/report.txt
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
from pathlib import Path

RUN_LENGTH = 12
FINGERPRINT = Path(__file__).resolve().parent / "data" / "report_fingerprint.txt.gz"
PROPER_NAMES = [
    "norwegian centre for addiction research",
    "unit for clinical research on addictions",
    "bergen addiction research",
    "centre for alcohol and drug research",
    "oslo university hospital",
    "haukeland university hospital",
    "aarhus university",
    "university of oslo",
    "norwegian patient registry",
    "primary health care registry",
    "prolar nett",
]


def words(text: str) -> list[str]:
    """Lower-case words of ``text``, with MyST roles reduced to their text and proper names removed."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*)(<[^>]*>)?`", r"\1", text).lower()
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    return re.findall(r"[0-9a-zæøåäöüé]+", text)


def run_hashes(word_list: list[str]) -> list[str]:
    """One short hash per run of RUN_LENGTH consecutive words, in order."""
    return [
        hashlib.blake2b(" ".join(word_list[i : i + RUN_LENGTH]).encode("utf-8"), digest_size=6).hexdigest()
        for i in range(len(word_list) - RUN_LENGTH + 1)
    ]


def load() -> set[str]:
    with gzip.open(FINGERPRINT, "rt", encoding="ascii") as handle:
        return set(handle.read().split())


def write(report_text: str) -> int:
    hashes = sorted(set(run_hashes(words(report_text))))
    FINGERPRINT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the file byte-identical between regenerations
    with open(FINGERPRINT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write("\n".join(hashes).encode("ascii"))
    return len(hashes)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/fingerprint.py REPORT.txt")
    count = write(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(f"wrote {count} run hashes to {FINGERPRINT}")
