"""The `twin` command: every operation a person runs on ParkTwin."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from twin.cli_common import TwinTyper, console, fail, progress_bar, session_factory
from twin.errors import TwinError
from twin.settings import get_settings

app = TwinTyper(help="ParkTwin: the park's one map (一张图). Reads TWIN_* settings from the environment.", no_args_is_help=True)
db_app = typer.Typer(help="Database: create, migrate.", no_args_is_help=True)
demo_app = typer.Typer(help="The bundled demo park.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
token_app = typer.Typer(help="API tokens (roles: viewer, planner, integrator, admin).", no_args_is_help=True)
user_app = typer.Typer(help="Users who log in from the page.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
from twin.cli_import import import_app  # noqa: E402  (commands register themselves on import_app)
app.add_typer(import_app, name="import")
from twin.cli_tiles import park_app, tiles_app  # noqa: E402
app.add_typer(tiles_app, name="tiles")
app.add_typer(park_app, name="park")
from twin.cli_bim import jobs_app  # noqa: E402  (also registers `import ifc` and `tiles ifc`)
app.add_typer(jobs_app, name="jobs")
from twin.cli_integration import mqtt_app, simulate  # noqa: E402
app.add_typer(mqtt_app, name="mqtt")
from twin.cli_score import score_app  # noqa: E402
app.add_typer(score_app, name="score")
app.command()(simulate)
@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="port (default TWIN_PORT or 8000)")] = None,
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the map page (reads TWIN_DATABASE_URL)."""
    import uvicorn

    from twin import logs

    if workers == 1:  # the only MQTT consumer: a plain subscription, which Mosquitto keeps across its restart (docs/scaling.md)
        os.environ.setdefault("TWIN_MQTT_SHARED", "false")
        get_settings.cache_clear()
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers are separate processes: let them pool their metrics in one folder (see twin/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="parktwin-metrics-")
    uvicorn.run("twin.main:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=workers, log_config=logs.dict_config(settings.log_level, settings.log_json), proxy_headers=False, timeout_graceful_shutdown=5)  # live (SSE) streams never end by themselves


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "heads") -> None:
    """Create the database if missing and migrate it to the latest schema."""
    from twin.db import database, migrate

    url = get_settings().database_url
    try:
        if database.ensure_database(url):
            console.print("created database")
        migrate.upgrade(url, revision)
    except Exception as exc:  # noqa: BLE001 — any failure here is reported to the operator as-is
        fail(f"migration failed: {exc}")
    console.print(f"database at {', '.join(sorted(migrate.current_heads(url)))}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, or 'base' to empty")]) -> None:
    """Migrate the database down to a revision."""
    from twin.db import migrate

    migrate.downgrade(get_settings().database_url, revision)
    console.print("done")


@demo_app.command("load")
def demo_load(directory: Annotated[Path | None, typer.Option(help="demo folder (default data/demo)")] = None) -> None:
    """Load the bundled demo park (idempotent)."""
    from twin.db.session import transaction
    from twin.pipelines.demo_load import load_demo

    settings = get_settings()
    with progress_bar() as bar:
        task = bar.add_task("demo park", total=None)

        def step(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"demo park: {label}", completed=done, total=total)

        try:
            with transaction(session_factory()) as session:
                report = load_demo(session, demo_dir=directory or settings.demo_dir, storey_height=settings.storey_height_m,
                                   default_height=settings.default_building_height_m, demo_password=settings.demo_password, progress=step)
        except TwinError as exc:
            fail(exc.message)
    from twin.db.queries import parks
    from twin.pipelines.tiles_build import build_buildings

    with progress_bar() as bar:
        task = bar.add_task("building tiles", total=None)
        with transaction(session_factory()) as session:
            built = build_buildings(session, park=parks.get_by_slug(session, slug=report.park),
                                    progress=lambda label, done, total: bar.update(task, completed=done, total=total))
    tiles = "unchanged" if built.skipped else f"v{built.tileset.version}, {built.tileset.tile_count} tiles"
    _demo_models(directory or settings.demo_dir, report.park)
    console.print(f"park {report.park}: {report.layers} layers, {report.features} features, {report.assets} assets, "
                  f"{report.enterprises} enterprises ({report.removed} stale features removed); building tiles {tiles}")


def _demo_models(demo_dir: Path, park_slug: str) -> None:
    """Convert the demo's IFC models (from ../shared/fixtures) once; later loads keep the published version."""
    from bim.georef import Anchor
    from twin.db.queries import bim, parks
    from twin.db.session import transaction
    from twin.pipelines.demo_load import read_manifest
    from twin.pipelines.ifc_import import import_ifc_now
    from twin.settings import REPO_ROOT

    factory = session_factory()
    for spec in read_manifest(demo_dir).get("models", []):
        path = (REPO_ROOT / spec["file"]).resolve()
        if not path.is_file():
            console.print(f"[yellow]demo model skipped:[/yellow] {spec['file']} not found")
            continue
        with transaction(factory) as session:
            park = parks.get_by_slug(session, slug=park_slug)
            done = any(m.name == spec["name"] and bim.published_version(session, model=m) for m in bim.get_all(session, park=park))
        if done:
            continue
        with progress_bar() as bar:
            task = bar.add_task(f"BIM {spec['name']}", total=100)
            result = import_ifc_now(factory, park_slug=park_slug, file=path, settings=get_settings(), name=spec["name"], building=spec.get("building"),
                                    anchor=Anchor(*spec["anchor"]), progress=lambda phase, fraction, message=None: bar.update(task, completed=fraction * 100))
        console.print(f"demo model {spec['name']}: {result['elements']} elements")


def _park_id(session, slug: str | None) -> int | None:  # type: ignore[no-untyped-def]
    from twin.db.queries import parks as park_queries

    return park_queries.get_by_slug(session, slug=slug).id if slug else None


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="viewer | planner | integrator | admin")],
    park: Annotated[str | None, typer.Option(help="park slug the token is limited to (default: every park)")] = None,
    name: Annotated[str | None, typer.Option(help="what the token is for")] = None,
) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    from twin.access import tokens
    from twin.db.session import transaction

    try:
        with transaction(session_factory()) as session:
            _, secret = tokens.create_token(session, name=name or f"cli {role}", role=role, park_id=_park_id(session, park))
    except TwinError as exc:
        fail(exc.message)
    print(secret)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="viewer | planner | integrator | admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    park: Annotated[str | None, typer.Option(help="park slug (default: every park)")] = None,
) -> None:
    """Create a user who logs in from the page."""
    from twin.access import tokens
    from twin.db.session import transaction

    try:
        with transaction(session_factory()) as session:
            tokens.create_user(session, username=username, password=password, role=role, park_id=_park_id(session, park))
    except (TwinError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))
    console.print(f"user {username} ({role}) created")


if __name__ == "__main__":
    app()
