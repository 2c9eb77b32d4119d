"""Batches of work in worker processes, in input order, while the main process writes the last batch.

Ingest, normalise and tokenise share one pattern: the main process reads a batch
from the corpus (or a list of files), the workers do the work that needs no
corpus, and the main process writes the results in one transaction.  With
:func:`map_batches` the workers already work on the next batch while a batch is
written, and the results come back in input order, so the corpus ends up the
same whatever the number of workers.

Inside ``with using(backend):`` (:func:`policylex.cluster.dask_backend`) the
batches go to that backend instead, a Dask cluster, with the same contract.
"""

from __future__ import annotations

import os
from collections import deque
from contextlib import contextmanager
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


_backend = None  # where map_batches sends its batches instead of a local pool (see :func:`using`)


@contextmanager
def using(backend) -> Iterator[None]:
    """Within the block, :func:`map_batches` calls ``backend.map_batches`` (a Dask cluster's) whatever ``workers``."""
    global _backend
    previous, _backend = _backend, backend
    try:
        yield
    finally:
        _backend = previous


def map_batches(function: Callable[[T], R], batches: Iterable[Sequence[T]], *, workers: int,
                initializer: Callable[..., None], initargs: tuple = (), chunksize: int = 8,
                ) -> Iterator[tuple[Sequence[T], list[R]]]:
    """(batch, [function(item) for item in batch]) for each batch, in order.

    ``initializer(*initargs)`` prepares each worker (or this process, with one
    worker).  ``batches`` is consumed in the calling thread, one batch ahead of
    the results handed back, so it may read from the corpus.
    """
    if _backend is not None:
        yield from _backend.map_batches(function, batches, initializer=initializer, initargs=initargs,
                                        chunksize=chunksize)
        return
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
