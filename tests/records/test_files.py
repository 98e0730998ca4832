"""Files: content-addressed storage, safe downloads, the size cap, deletion and rights by team."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from core.actor import Actor
from core.models import MailMessageRow, StoredFile
from core.records import files
from core.records.blobs import TooLarge, blob_path, write_blobs
from tests.records.conftest import API, add_interaction, client_as, make_org, make_person


def _upload(api, path, name="offer.pdf", content=b"%PDF-1.4 offer", ctype="application/pdf"):  # noqa: ANN001
    return api.post(f"{API}/{path}/files", files={"file": (name, content, ctype)})


def test_upload_download_and_same_content_stored_once(crew, settings):
    org = make_org(crew.api_a, "Alpha")
    r = _upload(crew.api_a, f"organizations/{org['id']}", name="Договор №1.pdf")
    assert r.status_code == 201, r.text
    meta = r.json()
    sha = hashlib.sha256(b"%PDF-1.4 offer").hexdigest()
    assert meta["sha256"] == sha and meta["size"] == 14 and meta["stored"] is True
    path = blob_path(sha)
    assert path == settings.files_dir / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == b"%PDF-1.4 offer"
    assert list((settings.files_dir / ".tmp").iterdir()) == []

    got = crew.api_a.get(f"{API}/files/{meta['id']}/content")
    assert got.status_code == 200
    assert got.content == b"%PDF-1.4 offer"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%20%E2%84%961.pdf" in disposition

    person = make_person(crew.api_a, "Ivan", "Petrov")
    second = _upload(crew.api_a, f"persons/{person['id']}", name="copy.pdf").json()
    assert second["sha256"] == sha
    blobs = [p for p in settings.files_dir.rglob("*") if p.is_file()]
    assert blobs == [path]

    # deleting one row keeps the bytes the other still uses; deleting the last removes them
    assert crew.api_a.delete(f"{API}/files/{meta['id']}").status_code == 204
    assert path.exists()
    assert crew.api_a.delete(f"{API}/files/{second['id']}").status_code == 204
    assert not path.exists()
    assert crew.api_a.get(f"{API}/files/{second['id']}").status_code == 404


def test_several_blobs_are_written_side_by_side_each_as_one_alone(settings):
    contents = [b"one", b"two" * 1000, b"one", b"", b"three"]
    written = write_blobs(contents)
    assert written == [(hashlib.sha256(c).hexdigest(), len(c)) for c in contents]
    assert [blob_path(sha).read_bytes() for sha, _ in written] == contents
    assert list((settings.files_dir / ".tmp").iterdir()) == []
    with pytest.raises(TooLarge):
        write_blobs([b"small", b"x" * 101, b"also small"], limit=100)
    assert list((settings.files_dir / ".tmp").iterdir()) == [], "the refused one leaves nothing behind"


def test_hostile_names_and_types_are_made_safe(crew):
    from hub.api.records import content_disposition

    assert files.clean_filename('..\\..\\evil"\r\nX: 1.html') == 'evil"X: 1.html'
    assert files.clean_filename("/etc/passwd") == "passwd"
    assert files.clean_filename("...") == "file"
    assert files.clean_content_type("text/html\r\nX: y") == "application/octet-stream"
    assert files.clean_content_type("Image/PNG; name=x") == "image/png"
    header = content_disposition('evil"X: 1.html')
    assert header == "attachment; filename=\"evil_X_ 1.html\"; filename*=UTF-8''evil%22X%3A%201.html"
    org = make_org(crew.api_a, "Alpha")
    meta = _upload(crew.api_a, f"organizations/{org['id']}", name="../../a.txt", ctype="not a type").json()
    assert meta["filename"] == "a.txt"
    assert meta["content_type"] == "application/octet-stream"
    html = _upload(crew.api_a, f"organizations/{org['id']}", name="page.html", ctype="text/html").json()
    served = crew.api_a.get(f"{API}/files/{html['id']}/content")
    assert served.headers["content-type"].startswith("text/html")
    assert served.headers["content-disposition"].startswith('attachment; filename="page.html"')
    assert served.headers["x-content-type-options"] == "nosniff"


def test_size_cap(crew, monkeypatch, settings):
    org = make_org(crew.api_a, "Alpha")
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    big = b"x" * (1024 * 1024 + 1)
    r = _upload(crew.api_a, f"organizations/{org['id']}", content=big)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"
    assert "1 MB" in r.json()["detail"]
    assert crew.api_a.get(f"{API}/organizations/{org['id']}/files").json() == []
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []
    assert _upload(crew.api_a, f"organizations/{org['id']}", content=b"x" * 1024).status_code == 201


def test_team_a_cannot_reach_team_b_files(crew, users):
    from core.models import Role

    org_b = make_org(crew.api_b, "Beta")
    meta = _upload(crew.api_b, f"organizations/{org_b['id']}").json()
    for r in (
        crew.api_a.get(f"{API}/files/{meta['id']}"),
        crew.api_a.get(f"{API}/files/{meta['id']}/content"),
        crew.api_a.delete(f"{API}/files/{meta['id']}"),
        crew.api_a.get(f"{API}/organizations/{org_b['id']}/files"),
        _upload(crew.api_a, f"organizations/{org_b['id']}"),
    ):
        assert r.status_code == 404, r.text
    auditor = client_as(users, "aud@ourcompany.test", role=Role.auditor)
    assert auditor.get(f"{API}/files/{meta['id']}/content").status_code == 200
    assert auditor.delete(f"{API}/files/{meta['id']}").status_code == 403
    assert crew.api_b.get(f"{API}/files/{meta['id']}/content").status_code == 200


def test_card_lists_own_interaction_and_mail_files(crew, db):
    org = make_org(crew.api_a, "Alpha")
    interaction = add_interaction(db, team_id=crew.team_a, organization_id=org["id"])
    _upload(crew.api_a, f"organizations/{org['id']}", name="card.txt", content=b"card")
    on_call = _upload(crew.api_a, f"interactions/{interaction}", name="call.txt", content=b"call").json()
    with db.session() as s:
        mail = MailMessageRow(message_id="m1@x.test", thread_key="m1@x.test")
        s.add(mail)
        s.flush()
        mail_id = mail.id
    mail_interaction = add_interaction(db, team_id=crew.team_a, organization_id=org["id"], mail_id=mail_id)
    with db.session() as s:
        stored = files.store_bytes(
            s, actor=Actor.system(), content=b"attached", filename="scan.png", content_type="image/png", mail_id=mail_id
        )
        skipped = files.store_bytes(
            s, actor=Actor.system(), content=None, size=90_000_000, filename="huge.iso", mail_id=mail_id
        )
        assert stored.sha256 is not None and skipped.sha256 is None
    names = [f["filename"] for f in crew.api_a.get(f"{API}/organizations/{org['id']}/files").json()]
    assert sorted(names) == ["call.txt", "card.txt", "huge.iso", "scan.png"]
    assert [f["filename"] for f in crew.api_a.get(f"{API}/interactions/{interaction}/files").json()] == ["call.txt"]
    mail_files = crew.api_a.get(f"{API}/interactions/{mail_interaction}/files").json()
    assert sorted(f["filename"] for f in mail_files) == ["huge.iso", "scan.png"]
    # a mail attachment is visible through the interaction that logs the mail, to that team only
    assert crew.api_a.get(f"{API}/files/{stored.id}/content").content == b"attached"
    assert crew.api_b.get(f"{API}/files/{stored.id}").status_code == 404
    kept_meta = crew.api_a.get(f"{API}/files/{skipped.id}/content")
    assert kept_meta.status_code == 404 and "size cap" in kept_meta.json()["detail"]
    assert crew.api_a.get(f"{API}/interactions/{on_call['interaction_id']}/files").status_code == 200


def test_rolled_back_delete_keeps_the_bytes(crew, db):
    org = make_org(crew.api_a, "Alpha")
    meta = _upload(crew.api_a, f"organizations/{org['id']}").json()
    actor = Actor.system()
    try:
        with db.session() as s:
            files.delete_file(s, actor=actor, file_id=meta["id"])
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert blob_path(meta["sha256"]).exists()
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 1


def test_files_attached_at_once_are_rows_and_audit_entries_as_one_by_one(crew, db):
    from sqlalchemy import select

    from core.errors import Forbidden
    from core.models import AuditEntry

    with db.session() as s:
        mails = [MailMessageRow(message_id=f"m{n}@x.test", thread_key=f"m{n}@x.test") for n in (1, 2)]
        s.add_all(mails)
        s.flush()
        mail_ids = [m.id for m in mails]
    written = write_blobs([b"first", b"second"])
    on_mail = {"organization_id": None, "person_id": None, "interaction_id": None}
    wanted = [
        files.WrittenFile("a/../scan.png", "IMAGE/PNG; x=1", 5, written[0], {**on_mail, "mail_id": mail_ids[0]}),
        files.WrittenFile("big.iso", None, 90_000_000, None, {**on_mail, "mail_id": mail_ids[0]}),
        files.WrittenFile("doc.txt", "text/plain", 6, written[1], {**on_mail, "mail_id": mail_ids[1]}),
    ]
    results = []
    for at_once in (True, False):
        with db.session() as s:
            before = s.scalar(select(sa.func.max(StoredFile.id))) or 0
            if at_once:
                files.attach_written(s, actor=Actor.system(), files=wanted)
            else:
                for f in wanted:
                    files.store_bytes(
                        s,
                        actor=Actor.system(),
                        content=None,
                        filename=f.filename,
                        content_type=f.content_type,
                        size=f.size,
                        written=f.written,
                        **f.owners,
                    )
            s.flush()
            rows = s.scalars(select(StoredFile).where(StoredFile.id > before).order_by(StoredFile.id)).all()
            audit = s.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "file", AuditEntry.entity_id > before)
            ).all()
            by_file = {e.entity_id: (e.action, e.summary, e.changes) for e in audit}
            results.append([(r.filename, r.content_type, r.size, r.sha256, r.mail_id, by_file[r.id]) for r in rows])
    assert results[0] == results[1]
    assert [r[:4] for r in results[0]] == [
        ("scan.png", "image/png", 5, written[0][0]),
        ("big.iso", "application/octet-stream", 90_000_000, None),
        ("doc.txt", "text/plain", 6, written[1][0]),
    ]
    with db.session() as s, pytest.raises(Forbidden):  # only the mail import attaches a file to a mail alone
        files.attach_written(s, actor=Actor.of(s.get(type(crew.a), crew.a.id)), files=wanted[:1])
