"""The engine's commands: sync list, run (with progress), reset, and keys rotate."""

from __future__ import annotations

import tomllib

from sqlalchemy import select
from typer.testing import CliRunner

from core.config import get_settings
from core.models import ConnectorAccount, SyncCursor
from core.secrets import unseal
from hub.cli.main import app
from tests.sync.conftest import PASSWORD, linked_persons

runner = CliRunner(env={"COLUMNS": "160"})


def test_sync_run_list_and_reset(db, server, account_id):
    result = runner.invoke(app, ["sync", "run", "Loopback"])
    assert result.exit_code == 0, result.output
    assert "Loopback: ok — pulled 5, applied 5, skipped 0, failed 0, pushed 0" in result.output
    assert len(linked_persons(db, account_id)) == 5

    listed = runner.invoke(app, ["sync", "list"])
    assert listed.exit_code == 0 and "Loopback" in listed.output and "ok" in listed.output

    reset = runner.invoke(app, ["sync", "reset", str(account_id)])
    assert reset.exit_code == 0 and "forgot 1 stream position" in reset.output
    with db.session() as s:  # the position is gone; the row stays, marked for the sweep after the re-read
        assert [(c.cursor, c.resync_since is not None) for c in s.scalars(select(SyncCursor))] == [(None, True)]

    missing = runner.invoke(app, ["sync", "run", "No such account"])
    assert missing.exit_code == 1 and "No connector account named 'No such account'" in missing.output
    assert PASSWORD not in result.output + listed.output + reset.output


def test_sync_run_exits_non_zero_when_the_run_fails(db, server, account_id):
    server.set_password("changed")
    result = runner.invoke(app, ["sync", "run", str(account_id)])
    assert result.exit_code == 1
    assert "failed" in result.output and "refused the password" in result.output


def test_keys_rotate_adds_a_key_first_and_re_encrypts(db, server, account_id, settings, tmp_path, monkeypatch):
    old = [k.get_secret_value() for k in settings.encryption_keys]
    config = tmp_path / "crmhub.toml"
    config.write_text(f'data_dir = "{tmp_path}"\nencryption_keys = ["{old[0]}"]\nbase_url = "http://x"\n')
    monkeypatch.setenv("CRMHUB_CONFIG", str(config))
    monkeypatch.delenv("CRMHUB_ENCRYPTION_KEYS")
    get_settings.cache_clear()

    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted the secrets of 1 account(s)" in result.output
    written = tomllib.loads(config.read_text())
    assert written["base_url"] == "http://x" and len(written["encryption_keys"]) == 2
    new, kept = written["encryption_keys"]
    assert kept == old[0] and new != old[0]
    with db.session() as s:
        sealed = s.get(ConnectorAccount, account_id).secrets_sealed
    assert unseal(sealed, keys=[new]) == {"password": PASSWORD}
    assert new not in result.output and PASSWORD not in result.output


def test_keys_rotate_explains_what_to_do_when_keys_come_from_the_environment(db, account_id):
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "CRMHUB_ENCRYPTION_KEYS" in result.output and "--reencrypt-only" in result.output
    again = runner.invoke(app, ["keys", "rotate", "--reencrypt-only"])
    assert again.exit_code == 0 and "Re-encrypted the secrets of 1 account(s)" in again.output
