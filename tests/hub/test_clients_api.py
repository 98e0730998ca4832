"""The client API: create, read, duplicates refused, rights by team, bad input answered with 4xx."""

from __future__ import annotations

from core.models import Role


def test_create_and_read_organization(admin_api):
    r = admin_api.post(
        "/api/v1/organizations",
        json={
            "name": "ООО «Ромашка»",
            "brand": "Romashka",
            "phones": ["8 (495) 123-45-67"],
            "emails": ["Info@Romashka.Test"],
            "email_domains": ["romashka.test"],
            "potential": 3,
            "tags": ["vip"],
        },
    )
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["phones"] == ["+74951234567"]
    assert org["emails"] == ["info@romashka.test"]
    assert org["tags"] == ["vip"]
    got = admin_api.get(f"/api/v1/organizations/{org['id']}").json()
    assert got["name"] == "ООО «Ромашка»"


def test_duplicate_organization_refused_naming_existing(admin_api):
    first = admin_api.post("/api/v1/organizations", json={"name": "Acme LLC", "phones": ["+7 495 000-11-22"]}).json()
    by_phone = admin_api.post("/api/v1/organizations", json={"name": "Other", "phones": ["84950001122"]})
    assert by_phone.status_code == 409
    assert by_phone.json()["existing"]["id"] == first["id"]
    by_name = admin_api.post("/api/v1/organizations", json={"name": "ACME"})
    assert by_name.status_code == 409
    assert by_name.json()["existing"]["name"] == "Acme LLC"


def test_bad_input_names_the_field(admin_api):
    r = admin_api.post("/api/v1/organizations", json={"name": "X", "emails": ["not-an-email"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "emails[0]"
    r = admin_api.post("/api/v1/organizations", json={"name": "Y", "potential": 9})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "potential"
    r = admin_api.post("/api/v1/organizations", json={"name": "Z", "unknown_field": 1})
    assert r.status_code == 422
    r = admin_api.post("/api/v1/organizations", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_staff_of_team_a_cannot_see_team_b(users):
    a = users.make("a@ourcompany.test", teams=("A",))
    b = users.make("b@ourcompany.test", teams=("B",))
    api_a, api_b = users.client(a), users.client(b)
    org_b = api_b.post("/api/v1/organizations", json={"name": "Beta Corp", "phones": ["+74957778899"]}).json()
    assert api_a.get(f"/api/v1/organizations/{org_b['id']}").status_code == 404
    assert api_a.patch(f"/api/v1/organizations/{org_b['id']}", json={"notes": "x"}).status_code == 404
    assert api_a.get("/api/v1/organizations").json()["total"] == 0
    assert api_a.get("/api/v1/search", params={"q": "Beta"}).json() == []
    assert api_a.get("/api/v1/search", params={"q": "8 495 777 88 99"}).json() == []
    assert [h["id"] for h in api_b.get("/api/v1/search", params={"q": "8 495 777 88 99"}).json()] == [org_b["id"]]


def test_every_endpoint_requires_auth(app):
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    assert anon.get("/api/v1/health").status_code == 200
    for path in ("/api/v1/organizations", "/api/v1/persons", "/api/v1/me", "/api/v1/users", "/api/v1/search?q=a"):
        assert anon.get(path).status_code == 401, path
    anon.headers["Authorization"] = "Bearer crm_forged"
    assert anon.get("/api/v1/organizations").status_code == 401


def test_marketer_reads_but_cannot_change(users, admin_api):
    marketer = users.make("m@ourcompany.test", role=Role.marketer)
    org = admin_api.post("/api/v1/organizations", json={"name": "Gamma"}).json()
    api = users.client(marketer)
    assert api.get(f"/api/v1/organizations/{org['id']}").status_code == 200
    assert api.patch(f"/api/v1/organizations/{org['id']}", json={"notes": "x"}).status_code == 403


def test_person_with_employment_and_duplicate_email(admin_api):
    org = admin_api.post("/api/v1/organizations", json={"name": "Delta"}).json()
    p = admin_api.post(
        "/api/v1/persons",
        json={
            "first_name": "Иван",
            "last_name": "Петров",
            "emails": ["ivan@delta.test"],
            "organizations": [{"organization_id": org["id"], "role": "CEO"}],
        },
    )
    assert p.status_code == 201, p.text
    assert p.json()["organizations"][0]["organization_name"] == "Delta"
    dup = admin_api.post("/api/v1/persons", json={"first_name": "I", "emails": ["IVAN@delta.test"]})
    assert dup.status_code == 409
    same_name = admin_api.post(
        "/api/v1/persons",
        json={"first_name": "Иван", "last_name": "Петров", "organizations": [{"organization_id": org["id"]}]},
    )
    assert same_name.status_code == 409
