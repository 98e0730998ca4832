"""The harnesses the contract suite runs against: one per connector, each added by its connector's issue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import ConnectorHarness, HarnessFactory
from tests.contract.harness_imap import imap_harness
from tests.contract.harness_loopback import loopback_harness

HARNESSES: dict[str, HarnessFactory] = {
    "imap": imap_harness,
    "loopback": loopback_harness,
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path) -> Iterator[ConnectorHarness]:
    """Each connector's harness in turn, its peer running for the test."""
    with HARNESSES[request.param](tmp_path) as h:
        yield h
