"""GDPR export and erase of one person: everything out, then nothing personal left anywhere."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from core.db import Base
from core.lists import suppression
from core.mail.rawcopy import UnreadableRawCopy, pack, unpack
from core.models import AuditEntry, Interaction, MailMessageRow, Role, Task
from core.records.blobs import blob_path
from tests.records.conftest import API, add_interaction, add_task, client_as, make_org, make_person

EMAIL = "ivan.petrov@romashka.test"


def _rows_mentioning(db, needle: str) -> list[str]:  # noqa: ANN001
    """Every table.column whose stored value contains the text (raw mail copies unpacked)."""
    hits = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes):
                        with contextlib.suppress(UnreadableRawCopy):
                            value = unpack(value)
                        text = value.decode("utf-8", "replace")
                    else:
                        text = str(value)
                    if needle.lower() in text.lower():
                        hits.append(f"{table.name}.{column}")
    return hits


def _populate(crew, db):  # noqa: ANN001, ANN202
    api = crew.api_a
    org = make_org(api, "Romashka", notes=f"Write to {EMAIL} or call Ivan Petrov")
    person = make_person(
        api,
        "Ivan",
        "Petrov",
        emails=[EMAIL.upper()],
        phones=["8 916 123-45-67"],
        notes="likes tea",
        tags=["vip"],
        organizations=[{"organization_id": org["id"], "role": "CEO"}],
    )
    with db.session() as s:
        mail = MailMessageRow(
            message_id="abc@romashka.test",
            thread_key="abc@romashka.test",
            subject="Offer for Ivan",
            from_addr=f"Ivan Petrov <{EMAIL}>",
            participants={"from": [EMAIL], "to": ["sales@ourcompany.test"]},
            text="Hello, Ivan here",
            raw_compressed=pack(f"From: {EMAIL}\r\n\r\nHello".encode()),
        )
        s.add(mail)
        s.flush()
        mail_id = mail.id
    ids = {
        "org": org["id"],
        "person": person["id"],
        "alone": add_interaction(db, team_id=crew.team_a, person_id=person["id"], subject="private chat"),
        "shared": add_interaction(
            db, team_id=crew.team_a, organization_id=org["id"], person_id=person["id"], subject="meeting", body="met"
        ),
        "mail": add_interaction(
            db,
            team_id=crew.team_a,
            organization_id=org["id"],
            person_id=person["id"],
            mail_id=mail_id,
            subject="Offer for Ivan",
        ),
        "org_only": add_interaction(db, team_id=crew.team_a, organization_id=org["id"], subject="price list"),
        "task_alone": add_task(db, team_id=crew.team_a, responsible_id=crew.a.id, person_id=person["id"]),
        "task_shared": add_task(
            db,
            team_id=crew.team_a,
            responsible_id=crew.a.id,
            organization_id=org["id"],
            person_id=person["id"],
            title="Call Ivan Petrov",
        ),
        "mail_id": mail_id,
    }
    api.post(f"{API}/persons/{person['id']}/comments", json={"body": "prefers e-mail"})
    api.post(f"{API}/organizations/{org['id']}/comments", json={"body": f"contact: {EMAIL}"})
    passport = api.post(
        f"{API}/persons/{person['id']}/files", files={"file": ("passport.pdf", b"passport scan", "application/pdf")}
    ).json()
    ids["file"], ids["sha"] = passport["id"], passport["sha256"]
    api.post(f"{API}/interactions/{ids['shared']}/files", files={"file": ("minutes.txt", b"minutes", "text/plain")})
    group = api.post(f"{API}/groups", json={"name": "Newsletter"}).json()
    api.post(f"{API}/groups/{group['id']}/members", json={"person_ids": [person["id"]]})
    api.patch(f"{API}/persons/{person['id']}", json={"position": "Director"})
    return ids


def test_privacy_export_has_everything(crew, db, users):
    ids = _populate(crew, db)
    doc = crew.api_admin.get(f"{API}/persons/{ids['person']}/privacy-export")
    assert doc.status_code == 200, doc.text
    doc = doc.json()
    assert doc["person"]["full_name"] == "Ivan Petrov"
    assert doc["person"]["position"] == "Director"
    assert {p["value"] for p in doc["person"]["contact_points"]} == {EMAIL, "+79161234567"}
    assert doc["person"]["employments"][0]["organization_name"] == "Romashka"
    assert {i["subject"] for i in doc["interactions"]} == {"private chat", "meeting", "Offer for Ivan"}
    assert len(doc["tasks"]) == 2
    assert [c["body"] for c in doc["comments"]] == ["prefers e-mail"]
    assert {f["filename"] for f in doc["files"]} == {"passport.pdf", "minutes.txt"}
    assert doc["mails"][0]["from_addr"].endswith(f"<{EMAIL}>")
    assert len(doc["groups"]) == 1
    assert {a["action"] for a in doc["audit"]} >= {"create", "update"}
    # staff may not take a person's data out in bulk; another team does not even see them
    assert crew.api_a.get(f"{API}/persons/{ids['person']}/privacy-export").status_code == 403
    assert crew.api_b.get(f"{API}/persons/{ids['person']}/privacy-export").status_code == 404
    auditor = client_as(users, "aud@ourcompany.test", role=Role.auditor)
    assert auditor.get(f"{API}/persons/{ids['person']}/privacy-export").status_code == 200


def test_erase_leaves_no_personal_data(crew, db, users):
    ids = _populate(crew, db)
    assert _rows_mentioning(db, EMAIL)  # the data is there before
    manager = client_as(users, "boss@ourcompany.test", role=Role.manager, teams=("A",))
    assert manager.post(f"{API}/persons/{ids['person']}/erase").status_code == 403
    assert crew.api_a.post(f"{API}/persons/{ids['person']}/erase").status_code == 403

    r = crew.api_admin.post(f"{API}/persons/{ids['person']}/erase")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["interactions_deleted"] == 1 and report["interactions_erased"] == 2
    assert report["tasks_deleted"] == 1 and report["tasks_erased"] == 1
    assert report["files_deleted"] == 2 and report["addresses_suppressed"] == 1

    for needle in (EMAIL, "+79161234567", "8 916 123-45-67", "Ivan Petrov", "passport"):
        assert _rows_mentioning(db, needle) == [], needle
    assert crew.api_admin.get(f"{API}/persons/{ids['person']}").status_code == 404
    assert not blob_path(ids["sha"]).exists()
    with db.session() as s:
        assert s.get(Interaction, ids["alone"]) is None
        shared = s.get(Interaction, ids["shared"])
        assert (shared.subject, shared.body, shared.person_id) == ("[erased]", "[erased]", None)
        assert s.get(Interaction, ids["org_only"]).subject == "price list"
        assert s.get(Task, ids["task_alone"]) is None
        assert s.get(Task, ids["task_shared"]).title == "[erased]"
        mail = s.get(MailMessageRow, ids["mail_id"])
        assert mail.message_id == "abc@romashka.test" and mail.raw_compressed is None and mail.participants == {}
        # mailings never reach them again, though the address itself is gone
        assert suppression.is_suppressed(s, EMAIL)
        assert suppression.is_suppressed(s, EMAIL.upper())
        erase = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert erase.entity_id == ids["person"] and erase.user_id == crew.admin.id
    org = crew.api_a.get(f"{API}/organizations/{ids['org']}").json()
    assert org["notes"] == "Write to [erased] or call [erased]"
    assert [c["body"] for c in crew.api_a.get(f"{API}/organizations/{ids['org']}/comments").json()] == [
        "contact: [erased]"
    ]
    assert [f["filename"] for f in crew.api_a.get(f"{API}/organizations/{ids['org']}/files").json()] == []
    # a new person with the same address can be created (the blocklist is not touched), but stays unmailed
    again = crew.api_a.post(f"{API}/persons", json={"first_name": "I", "emails": [EMAIL]})
    assert again.status_code == 201
    sup = crew.api_admin.get(f"{API}/suppressions", params={"reason": "erased"}).json()
    assert len(sup) == 1 and sup[0]["email"].startswith("sha256:")
    marketer = client_as(users, "mk@ourcompany.test", role=Role.marketer, teams=("A",))
    assert marketer.delete(f"{API}/suppressions/{sup[0]['id']}").status_code == 403


def test_erase_also_erases_merged_duplicates(crew, db):
    api = crew.api_a
    keep = make_person(api, "Ivan", "Petrov", emails=[EMAIL])
    dupe = make_person(api, "Ivan", "Petrov", emails=["old.ivan@mail.test"], notes="old card")
    assert api.post(f"{API}/persons/{keep['id']}/merge", json={"other_id": dupe["id"]}).status_code == 200
    report = crew.api_admin.post(f"{API}/persons/{keep['id']}/erase").json()
    assert sorted(report["person_ids"]) == sorted([keep["id"], dupe["id"]])
    assert _rows_mentioning(db, "old.ivan@mail.test") == []
    assert _rows_mentioning(db, "Ivan Petrov") == []
    with db.session() as s:
        assert suppression.is_suppressed(s, "old.ivan@mail.test")
