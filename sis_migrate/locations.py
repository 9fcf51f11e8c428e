"""Where legacy systems, staging and targets live: the embedded default, or given by URL.

The embedded default lets the whole pipeline run on a laptop: one SQLite file per relational
legacy system and a folder of Verify exports, all under the project's ``work/`` folder.
Relational locations are SQLAlchemy URLs (``sqlite:///``, ``postgresql+psycopg://``,
``mysql+pymysql://``). Verify and staging locations are a folder path or ``s3://bucket/prefix``;
S3 is reached only through :mod:`sis_migrate.storage`, whose endpoint comes from the usual ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import RELATIONAL_SYSTEMS, System

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def work_dir() -> Path:
    """The folder for everything a run writes by default (``SIS_MIGRATE_WORK`` overrides it)."""
    return Path(os.environ.get("SIS_MIGRATE_WORK", PROJECT_ROOT / "work")).resolve()


def default_legacy_dir() -> Path:
    return work_dir() / "legacy"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


@dataclass(frozen=True)
class LegacyLocations:
    """Where each of the four legacy systems can be read (or, for the generator, written)."""

    sim: str
    gradebook: str
    cim: str
    verify: str  # a folder path or s3://bucket/prefix
    extra: dict[str, str] = field(default_factory=dict)

    def url(self, system: System | str) -> str:
        return getattr(self, System(system).value)

    @classmethod
    def embedded_default(cls, legacy_dir: Path | None = None) -> LegacyLocations:
        base = Path(legacy_dir) if legacy_dir else default_legacy_dir()
        return cls(
            sim=sqlite_url(base / "sim.sqlite"),
            gradebook=sqlite_url(base / "gradebook.sqlite"),
            cim=sqlite_url(base / "cim.sqlite"),
            verify=str(base / "verify"),
        )

    @classmethod
    def from_options(cls, legacy_dir: Path | None = None, **given: str | None) -> LegacyLocations:
        """The embedded default, with any system given by URL replacing its default."""
        default = cls.embedded_default(legacy_dir)
        values = {system.value: given.get(system.value) or default.url(system) for system in System}
        for system in RELATIONAL_SYSTEMS:
            check_sqlalchemy_url(values[system.value], what=f"the {system.value} location")
        return cls(**values)


def check_sqlalchemy_url(url: str, what: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError as err:
        raise ConfigurationError(f"{what} is not a SQLAlchemy URL: {redact_url(url)}") from err


def read_only_sqlite(url):
    """The SQLite URL opened with ``mode=ro``: reading a legacy file can never change it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"file:{parsed.database or ''}?mode=ro", query={"uri": "true"})


def redact_url(url: str) -> str:
    """A URL fit for a log line: any password replaced."""
    if "://" not in url or "@" not in url:
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown without its credentials part
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[-1]}"


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def split_s3(location: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``) without trailing slash."""
    if not is_s3(location):
        raise ConfigurationError(f"not an s3:// location: {location}")
    bucket, _, prefix = location[len("s3://"):].partition("/")
    if not bucket:
        raise ConfigurationError(f"an s3:// location needs a bucket: {location}")
    return bucket, prefix.strip("/")
