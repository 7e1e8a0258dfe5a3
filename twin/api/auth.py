"""Authentication and authorisation dependencies: bearer tokens, roles, park scope.

Route authors write `park: ParkReader` (or ParkPlanner / ParkIntegrator / ParkAdmin) for a park in
the path, or `principal: Annotated[Principal, Depends(require(Role.admin))]` for a global operation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twin.access import tokens
from twin.access.roles import ANONYMOUS_READER, Principal, Role
from twin.api.deps import SessionDep, SettingsDep
from twin.db.models import Park
from twin.db.queries import parks as park_queries
from twin.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="API token (`twin token create`) or a login token")


def optional_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
    access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Principal | None:
    """The caller, if a token came (header, or `access_token` query for EventSource and tiles)."""
    secret = credentials.credentials if credentials else access_token
    return tokens.authenticate(session, secret=secret) if secret else None


def require(role: Role):  # type: ignore[no-untyped-def]
    """A dependency that yields the caller when it holds `role` (anonymous reads if public)."""

    def dependency(settings: SettingsDep, principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
        if principal is None:
            if role is Role.viewer and settings.public_read:
                return ANONYMOUS_READER
            raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
        principal.check(role, principal.park_id)
        return principal

    return dependency


def park_access(role: Role):  # type: ignore[no-untyped-def]
    """A dependency that yields the park named in the path when the caller holds `role` for it."""

    # A default-value Depends, not Annotated: annotations are strings here and `role` is a closure
    # variable that FastAPI could not resolve from the module's globals.
    def dependency(park: str, session: SessionDep, principal: Principal = Depends(require(role))) -> Park:  # noqa: B008
        found = park_queries.get_by_slug(session, slug=park)
        principal.check(role, found.id)
        return found

    return dependency


ParkReader = Annotated[Park, Depends(park_access(Role.viewer))]
ParkPlanner = Annotated[Park, Depends(park_access(Role.planner))]
ParkIntegrator = Annotated[Park, Depends(park_access(Role.integrator))]
ParkAdmin = Annotated[Park, Depends(park_access(Role.admin))]
Reader = Annotated[Principal, Depends(require(Role.viewer))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
