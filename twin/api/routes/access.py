"""Login from the page, who-am-I, and token administration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from twin.access import tokens
from twin.api.auth import Admin, Reader
from twin.api.deps import SessionDep
from twin.api.schemas.access import LoginRequest, LoginResponse, Me, TokenCreate, TokenCreated, TokenPublic
from twin.db.models import ApiToken, Park
from twin.db.queries import parks as park_queries

router = APIRouter(prefix="/api/v1", tags=["access"])


def _slug(session: SessionDep, park_id: int | None) -> str | None:
    return session.get(Park, park_id).slug if park_id is not None else None


def _token_public(session: SessionDep, token: ApiToken) -> dict[str, Any]:
    fields = ("id", "name", "role", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    return {**{f: getattr(token, f) for f in fields}, "park": _slug(session, token.park_id)}


@router.post("/auth/login", response_model=LoginResponse, responses={401: {"description": "wrong username or password"}})
def login(body: LoginRequest, session: SessionDep) -> dict[str, Any]:
    """Exchange a username and password for a bearer token (12 h)."""
    user, secret = tokens.login(session, username=body.username, password=body.password)
    token = tokens.authenticate(session, secret=secret)
    row = session.get(ApiToken, token.token_id)
    return {"access_token": secret, "role": user.role, "park": _slug(session, user.park_id), "expires_at": row.expires_at if row else None}


@router.get("/auth/me", response_model=Me)
def me(principal: Reader, session: SessionDep) -> dict[str, Any]:
    """The caller's name, role and park scope."""
    return {"name": principal.name, "role": principal.role, "park": _slug(session, principal.park_id)}


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(principal: Admin, session: SessionDep) -> list[dict[str, Any]]:
    """API tokens (never their secrets); a park admin sees only its park's."""
    return [_token_public(session, t) for t in tokens.list_tokens(session, park_id=principal.park_id)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, principal: Admin, session: SessionDep) -> dict[str, Any]:
    """Issue a token with a role, optionally limited to one park; the secret is returned once."""
    park_id = park_queries.get_by_slug(session, slug=body.park).id if body.park else None
    principal.check(body.role, park_id)  # no one issues more than they hold
    token, secret = tokens.create_token(session, name=body.name, role=body.role, park_id=park_id)
    return {**_token_public(session, token), "token": secret}


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: int, principal: Admin, session: SessionDep) -> dict[str, Any]:
    """Revoke a token; it stops working at once."""
    token = tokens.revoke_token(session, token_id=token_id)
    principal.check(token.role, token.park_id)
    return _token_public(session, token)
