"""Issue, check, list and revoke API tokens, and log users in (tokens are stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.access.passwords import hash_password, verify_password
from twin.access.roles import Principal, Role
from twin.db.models import ApiToken, User
from twin.errors import Conflict, InvalidInput, NotFound, Unauthorized

TOKEN_PREFIX = "pt_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, *, name: str, role: Role | str, park_id: int | None, user_id: int | None = None, ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token; returns the row and the secret, which is shown once and never stored."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role '{role}'; roles: {', '.join(Role)}") from None
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role.value, park_id=park_id, user_id=user_id, token_hash=_digest(secret), prefix=secret[:10],
                     expires_at=datetime.now(UTC) + ttl if ttl else None)
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, *, secret: str) -> Principal:
    """The principal of a bearer token, or Unauthorized (unknown, revoked or expired)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None or (token.expires_at is not None and token.expires_at < now):
        raise Unauthorized("invalid, revoked or expired token")
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now  # throttled so reads don't write on every request
    return Principal(name=token.name, role=Role(token.role), park_id=token.park_id, token_id=token.id, user_id=token.user_id)


def list_tokens(session: Session, *, park_id: int | None = None) -> list[ApiToken]:
    """Tokens (never their secrets), newest first, optionally of one park."""
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if park_id is not None:
        stmt = stmt.where(ApiToken.park_id == park_id)
    return list(session.scalars(stmt))


def revoke_token(session: Session, *, token_id: int) -> ApiToken:
    """Mark a token revoked; it stops working at once."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    token.revoked_at = token.revoked_at or datetime.now(UTC)
    return token


def create_user(session: Session, *, username: str, password: str, role: Role | str, park_id: int | None, display_name: str | None = None) -> User:
    """A user who can log in from the page; Conflict if the name is taken."""
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user '{username}' already exists")
    user = User(username=username, password_hash=hash_password(password), role=Role(role).value, park_id=park_id, display_name=display_name)
    session.add(user)
    session.flush()
    return user


def login(session: Session, *, username: str, password: str, ttl: timedelta = timedelta(hours=12)) -> tuple[User, str]:
    """Check a password and issue a session token for the user's role and park."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled or not verify_password(password, user.password_hash):
        raise Unauthorized("wrong username or password")
    _, secret = create_token(session, name=f"login:{username}", role=user.role, park_id=user.park_id, user_id=user.id, ttl=ttl)
    return user, secret
