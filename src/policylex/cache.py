"""Arrays cached beside the corpus file, valid only for the corpus state they were built from.

A cache is one ``.npz`` file holding named arrays and a key (a string saying
what it was built from: format, corpus identity, generation, settings).  It is
written whole or not at all, and anything that does not match, or does not
read, is treated as absent, so the caller rebuilds.  Both caches of the corpus
(the term matrix, ``<corpus>.dtm.npz``, and the formulation matrix,
``<corpus>.slogans.npz``, see :mod:`policylex.matrix`) are written and read here.

The arrays are stored uncompressed, each starting at a multiple of 64 bytes, so
that reading one maps it into memory instead of copying it: at 100,000 documents
the term matrix (240 MB) took 0.45-0.6 s to read, most of what tfidf, keyness or
trends then spent.  Any other ``.npz`` (an older cache) is read by copying.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Iterator

import numpy as np

from policylex.errors import UsageError

_KEY = "_cache_key"
FAILURES = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
_ALIGN = 64  # numpy's own alignment of an array's data inside a .npy file
_PADDING = 0xD935  # the ZIP extra field that pads a member's data to alignment (as Android's zipalign)
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length


def write_arrays(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` with ``key`` atomically; a read-only folder or full disk just means no cache."""
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    try:
        with partial.open("wb") as handle:
            _write_npz(handle, {_KEY: np.array(key), **arrays})
        os.replace(partial, path)
    except OSError:
        pass
    finally:
        partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half-written file behind


def _write_npz(handle, arrays: Mapping[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` (what ``np.load`` reads) whose arrays' data start at multiples of 64 bytes."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            # the local header (30 bytes), the name, this padding field's own 4 bytes, the zip64 field (20)
            before_npy = archive.fp.tell() + 30 + len(info.filename.encode("utf-8")) + 4 + 20
            pad = -before_npy % _ALIGN
            info.extra = struct.pack("<HH", _PADDING, pad) + bytes(pad)
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _mapped(cache, name: str) -> np.ndarray | None:
    """The array mapped from the open cache file (copy-on-write), or None where it cannot be: compressed,
    empty, or not aligned (a cache written before alignment, or by ``np.savez``)."""
    info = cache.zip.getinfo(name + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    handle = cache.fid
    handle.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        return None
    handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    version = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(handle)
    offset = handle.tell()
    if dtype.hasobject or offset % max(dtype.alignment, 1) or 0 in shape or not shape:
        return None
    # Mapped through the file this cache object opened: another process's new cache is not this one.
    mapped = np.memmap(handle, dtype=dtype, mode="c", offset=offset, shape=shape, order="F" if fortran else "C")
    return mapped.view(np.ndarray)


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
                mapped = _mapped(self._cache, name)
                self._read[name] = self._cache[name] if mapped is None else mapped
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
