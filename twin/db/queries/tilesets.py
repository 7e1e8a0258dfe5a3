"""Data access for stored tilesets: atomic publication of a new version, lookup, blob access, pruning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.db.models import Park, TileBlob, Tileset, TilesetBlob
from twin.errors import NotFound

CONTENT_PREFIX = "content/"


@dataclass(frozen=True, slots=True)
class NewTileset:
    """A built tileset ready to store: its JSON, its blobs by relative URI, and what it came from."""

    slug: str
    title: str
    title_en: str | None
    source_kind: str
    source_ref: str | None
    source_hash: str | None
    tileset: dict[str, Any]
    blobs: dict[str, bytes]  # "content/<name>" -> bytes


def publish(session: Session, *, park: Park, new: NewTileset, keep_versions: int = 5) -> Tileset:
    """Store the blobs and a new version, and make it the published one, in the caller's transaction.

    Viewers see either the previous version or this one: the switch is one transaction, and old
    versions' blobs stay until the version is pruned, so a viewer holding the old tileset.json
    can still load its content.
    """
    names = [uri.removeprefix(CONTENT_PREFIX) for uri in new.blobs]
    rows = [{"name": uri.removeprefix(CONTENT_PREFIX), "data": data, "size": len(data)} for uri, data in new.blobs.items()]
    for start in range(0, len(rows), 200):
        session.execute(insert(TileBlob).on_conflict_do_nothing(index_elements=["name"]), rows[start : start + 200])
    # Lock the park's row so two concurrent builds of the same tileset get distinct versions.
    session.execute(select(Park.id).where(Park.id == park.id).with_for_update())
    version = (session.scalar(select(func.max(Tileset.version)).where(Tileset.park_id == park.id, Tileset.slug == new.slug)) or 0) + 1
    session.execute(update(Tileset).where(Tileset.park_id == park.id, Tileset.slug == new.slug, Tileset.published).values(published=False))
    extras = new.tileset.get("extras", {}).get("parktwin", {})
    record = Tileset(
        park_id=park.id, slug=new.slug, version=version, title=new.title, title_en=new.title_en,
        source_kind=new.source_kind, source_ref=new.source_ref, source_hash=new.source_hash, tileset=new.tileset,
        feature_count=int(extras.get("featureCount", 0)), tile_count=int(extras.get("tileCount", len(names))),
        bytes_total=sum(r["size"] for r in rows), published=True,
    )
    session.add(record)
    session.flush()
    session.execute(insert(TilesetBlob).on_conflict_do_nothing(), [{"tileset_id": record.id, "blob_name": n} for n in names])
    prune(session, park=park, slug=new.slug, keep_versions=keep_versions)
    return record


def unpublish(session: Session, *, park: Park, slug: str) -> bool:
    """Withdraw a tileset (nothing left to show): no version is published; stored versions stay until pruned."""
    return bool(session.execute(update(Tileset).where(Tileset.park_id == park.id, Tileset.slug == slug, Tileset.published)
                                .values(published=False)).rowcount)


def prune(session: Session, *, park: Park, slug: str, keep_versions: int) -> int:
    """Delete unpublished versions beyond the newest `keep_versions`, then blobs no version uses."""
    old = select(Tileset.id).where(Tileset.park_id == park.id, Tileset.slug == slug, Tileset.published.is_(False))
    old = old.order_by(Tileset.version.desc()).offset(max(keep_versions - 1, 0))
    removed = session.execute(delete(Tileset).where(Tileset.id.in_(old))).rowcount or 0
    if removed:
        session.execute(delete(TileBlob).where(~exists().where(TilesetBlob.blob_name == TileBlob.name)))
    return removed


def get_all(session: Session, *, park: Park) -> list[Tileset]:
    """The park's published tilesets."""
    return list(session.scalars(select(Tileset).where(Tileset.park_id == park.id, Tileset.published).order_by(Tileset.slug)))


def get_versions(session: Session, *, park: Park, slug: str) -> list[Tileset]:
    """Every stored version of one tileset, newest first."""
    return list(session.scalars(select(Tileset).where(Tileset.park_id == park.id, Tileset.slug == slug).order_by(Tileset.version.desc())))


def get(session: Session, *, park: Park, slug: str, version: int | None = None) -> Tileset:
    """The published version (or a given one) of a tileset, or NotFound."""
    stmt = select(Tileset).where(Tileset.park_id == park.id, Tileset.slug == slug)
    stmt = stmt.where(Tileset.version == version) if version is not None else stmt.where(Tileset.published)
    found = session.scalar(stmt)
    if found is None:
        which = f" version {version}" if version is not None else ""
        raise NotFound(f"tileset '{slug}'{which} not found in park '{park.slug}'")
    return found


def get_blob(session: Session, *, park: Park, slug: str, name: str) -> bytes:
    """A content blob, only if some version of this park's tileset uses it (else NotFound)."""
    data = session.scalar(
        select(TileBlob.data)
        .join(TilesetBlob, TilesetBlob.blob_name == TileBlob.name)
        .join(Tileset, Tileset.id == TilesetBlob.tileset_id)
        .where(TileBlob.name == name, Tileset.park_id == park.id, Tileset.slug == slug)
        .limit(1)
    )
    if data is None:
        raise NotFound(f"tile content '{name}' not found")
    return data


def get_blobs(session: Session, *, tileset: Tileset) -> dict[str, bytes]:
    """All content blobs of one stored tileset version, by name, in one query (for checks and exports).

    Read with a binary cursor: in text format bytea travels hex-encoded, twice its size, and
    decoding it took 3-4x as long as the binary read (84 MB of tiles: 0.35 s against 0.09 s).
    """
    session.flush()  # the raw cursor bypasses the ORM's autoflush
    raw = session.connection().connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        cursor.execute("SELECT b.name, b.data FROM tile_blobs b JOIN tileset_blobs tb ON tb.blob_name = b.name WHERE tb.tileset_id = %s",
                       (tileset.id,))
        return {name: data for name, data in cursor}


def source_hash_of_published(session: Session, *, park: Park, slug: str) -> str | None:
    """The source hash of the published version, to skip rebuilding unchanged data."""
    return session.scalar(select(Tileset.source_hash).where(Tileset.park_id == park.id, Tileset.slug == slug, Tileset.published))
