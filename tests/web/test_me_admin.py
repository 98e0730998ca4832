"""My profile and tokens; the administration of users and teams."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from core.models import ApiToken, Role, Team, User
from core.users.passwords import verify_password


def test_profile_name_and_language(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post("/me", {"full_name": "Иван Петрович Петров", "locale": "ru"})
    assert r.status_code == 303
    page = ivan.get("/me")
    assert "Профиль сохранён." in page.text and 'value="Иван Петрович Петров"' in page.text
    assert ivan.post("/me", {"full_name": "", "locale": "xx"}).status_code == 422


def test_a_token_secret_is_shown_once_and_revoking_stops_it(web, app, db, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post("/me/tokens", {"name": "Импорт прайса"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-secret" type="text" readonly value="(crm_[^"]+)"', r.text).group(1)
    api = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/me").json()["email"] == "ivan@ourcompany.test"
    page = ivan.get("/me").text
    assert secret not in page and "Импорт прайса" in page and secret[:10] in page
    with db.session() as s:
        token_id = s.scalars(select(ApiToken.id).where(ApiToken.name == "Импорт прайса")).one()
    assert ivan.post(f"/me/tokens/{token_id}/revoke").status_code == 303
    assert api.get("/api/v1/me").status_code == 401
    assert "revoked" in ivan.get("/me").text
    olga = web("olga@ourcompany.test")
    assert olga.post(f"/me/tokens/{token_id}/revoke").status_code == 404
    assert ivan.post("/me/tokens", {"name": ""}).status_code == 422


def test_change_my_password(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    wrong = ivan.post(
        "/me/password", {"current_password": "nope", "new_password": "a-new-password-1", "repeat_password": "x"}
    )
    assert wrong.status_code == 422 and "This is not your current password." in wrong.text
    weak = ivan.post(
        "/me/password",
        {"current_password": "correct-horse-battery", "new_password": "short", "repeat_password": "short"},
    )
    assert weak.status_code == 422 and "Use at least 10 characters." in weak.text
    ok = ivan.post(
        "/me/password",
        {
            "current_password": "correct-horse-battery",
            "new_password": "a-new-password-1",
            "repeat_password": "a-new-password-1",
        },
    )
    assert ok.status_code == 303
    assert ivan.get("/me").status_code == 200  # this browser stays logged in
    with db.session() as s:
        user = s.scalars(select(User).where(User.email == "ivan@ourcompany.test")).one()
        assert verify_password("a-new-password-1", user.password_hash)


def test_admin_creates_changes_and_deactivates_a_user(web, db, demo):
    admin = web("admin@ourcompany.test")
    r = admin.post(
        "/admin/users/new",
        {
            "email": "New.User@OurCompany.test",
            "full_name": "Новый Сотрудник",
            "role": "staff",
            "team_ids": [str(demo.teams["A"])],
            "password": "first-password-1",
        },
    )
    assert r.status_code == 303
    assert "User new.user@ourcompany.test created." in admin.get("/admin/users").text
    again = admin.post(
        "/admin/users/new", {"email": "new.user@ourcompany.test", "full_name": "X", "role": "staff", "password": "p"}
    )
    assert again.status_code == 422
    with db.session() as s:
        user = s.scalars(select(User).where(User.email == "new.user@ourcompany.test")).one()
        user_id = user.id
        assert [t.id for t in user.teams] == [demo.teams["A"]]
    r = admin.post(
        f"/admin/users/{user_id}",
        {
            "full_name": "Новый Руководитель",
            "role": "manager",
            "team_ids": [str(demo.teams["A"]), str(demo.teams["B"])],
        },
    )
    assert r.status_code == 303
    with db.session() as s:
        user = s.get(User, user_id)
        assert user.role == Role.manager and not user.is_active
        assert sorted(t.id for t in user.teams) == sorted(demo.teams.values())
    bad = admin.post(f"/admin/users/{user_id}/password", {"password": "short"})
    assert bad.status_code == 422 and "Use at least 10 characters." in bad.text
    assert admin.post(f"/admin/users/{user_id}/password", {"password": "another-password-2"}).status_code == 303
    me = admin.post(f"/admin/users/{demo.users['admin']}", {"full_name": "Анна", "role": "admin"})
    assert me.status_code == 422 and "You cannot deactivate yourself." in me.text


def test_admin_creates_teams(web, db, demo):
    admin = web("admin@ourcompany.test")
    assert admin.post("/admin/teams", {"name": "Розница", "description": "Магазины"}).status_code == 303
    page = admin.get("/admin/teams").text
    assert "Team “Розница” created." in page and "Магазины" in page
    assert admin.post("/admin/teams", {"name": "Retail"}).status_code == 303
    dup = admin.post("/admin/teams", {"name": "retail"})
    assert dup.status_code == 422 and "A team named “retail” already exists." in dup.text
    with db.session() as s:
        assert s.scalars(select(Team).where(Team.name == "Розница")).one().description == "Магазины"
