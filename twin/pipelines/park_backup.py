"""Back up one park to a .tar.gz and restore it, under its own slug or a new one, losslessly.

The tables come from the SQLAlchemy metadata: a table belongs to a park through a foreign-key path
to `parks` (its own `park_id`, or a NOT NULL reference to a table that has one). A table with no
such path must be listed in SHARED (content-addressed, copied when referenced) or EXCLUDED (with the
reason); any other table fails the backup loudly, so a new table is never silently left out.

Rows travel as PostgreSQL's own JSON text of each row (`row_to_json`, geometry as hex EWKB) and come
back through `json_populate_recordset`, so every type — geometry with SRID, timestamps to the
microsecond, JSONB, arrays, ranges, bytea — round-trips through the database's own input/output
functions. Surrogate ids are re-allocated on import (the original park may still exist) and every
foreign key is rewritten; the few ids stored outside foreign keys are rewritten in REWRITES.
Uploaded IFC files and score attachments are carried in the archive under files/.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from geoalchemy2 import Geometry
from sqlalchemy import JSON, Integer, Table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import sort_tables

from twin.db.base import Base
from twin.db.models import Park
from twin.errors import Conflict, InvalidInput, NotFound, TwinError

FORMAT = "parktwin-park-backup"
FORMAT_VERSION = 1
BATCH_ROWS = 2_000
# Copied with the rows that use them, never owned by one park (content-addressed: a name is its hash).
SHARED = {"tile_blobs"}
# Not park data, on purpose.
EXCLUDED = {
    "users": "credentials: people are re-created on the target with `twin user create`",
    "api_tokens": "credentials: only hashes are stored, and a restored park gets new tokens (`twin token create`)",
    "jobs": "a transient work queue; model versions keep their results (their job_id is cleared on import)",
}
_SCORE_FILE = re.compile(r"^files/score/(?P<rest>(?:[^/]+/){1,4}[^/]+)$")
_MODEL_FILE = re.compile(r"^files/models/(?P<name>[0-9a-f]{64}\.(?:ifc|ifczip))$")
_ID_IN_TEXT = {  # non-foreign-key text holding ids: (table, column) → [(pattern, referenced table)]
    ("tilesets", "slug"): [(re.compile(r"(?<=^bim-)(\d+)$"), "bim_models")],
    ("tilesets", "source_ref"): [(re.compile(r"(?<=^model:)(\d+)$"), "bim_models")],
    ("alarms", "dedup_key"): [(re.compile(r"(?<=rule:)(\d+)"), "alarm_rules"), (re.compile(r"(?<=/ds:)(\d+)"), "datastreams"),
                              (re.compile(r"(?<=/asset:)(\d+)"), "assets"), (re.compile(r"(?<=device:)(\d+)"), "assets")],
}
Progress = Callable[[str], None]


class BackupError(TwinError):
    """The backup cannot be made or restored as asked (unknown table, bad archive, schema mismatch)."""


@dataclass(frozen=True)
class Scope:
    """How a table's rows are chosen for one park: a SQL condition on the table aliased `t`."""

    table: Table
    condition: str  # uses :park_id
    owned: bool  # False for SHARED tables (only what the park's rows reference)


@dataclass
class ExportReport:
    """What a backup holds: rows per table, files, and stored files found missing."""

    park: str
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What a restore wrote: rows per table, files, and the new id of every row other rows refer to."""

    park: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    id_maps: dict[str, dict[int, int]] = field(default_factory=dict)  # table → {id in the backup: new id}


# ---------------------------------------------------------------------------------------- scoping

def park_tables() -> list[Table]:
    """Every table a park backup holds, parents before children (fails on a table it cannot scope)."""
    return [scope.table for scope in _scopes().values()]


def _scopes() -> dict[str, Scope]:
    """The scoping condition of every park table, in dependency order; BackupError for an unscopable table."""
    # Parents first; a table whose text columns hold another table's ids comes after that table too.
    extra = [(Base.metadata.tables[target], Base.metadata.tables[table]) for (table, _), rules in _ID_IN_TEXT.items() for _, target in rules if target != table]
    tables = [t for t in sort_tables(Base.metadata.tables.values(), extra_dependencies=extra) if t.name not in EXCLUDED]
    scopes: dict[str, Scope] = {}
    strong: set[str] = set()  # tables whose every row is tied to one park by NOT NULL references
    unknown: list[str] = []
    for table in tables:
        if table.name == "parks":
            scopes[table.name] = Scope(table, "t.id = :park_id", owned=True)
            strong.add(table.name)
            continue
        if table.name in SHARED:
            continue  # decided after the tables that reference it
        references = [fk for fk in table.foreign_keys if fk.column.table.name != table.name and fk.column.table.name not in EXCLUDED]
        direct = [fk for fk in references if _refers_to(fk).table.name == "parks"]
        via = [fk for fk in references if fk.column.table.name in strong and not fk.parent.nullable]
        if direct:
            scopes[table.name] = Scope(table, f"t.{direct[0].parent.name} = :park_id", owned=True)
            if not direct[0].parent.nullable:
                strong.add(table.name)
        elif via:
            fk = via[0]
            parent = scopes[fk.column.table.name]
            condition = f"t.{fk.parent.name} IN (SELECT {fk.column.name} FROM {parent.table.name} t WHERE {parent.condition})"
            scopes[table.name] = Scope(table, condition, owned=True)
            strong.add(table.name)
        else:
            unknown.append(table.name)
    for name in SHARED:
        table = Base.metadata.tables[name]
        users = [(scopes[t.name], fk) for t in tables for fk in t.foreign_keys if fk.column.table.name == name and t.name in scopes]
        if not users:
            unknown.append(name)
            continue
        condition = " OR ".join(f"t.{fk.column.name} IN (SELECT {fk.parent.name} FROM {scope.table.name} t WHERE {scope.condition})" for scope, fk in users)
        scopes[name] = Scope(table, condition, owned=False)
    # Rows of weakly scoped tables (nullable park_id: STA Sensors, Locations...) that the park's rows use are taken too.
    for name, scope in reversed(list(scopes.items())):  # children first, so a pulled-in row's own references follow
        if name in strong or not scope.owned:
            continue
        users = [(scopes[t.name], fk) for t in tables for fk in t.foreign_keys
                 if fk.column.table.name == name and t.name in scopes and t.name != name]
        extra = " OR ".join(f"t.{fk.column.name} IN (SELECT {fk.parent.name} FROM {s.table.name} t WHERE {s.condition})" for s, fk in users)
        if extra:
            scopes[name] = Scope(scope.table, f"({scope.condition}) OR {extra}", owned=True)
    if unknown:
        raise BackupError(f"no way to tell which park owns the rows of table(s) {', '.join(sorted(unknown))}: give them a "
                          "park_id (or a NOT NULL foreign key to a park's table), or list them in SHARED or EXCLUDED in "
                          "twin/pipelines/park_backup.py")
    order = [t.name for t in tables]
    return {name: scopes[name] for name in sorted(scopes, key=order.index)}


def _select_rows(table: Table) -> str:
    """Each row as PostgreSQL's JSON text. Geometry goes as hex EWKB (row_to_json would write lossy GeoJSON);
    a JSON column's value goes wrapped in a one-element array, so a JSON null stays apart from SQL NULL."""
    columns = [_exported(c) for c in table.columns]
    order = ", ".join(f't."{c.name}"' for c in table.primary_key.columns)
    return f"SELECT row_to_json(r)::text FROM (SELECT {', '.join(columns)} FROM {table.name} t WHERE {{condition}} ORDER BY {order}) r"


def _exported(column: Any) -> str:
    name = f't."{column.name}"'
    if isinstance(column.type, Geometry):
        return f"encode(ST_AsEWKB({name}), 'hex') AS \"{column.name}\""
    if isinstance(column.type, JSON):
        return f"CASE WHEN {name} IS NULL THEN NULL ELSE jsonb_build_array({name}) END AS \"{column.name}\""
    return name


def _imported(column: Any) -> str:
    """The inverse of _exported, on json_populate_recordset's output aliased `x` (hex EWKB is geometry's own input)."""
    return f'x."{column.name}" -> 0' if isinstance(column.type, JSON) else f'x."{column.name}"'


# ---------------------------------------------------------------------------------------- export

def export_park(session: Session, *, slug: str, out: Path, data_dir: Path, progress: Progress | None = None) -> ExportReport:
    """Write the park `slug` (rows of every park table, its IFC files and score attachments) to `out` (.tar.gz)."""
    park = session.query(Park).filter_by(slug=slug).one_or_none()
    if park is None:
        raise NotFound(f"park '{slug}' not found")
    scopes = _scopes()
    heads = list(session.scalars(text("SELECT version_num FROM alembic_version ORDER BY 1")))
    report = ExportReport(park=slug, path=out)
    files: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="park-export-") as scratch:
        members: list[tuple[str, Path]] = []
        for index, (name, scope) in enumerate(scopes.items()):
            if progress:
                progress(f"reading {name}")
            path = Path(scratch) / f"{index:03d}-{name}.jsonl"
            count = 0
            with path.open("wb") as handle:
                result = session.execute(text(_select_rows(scope.table).format(condition=scope.condition)).execution_options(yield_per=BATCH_ROWS),
                                         {"park_id": park.id})
                for (row,) in result:
                    handle.write(row.encode() + b"\n")
                    count += 1
                    files += _files_of(name, row, data_dir, report)
            report.rows[name] = count
            members.append((f"tables/{index:03d}-{name}.jsonl", path))
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "park": slug, "created_at": datetime.now(UTC).isoformat(),
            "alembic_heads": heads, "tables": {n: {"rows": report.rows[n], "columns": [c.name for c in s.table.columns]} for n, s in scopes.items()},
            "excluded": EXCLUDED,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz", compresslevel=6) as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            for member, path in members:
                archive.add(path, arcname=member)
            for member, path in dict(files).items():
                if progress:
                    progress(f"adding {member}")
                archive.add(path, arcname=member)
                report.files += 1
    return report


def _files_of(table: str, row: str, data_dir: Path, report: ExportReport) -> list[tuple[str, Path]]:
    """The stored files a row points to, as (archive member, path); a missing file is a warning."""
    if table == "bim_model_versions":
        path = Path(orjson.loads(row)["file_path"])
        member = f"files/models/{path.name}"
    elif table == "score_attachments":
        stored = Path(orjson.loads(row)["stored_path"])  # score/<park>/<indicator>/<upload dir>/<name>, relative to data_dir
        path = data_dir / stored
        member = "files/score/" + "/".join(stored.parts[2:])
    else:
        return []
    if not path.is_file():
        report.warnings.append(f"{table}: stored file {path} is missing; the row is kept without it")
        return []
    return [(member, path)]


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------------------------------- import

def import_park(session: Session, *, archive_path: Path, data_dir: Path, slug: str | None = None, progress: Progress | None = None) -> ImportReport:
    """Restore a park backup as a new park (`slug`, default the backup's own) in the caller's transaction."""
    scopes = _scopes()
    written: list[Path] = []
    try:
        with tarfile.open(archive_path, "r|gz") as archive:
            members = iter(archive)
            manifest = _read_manifest(archive, next(members, None), scopes)
            target = slug or manifest["park"]
            if session.query(Park.id).filter_by(slug=target).first():
                raise Conflict(f"park '{target}' already exists; import under another --slug")
            restorer = _Restorer(session, scopes=scopes, slug=target, data_dir=data_dir, report=ImportReport(park=target))
            for member in members:
                if not member.isfile():
                    raise BackupError(f"unexpected entry '{member.name}' in the backup (not a regular file)")
                if member.name.startswith("tables/"):
                    name = member.name.split("-", 1)[-1].removesuffix(".jsonl")
                    if name not in scopes:
                        raise BackupError(f"the backup holds table '{name}', unknown to this database")
                    if progress:
                        progress(f"restoring {name}")
                    restorer.table(scopes[name].table, _lines(archive, member))
                elif member.name.startswith("files/"):
                    written += restorer.file(member.name, archive.extractfile(member))
                else:
                    raise BackupError(f"unexpected entry '{member.name}' in the backup")
            restorer.finish()
    except (tarfile.TarError, EOFError, OSError) as exc:
        _remove(written)
        raise InvalidInput(f"{archive_path.name} is not a readable park backup: {exc}") from None
    except BaseException:
        _remove(written)
        raise
    return restorer.report


def _read_manifest(archive: tarfile.TarFile, member: tarfile.TarInfo | None, scopes: dict[str, Scope]) -> dict[str, Any]:
    if member is None or member.name != "manifest.json":
        raise BackupError("not a park backup: manifest.json must come first in the archive")
    handle = archive.extractfile(member)
    manifest = json.loads(handle.read()) if handle else {}
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"not a {FORMAT} version {FORMAT_VERSION} archive")
    for name, spec in manifest["tables"].items():
        if name not in scopes:
            raise BackupError(f"the backup holds table '{name}', unknown to this database; upgrade it (`twin db upgrade`)")
        unknown = sorted(set(spec["columns"]) - {c.name for c in scopes[name].table.columns})
        if unknown:
            raise BackupError(f"the backup's table '{name}' has column(s) {', '.join(unknown)} this database lacks; upgrade it")
    return manifest


def _lines(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Iterator[dict[str, Any]]:
    handle = archive.extractfile(member)
    if handle is None:
        return
    for line in handle:
        if line.strip():
            yield orjson.loads(line)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class _Restorer:
    """Inserts one table at a time with new ids, rewriting references through the maps of the tables before it."""

    def __init__(self, session: Session, *, scopes: dict[str, Scope], slug: str, data_dir: Path, report: ImportReport) -> None:
        self.session, self.slug, self.data_dir, self.report = session, slug, data_dir, report
        self.maps = report.id_maps
        referenced = {fk.column.table.name for t in (s.table for s in scopes.values()) for fk in t.foreign_keys}
        self.remapped = {name for name, s in scopes.items() if _surrogate(s.table) and (name in referenced or name == "parks")}
        self.old_park: int | None = None
        self.score_prefix: str | None = None

    def table(self, table: Table, rows: Iterator[dict[str, Any]]) -> None:
        """Insert the rows in batches (parents before children when the table refers to itself)."""
        self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name]
        if self_refs:  # an UPDATE afterwards would move features' updated_at (a trigger), so link them on insert
            rows = iter(_parents_first(list(rows), self_refs))
        count = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                self._insert(table, batch)
                count += len(batch)
                batch = []
        if batch:
            self._insert(table, batch)
            count += len(batch)
        self.report.rows[table.name] = count

    def _insert(self, table: Table, batch: list[dict[str, Any]]) -> None:
        name = table.name
        if name in self.remapped:
            new_ids = self.session.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) FROM generate_series(1, :n)"),
                                           {"n": len(batch)}).all()
            mapping = self.maps.setdefault(name, {})
            for row, new_id in zip(batch, new_ids, strict=True):
                mapping[row["id"]] = new_id
        rows = [self._rewrite(table, row) for row in batch]
        columns = ", ".join(f'"{c}"' for c in rows[0])
        values = ", ".join(_imported(table.columns[c]) for c in rows[0])
        conflict = " ON CONFLICT DO NOTHING" if name in SHARED else ""
        self.session.execute(text(f"INSERT INTO {name} ({columns}) SELECT {values} FROM json_populate_recordset(NULL::{name}, CAST(:rows AS json)) x{conflict}"),
                             {"rows": orjson.dumps(rows).decode()})

    def _rewrite(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        name = table.name
        out = dict(row)
        if name == "parks":
            self.old_park = row["id"]
            out["slug"] = self.slug
        if name in self.remapped:
            out["id"] = self.maps[name][row["id"]]
        elif _surrogate(table):
            out.pop("id", None)  # nothing refers to it: the database numbers it
        for fk in table.foreign_keys:
            column, target = fk.parent.name, _refers_to(fk).table.name
            value = row.get(column)
            if value is None or target in SHARED:
                continue
            if target in EXCLUDED:
                out[column] = None
            elif target == "parks" and value != self.old_park:
                raise BackupError(f"a row of {name} belongs to another park (id {value}) than the one backed up")
            else:
                try:
                    out[column] = self.maps[target][value]
                except KeyError:
                    raise BackupError(f"{name}.{column} = {value} refers to a {target} row missing from the backup") from None
        for (table_name, column), rules in _ID_IN_TEXT.items():
            if table_name == name and isinstance(out.get(column), str):
                for pattern, target in rules:
                    out[column] = pattern.sub(lambda m, t=target: str(self.maps.get(t, {}).get(int(m.group(1)), m.group(1))), out[column])
        if name == "bim_model_versions":
            out["file_path"] = str(self.data_dir / "models" / self.slug / Path(row["file_path"]).name)
        if name == "score_attachments":
            parts = Path(row["stored_path"]).parts
            out["stored_path"] = str(Path("score", self.slug, *parts[2:]))
        return out

    def file(self, member: str, handle: io.BufferedReader | None) -> list[Path]:
        """Store an archived file where the restored rows expect it; returns what it newly wrote."""
        if (match := _MODEL_FILE.match(member)) is not None:
            target = self.data_dir / "models" / self.slug / match["name"]
        elif (match := _SCORE_FILE.match(member)) is not None and ".." not in match["rest"].split("/"):
            target = self.data_dir / "score" / self.slug / match["rest"]
        else:
            raise BackupError(f"unexpected file '{member}' in the backup")
        root = self.data_dir.resolve()
        if not target.resolve().is_relative_to(root) or handle is None:
            raise BackupError(f"unexpected file '{member}' in the backup")
        if target.exists():
            return []  # the same content (IFC files are named by their hash)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            while chunk := handle.read(1 << 20):
                out.write(chunk)
        self.report.files += 1
        return [target]

    def finish(self) -> None:
        """Fix the ids stored without a foreign key: the latest-observation pointers."""
        streams = list(self.maps.get("datastreams", {}).values())
        if streams:
            self.session.execute(text(
                "UPDATE datastream_latest l SET observation_id = o.id FROM observations o "
                "WHERE o.datastream_id = l.datastream_id AND o.phenomenon_time = l.phenomenon_time AND l.datastream_id = ANY(:ids)"),
                {"ids": streams})
        self.session.flush()


def _refers_to(fk: Any) -> Any:
    """The key column whose ids a foreign key's column holds. Half of a composite key may point at a
    plain column (features.park_id → layers.park_id): its values are what that column refers to (parks.id)."""
    column = fk.column
    while not column.primary_key and column.foreign_keys:
        column = next(iter(column.foreign_keys)).column
    return column


def _parents_first(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """The rows ordered by their depth in the self-reference (a parent before its children)."""
    by_id = {row["id"]: row for row in rows}
    depth: dict[int, int] = {}

    def depth_of(row_id: int) -> int:
        chain: list[int] = []
        current: int | None = row_id
        while current is not None and current not in depth:
            if current in chain or len(chain) > len(by_id):
                raise BackupError("the backup's hierarchy has a cycle")
            chain.append(current)
            parents = [by_id[current].get(c) for c in columns]
            current = next((p for p in parents if p is not None and p in by_id), None)
        base = depth[current] + 1 if current is not None else 0
        for offset, node in enumerate(reversed(chain)):
            depth[node] = base + offset
        return depth[row_id]

    return sorted(rows, key=lambda row: depth_of(row["id"]))


def _surrogate(table: Table) -> bool:
    """True for a table keyed by a single integer `id` column."""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and keys[0].name == "id" and isinstance(keys[0].type, Integer)

