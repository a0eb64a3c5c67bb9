"""Blob backends of the artifact store: in-memory, a folder of files, an S3-compatible bucket.

Every backend keeps opaque bytes under an artifact key (the sha256 hex of the bytes) and offers
the same three calls::

    put(key, data, content_type)   store the bytes (storing the same key again is harmless)
    get(key) -> bytes              the bytes as stored; NotFoundError when there are none
    exists(key) -> bool

Backends neither hash nor verify: ``artifacts.index.Artifacts`` computes keys and checks the
bytes it reads back. File and S3 lay objects out as ``sha256/ab/cd/abcd…`` under their root or
prefix, so no folder or listing grows past 65,536 entries per level.

Vendor errors are translated here, at the edge: a network hiccup or 5xx is a ``TemporaryError``,
a missing bucket or denied access is an ``OperationalError`` with one actionable line, a missing
object is a ``NotFoundError``. boto3 is imported only when an S3 store is built.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from autotrader.core.errors import (
    AutotraderError,
    ConfigError,
    InvalidInputError,
    NotFoundError,
    OperationalError,
    TemporaryError,
)

if TYPE_CHECKING:
    from autotrader.core.settings import Settings

_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobStore(Protocol):
    """Where artifact bytes live. ``name`` is recorded in the index (memory | file | s3)."""

    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    """Return ``key`` if it is an artifact key (64 lowercase hex chars), else InvalidInputError.

    Checked before any path or object name is built from it, so a key can never walk out of the
    store's folder or prefix.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInputError(f"not an artifact key (64 lowercase hex characters): {key!r}")
    return key


def object_path(key: str) -> str:
    """``'abcd…'`` → ``'sha256/ab/cd/abcd…'``: the sharded layout shared by file and S3."""
    check_key(key)
    return f"sha256/{key[:2]}/{key[2:4]}/{key}"


class MemoryStore:
    """Blobs in a dict: fast, per process, gone on exit (tests and throwaway runs)."""

    name = "memory"

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.blobs[check_key(key)] = bytes(data)

    def get(self, key: str) -> bytes:
        try:
            return self.blobs[check_key(key)]
        except KeyError:
            raise NotFoundError(f"artifact {key} not found in the memory store") from None

    def exists(self, key: str) -> bool:
        return check_key(key) in self.blobs


class FileStore:
    """Blobs as files under ``root/sha256/ab/cd/``; a put is atomic (temp file + os.replace).

    A reader never sees a half-written blob: the bytes go to a temp file in the target folder,
    are flushed to disk (``fsync``, unless ``fsync=False``), then renamed over the final name.
    Inside :meth:`batch` the flush is deferred to the end of the block, where every blob put in
    it is flushed in one concurrent pass. Files are created owner-only (0600), since prompts
    and responses may be private.
    """

    name = "file"

    def __init__(self, root: str | Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._batches = 0  # open batch blocks (nested or from several threads)
        self._unsynced: list[Path] = []  # blobs put inside them, flushed when the last ends

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Flush the blobs put inside the block together when it ends, instead of one by one.

        A flush per put cost ~6 ms each (an ext4 journal commit); concurrent flushes at the end
        share commits. Blobs are readable at once; until the block ends a crash of the machine
        (not of the process) may lose them, the same promise SQLite's WAL with
        ``synchronous=NORMAL`` makes for the rows that name them. A lost blob is never silently
        wrong: reads re-hash every blob. Raises OperationalError when the final flush fails.
        """
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                pending: list[Path] = []
                if not self._batches:
                    pending, self._unsynced = self._unsynced, []
            if pending:
                _flush_all(pending)

    def path_of(self, key: str) -> Path:
        return self.root / object_path(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_of(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        except OSError as exc:
            raise OperationalError(
                f"cannot write artifacts under {self.root}: {exc.strerror}"
            ) from None
        try:
            with self._lock:
                deferred = self.fsync and self._batches > 0
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync and not deferred:
                    # Without it a crash after the rename can leave an empty file on ext4.
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, target)
            if deferred:
                with self._lock:
                    self._unsynced.append(target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if isinstance(exc, OSError):
                raise OperationalError(f"cannot write artifact {target}: {exc.strerror}") from None
            raise

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"artifact {key} not found under {self.root}") from None
        except OSError as exc:
            raise OperationalError(f"cannot read artifact {path}: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()


_FLUSH_THREADS = 16


def _flush_all(paths: list[Path]) -> None:
    """fsync every file in ``paths``, concurrently: ext4 folds concurrent flushes into shared
    journal commits (200 blobs: ~0.2 s instead of ~1.3 s one after another)."""

    def flush(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    try:
        with ThreadPoolExecutor(max_workers=min(_FLUSH_THREADS, len(paths))) as pool:
            list(pool.map(flush, paths))
    except OSError as exc:
        raise OperationalError(f"cannot flush artifact {exc.filename}: {exc.strerror}") from None


class S3Store:
    """Blobs as objects in an S3 bucket, or any S3-compatible one through ``endpoint_url``.

    Cloudflare R2, MinIO and moto work through ``endpoint_url``; with an endpoint the client uses
    path-style addressing (``endpoint/bucket/key``, no bucket DNS names) and sends checksums only
    where required, because botocore's default CRC headers (since 1.36) are refused by some
    S3-compatible servers and our sha256 check on read already covers integrity.
    Credentials come from boto3's standard chain (env, profile, instance role), never from our
    settings, and never appear in our messages. A put is one ``PutObject`` (up to 5 GB).
    """

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint_url = endpoint_url
        self.where = f"s3://{bucket}/{self.prefix}" + (
            f" at {endpoint_url}" if endpoint_url else ""
        )
        if client is None:
            import boto3
            from botocore.config import Config

            relaxed = "when_required" if endpoint_url else "when_supported"
            config = Config(
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                # botocore's own retries (with back-off) absorb one-off 5xx and resets;
                # what still fails becomes a TemporaryError for the worker harness.
                # total_max_attempts counts the first try; botocore's max_attempts does not.
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint_url else None,
                request_checksum_calculation=relaxed,
                response_checksum_validation=relaxed,
            )
            # A session per store: boto3's default session is shared mutable state.
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
        self.client = client

    def object_key(self, key: str) -> str:
        return self.prefix + object_path(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self.object_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=bytes(data), ContentType=content_type
            )
        except Exception as exc:
            raise self._translate(exc, "put", key) from exc

    def get(self, key: str) -> bytes:
        name = self.object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            # Reading the body is network I/O too: a reset mid-stream must translate as well.
            return response["Body"].read()
        except Exception as exc:
            raise self._translate(exc, "get", key) from exc

    def exists(self, key: str) -> bool:
        name = self.object_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            error = self._translate(exc, "head", key)
            if isinstance(error, NotFoundError):
                # HEAD has no body, so a missing bucket is also a bare 404 here; the put that
                # follows a False reports NoSuchBucket properly.
                return False
            raise error from exc
        return True

    def _translate(self, exc: Exception, action: str, key: str) -> Exception:
        """Map a botocore error to our tree; anything not from botocore passes unchanged."""
        from botocore import exceptions as boto

        if isinstance(exc, AutotraderError):
            return exc
        if isinstance(exc, (boto.NoCredentialsError, boto.PartialCredentialsError)):
            return OperationalError(
                f"no AWS credentials for the s3 artifact store ({self.where}): set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            )
        if isinstance(exc, (boto.ConnectionError, boto.HTTPClientError, boto.IncompleteReadError)):
            return TemporaryError(
                f"S3 {action} of artifact {key} failed, {self.where} unreachable "
                f"({type(exc).__name__}); try again"
            )
        if not isinstance(exc, boto.ClientError):
            return exc
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "?"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == "NoSuchBucket":
            return OperationalError(
                f"S3 bucket {self.bucket!r} does not exist ({self.where}): create it or fix "
                "AUTOTRADER_S3_BUCKET / AUTOTRADER_S3_ENDPOINT_URL"
            )
        if code in ("NoSuchKey", "404", "NotFound") or status == 404:
            return NotFoundError(f"artifact {key} not found in {self.where}")
        if code in _DENIED or status == 403:
            return OperationalError(
                f"access to S3 bucket {self.bucket!r} denied ({code}): check the AWS "
                "credentials and the bucket's permissions"
            )
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocation"):
            return OperationalError(
                f"S3 bucket {self.bucket!r} is in another region ({code}): set AUTOTRADER_S3_REGION"
            )
        if status >= 500 or status == 429 or code in _TRANSIENT:
            return TemporaryError(f"S3 {action} of artifact {key} failed ({code}); try again")
        return OperationalError(f"S3 {action} of artifact {key} failed: {code} (HTTP {status})")


_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}
)
_TRANSIENT = frozenset(
    {"SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError"}
)


def backend_from_settings(settings: Settings) -> BlobStore:
    """The configured backend; builds no connection (an S3 store talks on first use).

    ``file`` (default) lives in ``AUTOTRADER_ARTIFACTS_DIR`` or ``<data dir>/artifacts``;
    ``memory`` is per process; ``s3`` needs ``AUTOTRADER_S3_BUCKET`` (else ConfigError).
    """
    if settings.artifacts == "memory":
        return MemoryStore()
    if settings.artifacts == "s3":
        if not settings.s3_bucket:
            raise ConfigError(["AUTOTRADER_S3_BUCKET: required when AUTOTRADER_ARTIFACTS=s3"])
        return S3Store(
            settings.s3_bucket,
            settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return FileStore(settings.artifacts_dir or settings.data_dir / "artifacts")
