"""The sync console and the IMAP account form, against a real Dovecot and the real engine."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import ConnectorAccount, Interaction, SyncItemError
from tests.mail.corpus import mail
from tests.mail.test_import_e2e import run
from tests.peers.dovecot_fixtures import Mailbox, dovecot, mailbox  # noqa: F401

PEER_FIXTURES = (dovecot, mailbox)


def form_for(box: Mailbox, **changes: str) -> dict[str, str]:
    """The add form as a user fills it for the test mailbox."""
    data = {
        "name": "Sales mailbox",
        "host": box.host,
        "port": str(box.port),
        "security": "plain",
        "username": box.user,
        "password": box.password,
        "folders": "",
        "mailbox_type": "personal",
        "match_by_domain": "1",
        "interval_minutes": "5",
    }
    data.update(changes)
    return data


def account_named(db, name: str) -> ConnectorAccount | None:  # noqa: ANN001
    with db.session() as s:
        return s.scalars(select(ConnectorAccount).where(ConnectorAccount.name == name)).first()


def test_admin_adds_an_account_with_a_wrong_password_fixes_it_and_runs_it(web, db, demo, mailbox):
    admin = web("admin@ourcompany.test")
    mailbox.append(
        "INBOX",
        [
            mail(
                sender="Анна Кузнецова <anna@romashka.example>",
                to="admin@ourcompany.test",
                subject="Счёт на оплату",
                msgid="bill-1@romashka.example",
            ),
            b"garbage without any header\r\n\r\n\x00\xff",
        ],
    )
    wrong = form_for(mailbox, password="not-the-password", owner_id=str(demo.users["admin"]))
    tested = admin.post("/sync/imap/new", {**wrong, "action": "test"})
    assert tested.status_code == 200
    assert "The server refused the login. Check the user name and the password." in tested.text
    assert "not-the-password" not in tested.text and account_named(db, "Sales mailbox") is None

    saved = admin.post("/sync/imap/new", wrong)
    assert saved.status_code == 303
    account = account_named(db, "Sales mailbox")
    assert account is not None and saved.headers["location"] == f"/sync/accounts/{account.id}"
    page = admin.get(saved.headers["location"])
    assert "Not run yet" in page.text and "not-the-password" not in page.text

    failed = admin.post(f"/sync/accounts/{account.id}/test")
    assert "The server refused the login" in failed.text and "(step: login)" in failed.text
    assert "Failing" in admin.get("/sync").text

    edit = admin.get(f"/sync/accounts/{account.id}/edit")
    assert "A password is set." in edit.text and mailbox.password not in edit.text
    fixed = admin.post(
        f"/sync/accounts/{account.id}/edit", form_for(mailbox, owner_id=str(demo.users["admin"]), password="")
    )
    assert fixed.status_code == 303  # an empty password keeps the (wrong) one
    fixed = admin.post(f"/sync/accounts/{account.id}/edit", form_for(mailbox, owner_id=str(demo.users["admin"])))
    assert fixed.status_code == 303
    assert "Connection works." in admin.post(f"/sync/accounts/{account.id}/test").text

    assert admin.post(f"/sync/accounts/{account.id}/run").status_code == 303
    queued = admin.get(f"/sync/accounts/{account.id}")
    assert f'hx-get="/sync/accounts/{account.id}/progress"' in queued.text and "Queued." in queued.text
    assert run(db, account.id) == "done"
    done = admin.get(f"/sync/accounts/{account.id}/progress", headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Refresh"] == "true"
    page = admin.get(f"/sync/accounts/{account.id}")
    assert "Some items skipped" in page.text
    with db.session() as s:
        skipped = s.scalars(select(SyncItemError).where(SyncItemError.account_id == account.id)).one()
        logged = s.scalars(select(Interaction).where(Interaction.subject == "Счёт на оплату")).one()
    assert skipped.item_ref in page.text and skipped.reason.split("(")[0].strip() in page.text
    assert logged.organization_id == demo.orgs["romashka"]
    for url in ("/sync", f"/sync/accounts/{account.id}", f"/sync/accounts/{account.id}/edit"):
        assert mailbox.password not in admin.get(url).text


def test_each_step_of_a_failing_test_in_plain_words(web, demo, mailbox):
    admin = web("admin@ourcompany.test")
    cases = {
        "no-such-host.invalid": "The server name could not be found (DNS).",
    }
    for host, words in cases.items():
        r = admin.post("/sync/imap/new", {**form_for(mailbox, host=host), "action": "test"})
        assert words in r.text, host
    closed = admin.post("/sync/imap/new", {**form_for(mailbox, port="1"), "action": "test"})
    assert "Could not connect to the server (TCP)." in closed.text
    tls = admin.post("/sync/imap/new", {**form_for(mailbox, security="starttls"), "action": "test"})
    assert "The secure connection (TLS) failed." in tls.text
    folder = admin.post("/sync/imap/new", {**form_for(mailbox, folders="Nonexistent"), "action": "test"})
    assert "A folder to import could not be opened." in folder.text
    ok = admin.post("/sync/imap/new", {**form_for(mailbox), "action": "test"})
    assert "Connection works." in ok.text


def test_bad_input_shows_field_errors_and_saves_nothing(web, db, demo, mailbox):
    admin = web("admin@ourcompany.test", headers={"Accept-Language": "ru"})
    r = admin.post("/sync/imap/new", form_for(mailbox, host="imap://x/y", password="", port="99999", name=""))
    assert r.status_code == 422
    assert "Заполните это поле." in r.text  # name and password
    assert "Допустимо от 1 до 65535." in r.text
    r = admin.post("/sync/imap/new", form_for(mailbox, host="imap://x/y"))
    assert r.status_code == 422 and "укажите только имя сервера" in r.text
    r = admin.post("/sync/imap/new", form_for(mailbox, security="tls", port="143"))
    assert r.status_code == 422 and "порт 143" in r.text.lower()
    with db.session() as s:
        assert s.scalars(select(ConnectorAccount)).all() == []


def test_staff_see_only_their_own_accounts_and_add_one_for_themselves(web, db, demo, mailbox):
    admin, ivan, olga = web("admin@ourcompany.test"), web("ivan@ourcompany.test"), web("olga@ourcompany.test")
    assert admin.post("/sync/imap/new", form_for(mailbox, name="Shared sales", owner_id="")).status_code == 303
    r = ivan.post("/sync/imap/new", form_for(mailbox, name="Ivan's mail", owner_id=str(demo.users["admin"])))
    assert r.status_code == 303
    mine = account_named(db, "Ivan's mail")
    shared = account_named(db, "Shared sales")
    assert mine.owner_id == demo.users["a"] and mine.team_id == demo.teams["A"]  # no other owner possible
    assert mine.settings["live"] is False  # the form's box was not ticked
    assert "at each run" in ivan.get(f"/sync/accounts/{mine.id}").text
    live = ivan.post("/sync/imap/new", {**form_for(mailbox, name="Ivan live"), "live": "1"})
    assert live.status_code == 303 and account_named(db, "Ivan live").settings["live"] is True
    listing = ivan.get("/sync").text
    assert "Ivan&#39;s mail" in listing and "Shared sales" not in listing
    assert ivan.get(f"/sync/accounts/{shared.id}").status_code == 404
    assert ivan.post(f"/sync/accounts/{shared.id}/run").status_code == 404
    assert olga.get(f"/sync/accounts/{mine.id}").status_code == 404
    assert olga.get(f"/sync/accounts/{mine.id}/edit").status_code == 404
    assert "No accounts yet" in olga.get("/sync").text
    assert "Ivan&#39;s mail" in admin.get("/sync").text
    assert ivan.post(f"/sync/accounts/{mine.id}/disable").status_code == 303
    assert "Disabled" in ivan.get(f"/sync/accounts/{mine.id}").text
    me = ivan.get("/me").text
    assert f"/sync/accounts/{mine.id}" in me and "Disabled" in me


def test_reset_cursor_and_delete_ask_first_and_need_csrf(web, db, demo, mailbox):
    admin = web("admin@ourcompany.test")
    admin.post("/sync/imap/new", form_for(mailbox))
    account = account_named(db, "Sales mailbox")
    page = admin.get(f"/sync/accounts/{account.id}").text
    assert re.search(rf'action="/sync/accounts/{account.id}/reset-cursor"[^>]*data-confirm=', page)
    assert admin.post(f"/sync/accounts/{account.id}/delete", csrf=False).status_code == 403
    assert admin.post(f"/sync/accounts/{account.id}/reset-cursor").status_code == 303
    assert admin.post(f"/sync/accounts/{account.id}/delete").status_code == 303
    assert account_named(db, "Sales mailbox") is None
