"""Validate an uploaded IFC / IFCZIP file before ifcopenshell sees it, then open it.

ifcopenshell opens a file cut in half without complaint and reports schema problems as bare
exceptions, so the checks that give users a precise message are done here on the raw bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import ifcopenshell

from bim.errors import InvalidIfc, UnsupportedSchema

SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3_ADD2")
# Header spellings ifcopenshell 0.9 cannot open itself but which are the same schema as one it
# can: "IFC4X3" is the ISO name of IFC4X3_ADD2. (ifcopenshell only maps it when creating files.)
SCHEMA_ALIASES = {"IFC4X3": "IFC4X3_ADD2"}

STEP_MAGIC = b"ISO-10303-21;"
STEP_TRAILER = b"END-ISO-10303-21;"
LFS_MAGIC = b"version https://git-lfs"
ZIP_MAGIC = b"PK\x03\x04"
HEADER_READ_BYTES = 1 << 20  # a STEP header is a few kB; 1 MiB leaves room for long FILE_NAME lists
TRAILER_READ_BYTES = 4096
ZIP_RATIO_LIMIT = 100  # real IFC deflates 5-20x; far beyond that with a big output is a bomb
ZIP_RATIO_MIN_BYTES = 64 << 20  # small files may compress well without being a threat
COPY_CHUNK_BYTES = 1 << 20

_COMMENT = re.compile(rb"/\*.*?\*/", re.S)
_FILE_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.I)


def check_ifc_file(path: Path, *, max_unzipped_bytes: int = 2_000_000_000) -> Path:
    """Check that `path` is a complete IFC STEP file (or an .ifczip holding one) in a supported schema.

    Returns the path ifcopenshell should open. When that differs from `path` (an extracted
    .ifczip member or a copy with the schema name normalised) it is a temporary file next to
    `path` that the caller owns and should delete. Raises InvalidIfc / UnsupportedSchema.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidIfc(f"file not found: {path.name}")
    if path.stat().st_size == 0:
        raise InvalidIfc("empty file: the upload has 0 bytes")
    with path.open("rb") as stream:
        head = stream.read(HEADER_READ_BYTES)
    if head.startswith(ZIP_MAGIC):
        extracted = _extract_single_ifc(path, max_unzipped_bytes)
        try:
            checked = _check_step_file(extracted)
        except BaseException:
            extracted.unlink(missing_ok=True)
            raise
        if checked != extracted:
            extracted.unlink(missing_ok=True)
        return checked
    return _check_step_file(path)


def validate_ifc_upload(path: Path, *, max_unzipped_bytes: int = 2_000_000_000) -> None:
    """check_ifc_file for callers that only want the verdict: raises InvalidIfc, and leaves no temp file behind."""
    checked = check_ifc_file(path, max_unzipped_bytes=max_unzipped_bytes)
    if checked != Path(path):
        checked.unlink(missing_ok=True)


def open_ifc(path: Path) -> ifcopenshell.file:
    """Check `path` with check_ifc_file, then open it with ifcopenshell; all failures become InvalidIfc."""
    checked = check_ifc_file(path)
    try:
        return ifcopenshell.open(str(checked))
    except (ifcopenshell.Error, RuntimeError, OSError, ValueError, LookupError) as exc:
        # Error/SchemaError for parse failures, IOError for unreadable files, RuntimeError from the wrapper.
        raise InvalidIfc(f"cannot read IFC file: {exc}") from exc
    finally:
        if checked != Path(path):
            checked.unlink(missing_ok=True)  # the model is in memory now


def _check_step_file(path: Path) -> Path:
    """Header, schema and trailer checks of a plain STEP file; returns the path to open."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidIfc("empty file: the IFC file has 0 bytes")
    with path.open("rb") as stream:
        head = stream.read(HEADER_READ_BYTES)
        stream.seek(max(0, size - TRAILER_READ_BYTES))
        tail = stream.read()
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(LFS_MAGIC):
        raise InvalidIfc(
            "this is a Git LFS pointer file, not the IFC model: fetch the real file (git lfs pull) and upload that"
        )
    if start.startswith(ZIP_MAGIC):
        raise InvalidIfc("not an IFC file: a zip archive inside an .ifczip is not supported")
    if not start.startswith(STEP_MAGIC):
        raise InvalidIfc("not an IFC file: it does not start with ISO-10303-21; (IFC STEP format expected)")
    schema = _header_schema(head)
    if not tail.rstrip(b" \t\r\n\x00\x1a").endswith(STEP_TRAILER):
        raise InvalidIfc("truncated IFC file: no END-ISO-10303-21; trailer")
    if schema in SCHEMA_ALIASES:
        return _copy_with_schema(path, head, schema, SCHEMA_ALIASES[schema])
    return path


def _header_schema(head: bytes) -> str:
    """The first schema name in the header's FILE_SCHEMA, upper-cased; raises if missing or unsupported."""
    end = head.find(b"ENDSEC;")
    header = _COMMENT.sub(b"", head if end < 0 else head[: end + 7])
    match = _FILE_SCHEMA.search(header)
    if match is None:
        raise InvalidIfc("not an IFC file: the STEP header has no FILE_SCHEMA")
    schema = match.group(1).decode("latin-1").strip().upper()
    if schema not in SUPPORTED_SCHEMAS and schema not in SCHEMA_ALIASES:
        shown = schema or "(empty)"
        raise UnsupportedSchema(f"unsupported schema {shown}; supported: {', '.join(SUPPORTED_SCHEMAS)}")
    return schema


def _copy_with_schema(path: Path, head: bytes, old: str, new: str) -> Path:
    """Copy `path` next to itself with FILE_SCHEMA(('old')) renamed to `new` (only in the header)."""
    end = head.find(b"ENDSEC;")
    header = head[: end + 7]
    renamed = re.sub(rb"'" + re.escape(old.encode()) + rb"'", b"'" + new.encode() + b"'", header, count=1, flags=re.I)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".ifc", dir=_scratch_dir(path))
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            out.write(renamed)
            src.seek(len(header))
            shutil.copyfileobj(src, out, COPY_CHUNK_BYTES)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Path(tmp_name)


def _scratch_dir(path: Path) -> Path:
    """Where temp files for `path` go: next to it, unless its folder is marked read-only (e.g. fixtures)."""
    parent = path.resolve().parent
    # os.access says "writable" to root even on r-x folders, so look at the mode bits themselves.
    return parent if parent.stat().st_mode & 0o222 else Path(tempfile.gettempdir())


def _extract_single_ifc(path: Path, max_unzipped_bytes: int) -> Path:
    """Extract the only .ifc member of the zip at `path` to a temp file beside it, guarding against zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidIfc(f"not a valid .ifczip: the zip archive cannot be read ({exc})") from exc
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith(".ifc") and "__MACOSX/" not in info.filename
        ]
        if len(members) != 1:
            names = ", ".join(info.filename for info in members) or "none"
            raise InvalidIfc(f"an .ifczip must contain exactly one .ifc file; found {len(members)}: {names}")
        info = members[0]
        _check_declared_size(info, max_unzipped_bytes)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".ifc", dir=_scratch_dir(path))
        try:
            with os.fdopen(fd, "wb") as out, archive.open(info) as member:
                _copy_guarded(member, out, info, max_unzipped_bytes)
        except zipfile.BadZipFile as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise InvalidIfc(f"not a valid .ifczip: {exc}") from exc
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    return Path(tmp_name)


def _check_declared_size(info: zipfile.ZipInfo, max_unzipped_bytes: int) -> None:
    """Reject from the zip directory alone: too big, or a compression ratio only a zip bomb has."""
    if info.file_size > max_unzipped_bytes:
        raise InvalidIfc(
            f"the .ifczip expands to {info.file_size:,} bytes, above the limit of {max_unzipped_bytes:,} bytes"
        )
    if info.file_size > ZIP_RATIO_MIN_BYTES and info.file_size > ZIP_RATIO_LIMIT * max(info.compress_size, 1):
        raise InvalidIfc(
            f"the .ifczip looks like a zip bomb: {info.compress_size:,} bytes expand to {info.file_size:,} "
            f"(more than {ZIP_RATIO_LIMIT}x)"
        )


def _copy_guarded(member, out, info: zipfile.ZipInfo, max_unzipped_bytes: int) -> None:
    """Stream the member out, counting bytes: the directory's sizes may lie, so check while extracting too."""
    written = 0
    limit = min(max_unzipped_bytes, info.file_size)
    while chunk := member.read(COPY_CHUNK_BYTES):
        written += len(chunk)
        if written > limit:
            raise InvalidIfc(
                f"the .ifczip expands beyond its declared size or the limit of {max_unzipped_bytes:,} bytes"
            )
        if written > ZIP_RATIO_MIN_BYTES and written > ZIP_RATIO_LIMIT * max(info.compress_size, 1):
            raise InvalidIfc(
                f"the .ifczip looks like a zip bomb: {info.compress_size:,} bytes expand to more than "
                f"{written:,} (more than {ZIP_RATIO_LIMIT}x)"
            )
        out.write(chunk)
