"""Dependencies shared by the routes: settings, a per-request transaction, parsed query values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from twin.db.queries.features import BBox
from twin.errors import InvalidInput
from twin.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    with request.app.state.session_factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]  # commit BEFORE the response is sent


def parse_bbox(text: str | None) -> BBox | None:
    """`minLon,minLat,maxLon,maxLat` in WGS84 degrees → a tuple, or InvalidInput saying why."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput("bbox must be 'minLon,minLat,maxLon,maxLat' (4 numbers, WGS84 degrees)")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(f"bbox has a value that is not a number: '{text}'") from None
    if len(numbers) == 6:  # 3D bbox: drop the heights
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    min_x, min_y, max_x, max_y = numbers
    if not all(map(lambda v: v == v and abs(v) != float("inf"), numbers)):
        raise InvalidInput("bbox values must be finite numbers")
    if not (-180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= 90 and -90 <= max_y <= 90):
        raise InvalidInput("bbox is outside WGS84 bounds (longitude ±180, latitude ±90)")
    if min_y > max_y:
        raise InvalidInput("bbox minimum latitude is greater than its maximum")
    return (min_x, min_y, max_x, max_y)


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """A comma-separated kind list → tuple."""
    return tuple(k.strip() for k in (text or "").split(",") if k.strip())


class Page:
    """`limit`/`offset` query parameters, bounded by settings."""

    def __init__(
        self,
        settings: SettingsDep,
        limit: Annotated[int | None, Query(ge=1, description="page size (default 1000, max 10000)")] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> None:
        self.limit = min(limit or settings.default_page_size, settings.max_page_size)
        self.offset = offset


PageDep = Annotated[Page, Depends()]
