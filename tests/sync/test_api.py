"""The admin's sync console over the API: accounts, tests, runs, errors, conflicts, progress; never a secret."""

from __future__ import annotations

import logging

import pytest

from core.integration.outbox import enqueue_push
from core.models import Role
from sync.worker import Worker, WorkerOptions
from tests.sync.conftest import FAST, PASSWORD

API = "/api/v1/sync"


@pytest.fixture
def seen():
    """Every response body of the test, to grep for secrets."""
    return []


def _call(client, seen, method, path, **kwargs):
    response = client.request(method, path, **kwargs)
    seen.append(response.text)
    return response


def _new(client, seen, server, **extra):
    body = {"kind": "loopback", "name": "Test server", "settings": {"path": str(server.path), "password": PASSWORD}}
    body.update(extra)
    return _call(client, seen, "POST", f"{API}/accounts", json=body)


def _work(db):
    Worker(db, WorkerOptions(policy=FAST)).run_once()


def test_console_round_trip_without_ever_showing_the_secret(db, server, admin_api, seen, caplog):
    caplog.set_level(logging.DEBUG)
    kinds = _call(admin_api, seen, "GET", f"{API}/connectors").json()
    loop = next(k for k in kinds if k["kind"] == "loopback")
    assert loop["directions"] == ["pull", "push"] and loop["secret_fields"] == ["password"]
    assert loop["settings_schema"]["properties"]["password"]["writeOnly"] is True

    created = _new(admin_api, seen, server, interval_seconds=600)
    assert created.status_code == 201, created.text
    acc = created.json()
    assert acc["settings"]["password"] == {"set": True} and acc["settings"]["batch_size"] == 100
    assert acc["status"] == "new" and acc["interval_seconds"] == 600

    check = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/test").json()
    assert check == {"ok": True, "step": "", "message": ""}

    job = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/run")
    assert job.status_code == 202 and job.json()["state"] == "queued" and job.json()["trigger"] == "manual"
    listed = _call(admin_api, seen, "GET", f"{API}/accounts").json()
    assert listed[0]["job"]["id"] == job.json()["id"]
    _work(db)
    done = _call(admin_api, seen, "GET", f"{API}/jobs/{job.json()['id']}").json()
    assert done["state"] == "done" and (done["progress_done"], done["progress_total"]) == (5, 5)

    runs = _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}/runs").json()
    assert runs["total"] == 1 and runs["items"][0]["applied"] == 5 and runs["items"][0]["status"] == "ok"
    persons = _call(admin_api, seen, "GET", "/api/v1/persons").json()
    assert persons["total"] == 5

    edited = _call(admin_api, seen, "PATCH", f"{API}/accounts/{acc['id']}", json={"settings": {"batch_size": 3}})
    assert edited.status_code == 200 and edited.json()["settings"]["batch_size"] == 3
    again = _call(
        admin_api, seen, "PATCH", f"{API}/accounts/{acc['id']}", json={"settings": {"password": {"set": True}}}
    )
    assert again.status_code == 200
    assert _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/test").json()["ok"], "password kept"

    server.set_password("changed-on-the-server")
    failed = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/test").json()
    assert failed == {"ok": False, "step": "login", "message": "login: the server refused the password"}
    assert "test failed at login" in _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}").json()["last_error"]

    for text in seen:
        assert PASSWORD not in text
    assert PASSWORD not in caplog.text


def test_errors_conflicts_reset_and_enable(db, server, admin_api, seen):
    server.set_control(permanent=["c4"], conflict_keys=["person:1"])
    acc = _new(admin_api, seen, server).json()
    enqueue = {"account_id": acc["id"], "key": "person:1", "action": "upsert_contact", "payload": {"last_name": "X"}}
    with db.session() as s:
        enqueue_push(s, **enqueue)
    _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/run")
    _work(db)
    errors = _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}/errors").json()
    assert errors["total"] == 1 and errors["items"][0]["item_ref"] == "c4"
    assert "cannot be read" in errors["items"][0]["reason"] and '"id": "c4"' in errors["items"][0]["raw"]
    conflicts = _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}/conflicts").json()
    assert conflicts["total"] == 1 and conflicts["items"][0]["local"] == {"last_name": "X"}
    resolved = _call(admin_api, seen, "POST", f"{API}/conflicts/{conflicts['items'][0]['id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}/conflicts").json()["total"] == 0

    reset = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/reset-cursor").json()
    assert reset == {"reset": 1}

    disabled = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/disable").json()
    assert disabled["enabled"] is False and disabled["status"] == "disabled" and disabled["next_run_at"] is None
    refused = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/run")
    assert refused.status_code == 409 and "enable it first" in refused.json()["detail"]
    enabled = _call(admin_api, seen, "POST", f"{API}/accounts/{acc['id']}/enable").json()
    assert enabled["enabled"] is True and enabled["status"] == "new" and enabled["next_run_at"]
    assert _call(admin_api, seen, "DELETE", f"{API}/accounts/{acc['id']}").status_code == 204
    assert _call(admin_api, seen, "GET", f"{API}/accounts/{acc['id']}").status_code == 404


def test_bad_input_names_the_field(server, admin_api, seen):
    r = _call(admin_api, seen, "POST", f"{API}/accounts", json={"kind": "nope", "name": "x", "settings": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert "installed: " in r.json()["detail"] and "loopback" in r.json()["detail"]
    r = _new(admin_api, seen, server, settings={"path": "relative/dir", "password": PASSWORD, "batch_size": 0})
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(fields) == {"settings.path", "settings.batch_size"}
    assert "absolute path" in fields["settings.path"]
    r = _new(admin_api, seen, server, settings={"path": str(server.path)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "settings.password"
    r = _new(admin_api, seen, server, settings={"path": str(server.path), "password": PASSWORD, "colour": "red"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "settings.colour"
    r = _new(admin_api, seen, server, interval_seconds=1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "interval_seconds"
    r = _new(admin_api, seen, server, owner_id=999)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner_id"
    for text in seen:
        assert PASSWORD not in text


def test_users_manage_only_their_own_accounts(db, server, users, admin_api, seen):
    staff = users.make("anna@ourcompany.test", role=Role.staff)
    other = users.make("boris@ourcompany.test", role=Role.staff)
    api = users.client(staff)
    mine = _new(api, seen, server)
    assert mine.status_code == 201 and mine.json()["owner_id"] == staff.id
    assert mine.json()["team_id"] == users.team("Sales")
    theirs = _new(api, seen, server, owner_id=other.id)
    assert theirs.status_code == 403
    admins = _new(admin_api, seen, server, name="Admin's").json()
    assert [a["id"] for a in _call(api, seen, "GET", f"{API}/accounts").json()] == [mine.json()["id"]]
    assert _call(api, seen, "GET", f"{API}/accounts/{admins['id']}").status_code == 404
    assert _call(api, seen, "POST", f"{API}/accounts/{admins['id']}/run").status_code == 404
    assert _call(api, seen, "POST", f"{API}/accounts/{mine.json()['id']}/run").status_code == 202
    assert len(_call(admin_api, seen, "GET", f"{API}/accounts").json()) == 2


def test_every_sync_endpoint_requires_auth(app):
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    for method, path in [
        ("GET", f"{API}/connectors"),
        ("GET", f"{API}/accounts"),
        ("POST", f"{API}/accounts"),
        ("GET", f"{API}/accounts/1"),
        ("POST", f"{API}/accounts/1/test"),
        ("POST", f"{API}/accounts/1/run"),
        ("GET", f"{API}/accounts/1/runs"),
        ("GET", f"{API}/jobs/1"),
    ]:
        assert anon.request(method, path).status_code == 401, path
