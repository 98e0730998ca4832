"""Logging in, throttling, sessions, personal tokens and the audit of it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from core.models import AuditEntry
from tests.conftest import PASSWORD


def test_login_sets_httponly_cookie_and_logout_ends_session(app, users):
    user = users.make("s@ourcompany.test")
    web = TestClient(app)
    r = web.post("/api/v1/auth/login", json={"email": "S@ourcompany.test", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert web.get("/api/v1/me").json()["id"] == user.id
    assert web.post("/api/v1/auth/logout").status_code == 403  # a cookie write needs the CSRF token
    token = r.headers["x-csrf-token"]
    assert web.get("/api/v1/me").headers["x-csrf-token"] == token
    assert web.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert web.get("/api/v1/me").status_code == 401


def test_wrong_password_does_not_say_which_part_was_wrong(app, users):
    users.make("s@ourcompany.test")
    web = TestClient(app)
    wrong_pw = web.post("/api/v1/auth/login", json={"email": "s@ourcompany.test", "password": "nope"})
    no_user = web.post("/api/v1/auth/login", json={"email": "ghost@ourcompany.test", "password": "nope"})
    assert wrong_pw.status_code == no_user.status_code == 401
    assert wrong_pw.json()["detail"] == no_user.json()["detail"] == "Wrong e-mail or password"


def test_repeated_failures_are_throttled_even_with_the_right_password(app, users):
    users.make("s@ourcompany.test")
    web = TestClient(app)
    for _ in range(5):
        assert web.post("/api/v1/auth/login", json={"email": "s@ourcompany.test", "password": "bad"}).status_code == 401
    r = web.post("/api/v1/auth/login", json={"email": "s@ourcompany.test", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Try again in" in r.json()["detail"]


def test_api_token_shown_once_and_revocable(app, users):
    user = users.make("s@ourcompany.test")
    api = users.client(user)
    created = api.post("/api/v1/me/tokens", json={"name": "my script"})
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = api.get("/api/v1/me/tokens").json()
    assert all("token" not in t for t in listed)
    assert secret not in api.get("/api/v1/me/tokens").text
    other = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    assert other.get("/api/v1/me").status_code == 200
    assert api.delete(f"/api/v1/me/tokens/{created.json()['id']}").status_code == 204
    assert other.get("/api/v1/me").status_code == 401


def test_writes_are_audited_with_who_and_what(admin_api, admin, db):
    org = admin_api.post("/api/v1/organizations", json={"name": "Audit Co", "phones": ["+74951112233"]}).json()
    admin_api.patch(f"/api/v1/organizations/{org['id']}", json={"potential": 4, "notes": "met at fair"})
    admin_api.delete(f"/api/v1/organizations/{org['id']}")
    with db.session() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "organization", AuditEntry.entity_id == org["id"])
            .order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["create", "update", "delete"]
        assert all(e.user_id == admin.id for e in entries)
        assert entries[1].changes == {"notes": ["", "met at fair"], "potential": [None, 4]}
        assert entries[0].changes["phones"] == [None, ["+74951112233"]]


def test_only_admins_manage_users(users, admin_api):
    staff = users.make("s@ourcompany.test")
    api = users.client(staff)
    body = {"email": "new@ourcompany.test", "full_name": "New", "password": "long-enough-pass", "role": "admin"}
    assert api.post("/api/v1/users", json=body).status_code == 403
    assert api.patch(f"/api/v1/users/{staff.id}", json={"role": "admin"}).status_code == 403
    created = admin_api.post("/api/v1/users", json=body)
    assert created.status_code == 201
    weak = admin_api.post("/api/v1/users", json={**body, "email": "w@ourcompany.test", "password": "short"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"


def test_password_change_ends_other_sessions(app, users):
    user = users.make("s@ourcompany.test")
    web = TestClient(app)
    web.post("/api/v1/auth/login", json={"email": "s@ourcompany.test", "password": PASSWORD})
    api = users.client(user)
    assert api.put(f"/api/v1/users/{user.id}/password", json={"password": "a-new-long-password"}).status_code == 204
    assert web.get("/api/v1/me").status_code == 401
