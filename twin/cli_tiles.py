"""`twin tiles ...` and `twin import gis`, `twin park ...`: GIS data in, 3D Tiles out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from twin.cli_common import console, fail, progress_bar, session_factory
from twin.cli_import import import_app
from twin.errors import TwinError
from twin.settings import get_settings

tiles_app = typer.Typer(help="3D Tiles 1.1: build a park's tiles from PostGIS, or tile a file offline.", no_args_is_help=True)
park_app = typer.Typer(help="Parks.", no_args_is_help=True)


@park_app.command("create")
def park_create(
    slug: str, name: Annotated[str, typer.Option(help="display name (Chinese)")],
    name_en: Annotated[str | None, typer.Option()] = None,
    center: Annotated[str | None, typer.Option(help="LON,LAT")] = None,
    ground_elevation: Annotated[float, typer.Option(help="orthometric height of the ground, m")] = 0.0,
) -> None:
    """Create an empty park."""
    from twin.db.queries import parks
    from twin.db.session import transaction

    try:
        lonlat = tuple(float(v) for v in center.split(",")) if center else None
        with transaction(session_factory()) as session:
            parks.create(session, slug=slug, name=name, name_en=name_en, center=lonlat, ground_elevation_m=ground_elevation)  # type: ignore[arg-type]
    except (TwinError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))
    console.print(f"park {slug} created")


@park_app.command("list")
def park_list() -> None:
    """List parks."""
    from twin.db.queries import parks
    from twin.db.session import transaction

    with transaction(session_factory()) as session:
        for park in parks.get_all(session):
            print(f"{park.slug}\t{park.name}")


@park_app.command("layers")
def park_layers(slug: Annotated[str, typer.Argument(help="park slug")]) -> None:
    """List a park's layers with their category, feature count and source."""
    from twin.db.queries import parks
    from twin.db.session import transaction

    try:
        with transaction(session_factory()) as session:
            rows = parks.get_layers(session, park=parks.get_by_slug(session, slug=slug))
    except TwinError as exc:
        fail(exc.message)
    for layer, count in rows:
        print(f"{layer.slug}\t{layer.category}\t{count}\t{layer.source_name or ''}")


@park_app.command("delete-layer")
def park_delete_layer(
    slug: Annotated[str, typer.Argument(help="park slug")], layer: Annotated[str, typer.Argument(help="layer slug")],
    force: Annotated[bool, typer.Option(help="delete even if assets, enterprises, models or rules are bound to its features (they are unbound)")] = False,
) -> None:
    """Delete a layer and its features; the building tiles are rebuilt without them."""
    from twin.db.queries import parks
    from twin.db.session import transaction
    from twin.pipelines.layer_delete import delete_layer

    try:
        with transaction(session_factory()) as session:
            done = delete_layer(session, park=parks.get_by_slug(session, slug=slug), slug=layer, force=force)
    except TwinError as exc:
        fail(exc.message)
    tiles = done["tiles"]
    after = "" if tiles is None else ("; building tiles withdrawn (no building left)" if "withdrawn" in tiles
                                      else f"; building tiles v{tiles['version']} ({tiles['features']} buildings)")
    unbound = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in done["unbound"].items() if count)
    console.print(f"layer {layer} deleted: {done['features_removed']} features" + (f"; unbound {unbound}" if unbound else "") + after)


@import_app.command("gis")
def import_gis_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON, GeoPackage, Shapefile (.shp or .zip), CityJSON")],
    park: Annotated[str, typer.Option(help="park slug")],
    layer: Annotated[str, typer.Option(help="layer slug; an existing layer is merged by feature code (kept features keep their ids and bindings)")],
    source_layer: Annotated[str | None, typer.Option(help="the file's layer to read, when it has several (a GeoPackage's layers, a zip's shapefiles)")] = None,
    crs: Annotated[str | None, typer.Option(help="source CRS: EPSG code, gcj02 or bd09 (when the file's is missing or wrong)")] = None,
    height_attr: Annotated[str | None, typer.Option(help="attribute holding the height")] = None,
    levels_attr: Annotated[str | None, typer.Option(help="attribute holding the storey count")] = None,
    storey_height: Annotated[float | None, typer.Option(help="metres per storey (default TWIN_STOREY_HEIGHT_M = 3)")] = None,
    tiles: Annotated[bool, typer.Option(help="rebuild the building tiles afterwards")] = True,
) -> None:
    """Import a GIS file into a park layer in PostGIS, then rebuild the building tiles."""
    from twin.db.queries import parks
    from twin.db.session import transaction
    from twin.pipelines.gis_import import import_and_tile

    settings = get_settings()
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("import", total=None)
        try:
            with transaction(session_factory()) as session:
                options = {"layer": layer, "source_layer": source_layer, "crs": crs, "height_attr": height_attr, "levels_attr": levels_attr,
                           "storey_height": storey_height or settings.storey_height_m, "build_tiles": tiles}
                result = import_and_tile(session, park=parks.get_by_slug(session, slug=park), path=file, settings=settings, source_name=file.name,
                                         options=options, progress=lambda phase, fraction, message: bar.update(
                                             task, description=message or phase, completed=fraction * 100, total=100))
        except TwinError as exc:
            fail(exc.message)
    report = result["report"]
    changes = report["changes"]
    console.print(f"{report['rows_read']} rows read: {report['loaded']} loaded ({report['repaired']} repaired), {report['dropped']} dropped; "
                  f"layers {', '.join(f'{slug} {count}' for slug, count in result['layers'].items())}: {changes['added']} added, {changes['updated']} updated, {changes['unchanged']} unchanged, "
                  f"{changes['removed']} removed; source CRS {report['source_crs']}; {time.perf_counter() - started:.1f} s")
    for warning in report.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")


@tiles_app.command("build")
def tiles_build(park: Annotated[str, typer.Option(help="park slug")], force: Annotated[bool, typer.Option(help="rebuild even if unchanged")] = False) -> None:
    """Rebuild a park's building tiles from PostGIS and publish them atomically."""
    from twin.db.queries import parks
    from twin.db.session import transaction
    from twin.pipelines.tiles_build import build_buildings

    with progress_bar() as bar:
        task = bar.add_task("tiles", total=None)
        try:
            with transaction(session_factory()) as session:
                result = build_buildings(session, park=parks.get_by_slug(session, slug=park), force=force,
                                         progress=lambda label, done, total: bar.update(task, completed=done, total=total))
        except TwinError as exc:
            fail(exc.message)
    if result.skipped:
        console.print(f"buildings unchanged ({result.features}); published tiles kept (use --force to rebuild)")
    else:
        console.print(f"published buildings v{result.tileset.version}: {result.features} features in {result.tileset.tile_count} tiles")


@tiles_app.command("gis")
def tiles_gis(
    input: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON, GeoPackage, Shapefile (.shp or .zip), CityJSON")],
    out: Annotated[Path, typer.Option("-o", "--out", help="output folder: tileset.json, content/ and ground.geojson (a previous run's are replaced)")],
    source_layer: Annotated[str | None, typer.Option(help="the file's layer to read, when it has several (a GeoPackage's layers, a zip's shapefiles)")] = None,
    crs: Annotated[str | None, typer.Option(help="source CRS: EPSG code, gcj02 or bd09 (when the file's is missing or wrong)")] = None,
    height_attr: Annotated[str | None, typer.Option(help="attribute holding the height")] = None,
    levels_attr: Annotated[str | None, typer.Option(help="attribute holding the storey count")] = None,
    storey_height: Annotated[float, typer.Option(help="metres per storey")] = 3.0,
    default_height: Annotated[float, typer.Option(help="height of a building with neither height nor storeys, m")] = 10.0,
    max_features_per_tile: Annotated[int, typer.Option(min=1)] = 500,
) -> None:
    """Tile a file with no database: its buildings → OUT/tileset.json (3D Tiles 1.1), its other features
    (roads, green, water, parking, points) → OUT/ground.geojson for the viewer to drape."""
    from twin.pipelines.tiles_offline import GROUND_FILE, tile_file

    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("reading", total=None)
        try:
            result = tile_file(input, out, source_layer=source_layer, crs=crs, height_attr=height_attr, levels_attr=levels_attr, storey_height=storey_height,
                               default_height=default_height, max_features_per_tile=max_features_per_tile,
                               progress=lambda label, done, total: bar.update(task, description=label, **({} if total is None else {"completed": done, "total": total})))
        except TwinError as exc:
            fail(exc.message)
    report = result.report
    console.print(f"{result.buildings} buildings → {result.tileset_path} ({result.tiles} tiles, {time.perf_counter() - started:.1f} s)")
    if result.ground:
        kinds = ", ".join(f"{count} {kind}" for kind, count in result.ground.items())
        console.print(f"{sum(result.ground.values())} ground features ({kinds}) → {out / GROUND_FILE}")
    console.print(f"{report.rows_read} rows read: {report.loaded} loaded ({report.repaired} repaired), {report.dropped} dropped; "
                  f"source CRS {report.source_crs}" + (f"; {result.stale_removed} stale content files removed" if result.stale_removed else ""))
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


# ---------------------------------------------------------------- `twin park export` / `twin park import`: backup and restore

@park_app.command("export")
def park_export(
    slug: Annotated[str, typer.Argument(help="park slug")],
    out: Annotated[Path, typer.Option("-o", "--out", help="the backup file to write (.tar.gz)")],
) -> None:
    """Back up a park (every table of it, its IFC files and score attachments) to one .tar.gz."""
    from sqlalchemy import text

    from twin.db.session import transaction
    from twin.pipelines.park_backup import export_park

    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("export", total=None)
        try:
            with transaction(session_factory()) as session:
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))  # one consistent snapshot
                report = export_park(session, slug=slug, out=out, data_dir=get_settings().data_dir,
                                     progress=lambda message: bar.update(task, description=message))
        except TwinError as exc:
            fail(exc.message)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(f"park {slug} → {out}: {sum(report.rows.values())} rows in {len(report.rows)} tables, {report.files} files, "
                  f"{out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s")


@park_app.command("import")
def park_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a backup made by `twin park export`")],
    slug: Annotated[str | None, typer.Option(help="restore under this slug (default: the backup's own)")] = None,
) -> None:
    """Restore a park backup as a new park (all or nothing)."""
    from twin.db.session import transaction
    from twin.pipelines.park_backup import import_park

    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("import", total=None)
        try:
            with transaction(session_factory()) as session:
                report = import_park(session, archive_path=file, data_dir=get_settings().data_dir, slug=slug,
                                     progress=lambda message: bar.update(task, description=message))
        except TwinError as exc:
            fail(exc.message)
    console.print(f"park {report.park} restored from {file}: {sum(report.rows.values())} rows in {len(report.rows)} tables, "
                  f"{report.files} files, {time.perf_counter() - started:.1f} s")
