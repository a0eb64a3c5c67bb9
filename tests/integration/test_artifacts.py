"""Artifacts: content-addressed blobs in memory, files and S3 (moto's server + real boto3)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.artifacts import (
    Artifacts,
    FileStore,
    MemoryStore,
    S3Store,
    artifact_store_from_settings,
    canonical_json,
)
from autotrader.core.errors import (
    ConfigError,
    InvalidInputError,
    NotFoundError,
    OperationalError,
    TemporaryError,
)
from autotrader.core.settings import load_settings
from tests.fakes.s3_server import FakeS3, closed_port_url, failing_s3, running_s3

MISSING = "0" * 64
BACKENDS = ("memory", "file", "s3")


@pytest.fixture(scope="module")
def s3() -> Iterator[FakeS3]:
    with running_s3(bucket="artifacts") as fake:
        yield fake


def _s3_store(s3: FakeS3, **kwargs) -> S3Store:
    # A fresh prefix per test: content addressing would otherwise let tests see each other.
    return S3Store(
        "artifacts", f"t-{uuid.uuid4().hex[:8]}/", endpoint_url=s3.endpoint_url, **kwargs
    )


@pytest.fixture(params=BACKENDS)
def artifacts(request, store, clock, tmp_path: Path) -> Artifacts:
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "file":
        backend = FileStore(tmp_path / "artifacts")
    else:
        backend = _s3_store(request.getfixturevalue("s3"))
    return Artifacts(store, backend, clock)


def _index_rows(store) -> list[dict]:
    return store.query("SELECT * FROM artifacts ORDER BY key")


# -- every backend -------------------------------------------------------------------------


def test_round_trips_bytes_text_and_json(artifacts: Artifacts):
    raw = bytes(range(256))
    key = artifacts.put_bytes(raw, kind="request")
    assert key == hashlib.sha256(raw).hexdigest()
    assert artifacts.get_bytes(key) == raw

    text_key = artifacts.put_text("prompt — with ünïcode", kind="prompt")
    assert artifacts.get_text(text_key) == "prompt — with ünïcode"

    packet = {"symbol": "BTC", "price": Decimal("64250.50"), "candles": [1, 2.5, None]}
    json_key = artifacts.put_json(packet, kind="context")
    assert artifacts.get_json(json_key) == {
        "candles": [1, 2.5, None],
        "price": "64250.50",
        "symbol": "BTC",
    }


def test_storing_the_same_payload_twice_gives_one_key_and_one_index_row(artifacts, store, clock):
    first = artifacts.put_json({"a": 1, "b": [1, 2]}, kind="response")
    clock.advance(seconds=5)
    second = artifacts.put_json({"b": [1, 2], "a": 1}, kind="response")
    assert first == second
    rows = _index_rows(store)
    assert len(rows) == 1
    assert rows[0]["created_at"] == 1_700_000_000_000  # the first put's time is kept


def test_index_records_kind_size_content_type_and_backend(artifacts: Artifacts, clock):
    key = artifacts.put_text("hello", kind="prompt")
    info = artifacts.info(key)
    assert (info.kind, info.size, info.backend) == ("prompt", 5, artifacts.backend.name)
    assert info.content_type.startswith("text/plain")
    assert info.created_at == clock.now_ms()


def test_missing_key_is_not_found(artifacts: Artifacts):
    with pytest.raises(NotFoundError):
        artifacts.get_bytes(MISSING)
    with pytest.raises(NotFoundError):
        artifacts.info(MISSING)


def test_rejects_malformed_keys_and_unknown_kinds_before_storing(artifacts, store):
    for bad in ("../../etc/passwd", "abc", "AB" * 32, "g" * 64):
        with pytest.raises(InvalidInputError):
            artifacts.get_bytes(bad)
    with pytest.raises(InvalidInputError, match="unknown artifact kind"):
        artifacts.put_text("x", kind="secrets")
    assert not artifacts.backend.exists(hashlib.sha256(b"x").hexdigest())
    assert _index_rows(store) == []


# -- integrity: a blob that no longer matches its key ----------------------------------------


def test_memory_blob_tampered_with_is_reported_corrupted(store, clock):
    backend = MemoryStore()
    artifacts = Artifacts(store, backend, clock)
    key = artifacts.put_text("original", kind="prompt")
    backend.blobs[key] = b"tampered"
    with pytest.raises(OperationalError, match="corrupted"):
        artifacts.get_text(key)


def test_file_blob_modified_on_disk_is_reported_corrupted(store, clock, tmp_path: Path):
    backend = FileStore(tmp_path / "artifacts")
    artifacts = Artifacts(store, backend, clock)
    key = artifacts.put_text("original", kind="prompt")
    path = backend.path_of(key)
    assert path.relative_to(tmp_path / "artifacts").parts == ("sha256", key[:2], key[2:4], key)
    path.write_bytes(b"original!")
    with pytest.raises(OperationalError, match=f"artifact {key} corrupted"):
        artifacts.get_bytes(key)


def test_s3_object_overwritten_is_reported_corrupted(s3: FakeS3, store, clock):
    backend = _s3_store(s3)
    artifacts = Artifacts(store, backend, clock)
    key = artifacts.put_text("original", kind="prompt")
    s3.client.put_object(Bucket="artifacts", Key=backend.object_key(key), Body=b"evil")
    with pytest.raises(OperationalError, match="corrupted"):
        artifacts.get_bytes(key)


def test_file_store_leaves_no_temp_files_behind(store, clock, tmp_path: Path):
    artifacts = Artifacts(store, FileStore(tmp_path / "a"), clock)
    for i in range(5):
        artifacts.put_text(f"payload {i}", kind="other")
    names = [p.name for p in (tmp_path / "a").rglob("*") if p.is_file()]
    assert len(names) == 5
    assert not [name for name in names if name.startswith(".tmp-")]


# -- S3 against moto's server -----------------------------------------------------------------


def _counting_fsyncs(monkeypatch) -> list[int]:
    """Every ``os.fsync`` from now on, recorded (the real flush still happens)."""
    import os

    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_file_store_flushes_each_put_outside_a_batch(store, clock, tmp_path, monkeypatch):
    artifacts = Artifacts(store, FileStore(tmp_path / "blobs"), clock)
    fsyncs = _counting_fsyncs(monkeypatch)

    artifacts.put_text("one", kind="other")
    artifacts.put_text("two", kind="other")

    assert len(fsyncs) == 2


def test_a_batch_flushes_its_blobs_once_at_the_end_and_they_read_back_before(
    store, clock, tmp_path, monkeypatch
):
    artifacts = Artifacts(store, FileStore(tmp_path / "blobs"), clock)
    fsyncs = _counting_fsyncs(monkeypatch)

    with artifacts.batch():
        keys = [artifacts.put_text(f"payload {n}", kind="other") for n in range(5)]
        with artifacts.batch():  # a nested block defers to the outer one
            keys.append(artifacts.put_text("nested", kind="other"))
        assert fsyncs == []
        assert [artifacts.get_text(k) for k in keys[:2]] == ["payload 0", "payload 1"]

    assert len(fsyncs) == 6
    assert artifacts.get_text(keys[-1]) == "nested"


def test_a_batch_on_a_backend_without_one_stores_as_usual(store, clock):
    artifacts = Artifacts(store, MemoryStore(), clock)

    with artifacts.batch():
        key = artifacts.put_text("kept", kind="other")

    assert artifacts.get_text(key) == "kept"


def test_s3_stores_objects_under_the_prefix_with_the_content_type(s3: FakeS3, store, clock):
    backend = _s3_store(s3)
    key = Artifacts(store, backend, clock).put_json({"k": "v"}, kind="context")
    head = s3.client.head_object(Bucket="artifacts", Key=backend.object_key(key))
    assert head["ContentType"] == "application/json"
    assert backend.object_key(key) == f"{backend.prefix}sha256/{key[:2]}/{key[2:4]}/{key}"


def test_s3_wrong_bucket_is_one_actionable_line(s3: FakeS3, store, clock):
    backend = S3Store("no-such-bucket", "x/", endpoint_url=s3.endpoint_url)
    artifacts = Artifacts(store, backend, clock)
    with pytest.raises(OperationalError) as put_error:
        artifacts.put_text("hello", kind="prompt")
    message = str(put_error.value)
    assert "no-such-bucket" in message
    assert "does not exist" in message
    assert "\n" not in message
    with pytest.raises(OperationalError, match="does not exist"):
        artifacts.get_bytes(MISSING)
    assert _index_rows(store) == []


def test_s3_server_down_is_temporary_and_indexes_nothing(store, clock, s3: FakeS3):
    with closed_port_url() as url:
        backend = S3Store("artifacts", "", endpoint_url=url, max_attempts=1)
        artifacts = Artifacts(store, backend, clock)
        with pytest.raises(TemporaryError, match="unreachable"):
            artifacts.put_text("hello", kind="prompt")
        with pytest.raises(TemporaryError):
            artifacts.get_bytes(MISSING)
    assert _index_rows(store) == []


@pytest.mark.slow  # botocore backs off before its retry
def test_s3_5xx_is_temporary_after_botocore_retries(s3: FakeS3):  # s3: fake credentials
    with failing_s3(503, "SlowDown") as (url, requests):
        backend = S3Store("artifacts", "", endpoint_url=url, max_attempts=2)
        with pytest.raises(TemporaryError, match="SlowDown"):
            backend.get(MISSING)
    assert len(requests) == 2  # one try, one retry, then it is the worker's turn


def test_s3_access_denied_is_one_actionable_line(store, clock, s3: FakeS3):
    with failing_s3(403, "AccessDenied") as (url, _):
        artifacts = Artifacts(store, S3Store("artifacts", "", endpoint_url=url), clock)
        with pytest.raises(OperationalError) as denied:
            artifacts.get_bytes(MISSING)
    message = str(denied.value)
    assert "denied" in message
    assert "credentials" in message
    assert "\n" not in message


def test_s3_without_credentials_says_how_to_provide_them(s3: FakeS3, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    backend = S3Store("artifacts", "", endpoint_url=s3.endpoint_url)
    with pytest.raises(OperationalError, match="no AWS credentials"):
        backend.get(MISSING)


def test_s3_round_trips_a_large_payload(s3: FakeS3, store, clock):
    payload = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32)  # 5 MiB
    artifacts = Artifacts(store, _s3_store(s3), clock)
    key = artifacts.put_bytes(payload, kind="context")
    assert artifacts.get_bytes(key) == payload
    assert artifacts.info(key).size == len(payload)


# -- canonical JSON and the factory ---------------------------------------------------------


def test_canonical_json_is_stable_and_refuses_what_json_cannot_carry():
    assert canonical_json({"b": 1, "a": {"d": Decimal("0.10"), "c": "é"}}) == (
        '{"a":{"c":"é","d":"0.10"},"b":1}'.encode()
    )
    for bad in (float("nan"), object()):
        with pytest.raises(InvalidInputError):
            canonical_json({"x": bad})


def test_factory_builds_the_configured_backend(store, clock, tmp_path: Path, s3: FakeS3):
    default = artifact_store_from_settings(load_settings(), store, clock)
    assert isinstance(default.backend, FileStore)
    assert default.backend.root == load_settings().data_dir / "artifacts"

    chosen = load_settings(artifacts_dir=str(tmp_path / "blobs"))
    assert artifact_store_from_settings(chosen, store, clock).backend.root == tmp_path / "blobs"

    memory = load_settings(artifacts="memory")
    assert isinstance(artifact_store_from_settings(memory, store, clock).backend, MemoryStore)

    with pytest.raises(ConfigError, match="AUTOTRADER_S3_BUCKET"):
        artifact_store_from_settings(load_settings(artifacts="s3"), store, clock)

    configured = load_settings(
        artifacts="s3", s3_bucket="artifacts", s3_prefix="run/", s3_endpoint_url=s3.endpoint_url
    )
    artifacts = artifact_store_from_settings(configured, store, clock)
    key = artifacts.put_text("through settings", kind="other")
    object_key = f"run/sha256/{key[:2]}/{key[2:4]}/{key}"
    assert s3.client.head_object(Bucket="artifacts", Key=object_key)["ContentLength"] == 16
    assert artifacts.info(key).backend == "s3"
