"""The server under test: the app over a copy of the server world (``tests/fakes/server_world``),
on the world's replay clock, driven by FastAPI's TestClient (the real ASGI stack in-process)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from autotrader.core.clock import SimulatedClock
from autotrader.server.app import create_app
from tests.fakes.server_world import copy_world, server_world, settings_for

TOKEN = "test-admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return copy_world(server_world(tmp_path_factory), tmp_path_factory.mktemp("world-copy"))


def make_client(world, **settings) -> TestClient:
    app = create_app(
        settings_for(world.path, world.artifacts, **settings), clock=SimulatedClock(world.now_ms)
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(world):
    with make_client(world) as test_client:
        yield test_client


@pytest.fixture
def admin(world):
    """A client of an app with the admin routes on (a token is configured)."""
    with make_client(world, server_token=TOKEN) as test_client:
        yield test_client
