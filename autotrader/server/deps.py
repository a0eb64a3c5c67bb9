"""What a handler may ask for: a read snapshot of the store, the clock, the settings, the
artifact backend, and the
shared parameter types (ids bounded to SQLite's integer range, so a huge number is a 400, not
an overflow deep in the driver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request

from autotrader.artifacts.stores import BlobStore
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.server.paging import MAX_KEY


def _reader(request: Request) -> Iterator[Store]:
    with request.app.state.stores.snapshot() as store:
        yield store


def _clock(request: Request) -> Clock:
    return request.app.state.clock


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _blobs(request: Request) -> BlobStore:
    return request.app.state.blobs


ReadStore = Annotated[Store, Depends(_reader)]
AppClock = Annotated[Clock, Depends(_clock)]
AppSettings = Annotated[Settings, Depends(_settings)]
Blobs = Annotated[BlobStore, Depends(_blobs)]  # where prompts and responses are stored

AccountId = Annotated[int, Path(ge=1, le=MAX_KEY, description="A prop account id.")]
CloneId = Annotated[int, Path(ge=1, le=MAX_KEY, description="A clone id.")]
RunId = Annotated[int, Path(ge=1, le=MAX_KEY, description="A decision run id.")]
