"""`twin import ...`: bring park data in from files (GIS layers, IFC models, asset lists)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import_app = typer.Typer(help="Import park data from files into PostGIS.", no_args_is_help=True)


# --- twin import assets (asset registry) -------------------------------------------------------


@import_app.command("assets")
def import_assets(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or GeoJSON of assets")],
    park: Annotated[str, typer.Option(help="park slug")],
    mode: Annotated[str, typer.Option(help="upsert (update existing codes) | create (existing codes are errors)")] = "upsert",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, write nothing")] = False,
    atomic: Annotated[bool, typer.Option("--atomic", help="write nothing unless every row is valid")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the full report as JSON on stdout")] = False,
) -> None:
    """Import devices from CSV/GeoJSON; prints a line per bad row; exit status 1 if any row failed."""
    import json

    from rich.table import Table

    from twin.cli import console, fail, progress_bar, session_factory
    from twin.db.queries import parks as park_queries
    from twin.db.session import transaction
    from twin.errors import TwinError
    from twin.integration.assets.importer import import_assets as run_import

    try:
        with progress_bar() as bar, transaction(session_factory()) as session:
            task = bar.add_task(f"assets ← {file.name}", total=None)
            report = run_import(
                session, park=park_queries.get_by_slug(session, slug=park), content=file.read_bytes(), filename=file.name,
                mode=mode,  # type: ignore[arg-type]  # checked by import_assets
                dry_run=dry_run, atomic=atomic, progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except TwinError as exc:
        fail(exc.message)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    errors = [r for r in report.rows if r.status == "error"]
    if errors:
        table = Table("row", "code", "error", title=f"{len(errors)} rows not imported")
        for r in errors:
            table.add_row(str(r.row), r.code or "", r.message)
        console.print(table)
    state = "applied" if report.applied else "nothing written" + (" (dry run)" if dry_run else " (atomic: errors)" if atomic and errors else "")
    console.print(f"{report.created} created, {report.updated} updated, {report.errors} errors — {state}")
    raise typer.Exit(1 if errors else 0)
