"""Rights in the web UI hold exactly as in the API: another team's client is a 404 page and never listed."""

from __future__ import annotations


def error_block(html: str) -> str:
    """The message part of an error page."""
    return html[html.index('<div class="error-page">') : html.index("</main>")]


def test_staff_of_team_a_gets_404_pages_for_team_b_clients(web, demo):
    ivan = web("ivan@ourcompany.test")
    beta, boris = demo.orgs["beta"], demo.persons["boris"]
    for path in (
        f"/organizations/{beta}",
        f"/organizations/{beta}?tab=interactions",
        f"/organizations/{beta}/edit",
        f"/organizations/{beta}/mail/{demo.mails['beta']}",
        f"/organizations/{beta}/mail/{demo.mails['beta']}/body",
        f"/persons/{boris}",
        f"/persons/{boris}/edit",
        f"/persons/new?org={beta}",
    ):
        r = ivan.get(path)
        assert r.status_code == 404, path
        assert "Бета" not in r.text and "Борис" not in r.text, path
        assert "Page not found" in r.text
    missing = ivan.get("/organizations/987654")
    assert missing.status_code == 404
    assert error_block(missing.text) == error_block(ivan.get(f"/organizations/{beta}").text)
    r = ivan.post(f"/organizations/{beta}/edit", {"name": "Захват"})
    assert r.status_code == 404
    r = ivan.post(f"/organizations/{beta}/delete")
    assert r.status_code == 404


def test_team_b_clients_never_appear_in_lists_search_or_pickers(web, demo):
    ivan = web("ivan@ourcompany.test")
    for path in (
        "/organizations",
        "/organizations?q=Бета",
        "/organizations?q=8 495 777 88 99",
        f"/organizations?team={demo.teams['B']}",
        "/persons",
        "/persons?q=Борис",
        "/search?q=Бета",
        "/search?q=84957778899",
        "/search?q=zakaz@beta.example",
        "/organizations/options?q=Бета",
    ):
        r = ivan.get(path)
        assert r.status_code == 200, path
        assert "Госзакупки" not in r.text and "Тайный" not in r.text, path
        assert f"/organizations/{demo.orgs['beta']}" not in r.text and f"/persons/{demo.persons['boris']}" not in r.text
    partial = ivan.http.get("/search?q=Бета", headers={"HX-Request": "true", "HX-Target": "search-hits"})
    assert "Госзакупки" not in partial.text and "No clients match" in partial.text
    olga = web("olga@ourcompany.test")
    partial = olga.http.get("/search?q=8 495 777-88-99", headers={"HX-Request": "true", "HX-Target": "search-hits"})
    assert "Бета Госзакупки" in partial.text and f'href="/organizations/{demo.orgs["beta"]}"' in partial.text


def test_a_person_cannot_be_linked_to_another_teams_organization(web, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post("/persons/new", {"last_name": "Шпион", "org": f"Бета · #{demo.orgs['beta']}", "org_role": ""})
    assert r.status_code == 422
    assert "No such organization among those you can see." in r.text


def test_admin_pages_are_404_for_everyone_but_admins(web, demo):
    ivan = web("ivan@ourcompany.test")
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{demo.users['a']}", "/admin/teams"):
        assert ivan.get(path).status_code == 404, path
    assert ivan.post("/admin/teams", {"name": "Хакеры"}).status_code == 404
    page = ivan.get("/organizations").text
    assert "/admin/users" not in page
    admin = web("admin@ourcompany.test")
    assert admin.get("/admin/users").status_code == 200
    assert 'href="/admin/users"' in admin.get("/organizations").text


def test_read_only_roles_see_no_edit_buttons_and_cannot_edit(web, db, demo):
    from core.models import Role, Team, User
    from tests.conftest import password_hash

    with db.session() as s:
        marketer = User(
            email="m@ourcompany.test", full_name="Маркетолог", role=Role.marketer, password_hash=password_hash()
        )
        marketer.teams = [s.get(Team, demo.teams["A"])]
        s.add(marketer)
    client = web("m@ourcompany.test")
    org = demo.orgs["romashka"]
    card = client.get(f"/organizations/{org}")
    assert card.status_code == 200 and f'href="/organizations/{org}/edit"' not in card.text
    assert client.get(f"/organizations/{org}/edit").status_code == 403
    refused = client.post(f"/organizations/{org}/edit", {"name": "Переименовано", "team_id": demo.teams["A"]})
    assert refused.status_code == 422
    assert "Your role may only read clients" in refused.text
    assert "ООО «Ромашка»" in client.get(f"/organizations/{org}").text
    assert 'href="/organizations/new"' not in client.get("/organizations").text
