"""Worker processes that Ctrl-C stops cleanly: one line from the parent, no traceback per worker.

Ctrl-C in a terminal reaches every process of the command's group.  The workers
ignore it: the parent gets KeyboardInterrupt, leaving its pool's ``with`` block
terminates them, and the CLI prints its one line.  While the pool forks, Ctrl-C
is held back and delivered right after: one landing in the after-fork callbacks
(logging's ``_releaseLock``) was printed as 'Exception ignored' and lost, and the
command ran on to the end.  Every process pool of policylex is made here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
from contextlib import contextmanager
from typing import Callable, Iterator


def _start_worker(initializer: Callable | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold SIGINT back in this thread (and threads started meanwhile) until the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> multiprocessing.pool.Pool:
    """A ``multiprocessing`` pool (fork where there is fork) whose workers leave Ctrl-C to the parent.

    Use it as ``with worker_pool(n, init, (arg,)) as pool:``; ``initializer`` must be
    a module-level function where processes are spawned.
    """
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctrl_c_held():
        return context.Pool(workers, initializer=_start_worker, initargs=(initializer, initargs))
