"""One rehearsal's configuration, built from the DAG's params (or the CLI's options).

A source may be given as a SQLAlchemy URL or as an Airflow connection id; an empty value means
the embedded default. The run id is the run label folded to a safe name: re-running a label
replaces that run's staging and target instead of adding to them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sis_migrate.errors import DEFAULT_HASH_KEY, ConfigurationError
from sis_migrate.legacy import RELATIONAL_SYSTEMS
from sis_migrate.locations import LegacyLocations, sqlite_url, work_dir

RUN_LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$"
SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{4}$"


@dataclass(frozen=True)
class RunConfig:
    run_label: str = "rehearsal"
    school_year: str = "2018-2019"
    sim: str = ""
    gradebook: str = ""
    cim: str = ""
    verify: str = ""
    target: str = ""
    staging: str = ""
    legacy_dir: str = ""
    chunk_rows: int = 200_000
    hash_key: str = DEFAULT_HASH_KEY  # keys the hashes that stand for ids in reports and messages

    def __post_init__(self) -> None:
        if not re.match(RUN_LABEL_PATTERN, self.run_label):
            raise ConfigurationError(f"run label {self.run_label!r} must match {RUN_LABEL_PATTERN}")
        if not re.match(SCHOOL_YEAR_PATTERN, self.school_year) or (
                int(self.school_year[5:]) != int(self.school_year[:4]) + 1):
            raise ConfigurationError(f"school year {self.school_year!r} must look like 2018-2019")
        if self.chunk_rows < 1_000:
            raise ConfigurationError("chunk_rows must be at least 1000")

    @property
    def run_id(self) -> str:
        return self.run_label.lower()

    @property
    def prior_school_year(self) -> str:
        start = int(self.school_year[:4])
        return f"{start - 1}-{start}"

    @property
    def school_year_start(self) -> date:
        return date(int(self.school_year[:4]), 7, 1)

    @property
    def school_year_end(self) -> date:
        return date(int(self.school_year[5:]), 6, 30)

    def locations(self) -> LegacyLocations:
        """Legacy locations with Airflow connection ids resolved to SQLAlchemy URLs."""
        given = {system.value: resolve_source(getattr(self, system.value)) for system in RELATIONAL_SYSTEMS}
        return LegacyLocations.from_options(self.legacy_dir or None, verify=self.verify or None, **given)

    def staging_location(self) -> str:
        return self.staging or str(work_dir() / "staging")

    def staging_area(self):
        """This run's staging area (``<staging>/<run id>/``)."""
        from sis_migrate.storage import Staging

        return Staging(self.staging_location(), self.run_id)

    def target_url(self) -> str:
        if self.target:
            return resolve_source(self.target)
        return sqlite_url(work_dir() / "target" / f"{self.run_id}.sqlite")

    def as_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RunConfig:
        known = {name: params[name] for name in cls.__dataclass_fields__ if params.get(name) is not None}
        return cls(**known)


def resolve_source(value: str) -> str:
    """A SQLAlchemy URL as given, or the URL of an Airflow connection id ('' stays '')."""
    if not value or "://" in value:
        return value
    try:
        from airflow.sdk import Connection

        connection = Connection.get(value)
    except Exception as err:  # noqa: BLE001 - Airflow raises several kinds for an unknown id
        raise ConfigurationError(f"{value!r} is neither a SQLAlchemy URL nor a known Airflow connection id") from err
    uri = connection.get_uri()
    for airflow_scheme, sqlalchemy_scheme in (("postgres://", "postgresql+psycopg://"),
                                              ("postgresql://", "postgresql+psycopg://"),
                                              ("mysql://", "mysql+pymysql://")):
        if uri.startswith(airflow_scheme):
            return sqlalchemy_scheme + uri[len(airflow_scheme):]
    return uri
