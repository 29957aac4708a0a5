"""The app over HTTP (in process, with its lifespan), on each backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from forever import clock
from forever.app import create_app
from forever.settings import Settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, whose lifespan runs on the test's own event loop.

    (Litestar's AsyncTestClient runs the app on another loop, which a pooled PostgreSQL connection refuses
    when the test also calls a service directly.)
    """
    app = create_app(settings)
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Entered and left in one task: the lifespan's cancel scopes require it.
        async with app.lifespan():
            started.set()
            await stopping.wait()

    lifespan = asyncio.create_task(run_lifespan())
    await started.wait()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
        yield test_client
    stopping.set()
    await lifespan


@pytest.fixture(autouse=True)
def released_clock() -> Any:
    yield
    clock.set_now(None)
