"""Comments, custom field definitions and the audit log: who may do what, and what gets recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import Role
from tests.records.conftest import API, add_interaction, client_as, make_org, make_person


def test_comments_rights(crew, users):
    org = make_org(crew.api_a, "Alpha")
    colleague = client_as(users, "carl@ourcompany.test", teams=("A",))
    manager = client_as(users, "boss@ourcompany.test", role=Role.manager, teams=("A",))
    marketer = client_as(users, "mk@ourcompany.test", role=Role.marketer, teams=("A",))
    mine = crew.api_a.post(f"{API}/organizations/{org['id']}/comments", json={"body": "  Called, busy  "}).json()
    theirs = colleague.post(f"{API}/organizations/{org['id']}/comments", json={"body": "Sent the offer"}).json()
    assert mine["body"] == "Called, busy" and mine["author_id"] == crew.a.id
    assert [c["body"] for c in crew.api_a.get(f"{API}/organizations/{org['id']}/comments").json()] == [
        "Called, busy",
        "Sent the offer",
    ]
    assert crew.api_b.get(f"{API}/organizations/{org['id']}/comments").status_code == 404
    assert crew.api_b.post(f"{API}/organizations/{org['id']}/comments", json={"body": "x"}).status_code == 404
    assert crew.api_b.delete(f"{API}/comments/{mine['id']}").status_code == 404
    assert marketer.post(f"{API}/organizations/{org['id']}/comments", json={"body": "x"}).status_code == 403
    assert crew.api_a.post(f"{API}/organizations/{org['id']}/comments", json={"body": ""}).status_code == 422
    assert crew.api_a.delete(f"{API}/comments/{theirs['id']}").status_code == 403
    assert crew.api_a.delete(f"{API}/comments/{mine['id']}").status_code == 204
    assert manager.delete(f"{API}/comments/{theirs['id']}").status_code == 204
    person = make_person(crew.api_a, "Ivan", "Petrov")
    assert crew.api_a.post(f"{API}/persons/{person['id']}/comments", json={"body": "hi"}).status_code == 201
    assert len(crew.api_a.get(f"{API}/persons/{person['id']}/comments").json()) == 1


def test_custom_fields_admin(crew):
    admin = crew.api_admin
    field = admin.post(
        f"{API}/custom-fields",
        json={"entity": "organization", "key": "inn", "label": "Tax id", "label_ru": "ИНН", "type": "text"},
    )
    assert field.status_code == 201, field.text
    field = field.json()
    size = admin.post(
        f"{API}/custom-fields",
        json={"entity": "organization", "key": "size", "label": "Size", "type": "choice", "choices": ["S", "M", "L"]},
    ).json()
    assert (
        crew.api_a.post(
            f"{API}/custom-fields", json={"entity": "person", "key": "x", "label": "X", "type": "text"}
        ).status_code
        == 403
    )
    dup = admin.post(
        f"{API}/custom-fields", json={"entity": "organization", "key": "inn", "label": "B", "type": "text"}
    )
    assert dup.status_code == 409
    bad = admin.post(
        f"{API}/custom-fields", json={"entity": "organization", "key": "c", "label": "C", "type": "choice"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "choices"
    bad = admin.post(
        f"{API}/custom-fields", json={"entity": "organization", "key": "Bad Key", "label": "B", "type": "text"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "key"

    org = make_org(crew.api_a, "Alpha", custom={"inn": "7701234567", "size": "M"})
    assert org["custom"] == {"inn": "7701234567", "size": "M"}
    wrong = crew.api_a.post(f"{API}/organizations", json={"name": "Beta", "custom": {"size": "XXL"}})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "custom.size"

    renamed = admin.patch(f"{API}/custom-fields/{size['id']}", json={"label": "Company size", "choices": ["S", "M"]})
    assert renamed.json()["label"] == "Company size" and renamed.json()["choices"] == ["S", "M"]
    labels = [f["key"] for f in crew.api_a.get(f"{API}/custom-fields", params={"entity": "organization"}).json()]
    assert labels == ["inn", "size"]
    assert admin.delete(f"{API}/custom-fields/{field['id']}").status_code == 204
    assert crew.api_a.get(f"{API}/organizations/{org['id']}").json()["custom"] == {"size": "M"}


def test_audit_log_query_and_entity_history(crew, users, db):
    org = make_org(crew.api_a, "Alpha")
    crew.api_a.patch(f"{API}/organizations/{org['id']}", json={"notes": "first call done"})
    make_org(crew.api_b, "Beta")
    interaction = add_interaction(db, team_id=crew.team_a, organization_id=org["id"])

    assert crew.api_a.get(f"{API}/audit").status_code == 403
    auditor = client_as(users, "aud@ourcompany.test", role=Role.auditor)
    everything = auditor.get(f"{API}/audit").json()
    assert everything["total"] >= 3
    updates = auditor.get(f"{API}/audit", params={"action": "update", "entity_type": "organization"}).json()
    assert [(e["entity_id"], e["changes"]["notes"]) for e in updates["items"]] == [(org["id"], ["", "first call done"])]
    by_user = auditor.get(f"{API}/audit", params={"user_id": crew.b.id}).json()
    assert "Beta" in {e["summary"] for e in by_user["items"]}
    assert {e["user_id"] for e in by_user["items"]} == {crew.b.id}
    page = auditor.get(f"{API}/audit", params={"limit": 1, "offset": 1}).json()
    assert len(page["items"]) == 1 and page["total"] == everything["total"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert auditor.get(f"{API}/audit", params={"since": future}).json()["total"] == 0
    naive = auditor.get(f"{API}/audit", params={"since": "2024-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "since"
    inverted = auditor.get(f"{API}/audit", params={"since": future, "until": "2024-01-01T00:00:00Z"})
    assert inverted.status_code == 422 and inverted.json()["errors"][0]["field"] == "until"

    history = crew.api_a.get(f"{API}/history/organization/{org['id']}").json()
    assert [e["action"] for e in history["items"]] == ["update", "create"]
    assert crew.api_b.get(f"{API}/history/organization/{org['id']}").status_code == 404
    assert crew.api_a.get(f"{API}/history/interaction/{interaction}").status_code == 200
    bad = crew.api_a.get(f"{API}/history/user/{crew.a.id}")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "entity_type"


def test_every_new_endpoint_requires_auth(app):
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    for method, path in (
        ("get", "/groups"),
        ("get", "/segments"),
        ("get", "/blocklist"),
        ("get", "/suppressions"),
        ("get", "/files/1"),
        ("get", "/files/1/content"),
        ("get", "/custom-fields"),
        ("get", "/audit"),
        ("get", "/export/organizations.csv"),
        ("get", "/export/persons.vcf"),
        ("post", "/import/organizations"),
        ("post", "/organizations/1/merge"),
        ("get", "/persons/1/privacy-export"),
        ("post", "/persons/1/erase"),
    ):
        assert getattr(anon, method)(f"{API}{path}").status_code == 401, path
