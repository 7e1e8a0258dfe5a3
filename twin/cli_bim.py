"""`twin import ifc`, `twin tiles ifc`, `twin jobs ...`: BIM models in, 3D Tiles out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from twin.cli_common import console, fail, progress_bar, session_factory
from twin.cli_import import import_app
from twin.cli_tiles import tiles_app
from twin.errors import TwinError
from twin.settings import get_settings

jobs_app = typer.Typer(help="Background jobs (IFC conversions, GIS imports sent with Prefer: respond-async).", no_args_is_help=True)
AnchorOption = Annotated[str | None, typer.Option(help="LON,LAT,HEIGHT[,ROTATION_DEG]: place the model here (rotation: model +X anticlockwise from east)")]


@import_app.command("ifc")
def import_ifc(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".ifc or .ifczip")],
    park: Annotated[str, typer.Option(help="park slug")],
    anchor: AnchorOption = None,
    name: Annotated[str | None, typer.Option(help="model name (an existing name adds a version)")] = None,
    building: Annotated[str | None, typer.Option(help="code of the building the model represents")] = None,
) -> None:
    """Convert an IFC model into georeferenced 3D Tiles and PostGIS elements, and publish it."""
    from twin.pipelines.ifc_import import import_ifc_now, parse_anchor

    started = time.perf_counter()
    try:
        with progress_bar() as bar:
            task = bar.add_task("converting", total=100)
            result = import_ifc_now(session_factory(), park_slug=park, file=file, settings=get_settings(), name=name, building=building,
                                    anchor=parse_anchor(anchor), progress=lambda phase, fraction, message=None: bar.update(task, description=phase, completed=fraction * 100))
    except TwinError as exc:
        fail(exc.message)
    console.print(f"model {result['model_id']} version {result['version']}: {result['elements']} elements, georeference from {result['georef_source']}, "
                  f"at {result['lon']:.6f}, {result['lat']:.6f}; tileset {result['tileset']} v{result['tileset_version']} "
                  f"({time.perf_counter() - started:.1f} s)")
    for warning in result.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")


@tiles_app.command("ifc")
def tiles_ifc(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".ifc or .ifczip")],
    out: Annotated[Path, typer.Option("-o", "--out", help="output folder for tileset.json and content/")],
    anchor: AnchorOption = None,
) -> None:
    """Tile an IFC model to OUT/tileset.json (3D Tiles 1.1, per-element metadata) with no database."""
    from bim.convert import write_ifc_tiles
    from bim.errors import BimError
    from bim.isolated import convert_ifc_isolated
    from twin.pipelines.ifc_import import parse_anchor

    started = time.perf_counter()
    try:
        placement = parse_anchor(anchor)
        with progress_bar() as bar:
            task = bar.add_task("converting", total=100)
            # in a child process: a geometry-kernel crash becomes an error message (and a retry with OpenCASCADE)
            result = convert_ifc_isolated(file, anchor=placement, progress=lambda phase, fraction: bar.update(task, description=phase, completed=fraction * 100))
            bar.update(task, description="tiles", completed=100)
            path = write_ifc_tiles(result, out)
    except BimError as exc:
        fail(str(exc))
    except TwinError as exc:
        fail(exc.message)
    console.print(f"{len(result.meshes)} elements → {path}; georeference from {result.georef.source} "
                  f"({result.origin.lon:.6f}, {result.origin.lat:.6f}); {time.perf_counter() - started:.1f} s")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@jobs_app.command("list")
def jobs_list(park: Annotated[str | None, typer.Option()] = None) -> None:
    """The latest jobs with state, phase and percent."""
    from sqlalchemy import select

    from twin.db.models import Job
    from twin.db.queries import parks
    from twin.db.session import transaction

    with transaction(session_factory()) as session:
        stmt = select(Job).order_by(Job.id.desc()).limit(30)
        if park:
            stmt = stmt.where(Job.park_id == parks.get_by_slug(session, slug=park).id)
        for job in session.scalars(stmt):
            print(f"{job.id}\t{job.kind}\t{job.state}\t{job.phase}\t{job.percent:.0f}%\t{job.error or ''}")


@jobs_app.command("worker")
def jobs_worker() -> None:
    """Run queued jobs in this process (besides, or instead of, the service's own runner)."""
    from twin.jobs.runner import JobRunner

    runner = JobRunner(session_factory(), settings=get_settings())
    console.print("job worker running; Ctrl-C to stop")
    try:
        while True:
            if runner.run_once() is None:
                time.sleep(1.0)
    except KeyboardInterrupt:
        runner.stop()
