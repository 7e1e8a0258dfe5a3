"""Stream an uploaded file to disk with a size limit, so a large upload never sits in memory."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import UploadFile

from twin.errors import InvalidInput, PayloadTooLarge

CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._\-\u4e00-\u9fff]+")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """The client's file name reduced to a plain base name (no directories, no traversal)."""
    base = Path((name or default).replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._") or default
    return cleaned[:120]


async def save_upload(upload: UploadFile, *, dest_dir: Path, max_bytes: int, suffixes: tuple[str, ...]) -> Path:
    """Write the upload into a fresh folder under dest_dir; 413 past max_bytes, 400 for a wrong type or empty file."""
    name = safe_filename(upload.filename)
    lowered = name.lower()
    if suffixes and not lowered.endswith(suffixes):
        raise InvalidInput(f"unsupported file type '{name}'; expected one of: {', '.join(suffixes)}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=dest_dir))
    target = folder / name
    written = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                folder.rmdir()
                raise PayloadTooLarge(f"file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
            out.write(chunk)
    if written == 0:
        target.unlink(missing_ok=True)
        folder.rmdir()
        raise InvalidInput(f"the uploaded file '{name}' is empty")
    return target
