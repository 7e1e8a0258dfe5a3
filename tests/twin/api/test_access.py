"""Tokens, roles and park scope on the read API, login, and token administration."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.access.tokens import create_token, create_user
from twin.db.models import ApiToken, Park

pytestmark = pytest.mark.usefixtures("demo_park")


def test_reads_need_a_token_and_unknown_tokens_are_refused(anon_client: TestClient) -> None:
    response = anon_client.get("/api/v1/parks")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert anon_client.get("/api/v1/parks", headers=bearer("pt_nope")).status_code == 401


def test_a_park_scoped_token_sees_only_its_park(anon_client: TestClient, db: Session, demo_park: str) -> None:
    other = Park(slug="other-park", name="其他园区")
    db.add(other)
    db.flush()
    _, secret = create_token(db, name="other viewer", role="viewer", park_id=other.id)
    assert [p["slug"] for p in anon_client.get("/api/v1/parks", headers=bearer(secret)).json()] == ["other-park"]
    denied = anon_client.get(f"/api/v1/parks/{demo_park}", headers=bearer(secret))
    assert denied.status_code == 403 and "not valid for this park" in denied.json()["error"]["message"]


def test_tokens_are_stored_only_as_hashes(db: Session) -> None:
    token, secret = create_token(db, name="x", role="integrator", park_id=None)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = db.scalars(select(ApiToken.token_hash)).all()
    assert secret not in stored


def test_login_issues_a_working_token(anon_client: TestClient, db: Session) -> None:
    create_user(db, username="leader", password="correct horse", role="viewer", park_id=None)
    assert anon_client.post("/api/v1/auth/login", json={"username": "leader", "password": "wrong"}).status_code == 401
    body = anon_client.post("/api/v1/auth/login", json={"username": "leader", "password": "correct horse"}).json()
    me = anon_client.get("/api/v1/auth/me", headers=bearer(body["access_token"])).json()
    assert me == {"name": "login:leader", "role": "viewer", "park": None}


def test_only_admins_manage_tokens_and_revocation_takes_effect(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/tokens").status_code == 403
    assert client.post("/api/v1/tokens", json={"name": "x", "role": "viewer"}).status_code == 403
    admin = bearer(tokens["admin"])
    created = client.post("/api/v1/tokens", json={"name": "sensor gateway", "role": "integrator"}, headers=admin).json()
    assert created["token"].startswith("pt_")
    assert created["id"] in [t["id"] for t in client.get("/api/v1/tokens", headers=admin).json()]
    assert "token" not in client.get("/api/v1/tokens", headers=admin).json()[0]
    assert client.get("/api/v1/auth/me", headers=bearer(created["token"])).status_code == 200
    client.delete(f"/api/v1/tokens/{created['id']}", headers=admin)
    assert client.get("/api/v1/auth/me", headers=bearer(created["token"])).status_code == 401


def test_bad_token_requests_get_clear_errors(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    bad_role = client.post("/api/v1/tokens", json={"name": "x", "role": "god"}, headers=admin)
    assert bad_role.status_code == 422 and "role" in bad_role.json()["error"]["message"]
    assert client.post("/api/v1/tokens", json={"name": "x", "role": "viewer", "park": "nope"}, headers=admin).status_code == 404
    assert client.delete("/api/v1/tokens/999999", headers=admin).status_code == 404
