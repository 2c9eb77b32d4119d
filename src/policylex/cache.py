"""Arrays cached beside the corpus file, valid only for the corpus state they were built from.

A cache is one ``.npz`` file holding named arrays and a key (a string saying
what it was built from: corpus identity, generation, settings).  It is written
whole or not at all, and anything that does not match, or does not read, is
treated as absent, so the caller rebuilds.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

_KEY = "_cache_key"


def write_arrays(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
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


def read_arrays(path: Path, key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays if they were written with ``key``, else None."""
    try:
        with np.load(path, allow_pickle=False) as cache:
            if _KEY not in cache.files or str(cache[_KEY]) != key:
                return None
            return {name: cache[name] for name in cache.files if name != _KEY}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
