"""Merging duplicates: everything of both records ends on the survivor; the other stays as a tombstone."""

from __future__ import annotations

import sqlalchemy as sa

from core.actor import Actor
from core.clients.tombstones import MergedAway, ensure_not_merged, survivor_of
from core.models import (
    AuditEntry,
    Comment,
    Deal,
    Employment,
    GroupMember,
    Interaction,
    MailMessageRow,
    Organization,
    Person,
    StoredFile,
    Task,
)
from tests.records.conftest import API, add_deal, add_interaction, add_task, client_as, make_org, make_person


def _count(s, model, **where) -> int:  # noqa: ANN001, ANN003
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return s.scalar(stmt)


def test_merge_organizations_moves_everything(crew, db):
    api = crew.api_a
    keep = make_org(api, "Romashka", phones=["+74951234567"], emails=["info@romashka.test"], tags=["vip"])
    dupe = make_org(
        api,
        "Romashka Trading",
        phones=["+74957654321"],
        emails=["sales@romashka.test"],
        tags=["vip", "moscow"],
        industry="Retail",
        potential=4,
    )
    ivan = make_person(api, "Ivan", "Petrov", organizations=[{"organization_id": dupe["id"], "role": "CEO"}])
    olga = make_person(
        api, "Olga", "Ivanova", organizations=[{"organization_id": keep["id"]}, {"organization_id": dupe["id"]}]
    )
    for org in (keep, dupe):
        add_interaction(db, team_id=crew.team_a, organization_id=org["id"], subject=f"call {org['id']}")
        add_task(db, team_id=crew.team_a, responsible_id=crew.a.id, organization_id=org["id"])
        add_deal(db, team_id=crew.team_a, organization_id=org["id"])
        api.post(f"{API}/organizations/{org['id']}/comments", json={"body": f"note {org['id']}"})
        api.post(f"{API}/organizations/{org['id']}/files", files={"file": (f"f{org['id']}.txt", b"x", "text/plain")})
    with db.session() as s:
        mail = MailMessageRow(message_id="same@mail.test", thread_key="same@mail.test")
        s.add(mail)
        s.flush()
        mail_id = mail.id
    logged_keep = add_interaction(db, team_id=crew.team_a, organization_id=keep["id"], mail_id=mail_id)
    logged_dupe = add_interaction(db, team_id=crew.team_a, organization_id=dupe["id"], mail_id=mail_id)
    api.post(f"{API}/interactions/{logged_dupe}/files", files={"file": ("att.txt", b"a", "text/plain")})
    group = api.post(f"{API}/groups", json={"name": "Retail"}).json()
    api.post(f"{API}/groups/{group['id']}/members", json={"organization_ids": [keep["id"], dupe["id"]]})

    r = api.post(
        f"{API}/organizations/{keep['id']}/merge",
        json={"other_id": dupe["id"], "fields": {"name": "other"}},
    )
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["name"] == "Romashka Trading"
    assert merged["industry"] == "Retail" and merged["potential"] == 4  # blanks filled from the other
    assert sorted(merged["phones"]) == ["+74951234567", "+74957654321"]
    assert sorted(merged["emails"]) == ["info@romashka.test", "sales@romashka.test"]
    assert sorted(merged["tags"]) == ["moscow", "vip"]

    with db.session() as s:
        k, d = keep["id"], dupe["id"]
        for model in (Interaction, Task, Deal, Comment):
            assert _count(s, model, organization_id=d) == 0, model
        assert _count(s, Interaction, organization_id=k) == 3  # two calls + one copy of the mail
        assert _count(s, Task, organization_id=k) == 2
        assert _count(s, Deal, organization_id=k) == 2
        assert _count(s, Comment, organization_id=k) == 2
        assert _count(s, StoredFile, organization_id=k) == 2
        assert s.scalar(sa.select(StoredFile.interaction_id).where(StoredFile.filename == "att.txt")) == logged_keep
        assert s.get(Interaction, logged_dupe) is None
        assert _count(s, GroupMember, group_id=group["id"]) == 1
        assert {e.person_id for e in s.scalars(sa.select(Employment).where(Employment.organization_id == k))} == {
            ivan["id"],
            olga["id"],
        }
        assert _count(s, Employment, organization_id=d) == 0
        tomb = s.get(Organization, d)
        assert tomb.merged_into_id == k
        assert survivor_of(s, Organization, d) == k
        try:
            ensure_not_merged(s, tomb)
            raise AssertionError("a tombstone must not be served")
        except MergedAway as exc:
            assert exc.survivor_id == k and exc.code == "merged"
        entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.action.in_(["merge", "merged_into"]))).all()
        assert {(e.action, e.entity_id) for e in entries} == {("merge", k), ("merged_into", d)}
        assert all(e.changes["survivor_id"] == k and e.changes["merged_id"] == d for e in entries)

    listed = api.get(f"{API}/organizations").json()
    assert [o["id"] for o in listed["items"]] == [keep["id"]]
    history = api.get(f"{API}/history/organization/{keep['id']}").json()
    assert {e["entity_id"] for e in history["items"]} == {keep["id"], dupe["id"]}
    again = api.post(f"{API}/organizations/{keep['id']}/merge", json={"other_id": dupe["id"]})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "other_id"
    # the old name no longer blocks a new record, the tombstone's points moved away
    assert api.get(f"{API}/search", params={"q": "+7 495 765 43 21"}).json()[0]["id"] == keep["id"]


def test_merge_needs_both_records_writable(crew, users):
    from core.models import Role

    mine = make_org(crew.api_a, "Alpha")
    theirs = make_org(crew.api_b, "Alpha Two")
    r = crew.api_a.post(f"{API}/organizations/{mine['id']}/merge", json={"other_id": theirs["id"]})
    assert r.status_code == 404
    r = crew.api_a.post(f"{API}/organizations/{theirs['id']}/merge", json={"other_id": mine["id"]})
    assert r.status_code == 404
    r = crew.api_a.post(f"{API}/organizations/{mine['id']}/merge", json={"other_id": mine["id"]})
    assert r.status_code == 422
    bad = crew.api_admin.post(
        f"{API}/organizations/{mine['id']}/merge", json={"other_id": theirs["id"], "fields": {"colour": "other"}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fields.colour"
    auditor = client_as(users, "aud@ourcompany.test", role=Role.auditor)
    assert auditor.post(f"{API}/organizations/{mine['id']}/merge", json={"other_id": theirs["id"]}).status_code == 403
    # an admin may merge across teams; the moved work takes the survivor's team
    ok = crew.api_admin.post(f"{API}/organizations/{mine['id']}/merge", json={"other_id": theirs["id"]})
    assert ok.status_code == 200


def test_merge_persons(crew, db):
    api = crew.api_a
    org = make_org(api, "Alpha")
    keep = make_person(
        api, "Ivan", "Petrov", emails=["ivan@alpha.test"], organizations=[{"organization_id": org["id"]}]
    )
    dupe = make_person(api, "Ivan", "Petroff", middle_name="S.", emails=["ivan.p@mail.test"], phones=["+79161234567"])
    for p in (keep, dupe):
        add_interaction(db, team_id=crew.team_a, person_id=p["id"], subject=f"chat {p['id']}")
        add_task(db, team_id=crew.team_a, responsible_id=crew.a.id, person_id=p["id"])
        api.post(
            f"{API}/persons/{p['id']}/files", files={"file": (f"p{p['id']}.txt", b"p" + bytes([p["id"]]), "text/plain")}
        )
    deal = add_deal(db, team_id=crew.team_a, organization_id=org["id"], person_id=dupe["id"])
    r = api.post(f"{API}/persons/{keep['id']}/merge", json={"other_id": dupe["id"], "fields": {"last_name": "other"}})
    assert r.status_code == 200, r.text
    person = r.json()
    assert person["full_name"] == "Ivan S. Petroff"
    assert sorted(person["emails"]) == ["ivan.p@mail.test", "ivan@alpha.test"]
    assert person["phones"] == ["+79161234567"]
    with db.session() as s:
        assert _count(s, Interaction, person_id=keep["id"]) == 2
        assert _count(s, Task, person_id=keep["id"]) == 2
        assert _count(s, StoredFile, person_id=keep["id"]) == 2
        assert _count(s, Interaction, person_id=dupe["id"]) == 0
        assert s.get(Deal, deal).person_id == keep["id"]
        assert s.get(Person, dupe["id"]).merged_into_id == keep["id"]
    assert api.get(f"{API}/persons").json()["total"] == 1
    # the tombstone's e-mail now belongs to the survivor, so the duplicate rule names the survivor
    dup = api.post(f"{API}/persons", json={"first_name": "X", "emails": ["ivan.p@mail.test"]})
    assert dup.status_code == 409 and dup.json()["existing"]["id"] == keep["id"]


def test_merge_core_service_is_atomic_on_error(crew, db):
    from core.clients.merge import merge_organizations
    from core.errors import ValidationFailed

    a = make_org(crew.api_a, "Alpha")
    b = make_org(crew.api_a, "Bravo")
    with db.session() as s:
        actor = Actor.of(s.get(type(crew.a), crew.a.id))
        try:
            merge_organizations(s, actor=actor, survivor_id=a["id"], other_id=b["id"], field_choices={"name": "both"})
        except ValidationFailed as exc:
            assert exc.problems[0].field == "fields.name"
    with db.session() as s:
        assert s.get(Organization, b["id"]).merged_into_id is None


def test_a_merged_record_answers_404_naming_the_survivor_and_goes_with_it(admin_api):
    keep = admin_api.post("/api/v1/organizations", json={"name": "Keeper Ltd"}).json()
    gone = admin_api.post("/api/v1/organizations", json={"name": "Goner Ltd"}).json()
    assert admin_api.post(f"/api/v1/organizations/{keep['id']}/merge", json={"other_id": gone["id"]}).status_code == 200
    r = admin_api.get(f"/api/v1/organizations/{gone['id']}")
    assert r.status_code == 404
    assert r.json()["code"] == "merged" and r.json()["survivor_id"] == keep["id"]
    assert admin_api.patch(f"/api/v1/organizations/{gone['id']}", json={"notes": "x"}).status_code == 404
    assert admin_api.delete(f"/api/v1/organizations/{keep['id']}").status_code == 204
    assert admin_api.get(f"/api/v1/organizations/{gone['id']}").json()["code"] == "not_found"
