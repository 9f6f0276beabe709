"""Which files make up a slide, and the two hashes of them.

A slide is one file, a MIRAX ``.mrxs`` plus the folder of the same name, or a folder of DICOM
instances. ``content_hash`` is cheap and only used to make tile URLs immutable; ``file_checksum``
reads every byte (the store records it).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Files up to this size are hashed whole; larger ones are sampled (plus size and mtime).
FULL_HASH_LIMIT = 64 << 20
_SAMPLE_BLOCK = 64 << 10
_SAMPLE_COUNT = 32


def slide_files(path: str | os.PathLike) -> list[Path]:
    """Every file that belongs to the slide at ``path``, in a stable order."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    files = [path]
    if path.suffix.lower() == ".mrxs":
        data_dir = path.with_suffix("")
        if data_dir.is_dir():
            files += sorted(p for p in data_dir.rglob("*") if p.is_file())
    return files


def stat_signature(path: str | os.PathLike) -> tuple:
    """(newest mtime_ns, total size, file count): changes whenever any file of the slide changes."""
    newest, total, count = 0, 0, 0
    for file in slide_files(path):
        st = file.stat()
        newest = max(newest, st.st_mtime_ns)
        total += st.st_size
        count += 1
    return newest, total, count


def file_checksum(path: str | os.PathLike) -> str:
    """sha256 of the slide's bytes: a file's own sha256, or every file of a set in name order."""
    digest = hashlib.sha256()
    for file in slide_files(path):
        with open(file, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def content_hash(path: str | os.PathLike) -> str:
    """A short, cheap hash that changes when the slide's content changes.

    Small slides are hashed whole, so identical copies share a hash. Large ones are sampled at
    evenly spaced places and the size and mtime are mixed in, so that an edit the samples miss still
    changes the hash (the price: a touched file gets a new hash, which only costs a cache miss).
    """
    files = slide_files(path)
    sizes = [f.stat().st_size for f in files]
    total = sum(sizes)
    digest = hashlib.blake2b(digest_size=10)
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    for file, size in zip(files, sizes):
        digest.update(f"{file.relative_to(root).as_posix()}\0{size}\0".encode())
        with open(file, "rb") as handle:
            if total <= FULL_HASH_LIMIT:
                while block := handle.read(1 << 20):
                    digest.update(block)
                continue
            digest.update(str(file.stat().st_mtime_ns).encode())
            step = max(size // _SAMPLE_COUNT, 1)
            for offset in range(0, size, step):
                handle.seek(offset)
                digest.update(handle.read(_SAMPLE_BLOCK))
            handle.seek(max(size - _SAMPLE_BLOCK, 0))
            digest.update(handle.read(_SAMPLE_BLOCK))
    return digest.hexdigest()
