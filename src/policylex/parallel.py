"""Batches of work in worker processes, in input order, while the main process writes the last batch.

Ingest, normalise and tokenise share one pattern: the main process reads a batch
from the corpus (or a list of files), the workers do the work that needs no
corpus, and the main process writes the results in one transaction.  With
:func:`map_batches` the workers already work on the next batch while a batch is
written, and the results come back in input order, so the corpus ends up the
same whatever the number of workers.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from policylex.processes import worker_pool

T = TypeVar("T")
R = TypeVar("R")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` consecutive items (the last may be shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_batches(function: Callable[[T], R], batches: Iterable[Sequence[T]], *, workers: int,
                initializer: Callable[..., None], initargs: tuple = (), chunksize: int = 8,
                ) -> Iterator[tuple[Sequence[T], list[R]]]:
    """(batch, [function(item) for item in batch]) for each batch, in order.

    ``initializer(*initargs)`` prepares each worker (or this process, with one
    worker).  ``batches`` is consumed in the calling thread, one batch ahead of
    the results handed back, so it may read from the corpus.
    """
    if workers <= 1:
        ready = False
        for batch in batches:
            if not ready:  # not before there is work: a segmenter's dictionaries take most of a second
                initializer(*initargs)
                ready = True
            yield batch, [function(item) for item in batch]
        return
    with worker_pool(workers, initializer, initargs) as pool:  # fork: workers inherit what the parent loaded
        in_flight: deque = deque()
        for batch in batches:
            in_flight.append((batch, pool.map_async(function, batch, chunksize=chunksize)))
            if len(in_flight) > 1:
                done, results = in_flight.popleft()
                yield done, results.get()
        while in_flight:
            done, results = in_flight.popleft()
            yield done, results.get()
