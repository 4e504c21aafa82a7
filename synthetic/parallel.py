"""Independent calls of a search run side by side in worker processes, their results read in order.

The generator's searches are deterministic, so a call that depends only on its arguments gives the same
result in a worker as in the main process; reading the results in the order of the calls keeps every choice
made from them the one a plain loop makes. The cohort is therefore the same byte for byte whatever the number
of cores.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def results_in_order(function: Callable[..., Any], calls: Sequence[tuple], workers: int | None = None) -> Iterator:
    """``function(*call)`` for each of ``calls``, in their order, computed by up to ``workers`` processes
    (default: :func:`cores`). ``function`` must be a module's top-level function (a worker finds it by name).
    Stopping early (leaving a loop over the results) cancels the calls not yet started; with one worker or
    one call the calls run here, one at a time, only as far as the results are read."""
    workers = min(workers or cores(), len(calls))
    if workers <= 1:
        yield from (function(*call) for call in calls)
        return
    methods = multiprocessing.get_all_start_methods()
    # fork starts a worker in milliseconds with the modules already imported; spawn is the portable fallback
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = [pool.submit(function, *call) for call in calls]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
