"""Fixtures of the fault tests: the real server as a process on the test's database (bound in the test too,
for setting up through the services and reading what survived)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_server import FaultServer

from forever.settings import Settings


@pytest.fixture
def server(bound_database: Settings) -> Iterator[FaultServer]:
    """A server on the test's database, not started yet; stopped at the end whatever happened."""
    settings = bound_database
    running = FaultServer(settings, log_path=settings.data_dir.parent / "serve.log")
    yield running
    running.stop()
