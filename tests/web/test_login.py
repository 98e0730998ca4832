"""Logging in and out of the web UI: messages in words, throttling with the wait time, going back where asked."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

from tests.conftest import PASSWORD


def test_pages_redirect_to_login_and_come_back_after_it(web, demo):
    client = web()
    r = client.get("/organizations?q=ром&potential=4")
    assert r.status_code == 303
    target = urlparse(r.headers["location"])
    assert target.path == "/login"
    next_path = parse_qs(target.query)["next"][0]
    assert unquote(next_path) == "/organizations?q=ром&potential=4"
    page = client.get(r.headers["location"])
    assert f'name="next" value="{next_path}"'.replace("&", "&amp;") in page.text
    done = client.post("/login", {"email": "IVAN@ourcompany.test", "password": PASSWORD, "next": next_path})
    assert done.status_code == 303 and done.headers["location"] == next_path
    assert client.get(next_path).status_code == 200


def test_htmx_requests_without_a_session_get_hx_redirect(web, demo):
    r = web().http.get("/search?q=x", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/persons?q=a"})
    assert r.status_code == 204
    assert r.headers["hx-redirect"] == "/login?next=/persons%3Fq%3Da"


def test_next_never_leads_to_another_site(web, demo):
    client = web()
    client.get("/login")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.post("/login", {"email": "ivan@ourcompany.test", "password": PASSWORD, "next": evil})
        assert r.headers["location"] == "/my-day", evil  # the home page
        client.http.cookies.clear()
        client.get("/login")


def test_wrong_password_is_said_in_words_and_the_email_is_kept(web, demo):
    client = web()
    client.get("/login")
    r = client.post("/login", {"email": "ivan@ourcompany.test", "password": "wrong-password"})
    assert r.status_code == 401
    assert "Wrong e-mail or password" in r.text
    assert 'value="ivan@ourcompany.test"' in r.text
    assert "crmhub_session" not in r.headers.get("set-cookie", "")


def test_throttling_says_how_long_to_wait_in_the_users_language(web, demo):
    client = web(headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    client.get("/login")
    for _ in range(5):
        assert client.post("/login", {"email": "ivan@ourcompany.test", "password": "nope"}).status_code == 401
    r = client.post("/login", {"email": "ivan@ourcompany.test", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert "Слишком много неудачных попыток. Попробуйте снова через 5 минут." in r.text


def test_logout_ends_the_session(web, demo):
    client = web("ivan@ourcompany.test")
    r = client.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = client.get("/login")
    assert "You have logged out." in page.text
    assert client.get("/organizations").status_code == 303
    assert client.http.post("/logout").status_code == 403  # no token: refused, not an error page loop


def test_root_sends_to_the_right_place(web, demo):
    assert web().get("/").headers["location"] == "/login"
    assert web("ivan@ourcompany.test").get("/").headers["location"] == "/my-day"
