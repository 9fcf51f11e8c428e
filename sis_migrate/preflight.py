"""Preflight: every location of a run reached and of the right kind, before any row is read.

Input: the run configuration. Output: nothing, or one error naming the location and what to do:

- the target must be PostgreSQL (reached, the login accepted) or SQLite (its folder writable);
  any other kind is a :class:`~sis_migrate.errors.ConfigurationError`;
- staging must exist and take a write (a folder: created if missing, with at least
  :func:`staging_min_free_bytes` free; S3: the bucket exists and a probe object can be written
  and deleted);
- the hash key must be set, unless the run is the embedded demo (see :mod:`sis_migrate.run_config`);
- each relational source must be SQLite, PostgreSQL or MySQL/MariaDB; the closed-world check that
  follows reads every source's catalogue and so reaches each of them; the Verify exports must be a
  folder or bucket that exists.

Each check is bounded by :data:`CONNECT_TIMEOUT` seconds (S3 by the storage layer's own time-outs),
so a wrong host or port fails the run in seconds. What a retry cannot fix (a wrong kind, a refused
login, a missing bucket or database) is a configuration error; a server that does not answer is a
source error, which the check task does not retry either: the operator starts the run again.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.legacy import RELATIONAL_SYSTEMS
from sis_migrate.locations import redact_url

CONNECT_TIMEOUT = 5  # seconds to reach a database server
TARGET_KINDS = ("postgresql", "sqlite")
SOURCE_KINDS = ("postgresql", "sqlite", "mysql", "mariadb")
MIN_FREE_ENV = "SIS_MIGRATE_STAGING_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 512
PROBE_PREFIX = ".preflight-"


def staging_min_free_bytes() -> int:
    """Free space a staging folder must have at the start (``SIS_MIGRATE_STAGING_MIN_FREE_MB``, default 512)."""
    raw = os.environ.get(MIN_FREE_ENV, str(DEFAULT_MIN_FREE_MB))
    try:
        return int(raw) * 1024 * 1024
    except ValueError as err:
        raise ConfigurationError(f"{MIN_FREE_ENV} must be a whole number of megabytes, got {raw!r}") from err


def preflight(cfg) -> None:
    """Every location of ``cfg`` checked, the target first (a wrong target is found in seconds)."""
    cfg.hash_key  # noqa: B018 - raises now, not hours in, when a run off the demo has no hash key
    check_target(cfg.target_url())
    check_staging(cfg.staging_location())
    locations = cfg.locations()
    for system in RELATIONAL_SYSTEMS:
        check_kind(locations.url(system), SOURCE_KINDS, f"the {system.value} source")
    check_verify(locations.verify)


def check_kind(url: str, kinds: tuple[str, ...], what: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as err:
        raise ConfigurationError(f"{what} is not a SQLAlchemy URL: {redact_url(url)}") from err
    if backend not in kinds:
        raise ConfigurationError(f"{what} must be {' or '.join(kinds)}, got {backend} ({redact_url(url)}); "
                                 "correct the URL or connection id")
    return backend


def check_target(url: str) -> None:
    backend = check_kind(url, TARGET_KINDS, "the target")
    if backend == "sqlite":
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if not database or database == ":memory:":
            raise ConfigurationError("the SQLite target must be a file (sqlite:///path/to/target.sqlite)")
        _check_folder_writable(Path(database).resolve().parent, "the target's folder", min_free=0)
        return
    _reach_postgresql(url)


def _reach_postgresql(url: str) -> None:
    """Open one connection (``connect_timeout`` bounded) and run ``SELECT 1``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as err:
        first = str(err.orig).strip().splitlines()[0][:200] if err.orig else type(err).__name__
        where = f"the target {redact_url(url)}"
        if any(word in first for word in ("password authentication", "does not exist", "no password",
                                          "role", "permission denied")):
            raise ConfigurationError(f"{where} refused the connection: {first}; correct the URL, the "
                                     "connection or the database") from err
        raise SourceError(f"{where} is not reachable within {CONNECT_TIMEOUT}s: {first}; "
                          "check host and port, then start the run again") from err
    finally:
        engine.dispose()


def check_staging(location: str) -> None:
    from sis_migrate.storage import Store

    store = Store(location)
    if store.is_s3:
        _check_bucket(store, "staging")
        probe = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        store.write_bytes(probe, b"")
        store.delete_files([probe])
        return
    _check_folder_writable(store.root, "the staging folder", min_free=staging_min_free_bytes())


def check_verify(location: str) -> None:
    from sis_migrate.storage import Store

    store = Store(location)
    if store.is_s3:
        _check_bucket(store, "the Verify exports")
    elif not store.exists():
        raise ConfigurationError(f"the Verify exports folder {store.root} does not exist; correct the location")


def _check_bucket(store, what: str) -> None:
    if not store.exists():  # a wrapped HEAD: refused credentials and a silent endpoint raise our errors
        raise ConfigurationError(f"{what}: the bucket {store.bucket} does not exist ({store.uri()}); "
                                 "create it or correct the location")


def _check_folder_writable(folder: Path, what: str, min_free: int) -> None:
    from sis_migrate.storage import folder_error

    probe = folder / f"{PROBE_PREFIX}{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
        free = shutil.disk_usage(folder).free
    except OSError as err:
        raise folder_error(err, "write", probe) from err
    if free < min_free:
        raise SourceError(f"{what} {folder} has {free // 2**20} MiB free, less than the {min_free // 2**20} MiB "
                          f"a run needs ({MIN_FREE_ENV}); free space on the disk, then start the run again")
