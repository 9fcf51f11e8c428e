"""One storage layer for folders and S3, and the staging area of a run built on it.

Input: a location, a folder path or ``s3://bucket/prefix``, and paths relative to it (``/``
separated). Output: bytes read, files written, sorted lists of relative paths, files deleted.
:class:`Store` is every file access of the project to Verify exports, staging, reports and Data
Docs; :class:`Staging` is one run's area ``<staging>/<run id>/`` on top of it.

The two kinds of location behave alike:

- ``list(prefix)`` matches a string prefix of the relative path on both (``timings/validate.``
  matches ``timings/validate.batch-1.json``), is sorted, and never shows an in-progress
  ``*.partial`` file; ``delete(prefix)`` removes what ``list(prefix)`` shows.
- A write is whole or absent: on a folder it goes to ``<name>.partial`` and is renamed into place
  (a retried task never reads half a file); an S3 put is atomic by itself. Every put asks for
  server-side encryption: staged data and exports hold personal records, and "the bucket
  encrypts by default" is a setting someone can change, while our request is not.
- S3 is reached through one boto3 client factory, :func:`s3_client`, with the time-outs and the
  bounded retries set here once; endpoint and credentials come from the usual ``AWS_*``
  environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...).

Every failure raises one of the project's errors, ``from`` the original, naming the action, the
bucket and key or the path, the reason (an S3 error code or an OS error name, never a file's
content) and what to do. The class is chosen by what the caller does next:

- ``SourceError`` (retry): the endpoint does not answer or times out, S3 throttles or fails, the
  bucket does not exist (yet), the disk is full, an I/O error.
- ``ConfigurationError`` (fix, then start again; retrying cannot help): an ``s3://`` location
  without a bucket, an invalid bucket name, no or refused credentials, a folder the pipeline may
  not write, a file standing where a folder is expected.
- :class:`MissingFile`, a ``ConfigurationError``: a read of a file that is not there. The caller
  asked for it, so an earlier stage did not write it or the location or run id is wrong; a caller
  for whom absence is normal asks :meth:`Store.exists` or catches :class:`MissingFile`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sis_migrate.errors import ConfigurationError, MigrationError, SourceError
from sis_migrate.locations import is_s3, split_s3

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SERVER_SIDE_ENCRYPTION = "AES256"
S3_CONNECT_TIMEOUT = 5  # seconds to open a connection: an endpoint that is not there fails fast
S3_READ_TIMEOUT = 60  # seconds without a byte from an open connection
S3_TOTAL_ATTEMPTS = 3  # the first try and two retries (botocore's standard mode, with backoff)
S3_PAGE_SIZE = 1000  # keys per list page (S3's own maximum)
PARTIAL_SUFFIX = ".partial"

_NO_SUCH_BUCKET = {"NoSuchBucket"}
_NO_SUCH_KEY = {"NoSuchKey", "404", "NotFound"}
_REFUSED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
            "InvalidBucketName", "AccountProblem"}


class MissingFile(ConfigurationError):
    """A file the caller required is not at the location (see the module docstring)."""


def s3_client():
    """The project's only boto3 S3 client factory: time-outs and bounded retries set once, here."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(
        connect_timeout=S3_CONNECT_TIMEOUT, read_timeout=S3_READ_TIMEOUT,
        retries={"total_max_attempts": S3_TOTAL_ATTEMPTS, "mode": "standard"}))


class Store:
    """The files under one location, a folder path or ``s3://bucket/prefix``."""

    def __init__(self, location: str):
        self.location = str(location)
        self._client = None
        if is_s3(self.location):
            self.bucket, self.prefix = split_s3(self.location)  # ConfigurationError without a bucket
            self.root: Path | None = None
        else:
            self.bucket, self.prefix = None, ""
            self.root = Path(self.location).expanduser().resolve()

    @property
    def is_s3(self) -> bool:
        return self.bucket is not None

    def child(self, relpath: str) -> Store:
        """The store of a sub-folder (an S3 sub-prefix)."""
        relpath = relpath.strip("/")
        if self.is_s3:
            return Store(f"s3://{self.bucket}/{self._key(relpath)}")
        return Store(str(self.root / relpath))

    def uri(self, relpath: str = "") -> str:
        """The location of ``relpath`` as a user would type it (``s3://...`` or a path)."""
        if self.is_s3:
            return f"s3://{self.bucket}/{self._key(relpath)}".rstrip("/")
        return str(self.root / relpath) if relpath else str(self.root)

    def _key(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def _s3(self):
        if self._client is None:
            self._client = s3_client()
        return self._client

    # --- read ------------------------------------------------------------------------------------
    def read_bytes(self, relpath: str, first_bytes: int | None = None) -> bytes:
        """The file's bytes, or only its first ``first_bytes`` (a ranged GET on S3)."""
        if self.is_s3:
            extra = {"Range": f"bytes=0-{first_bytes - 1}"} if first_bytes else {}
            try:
                response = self._s3().get_object(Bucket=self.bucket, Key=self._key(relpath), **extra)
                return response["Body"].read()
            except _s3_failures() as err:
                if extra and _s3_code(err) == "InvalidRange":  # an empty object has no first bytes
                    return b""
                raise self._s3_error(err, "read", relpath) from err
        path = self.root / relpath
        try:
            with open(path, "rb") as handle:
                return handle.read(first_bytes) if first_bytes else handle.read()
        except OSError as err:
            raise folder_error(err, "read", path) from err

    def exists(self, relpath: str = "") -> bool:
        """Whether a file is at ``relpath``; without a path, whether the folder (the bucket) exists.

        On S3 a file is looked for by listing its key, not with HEAD: a HEAD answers a missing
        bucket and a missing key with the same bare 404, and a missing bucket must not read as
        "no such file".
        """
        if self.is_s3:
            try:
                if not relpath:
                    self._s3().head_bucket(Bucket=self.bucket)
                    return True
                key = self._key(relpath)
                found = self._s3().list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("Contents", [])
                return bool(found) and found[0]["Key"] == key
            except _s3_failures() as err:
                if not relpath and _s3_code(err) in _NO_SUCH_KEY | _NO_SUCH_BUCKET:
                    return False
                raise self._s3_error(err, "look for", relpath) from err
        path = self.root / relpath
        try:
            return path.is_file() if relpath else path.is_dir()
        except OSError as err:
            raise folder_error(err, "look for", path) from err

    def list(self, relprefix: str = "", recursive: bool = True) -> list[str]:
        """Relative paths of the files whose path starts with ``relprefix``, sorted.

        ``recursive=False`` keeps the files directly in ``relprefix``'s folder, not those below.
        A location that does not exist (yet) holds nothing; a missing bucket is an error.
        """
        found = self._s3_keys(relprefix, recursive) if self.is_s3 else self._folder_files(relprefix, recursive)
        return sorted(path for path in found if not path.endswith(PARTIAL_SUFFIX))

    def subfolders(self) -> list[str]:
        """Names of the folders directly under the location that hold a file (S3: the common prefixes), sorted."""
        if self.is_s3:
            start = self._key("")
            try:
                pages = self._s3().get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=start, Delimiter="/", PaginationConfig={"PageSize": S3_PAGE_SIZE})
                return sorted(common["Prefix"][len(start):].strip("/")
                              for page in pages for common in page.get("CommonPrefixes", []))
            except _s3_failures() as err:
                raise self._s3_error(err, "list", "") from err
        try:
            if not self.root.is_dir():
                return []
            return sorted(path.name for path in self.root.iterdir()
                          if path.is_dir() and any(found.is_file() for found in path.rglob("*")))
        except OSError as err:
            raise folder_error(err, "list", self.root) from err

    def _s3_keys(self, relprefix: str, recursive: bool, action: str = "list") -> list[str]:
        start = self._key(relprefix)  # with a prefix always ends in '/' or more: 'staging2/' never matches
        strip = len(self.prefix) + 1 if self.prefix else 0
        extra = {} if recursive else {"Delimiter": "/"}
        try:
            pages = self._s3().get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start, PaginationConfig={"PageSize": S3_PAGE_SIZE}, **extra)
            return [item["Key"][strip:] for page in pages for item in page.get("Contents", [])]
        except _s3_failures() as err:
            raise self._s3_error(err, action, relprefix) from err

    def _folder_files(self, relprefix: str, recursive: bool) -> list[str]:
        """Every file under the prefix's folder that starts with the prefix, ``.partial`` ones included."""
        folder = self.root / relprefix.rpartition("/")[0]
        try:
            if not folder.is_dir():
                return []
            found = folder.rglob("*") if recursive else folder.iterdir()
            paths = [path.relative_to(self.root).as_posix() for path in found if path.is_file()]
        except OSError as err:
            raise folder_error(err, "list", folder) from err
        return [path for path in paths if path.startswith(relprefix)]

    # --- write -----------------------------------------------------------------------------------
    def write_bytes(self, relpath: str, data: bytes) -> None:
        if self.is_s3:
            self._put(relpath, data)
        else:
            self._write_aside(relpath, lambda handle: handle.write(data))

    def write_file(self, relpath: str, local: Path) -> None:
        """Copy a local file to ``relpath`` without holding it in memory (streamed to S3)."""
        if self.is_s3:
            try:
                body = open(local, "rb")  # closed below, once the put has read it
            except OSError as err:
                raise folder_error(err, "read", Path(local)) from err
            with body:
                self._put(relpath, body)
        else:
            self._write_aside(relpath, lambda handle: _copy_from(local, handle))

    def _put(self, relpath: str, body) -> None:
        try:
            self._s3().put_object(Bucket=self.bucket, Key=self._key(relpath), Body=body,
                                  ServerSideEncryption=SERVER_SIDE_ENCRYPTION)
        except _s3_failures() as err:
            raise self._s3_error(err, "write", relpath) from err

    def _write_aside(self, relpath: str, write) -> None:
        path = self.root / relpath
        aside = path.with_name(path.name + PARTIAL_SUFFIX)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(aside, "wb") as handle:
                write(handle)
            os.replace(aside, path)
        except OSError as err:
            with contextlib.suppress(OSError):
                aside.unlink(missing_ok=True)
            raise folder_error(err, "write", path) from err

    # --- compare and swap ------------------------------------------------------------------------
    def compare_and_put(self, relpath: str, data: bytes, expected: bytes | None) -> bool:
        """Write ``data`` only if the file still holds ``expected`` (``None``: is absent); False if not.

        What a lock file needs: of two writers that read the same content, one wins. On S3 the put
        is conditional (``If-None-Match: *`` or ``If-Match`` on the ETag read); on a folder the
        read, compare and write happen under an exclusive ``flock`` of ``<file>.guard``.
        """
        if self.is_s3:
            key = self._key(relpath)
            try:
                try:
                    found = self._s3().get_object(Bucket=self.bucket, Key=key)
                    current, condition = found["Body"].read(), {"IfMatch": found["ETag"]}
                except _s3_failures() as err:
                    if _s3_code(err) not in _NO_SUCH_KEY:
                        raise
                    current, condition = None, {"IfNoneMatch": "*"}
                if current != expected:
                    return False
                self._s3().put_object(Bucket=self.bucket, Key=key, Body=data,
                                      ServerSideEncryption=SERVER_SIDE_ENCRYPTION, **condition)
                return True
            except _s3_failures() as err:
                if _s3_code(err) in {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}:
                    return False
                raise self._s3_error(err, "write", relpath) from err
        import fcntl

        path = self.root / relpath
        guard = path.with_name(path.name + ".guard")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(guard, "a") as held:
                fcntl.flock(held, fcntl.LOCK_EX)
                current = path.read_bytes() if path.is_file() else None
                if current != expected:
                    return False
                self._write_aside(relpath, lambda handle: handle.write(data))
                return True
        except OSError as err:
            raise folder_error(err, "write", path) from err

    def read_optional(self, relpath: str) -> bytes | None:
        """The file's bytes, or None if it is not there."""
        try:
            return self.read_bytes(relpath)
        except MissingFile:
            return None

    # --- delete ----------------------------------------------------------------------------------
    def delete(self, relprefix: str = "") -> None:
        """Remove every file whose relative path starts with ``relprefix`` (all of them by default).

        On a folder, leftover ``.partial`` files go too, and the folders inside the prefix that are
        left empty are removed (``unified/`` goes with its files; ``timings/validate.`` never takes
        ``timings/``). A folder above the prefix is never removed: a parallel task may be writing
        into it.
        """
        if self.is_s3:
            keys = [self._key(path) for path in self._s3_keys(relprefix, recursive=True, action="delete")]
            self._delete_keys(keys, relprefix)
            return
        paths = self._folder_files(relprefix, recursive=True)
        folders = set()
        for relpath in paths:
            path = self.root / relpath
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                raise folder_error(err, "delete", path) from err
            folders.update(self.root / parent for parent in Path(relpath).parents
                           if parent != Path(".") and f"{parent.as_posix()}/".startswith(relprefix))
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # not empty (a file another prefix kept) or already gone
                folder.rmdir()

    def delete_files(self, relpaths: list[str]) -> None:
        """Remove exactly these files (a missing one is no error)."""
        if self.is_s3:
            self._delete_keys([self._key(path) for path in relpaths], relpaths[0] if relpaths else "")
            return
        for relpath in relpaths:
            path = self.root / relpath
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                raise folder_error(err, "delete", path) from err

    def _delete_keys(self, keys: list[str], relprefix: str) -> None:
        for start in range(0, len(keys), 1000):  # S3 deletes at most 1,000 keys per request
            try:
                response = self._s3().delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": key} for key in keys[start:start + 1000]], "Quiet": True})
            except _s3_failures() as err:
                raise self._s3_error(err, "delete", relprefix) from err
            for failed in response.get("Errors", []):  # a batch answers 200 and lists the keys it kept
                raise SourceError(f"could not delete s3://{self.bucket}/{failed['Key']}: "
                                  f"{failed.get('Code', 'error')}; retry when S3 answers")

    # --- errors ----------------------------------------------------------------------------------
    def _s3_error(self, err: Exception, action: str, relpath: str) -> MigrationError:
        """The project's error for a failed S3 call: one line, bucket and key, reason, what to do."""
        from botocore.exceptions import (
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
            PartialCredentialsError,
            ReadTimeoutError,
        )

        where = f"could not {action} {self.uri(relpath)}"
        code = _s3_code(err)
        if code in _NO_SUCH_BUCKET:
            return SourceError(f"{where}: the bucket {self.bucket} does not exist (NoSuchBucket); "
                               "create it or correct the location, then retry")
        if code in _NO_SUCH_KEY:
            return MissingFile(f"{where}: no such file ({code}); run the stage that writes it, "
                               "or correct the location or run id")
        if code in _REFUSED:
            return ConfigurationError(f"{where}: S3 refused the request ({code}) on bucket {self.bucket}; "
                                      "correct the credentials (AWS_*), the bucket policy or the location")
        if code:
            return SourceError(f"{where}: S3 answered {code}; retry when S3 answers")
        if isinstance(err, NoCredentialsError | PartialCredentialsError | NoRegionError):
            return ConfigurationError(f"{where}: no AWS credentials or region ({type(err).__name__}); set "
                                      "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION (or a profile)")
        endpoint = getattr(self._client, "meta", None)
        endpoint = endpoint.endpoint_url if endpoint is not None else "S3"
        if isinstance(err, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
            return SourceError(f"{where}: the endpoint {endpoint} did not answer ({type(err).__name__}, "
                               f"{S3_TOTAL_ATTEMPTS} attempts, {S3_CONNECT_TIMEOUT}s to connect, "
                               f"{S3_READ_TIMEOUT}s to read); retry when it is reachable")
        return SourceError(f"{where}: {type(err).__name__} from {endpoint}; retry when S3 answers")


def _s3_failures() -> tuple[type[Exception], ...]:
    """What botocore raises for a failed call (evaluated only when something was raised)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def _s3_code(err: Exception) -> str | None:
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "") or None


def folder_error(err: OSError, action: str, path: Path) -> MigrationError:
    """The project's error for a failed folder operation: path, OS reason, what to do."""
    reason = f"{err.strerror or type(err).__name__} ({errno.errorcode.get(err.errno, type(err).__name__)})"
    where = f"could not {action} {path}: {reason}"
    if isinstance(err, FileNotFoundError) and action == "read":
        return MissingFile(f"{where}; run the stage that writes it, or correct the location or run id")
    if isinstance(err, PermissionError) or err.errno == errno.EROFS:
        return ConfigurationError(f"{where}; give the pipeline's user access to the folder or choose another location")
    if isinstance(err, NotADirectoryError | IsADirectoryError | FileExistsError):
        return ConfigurationError(f"{where}; a file stands where a folder is expected (or the reverse): "
                                  "correct the location")
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return SourceError(f"{where}; free space on the disk, then retry")
    return SourceError(f"{where}; retry when the folder is reachable")


def _copy_from(local: Path, handle) -> None:
    with open(local, "rb") as source:
        shutil.copyfileobj(source, handle, 1024 * 1024)


# --- the staging area of a run -------------------------------------------------------------------

@dataclass(frozen=True)
class StagedFile:
    path: str  # relative to the run's root
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ATTEMPTS_FOLDER = "attempts"


def _plain_name(value: str, what: str) -> str:
    if not value or "/" in value or value.startswith("."):
        raise ConfigurationError(f"a {what} must be a plain name, got {value!r}")
    return value


class Staging:
    """One run's staging root, ``location`` a folder or ``s3://bucket/prefix``.

    Without an attempt the root is ``<location>/<run id>/``; with one it is
    ``<location>/<run id>/attempts/<attempt>/``, where one DAG run writes everything it stages and
    reports, beside the attempt the label last published (see :mod:`sis_migrate.publication`).
    A thin layer on :class:`Store`: the run id checked, SHA-256 of what is written, JSON and
    Parquet helpers.
    """

    def __init__(self, location: str, run_id: str, attempt: str = ""):
        self.location = str(location)
        self.run_id = _plain_name(run_id, "run id")
        self.attempt = attempt and _plain_name(attempt, "run attempt")
        self.run_store = Store(self.location).child(run_id)  # the label's area: lock, publication, attempts
        self.store = self.run_store.child(f"{ATTEMPTS_FOLDER}/{attempt}") if attempt else self.run_store
        self.root, self.bucket, self.prefix = self.store.root, self.store.bucket, self.store.prefix

    @property
    def uri(self) -> str:
        return self.store.uri()

    # --- bytes ------------------------------------------------------------------------------
    def write_bytes(self, relpath: str, data: bytes) -> StagedFile:
        self.store.write_bytes(relpath, data)
        return StagedFile(relpath, len(data), hashlib.sha256(data).hexdigest())

    def read_bytes(self, relpath: str) -> bytes:
        return self.store.read_bytes(relpath)

    def list(self, relprefix: str = "") -> list[str]:
        """Relative paths of the files whose path starts with ``relprefix``, sorted."""
        return self.store.list(relprefix)

    def clear(self, relprefix: str = "") -> None:
        """Remove what this run staged under ``relprefix`` (all of it by default): a rerun replaces."""
        self.store.delete(relprefix)

    # --- typed helpers ------------------------------------------------------------------------
    def write_json(self, relpath: str, payload: Any) -> StagedFile:
        text = json.dumps(payload, indent=2, sort_keys=True, default=str)
        return self.write_bytes(relpath, text.encode("utf-8"))

    def read_json(self, relpath: str) -> Any:
        return json.loads(self.read_bytes(relpath))

    def write_arrow(self, relpath: str, table: pa.Table) -> StagedFile:
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return self.write_bytes(relpath, sink.getvalue())

    def write_frame(self, relpath: str, frame: pd.DataFrame) -> StagedFile:
        import pyarrow as pa

        return self.write_arrow(relpath, pa.Table.from_pandas(frame, preserve_index=False))

    def read_arrow(self, relpath: str, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.read_bytes(relpath)), columns=columns)

    def read_frame(self, relpath: str, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read_arrow(relpath, columns).to_pandas()

    def read_parts(self, relprefix: str, columns: list[str] | None = None):
        """Yield the Parquet parts under ``relprefix`` one at a time (memory stays flat)."""
        for path in self.list(relprefix):
            if path.endswith(".parquet"):
                yield self.read_frame(path, columns)
