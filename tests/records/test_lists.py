"""Groups, segments, the blocklist and the suppression list: rules, rights, normalised values."""

from __future__ import annotations

from core.lists import suppression
from core.models import Role
from tests.records.conftest import API, client_as, make_org, make_person


def test_group_members_are_filtered_by_rights(crew):
    org_a = make_org(crew.api_a, "Alpha LLC")
    org_b = make_org(crew.api_b, "Beta LLC")
    person_a = make_person(crew.api_a, "Ivan", "Petrov")
    group = crew.api_admin.post(f"{API}/groups", json={"name": "Seminar 2025"}).json()
    added = crew.api_admin.post(
        f"{API}/groups/{group['id']}/members",
        json={"organization_ids": [org_a["id"], org_b["id"], 999999], "person_ids": [person_a["id"]]},
    ).json()
    assert sorted(added["changed"]["organization"]) == sorted([org_a["id"], org_b["id"]])
    assert added["not_found"]["organization"] == [999999]
    again = crew.api_admin.post(f"{API}/groups/{group['id']}/members", json={"organization_ids": [org_a["id"]]})
    assert again.json()["unchanged"]["organization"] == [org_a["id"]]

    seen_by_a = crew.api_a.get(f"{API}/groups/{group['id']}").json()
    assert (seen_by_a["organizations"], seen_by_a["persons"]) == (1, 1)
    page = crew.api_a.get(f"{API}/groups/{group['id']}/organizations").json()
    assert page["total"] == 1
    assert [o["id"] for o in page["items"]] == [org_a["id"]]
    assert crew.api_b.get(f"{API}/groups/{group['id']}/persons").json()["total"] == 0
    assert crew.api_admin.get(f"{API}/groups/{group['id']}").json()["organizations"] == 2

    # staff of A cannot add B's organization: it does not exist for them
    r = crew.api_a.post(f"{API}/groups/{group['id']}/members", json={"organization_ids": [org_b["id"]]})
    assert r.json()["not_found"]["organization"] == [org_b["id"]]
    removed = crew.api_a.post(
        f"{API}/groups/{group['id']}/members/remove", json={"organization_ids": [org_a["id"], org_b["id"]]}
    ).json()
    assert removed["changed"]["organization"] == [org_a["id"]]
    assert removed["not_found"]["organization"] == [org_b["id"]]
    assert crew.api_admin.get(f"{API}/groups/{group['id']}").json()["organizations"] == 1


def test_group_names_unique_and_only_owner_or_manager_renames(crew, users):
    g = crew.api_a.post(f"{API}/groups", json={"name": "Partners"}).json()
    assert crew.api_b.post(f"{API}/groups", json={"name": "partners"}).status_code == 409
    assert crew.api_a.post(f"{API}/groups", json={"name": "Ключевые клиенты"}).status_code == 201
    assert crew.api_b.post(f"{API}/groups", json={"name": "КЛЮЧЕВЫЕ  клиенты"}).status_code == 409
    seg = {"name": "Москва", "client_type": "organization", "filter": {"tag": "moscow"}}
    assert crew.api_a.post(f"{API}/segments", json=seg).status_code == 201
    assert crew.api_a.post(f"{API}/segments", json={**seg, "name": "москва"}).status_code == 409
    assert crew.api_b.patch(f"{API}/groups/{g['id']}", json={"name": "Mine"}).status_code == 403
    assert crew.api_a.patch(f"{API}/groups/{g['id']}", json={"name": "Key partners"}).json()["name"] == "Key partners"
    auditor = client_as(users, "aud@ourcompany.test", role=Role.auditor)
    assert auditor.post(f"{API}/groups", json={"name": "X"}).status_code == 403
    assert crew.api_admin.delete(f"{API}/groups/{g['id']}").status_code == 204
    assert crew.api_a.get(f"{API}/groups/{g['id']}").status_code == 404


def test_segment_is_a_saved_filter_evaluated_with_the_users_rights(crew):
    make_org(crew.api_a, "Alpha", potential=5, tags=["vip"])
    make_org(crew.api_a, "Gamma", potential=2, tags=["vip"])
    make_org(crew.api_b, "Beta", potential=5, tags=["vip"])
    seg = crew.api_a.post(
        f"{API}/segments",
        json={"name": "Top VIP", "client_type": "organization", "filter": {"tag": "vip", "potential": 5}},
    )
    assert seg.status_code == 201, seg.text
    seg = seg.json()
    assert seg["filter"] == {"tag": "vip", "potential": 5}
    as_a = crew.api_a.get(f"{API}/segments/{seg['id']}/members").json()
    assert [o["name"] for o in as_a["items"]] == ["Alpha"]
    as_admin = crew.api_admin.get(f"{API}/segments/{seg['id']}/members").json()
    assert sorted(o["name"] for o in as_admin["items"]) == ["Alpha", "Beta"]
    # evaluated on use: a new match appears without touching the segment
    make_org(crew.api_a, "Delta", potential=5, tags=["vip"])
    assert crew.api_a.get(f"{API}/segments/{seg['id']}/members").json()["total"] == 2

    bad = crew.api_a.post(f"{API}/segments", json={"name": "Bad", "filter": {"colour": "red"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "filter"
    bad = crew.api_a.post(f"{API}/segments", json={"name": "Bad", "filter": {"potential": "high"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "filter.potential"


def test_person_segment(crew):
    org = make_org(crew.api_a, "Alpha")
    make_person(crew.api_a, "Ivan", "Petrov", organizations=[{"organization_id": org["id"]}])
    make_person(crew.api_a, "Olga", "Sidorova")
    seg = crew.api_a.post(
        f"{API}/segments",
        json={"name": "Alpha people", "client_type": "person", "filter": {"organization_id": org["id"]}},
    ).json()
    members = crew.api_a.get(f"{API}/segments/{seg['id']}/members").json()
    assert [p["full_name"] for p in members["items"]] == ["Ivan Petrov"]


def test_blocklist_values_are_normalised_and_refuse_creation(crew, users):
    manager = client_as(users, "boss@ourcompany.test", role=Role.manager, teams=("A",))
    entries = [
        ("email", " Spam@Evil.Test ", "spam@evil.test"),
        ("domain", "https://www.Fraud.test/path", "fraud.test"),
        ("phone", "8 (495) 111-22-33", "+74951112233"),
        ("name", "ООО «Рога и Копыта»", "рога и копыта"),
    ]
    for kind, value, stored in entries:
        r = manager.post(f"{API}/blocklist", json={"kind": kind, "value": value, "reason": "fraud"})
        assert r.status_code == 201, r.text
        assert r.json()["value"] == stored
    assert manager.post(f"{API}/blocklist", json={"kind": "email", "value": "SPAM@evil.test"}).status_code == 409
    bad = manager.post(f"{API}/blocklist", json={"kind": "phone", "value": "12"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "value"
    assert crew.api_a.post(f"{API}/blocklist", json={"kind": "email", "value": "x@y.test"}).status_code == 403
    assert crew.api_a.get(f"{API}/blocklist").status_code == 403
    assert len(manager.get(f"{API}/blocklist").json()) == 4

    refused = [
        crew.api_a.post(f"{API}/organizations", json={"name": "Nice", "emails": ["spam@evil.test"]}),
        crew.api_a.post(f"{API}/organizations", json={"name": "Nice 2", "emails": ["boss@fraud.test"]}),
        crew.api_a.post(f"{API}/organizations", json={"name": "Nice 3", "phones": ["+7 495 111 22 33"]}),
        crew.api_a.post(f"{API}/organizations", json={"name": "Рога и копыта, ООО"}),
        crew.api_a.post(f"{API}/persons", json={"first_name": "A", "emails": ["Spam@evil.test"]}),
    ]
    for r in refused:
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "blocked"
    entry_id = manager.get(f"{API}/blocklist", params={"kind": "email"}).json()[0]["id"]
    assert manager.delete(f"{API}/blocklist/{entry_id}").status_code == 204
    assert (
        crew.api_a.post(f"{API}/organizations", json={"name": "Nice", "emails": ["spam@evil.test"]}).status_code == 201
    )


def test_suppression_list(crew, users, db):
    marketer = client_as(users, "mk@ourcompany.test", role=Role.marketer, teams=("A",))
    r = marketer.post(f"{API}/suppressions", json={"email": "Gone@Client.Test", "reason": "unsubscribed"})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "gone@client.test"
    assert marketer.post(f"{API}/suppressions", json={"email": "gone@client.test"}).status_code == 409
    bad = marketer.post(f"{API}/suppressions", json={"email": "x@y.test", "reason": "because"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    bad = marketer.post(f"{API}/suppressions", json={"email": "not-an-address"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert crew.api_a.post(f"{API}/suppressions", json={"email": "a@b.test"}).status_code == 403
    check = marketer.get(f"{API}/suppressions/check", params={"email": "GONE@client.test"}).json()
    assert check["suppressed"] is True
    with db.session() as s:
        assert suppression.is_suppressed(s, " gone@CLIENT.test ")
        assert not suppression.is_suppressed(s, "other@client.test")
        assert suppression.suppressed_among(s, ["Gone@client.test", "x@y.test"]) == {"gone@client.test"}
    entry_id = r.json()["id"]
    assert marketer.delete(f"{API}/suppressions/{entry_id}").status_code == 204
    with db.session() as s:
        assert not suppression.is_suppressed(s, "gone@client.test")
