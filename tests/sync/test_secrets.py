"""Secrets at rest: sealed with the configured keys, never stored in the clear, rotatable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.models import ConnectorAccount
from core.secrets import SecretsUnavailable, rotate_all, seal, unseal
from tests.sync.conftest import PASSWORD, SYSTEM, add_account, run_now

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_seal_and_unseal_with_any_configured_key():
    token = seal({"password": "p4ss"}, keys=[OLD])
    assert b"p4ss" not in token
    assert unseal(token, keys=[NEW, OLD]) == {"password": "p4ss"}
    with pytest.raises(SecretsUnavailable, match="cannot be decrypted"):
        unseal(token, keys=[NEW])
    assert unseal(None, keys=[NEW]) == {}


def test_no_key_is_a_clear_error(settings, monkeypatch):
    with pytest.raises(SecretsUnavailable, match="crmhub init"):
        seal({"password": "x"}, keys=[])
    with pytest.raises(SecretsUnavailable, match="not a valid Fernet key"):
        seal({"password": "x"}, keys=["short"])


def test_account_secrets_are_never_stored_in_the_clear(db, server, account_id):
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
        assert "password" not in account.settings
        assert PASSWORD.encode() not in account.secrets_sealed
        assert unseal(account.secrets_sealed) == {"password": PASSWORD}


def test_rotate_all_re_encrypts_with_the_new_key(db, server, settings):
    first = add_account(db, server, name="one")
    add_account(db, server, name="two")
    current = [k.get_secret_value() for k in settings.encryption_keys]
    with db.session() as s:
        assert rotate_all(s, actor=SYSTEM, keys=[NEW, *current]) == 2
    with db.session() as s:
        for account in s.scalars(select(ConnectorAccount)):
            assert unseal(account.secrets_sealed, keys=[NEW]) == {"password": PASSWORD}
    with pytest.raises(SecretsUnavailable), db.session() as s:
        unseal(s.get(ConnectorAccount, first).secrets_sealed, keys=current)


def test_an_account_whose_secret_cannot_be_opened_fails_with_words(db, server, account_id, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("CRMHUB_ENCRYPTION_KEYS", f'["{NEW}"]')
    get_settings.cache_clear()
    assert run_now(db, account_id) == "failed"
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
    assert account.status == "failing"
    assert "cannot be used as configured" in account.last_error and "cannot be decrypted" in account.last_error
