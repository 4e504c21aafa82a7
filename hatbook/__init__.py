"""Build tooling of the executable edition: reruns per clinic and per year (:mod:`hatbook.rerun`) and the
``hatbook`` command (:mod:`hatbook.cli`).

The analysis itself lives in :mod:`analysis`; this package only runs the book's pages and builds books.
"""
