"""Where tile content goes: a directory (content-addressed files) or memory (for the service's blob store)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

CONTENT_DIR = "content"


class ContentSink(Protocol):
    """Stores content bytes and returns the URI to write in tileset.json (relative to it)."""

    def put(self, data: bytes, *, suffix: str = ".glb") -> str: ...


def write_atomic(target: Path, data: bytes) -> None:
    """Write a file through a temporary one in its folder and a rename, so readers never see it half-written."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def content_name(data: bytes, suffix: str) -> str:
    """Content-addressed file name: first 20 hex digits of the SHA-256 of the bytes, plus suffix."""
    return hashlib.sha256(data).hexdigest()[:20] + suffix


class DirectorySink:
    """Writes out_dir/content/<sha256[:20]><suffix>; identical bytes map to one file, written once."""

    def __init__(self, out_dir: Path | str) -> None:
        self.out_dir = Path(out_dir)
        self.content_dir = self.out_dir / CONTENT_DIR
        self.content_dir.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, *, suffix: str = ".glb") -> str:
        """Store bytes; return the relative URI "content/<name>"."""
        name = content_name(data, suffix)
        target = self.content_dir / name
        if not target.exists():
            write_atomic(target, data)
        return f"{CONTENT_DIR}/{name}"

    def remove_unused(self, used: set[str]) -> int:
        """Delete the content files whose URIs are not in `used` (a previous run's, in the same folder); how many."""
        removed = 0
        for path in self.content_dir.iterdir():
            if path.is_file() and not path.name.startswith(".") and f"{CONTENT_DIR}/{path.name}" not in used:
                path.unlink()
                removed += 1
        return removed

    def get(self, uri: str) -> bytes | None:
        """Bytes stored under a URI returned by put (None if absent); usable as check_tileset's resolve."""
        path = (self.out_dir / uri).resolve()
        if self.out_dir.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()


class MemorySink:
    """Keeps {uri: bytes} in memory, with the same content-addressed URIs as DirectorySink."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes, *, suffix: str = ".glb") -> str:
        """Store bytes; return the relative URI "content/<name>"."""
        uri = f"{CONTENT_DIR}/{content_name(data, suffix)}"
        self.blobs.setdefault(uri, bytes(data))
        return uri

    def get(self, uri: str) -> bytes | None:
        """Bytes stored under a URI (None if absent); usable as check_tileset's resolve."""
        return self.blobs.get(uri)
