"""A real S3 API on loopback (moto's server in a thread) for tests that run real boto3.

Tests point boto3 at ``fake.endpoint_url``; nothing is patched inside boto3, so request signing,
path-style addressing, retries and error parsing all run as they would against R2 or MinIO.

Usage (start once per module, it takes about a second)::

    @pytest.fixture(scope="module")
    def s3():
        with running_s3(bucket="artifacts") as fake:
            yield fake

``running_s3`` also sets fake AWS credentials in the environment (and points boto3's config
files at nothing, so a developer's ~/.aws is never read) for as long as the server runs, and
restores the environment afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

FAKE_REGION = "us-east-1"
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": FAKE_REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
)


class FakeS3:
    """A running moto server: ``endpoint_url``, a ready ``bucket``, and a raw ``client``."""

    def __init__(self, server: ThreadedMotoServer, bucket: str) -> None:
        host, port = server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.bucket = bucket
        self.client = client_for(self.endpoint_url)

    def create_bucket(self, name: str) -> None:
        self.client.create_bucket(Bucket=name)


def client_for(endpoint_url: str, **config: Any) -> Any:
    """A plain boto3 S3 client for ``endpoint_url`` (path-style), for arranging and inspecting."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=FAKE_REGION,
        config=Config(s3={"addressing_style": "path"}, **config),
    )


@contextlib.contextmanager
def closed_port_url() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` where nothing listens, for as long as the context lasts.

    The port stays bound but not listening, so connecting is refused and no other server (of
    this test run or of a parallel worker) can take the port meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def running_s3(bucket: str = "autotrader-test") -> Iterator[FakeS3]:
    """Run moto's S3 on 127.0.0.1 (a free port) with ``bucket`` created; stop it afterwards."""
    with pytest.MonkeyPatch.context() as env:
        for name in _CLEARED_ENV:
            env.delenv(name, raising=False)
        for name, value in _FAKE_ENV.items():
            env.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            fake = FakeS3(server, bucket)
            fake.create_bucket(bucket)
            yield fake
        finally:
            server.stop()


class _ErrorHandler(BaseHTTPRequestHandler):
    server: _ErrorServer

    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain a PUT body so the client sees our answer, not a reset
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{self.server.code}</Code><Message>injected</Message></Error>"
        ).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


class _ErrorServer(ThreadingHTTPServer):
    daemon_threads = True
    status: int
    code: str
    requests: list[str]


@contextlib.contextmanager
def failing_s3(status: int, code: str) -> Iterator[tuple[str, list[str]]]:
    """A loopback "S3" that answers every request with ``status`` and an S3 error ``code``.

    Yields ``(endpoint_url, requests)``; ``requests`` lists ``"METHOD /path"`` in arrival order,
    so a test can count botocore's retries. For what moto cannot be made to do (503, 403).
    """
    server = _ErrorServer(("127.0.0.1", 0), _ErrorHandler)
    server.status, server.code, server.requests = status, code, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
