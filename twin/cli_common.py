"""What every `twin` sub-command shares: the console, progress bars, a session factory, errors."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from twin.settings import get_settings

console = Console(stderr=True)


def progress_bar() -> Progress:
    """The progress bar every long command shows."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=console)


def session_factory():  # type: ignore[no-untyped-def]
    from twin.db.session import make_engine, make_session_factory

    return make_session_factory(make_engine(get_settings().database_url))


def fail(message: str) -> None:
    """Print a user-facing error and exit with status 1."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


