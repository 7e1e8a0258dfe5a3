"""Request and response shapes for login and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from twin.access.roles import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role
    park: str | None = Field(description="park slug the login is limited to, or null for every park")
    expires_at: datetime | None


class Me(BaseModel):
    name: str
    role: Role
    park: str | None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    park: str | None = Field(default=None, description="park slug; null = every park")


class TokenPublic(BaseModel):
    id: int
    name: str
    role: Role
    park: str | None
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret: shown once, store it now")
