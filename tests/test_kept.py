"""Results kept by their inputs (analysis/presentation/kept.py): a kept result is the one computed, and any change
to what a computation depends on computes it anew."""

from __future__ import annotations

import pandas as pd

from analysis.presentation import kept
from analysis.presentation import linked_suppression as ls
from analysis.presentation.edition import open_page
from analysis.sections.adverse_events import events_by_category

LIMIT = 3


def _counter(limit):
    def count(frame):
        return int((frame["n"] > limit).sum())

    return count


def _reads_a_global(frame):
    return LIMIT + len(frame)


class _Opaque:
    pass


def test_a_function_is_keyed_by_its_code_and_what_it_closes_over():
    assert kept.function_key(_counter(3)) == kept.function_key(_counter(3))  # made twice, the same computation
    assert kept.function_key(_counter(3)) != kept.function_key(_counter(4))
    assert kept.function_key(lambda frame: len(frame)) != kept.function_key(lambda frame: len(frame) + 1)
    assert kept.function_key(_reads_a_global) is not None
    assert kept.function_key(events_by_category) is not None  # a function of the package: by its name and file


def test_a_function_that_reads_a_value_of_unknown_content_is_not_kept():
    opaque = _Opaque()
    assert kept.function_key(lambda frame: (opaque, frame)) is None
    assert kept.function_key(print) is None  # not a function of Python code


def test_a_function_of_a_module_outside_the_package_is_keyed_by_its_code():
    """A test module, like a helper beside the pages, is no part of the package's files: a function defined at its top
    is keyed by its code (an edit to it is another computation), a library's by its name."""
    assert kept._in_package(events_by_category) and kept._in_package(pd.concat) and kept._in_package(len)
    assert not kept._in_package(_reads_a_global)
    assert kept.function_key(lambda frame: _reads_a_global(frame)) is not None


def test_a_global_it_reads_is_part_of_the_key(monkeypatch):
    before = kept.function_key(_reads_a_global)
    monkeypatch.setitem(globals(), "LIMIT", 4)
    assert kept.function_key(_reads_a_global) != before


def test_load_or_compute_keeps_a_result_and_computes_an_unreadable_one_anew(tmp_path, monkeypatch):
    import hashlib

    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"n": [1, 2]})

    assert kept.load_or_compute("x", hashlib.sha256(b"a"), compute).equals(compute())  # no folder: computed
    assert len(calls) == 2 and not list(tmp_path.iterdir())
    monkeypatch.setenv(kept.CACHE_ENVIRONMENT, str(tmp_path))
    first = kept.load_or_compute("x", hashlib.sha256(b"a"), compute)
    again = kept.load_or_compute("x", hashlib.sha256(b"a"), compute)
    assert first.equals(again) and len(calls) == 3
    kept.load_or_compute("x", hashlib.sha256(b"b"), compute)  # another digest: computed
    assert len(calls) == 4
    for path in tmp_path.glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    assert kept.load_or_compute("x", hashlib.sha256(b"a"), compute).equals(first) and len(calls) == 5


def _categories_of(cohort):
    return events_by_category(cohort.adverse_events)


def test_the_grid_tables_of_an_edition_are_the_ones_computed_and_each_is_computed_once(tmp_path, monkeypatch):
    page = open_page("Bergen", 2023, None, 5, glue_words=False)
    fresh = ls.grid_tables(page, _categories_of)
    restricted = ls._restricted
    made = []  # the sibling editions' cohorts made (one for each table computed from them)
    monkeypatch.setattr(ls, "_restricted", lambda *args: made.append(args) or restricted(*args))
    monkeypatch.setenv(kept.CACHE_ENVIRONMENT, str(tmp_path))
    for expected in (11, 0):  # the second time, every sibling table is read
        made.clear()
        found = ls.grid_tables(page, _categories_of)
        assert len(made) == expected
        for year, (tables, published) in fresh.items():
            assert found[year][1] == published
            for edition, table in tables.items():
                pd.testing.assert_frame_equal(found[year][0][edition], table)
    assert len(list(tmp_path.glob("table-*.pickle"))) == 11
