"""The contract every connector keeps (DESIGN.md, "Shapes to follow"), run against each connector's peer."""

from __future__ import annotations

import pytest

from core.integration import CursorInvalidError
from sync.registry import registry
from tests.contract.harness import pull_all


def test_connector_is_registered_with_secrets_sealed(harness):
    info = registry()[harness.kind]
    assert info.secret_fields, "a connector with credentials declares them as SecretStr"
    connector = harness.connector()
    assert harness.secret not in repr(connector.config) and harness.secret not in str(connector.config)


def test_check_passes_against_the_peer(harness):
    connector = harness.connector()
    try:
        result = connector.check()
    finally:
        connector.close()
    assert result.ok, f"{result.step}: {result.message}"


def test_pull_without_cursor_returns_all(harness):
    connector = harness.connector()
    try:
        changes, cursor = pull_all(connector, harness.stream)
    finally:
        connector.close()
    keys = [harness.key(c) for c in changes]
    assert sorted(set(keys)) == sorted(harness.expected_keys())
    assert cursor is not None


def test_pull_with_the_returned_cursor_returns_nothing_new(harness):
    connector = harness.connector()
    try:
        _, cursor = pull_all(connector, harness.stream)
        again, _ = pull_all(connector, harness.stream, cursor)
    finally:
        connector.close()
    assert again == []


def test_a_change_on_the_server_comes_back_alone(harness):
    connector = harness.connector()
    try:
        _, cursor = pull_all(connector, harness.stream)
        key = harness.server_change()
        changes, _ = pull_all(connector, harness.stream, cursor)
    finally:
        connector.close()
    assert {harness.key(c) for c in changes} == {key}


def test_a_stale_cursor_raises_cursor_invalid(harness):
    connector = harness.connector()
    try:
        _, cursor = pull_all(connector, harness.stream)
        stale = harness.stale_cursor(cursor)
        with pytest.raises(CursorInvalidError) as caught:
            pull_all(connector, harness.stream, stale)
    finally:
        connector.close()
    assert caught.value.message and harness.secret not in caught.value.message


def test_a_repeated_push_has_no_second_effect(harness):
    operation = harness.push_operation()
    if operation is None:
        pytest.skip(f"{harness.kind} does not push")
    connector = harness.connector()
    try:
        first = connector.push(operation)
        after_first = harness.remote_state()
        second = connector.push(operation)
        after_second = harness.remote_state()
    finally:
        connector.close()
    assert first.conflict is None and first.remote_id
    assert second.remote_id == first.remote_id
    assert after_second == after_first
