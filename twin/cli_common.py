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


class TwinTyper(typer.Typer):
    """The `twin` app: a database that cannot be reached (down, restarted mid-command, wrong TWIN_DATABASE_URL)
    ends any command with one line saying so and where it looked, not a page of driver traceback."""

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from psycopg import OperationalError as DriverError
        from sqlalchemy.exc import OperationalError

        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, DriverError) as exc:
            console.print(f"[red]error:[/red] {database_unreachable(exc)}")
            raise SystemExit(1) from None


def database_unreachable(exc: Exception) -> str:
    """What to tell a person whose command lost the database: the driver's reason and the URL it used (no password)."""
    from sqlalchemy.engine import make_url

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0].removeprefix("connection failed: ")
    url = make_url(get_settings().database_url).render_as_string(hide_password=True)
    hint = "`twin db upgrade` creates it" if "does not exist" in reason else "is PostgreSQL running there?"
    return f"the database is unreachable: {reason} ({url}, from TWIN_DATABASE_URL); {hint}"


def fail(message: str) -> None:
    """Print a user-facing error and exit with status 1."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


