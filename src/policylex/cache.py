"""Arrays cached beside the corpus file, valid only for the corpus state they were built from.

A cache is one ``.npz`` file holding named arrays and a key (a string saying
what it was built from: format, corpus identity, generation, settings).  It is
written whole or not at all, and anything that does not match, or does not
read, is treated as absent, so the caller rebuilds.  Both caches of the corpus
(the term matrix, ``<corpus>.dtm.npz``, and the formulation matrix,
``<corpus>.slogans.npz``, see :mod:`policylex.matrix`) are written and read here.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Iterator

import numpy as np

from policylex.errors import UsageError

_KEY = "_cache_key"
FAILURES = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def write_arrays(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` with ``key`` atomically; a read-only folder or full disk just means no cache."""
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    try:
        with partial.open("wb") as handle:
            np.savez(handle, **{_KEY: np.array(key)}, **arrays)
        os.replace(partial, path)
    except OSError:
        pass
    finally:
        partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half-written file behind


class Arrays(Mapping):
    """The arrays of a cache file, each read when first asked for: a plain ``freq`` reads only its sums.

    The file stays open, so it is the version checked here that is read, even if
    another process replaces the cache meanwhile.
    """

    def __init__(self, cache, path: Path):
        self._cache, self._path, self._read = cache, path, {}
        self._names = [name for name in cache.files if name != _KEY]

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._read:
            if name not in self._names:
                raise KeyError(name)
            try:
                self._read[name] = self._cache[name]
            except FAILURES as error:
                raise UsageError(f"the cache {self._path} is damaged ({error}): delete it and run again") from None
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def prefixed(self, prefix: str) -> "Prefixed":
        return Prefixed(self, prefix)


class Prefixed(Mapping):
    """The arrays whose names start with ``prefix``, by the rest of their names (``meta_year`` → ``year``)."""

    def __init__(self, arrays: Mapping, prefix: str):
        self._arrays, self._prefix = arrays, prefix
        self._names = [name[len(prefix):] for name in arrays if name.startswith(prefix)]

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[self._prefix + name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_arrays(path: Path, key: str, *, required: tuple[str, ...] = ()) -> Arrays | None:
    """The cached arrays if they were written with ``key`` (and hold ``required``), else None."""
    try:
        cache = np.load(path, allow_pickle=False)
    except FAILURES:
        return None
    try:
        if _KEY in cache.files and str(cache[_KEY]) == key and all(name in cache.files for name in required):
            return Arrays(cache, path)
    except FAILURES:
        pass
    cache.close()
    return None
