"""The per-document stages on a Dask cluster: :func:`policylex.parallel.map_batches` as Dask tasks.

Inside ``with dask_backend("tcp://host:8786"):`` every ``map_batches`` of ingest,
normalise, tokenise and the slogan scan sends its batches to the cluster instead
of the local process pool.  Nothing else changes: the calling process reads the
batches, writes the results in input order, one transaction a batch, so the
corpus is the same whatever the backend and the number of workers.

Each batch is cut into about two pieces per worker thread, each piece one task
(not one task per document), with retries; batches are still consumed one ahead
of the results, as with the local pool.  A piece depends on nothing an earlier
task left behind: on its worker it runs the job's initializer first (cheap: the
heavy parts, a segmenter's dictionary, are cached per worker process), so a
piece retried on another worker, or run in any order, gives the same result.  The job's
settings go with every task, or, above 1 MB (a large metadata table), to every worker once.
Pieces run one at a time in a worker process (the stages keep their state in
module globals), so start workers with one thread and several processes:
``dask worker ADDRESS --nworkers N --nthreads 1``.

Workers open the input files by the paths the client gives, in the client's
working directory where that exists on the worker: a filesystem they share with
the client.  With ``ship=True`` the client reads each file and sends its bytes.
"""

from __future__ import annotations

import math
import os
import pickle
import threading
import uuid
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from policylex import parallel
from policylex.errors import InputError, PolicylexError, UsageError

ENVIRONMENT = "POLICYLEX_SCHEDULER"
INSTALL = "pip install 'policylex[dask]'"
RETRIES = 3  # a piece whose function raises is tried again this often (a worker that dies: the scheduler's allowed-failures)
PIECES_PER_THREAD = 2
SCATTER_ABOVE = 1_000_000  # a job's settings larger than this (metadata tables) go to each worker once, not with every task
CONNECT_TIMEOUT = "20s"


class ClusterError(PolicylexError):
    """The cluster could not finish the work (its workers kept dying, or the scheduler went away)."""

    exit_code = 1


def connect(address: str):
    """A ``distributed.Client`` of the scheduler at ``address`` (tcp://host:port)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"running on a Dask cluster needs Dask: {INSTALL}") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {error}") from None


@contextmanager
def dask_backend(address: str | None = None, *, ship: bool = False, client=None) -> Iterator["DaskBackend"]:
    """Within the block, :func:`policylex.parallel.map_batches` runs on the Dask cluster at ``address``.

    ``client`` is an existing ``distributed.Client`` instead (left open at the end).
    ``ship``: the client reads the input files and sends their bytes with the tasks.
    """
    own = client is None
    if own:
        if not address:
            raise UsageError("no Dask scheduler address")
        client = connect(address)
    backend = DaskBackend(client, ship=ship)
    try:
        with parallel.using(backend):
            yield backend
    finally:
        if own:
            client.close()


class DaskBackend:
    """map_batches on a ``distributed.Client``: one task per piece of a batch, results gathered in order."""

    def __init__(self, client, *, ship: bool = False):
        self.client, self.ship = client, ship

    def threads(self) -> int:
        """The worker threads the cluster has now (at least one: tasks wait for a worker to come)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # the scheduler is gone: the tasks' futures say so
            return 1

    def map_batches(self, function: Callable, batches: Iterable[Sequence], *, initializer: Callable[..., None],
                    initargs: tuple = (), chunksize: int = 8) -> Iterator[tuple[Sequence, list]]:
        job = uuid.uuid4().hex
        setup = pickle.dumps((initializer, initargs), protocol=pickle.HIGHEST_PROTOCOL)
        if len(setup) > SCATTER_ABOVE:  # held by every worker, and copied from one to another when one restarts
            setup = self.client.scatter(setup, broadcast=True, hash=False)
        cwd = os.getcwd()
        in_flight: deque = deque()
        try:
            for number, batch in enumerate(batches):
                items = [_shipped(item) for item in batch] if self.ship else list(batch)
                size = max(1, chunksize, math.ceil(len(items) / (PIECES_PER_THREAD * self.threads())))
                futures = [self.client.submit(_run_piece, job, setup, function, items[start:start + size], cwd,
                                              key=f"policylex-{getattr(function, '__name__', 'batch')}-{job[:8]}-"
                                                  f"{number}-{start}", retries=RETRIES, pure=False)
                           for start in range(0, len(items), size)]
                in_flight.append((batch, futures))
                if len(in_flight) > 1:
                    yield self._next(in_flight)
            while in_flight:
                yield self._next(in_flight)
        finally:
            pending = [future for _, futures in in_flight for future in futures]
            if pending:  # interrupted, or the caller stopped: the cluster stops too
                try:
                    self.client.cancel(pending)
                except Exception:
                    pass

    def _next(self, in_flight: deque) -> tuple[Sequence, list]:
        """The first batch in flight with its results, once they are all back (till then, it stays in flight)."""
        from distributed.scheduler import KilledWorker

        batch, futures = in_flight[0]
        results: list = []
        try:
            for future in futures:
                results.extend(future.result())
        except KilledWorker as error:
            raise ClusterError(f"Dask workers died running the same piece of work again and again: {error}") from None
        except Exception as error:
            if type(error).__name__ in ("CancelledError", "FutureCancelledError", "CommClosedError"):
                raise ClusterError(f"the Dask cluster stopped answering ({type(error).__name__}: {error})") from None
            raise
        in_flight.popleft()
        return batch, results


def _shipped(item):
    """An item naming a file (a tuple whose first element is a Path) with the file's bytes, or why they cannot be read."""
    if isinstance(item, tuple) and item and isinstance(item[0], Path):
        from policylex.readers import read_bytes

        try:
            data: bytes | InputError = read_bytes(item[0])
        except InputError as error:
            data = error
        return (*item, data)
    return item


# --- on the workers ------------------------------------------------------------------

_lock = threading.Lock()
_setup: tuple[str, Callable, tuple] | None = None  # the last job's (key, initializer, initargs) in this process


def _run_piece(job: str, setup: bytes, function: Callable, items: list, cwd: str) -> list:
    """[function(item) for item in items], after the job's initializer; one piece at a time in a process."""
    global _setup
    with _lock:
        if _setup is None or _setup[0] != job:
            if _setup is None:
                _keep_freed_memory()
            _setup = (job, *pickle.loads(setup))
        _, initializer, initargs = _setup
        _maybe_die()
        with _working_directory(cwd):
            initializer(*initargs)
            return [function(item) for item in items]


TRIM_THRESHOLD = 32 * 2**20  # glibc's own ceiling for its dynamic trim threshold


def _keep_freed_memory() -> None:
    """Let glibc keep up to 32 MB of freed memory in this worker process instead of handing it back at once.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, so that memory goes
    back to the system as soon as it is freed; text work allocates and frees so much
    that glibc then trims all the time: reading and normalising a file took 1.6-2x as
    long here (benchmarks/README.md).  Nothing is done where the threshold is not set
    that low, or where there is no glibc.
    """
    try:
        if int(os.environ.get("MALLOC_TRIM_THRESHOLD_", TRIM_THRESHOLD)) >= TRIM_THRESHOLD:
            return
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        if name:
            ctypes.CDLL(name).mallopt(-1, TRIM_THRESHOLD)  # -1: M_TRIM_THRESHOLD
    except (ValueError, OSError, AttributeError):
        pass


@contextmanager
def _working_directory(path: str) -> Iterator[None]:
    """The client's working directory, where this machine has it: relative paths name the same files."""
    here = os.getcwd()
    moved = path != here and os.path.isdir(path)
    if moved:
        os.chdir(path)
    try:
        yield
    finally:
        if moved:
            os.chdir(here)


# A test of fault tolerance names a file: the first piece to find it absent creates it and
# kills its own worker process (a worker dying mid-run, as on a cluster node lost).
KILL_ONCE = "POLICYLEX_TEST_KILL_WORKER_ONCE"


def _maybe_die() -> None:
    marker = os.environ.get(KILL_ONCE)
    if not marker:
        return
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(descriptor)
    os._exit(1)
