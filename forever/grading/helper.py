"""A second thread for one photo's analysis: the station analyses one photo at a time on a 2-core machine, and
OpenCV and numpy let go of the interpreter while they work, so a survey's independent parts overlap.

`beside(work, ...)` starts work on the helper and returns its future; `share(queues...)` runs jobs on this thread
and the helper together. Results never depend on which thread did what (tested): only the time does.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_helpers: dict[int, ThreadPoolExecutor] = {}
_on_helper = threading.local()


def beside(work: Callable[..., T], *args: Any) -> Future[T]:
    """Run `work(*args)` on this process's helper thread (one per process: a forked child makes its own). Called
    from the helper itself, the work runs at once, there: a helper never waits for itself."""
    if getattr(_on_helper, "active", False):
        done: Future[T] = Future()
        done.set_result(work(*args))
        return done
    helper = _helpers.get(os.getpid())
    if helper is None:
        helper = _helpers[os.getpid()] = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="grading", initializer=_mark_helper
        )
    return helper.submit(work, *args)


def share(*queues: deque[Callable[[], None]]) -> None:
    """Run every job of `queues` once, on this thread and the helper together: the helper empties the queues in
    the order given, this thread in the reverse order (each takes the next job as it finishes one)."""

    def work(order: tuple[deque[Callable[[], None]], ...]) -> None:
        for queue in order:
            while True:
                try:
                    job = queue.popleft()  # atomic: a job is taken by one thread only
                except IndexError:
                    break
                job()

    there = beside(work, queues)
    try:
        work(queues[::-1])
    finally:
        there.result()


def _mark_helper() -> None:
    _on_helper.active = True
