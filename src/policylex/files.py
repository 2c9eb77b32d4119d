"""Files the user names: where output may go, how it is written, how option files are read.

Every output path a command writes (``export -o``, ``report --out``, ``--plot``)
passes :func:`check_output`, so that no mistyped or linked name overwrites the
corpus, its journal or its caches; every file is written through
:func:`atomic_output`, whole or not at all.  Every option file (``--lexicon``,
``--meta``, ``--userdict``) is read through :func:`read_option_file`, with a size
limit and only when it is a regular file: ``/dev/zero`` or a pipe would be read
until memory runs out.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from policylex.errors import UsageError

# What SQLite keeps beside the corpus while it is open (WAL, shared memory, the
# rollback journal of a non-WAL file) and the caches policylex writes there.
CORPUS_COMPANIONS = ("-wal", "-shm", "-journal", ".dtm.npz", ".slogans.npz")
# An option file is a word list or a table of overrides: a few MB at most.  The
# limit leaves room for a jieba dictionary as large as jieba's own (5 MB).
MAX_OPTION_FILE_BYTES = 64 * 2**20


def corpus_files(corpus: str | os.PathLike) -> list[Path]:
    """The corpus file and every file beside it that belongs to it."""
    corpus = Path(corpus)
    return [corpus] + [corpus.with_name(corpus.name + suffix) for suffix in CORPUS_COMPANIONS]


def _same_file(a: Path, b: Path) -> bool:
    """Whether two names reach one file: by resolved name, or (hard links) by device and inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: no hard link between them
        return False


def check_output(path: str | os.PathLike, corpus: str | os.PathLike, what: str) -> None:
    """Refuse an output ``path`` that is, or leads to, the corpus or one of its files, or a folder holding it.

    ``what`` names the output in the message (``--plot chart.png``).
    """
    path = Path(path)
    for protected in corpus_files(corpus):
        if _same_file(path, protected):
            kind = "the corpus file" if protected == Path(corpus) else f"a file of the corpus ({protected.name})"
            raise UsageError(f"{what}: that is {kind}; write somewhere else")
    resolved = Path(os.path.realpath(path))
    if resolved in Path(os.path.realpath(corpus)).parents:
        raise UsageError(f"{what}: that folder holds the corpus file {corpus}; write somewhere else")


@contextmanager
def atomic_output(path: str | os.PathLike, what: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it becomes ``path`` when the block ends without error.

    A full disk, a read-only folder or an interruption leaves no file (nor a part
    of one) behind; an ``OSError`` becomes one :class:`UsageError` line.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as error:
        raise UsageError(f"cannot write {what}: {error.strerror or error}") from None
    finally:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass


def read_option_file(path: str | os.PathLike, option: str) -> bytes:
    """The bytes of an option file; a one-line error when it is missing, not a regular file, or too large."""
    path, limit = Path(path), MAX_OPTION_FILE_BYTES
    try:
        # O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot read it: {error.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "is a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, pipe or socket)"
        raise UsageError(f"{option} {path}: {kind}")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise UsageError(f"{option} {path}: cannot read it: {error.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{option} {path}: larger than {limit // 2**20} MB; an option file is a word list or table")
    return data
