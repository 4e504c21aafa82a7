"""Independent calls of a search run side by side in worker processes, their results read in order; and the
calls a search will make next if its current step fails, run ahead on a free core (:class:`Ahead`).

The generator's searches are deterministic, so a call that depends only on its arguments gives the same
result in a worker as in the main process; reading the results in the order of the calls keeps every choice
made from them the one a plain loop makes. The cohort is therefore the same byte for byte whatever the number
of cores.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def results_in_order(
    function: Callable[..., Any],
    calls: Sequence[tuple],
    workers: int | None = None,
    meanwhile: Callable[[], Any] | None = None,
) -> Iterator:
    """``function(*call)`` for each of ``calls``, in their order, computed by up to ``workers`` processes
    (default: :func:`cores`). ``function`` must be a module's top-level function (a worker finds it by name).
    Stopping early (leaving a loop over the results) ends the calls under way and drops the others; with one
    worker or one call the calls run here, one at a time, only as far as the results are read.
    ``meanwhile()``, if given, is called here once the first workers are started, while this process would
    only wait for them (with the calls run here: before the first).

    Each call runs in a process of its own, started when a worker is free; it inherits its arguments (where
    fork is available) and sends back its result or its exception, which is raised here when its turn
    comes. No thread of this process writes to a worker, so ending the calls cannot wait on one (as
    ``multiprocessing.Pool.terminate`` can, when its task thread is blocked writing a large call to a pipe
    that no worker reads any more)."""
    workers = min(workers or cores(), len(calls))
    if workers <= 1:
        if meanwhile is not None:
            meanwhile()
        yield from (function(*call) for call in calls)
        return
    methods = multiprocessing.get_all_start_methods()
    # fork starts a worker in milliseconds with the modules already imported; spawn is the portable fallback
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    running: dict[int, tuple[Any, Any]] = {}  # call index -> (process, the end its answer comes from)
    answers: dict[int, tuple[bool, Any]] = {}  # call index -> (returned, result or exception)
    started = 0
    try:
        for index in range(len(calls)):
            while index not in answers:
                while started < len(calls) and len(running) < workers:
                    receive, send = context.Pipe(duplex=False)
                    # (not daemonic, so that a call may start workers of its own; those under way are killed
                    # on leaving, below)
                    process = context.Process(target=_answer, args=(function, calls[started], send), daemon=False)
                    process.start()
                    send.close()  # (this end is the worker's: its close tells a worker that died)
                    running[started] = (process, receive)
                    started += 1
                if meanwhile is not None:
                    meanwhile()
                    meanwhile = None
                ready = multiprocessing.connection.wait([receive for _process, receive in running.values()])
                for key in [key for key, (_process, receive) in running.items() if receive in ready]:
                    process, receive = running.pop(key)
                    try:
                        answers[key] = receive.recv()
                    except EOFError:
                        answers[key] = (False, RuntimeError(f"a worker ended without an answer ({process.exitcode})"))
                    receive.close()
                    process.join()
            returned, value = answers.pop(index)
            if not returned:
                raise value
            yield value
    finally:
        for process, receive in running.values():  # a search left early need not be waited for
            process.kill()
            process.join()
            receive.close()


def _answer(function: Callable[..., Any], call: tuple, send) -> None:
    """In a worker: ``function(*call)``, sent back as (True, result), or (False, exception)."""
    try:
        answer = (True, function(*call))
    except Exception as error:  # raised in the main process when the result is read
        answer = (False, error)
    send.send(answer)
    send.close()


class Ahead:
    """Calls run one after another in a forked process while this process goes on, each result read when it
    is wanted: a search that knows what it will do next if its current step fails can have that solved on a
    free core meanwhile.

    ``calls`` maps a key to ``(function, args)`` or ``(function, args, then)``; the worker inherits them
    (nothing is pickled on the way out) and sends back each key with its result; it runs at the lowest
    priority, so that it takes only a core the search leaves free. ``then(result)``, made in the worker, gives
    the calls that follow from a result (a dictionary like ``calls``): their keys are sent with the result and
    the worker makes them next. Where fork is not available the calls run here, one at a time, when their
    results are read (and nothing follows). :meth:`stop` ends the worker (the calls not yet read are
    dropped). ``niceness`` (19, the lowest priority, unless given) is added to the worker's: of two workers
    sharing a free core, the one with the lower niceness gets the larger share."""

    def __init__(self, calls: dict[Any, tuple], niceness: int = 19):
        self.calls = dict(calls)
        self.results: dict[Any, Any] = {}
        self.following: set = set()  # keys of calls that follow from a result (see ``then``)
        self.process = self.connection = None
        if "fork" in multiprocessing.get_all_start_methods():
            receiving, sending = multiprocessing.Pipe(duplex=False)
            context = multiprocessing.get_context("fork")
            self.process = context.Process(target=_run_ahead, args=(self.calls, sending, niceness), daemon=True)
            self.process.start()
            sending.close()
            self.connection = receiving

    def __contains__(self, key) -> bool:
        return key in self.calls or key in self.following

    def result(self, key):
        """The result of the call ``key``, waiting for the worker if it is not there yet (made here when there
        is no worker, or when the worker ended without it); None for a call that follows from a result when
        the worker ended without making it."""
        while key not in self.results and self.connection is not None:
            try:
                found, value, following = self.connection.recv()
            except (EOFError, OSError):  # the worker is gone (stopped, or killed from outside)
                self.stop()
                break
            self.results[found] = value
            self.following.update(following)
        if key not in self.results:
            if key not in self.calls:
                return None
            function, args = self.calls[key][:2]
            self.results[key] = function(*args)
        return self.results[key]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join()
            self.connection.close()
            self.process = self.connection = None


def _run_ahead(calls: dict, connection, niceness: int = 19) -> None:
    if hasattr(os, "nice"):
        os.nice(niceness)  # the search's own step goes first; this one only takes what it leaves free
    calls = dict(calls)
    while calls:
        key, (function, args, *then) = next(iter(calls.items()))
        del calls[key]
        value = function(*args)
        following = then[0](value) if then else {}
        connection.send((key, value, list(following)))
        calls = {**following, **calls}
    connection.close()
