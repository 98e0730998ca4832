"""Security of the web UI: CSP and headers, no inline script anywhere, CSRF, cookies, escaping, no stack traces."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.clients.organizations import create_organization
from core.models import Organization, User
from hub.web.security import CSP
from tests.web.conftest import page_parts

XSS = "<script>alert(1)</script>"


def admin_pages(demo) -> list[str]:  # noqa: ANN001
    org, person = demo.orgs["romashka"], demo.persons["anna"]
    tabs = ["", "?tab=persons", "?tab=interactions", "?tab=tasks", "?tab=deals", "?tab=files"]
    tabs += ["?tab=comments", "?tab=history"]
    return [
        "/organizations",
        "/organizations?q=ромашка&potential=4&sort=-deal_amount",
        "/persons",
        "/organizations/new",
        f"/organizations/{org}/edit",
        f"/persons/{person}",
        f"/persons/{person}?tab=organizations",
        f"/persons/{person}/edit",
        "/persons/new",
        "/search?q=ром",
        "/me",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{demo.users['a']}",
        "/admin/teams",
        "/admin/fields",
        "/admin/pipelines",
        "/admin/blocklist",
        "/admin/blocklist?q=spam&kind=email",
        "/admin/audit",
        "/admin/audit?entity=organization&since=2020-01-01",
        "/sync",
        "/sync/imap/new",
        f"/organizations/{org}/mail/{demo.mails['offer']}",
        "/organizations/999999",
        "/no/such/page",
        "/my-day",
        "/calendar",
        "/calendar?view=day",
        "/calendar?view=month",
        "/pipeline",
        f"/organizations/{org}/log",
        f"/persons/{person}/log",
        f"/persons/{person}/merge?q=Анна",
        f"/organizations/{org}/merge?other={demo.orgs['lutik']}",
    ] + [f"/organizations/{org}{tab}" for tab in tabs]


def test_every_page_has_csp_and_no_inline_script_handler_or_style(web, demo):
    client = web("admin@ourcompany.test")
    pages = admin_pages(demo)
    for path in pages:
        r = client.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        parts = page_parts(r.text)
        assert parts.scripts, path
        assert all(s.get("src", "").startswith("/static/") for s in parts.scripts), path
        assert parts.inline_script_text == [], path
        assert parts.handlers == [], (path, parts.handlers)
        assert parts.style_attrs == [] and parts.style_tags == 0, path
        assert parts.js_urls == [], path
    anonymous = web()
    for path in ("/login", "/organizations/1"):
        r = anonymous.get(path)
        assert r.headers["content-security-policy"] == CSP
        assert not page_parts(r.text).inline_script_text


def test_api_keeps_working_with_headers_and_docs_without_csp(web, admin_api):
    r = admin_api.get("/api/v1/organizations")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    docs = web().get("/api/v1/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


def test_post_without_csrf_token_is_refused_and_changes_nothing(web, db, demo):
    client = web("ivan@ourcompany.test")
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Organization))
    r = client.post("/organizations/new", {"name": "Без токена"}, csrf=False)
    assert r.status_code == 403
    assert "expired" in r.text
    r = client.post("/organizations/new", {"name": "Чужой токен", "csrf_token": "forged"}, csrf=False)
    assert r.status_code == 403
    htmx = client.http.post("/organizations/new", data={"name": "htmx"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 403
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == before
    ok = client.http.post("/organizations/new", data={"name": "С заголовком"}, headers={"X-CSRF-Token": client.token})
    assert ok.status_code == 303


def test_api_write_with_the_session_cookie_needs_the_csrf_token(web, db, demo, users):
    client = web("ivan@ourcompany.test")
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Organization))
    forged = client.http.post("/api/v1/organizations", json={"name": "Чужой сайт"})
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == before
    reads = client.http.get("/api/v1/organizations")
    assert reads.status_code == 200
    ok = client.http.post("/api/v1/organizations", json={"name": "Из страницы"}, headers={"X-CSRF-Token": client.token})
    assert ok.status_code == 201, ok.text
    with db.session() as s:
        ivan = s.scalars(select(User).where(User.email == "ivan@ourcompany.test")).one()
    by_token = users.client(ivan).post("/api/v1/organizations", json={"name": "Из скрипта"})
    assert by_token.status_code == 201, by_token.text


def test_csrf_token_of_one_session_is_useless_in_another(web, demo):
    ivan = web("ivan@ourcompany.test")
    olga = web("olga@ourcompany.test")
    r = olga.post("/organizations/new", {"name": "Подделка", "csrf_token": ivan.token}, csrf=False)
    assert r.status_code == 403


def test_login_form_is_csrf_protected_too(web, demo):
    anonymous = web()
    r = anonymous.post("/login", {"email": "ivan@ourcompany.test", "password": "x"}, csrf=False)
    assert r.status_code == 403


def test_session_cookie_is_httponly_samesite_and_secure_behind_tls(web, demo):
    plain = web()
    plain.get("/login")
    r = plain.post("/login", {"email": "ivan@ourcompany.test", "password": "correct-horse-battery"})
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("crmhub_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    tls = web(https=True)
    tls.get("/login")
    r = tls.post("/login", {"email": "ivan@ourcompany.test", "password": "correct-horse-battery"})
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("crmhub_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_untrusted_text_is_escaped_everywhere(web, db, demo):
    with db.session() as s:
        actor = Actor.of(s.get(User, demo.users["a"]))
        org = create_organization(s, actor=actor, name=XSS, industry=XSS, tags=[XSS], notes=XSS)
        org_id = org.id
    client = web("ivan@ourcompany.test")
    for path in (
        "/organizations",
        f"/organizations/{org_id}",
        f"/organizations/{org_id}/edit",
        f"/organizations/{org_id}?tab=history",
        "/search?q=script",
    ):
        r = client.get(path)
        assert XSS not in r.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text, path
    partial = client.http.get("/search?q=script", headers={"HX-Request": "true", "HX-Target": "search-hits"})
    assert XSS not in partial.text and "&lt;script&gt;" in partial.text
    bad = client.post("/organizations/new", {"name": "X", "emails": XSS})
    assert bad.status_code == 422 and XSS not in bad.text


def test_unexpected_error_shows_a_reference_and_no_stack_trace(web, demo, monkeypatch: pytest.MonkeyPatch):
    import hub.web.search

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr(hub.web.search, "search_clients", broken)
    client = web("ivan@ourcompany.test")
    r = client.get("/search?q=boom")
    assert r.status_code == 500
    assert "Traceback" not in r.text and "secret detail" not in r.text and "RuntimeError" not in r.text
    assert 'class="ref"' in r.text
    assert r.headers["content-security-policy"] == CSP
    htmx = client.http.get("/search?q=boom", headers={"HX-Request": "true", "HX-Target": "search-hits"})
    assert htmx.status_code == 500 and "secret detail" not in htmx.text
