"""One rehearsal's configuration, built from the DAG's params (or the CLI's options).

A source or target may be given as a SQLAlchemy URL without a password, as an Airflow connection
id (its password is kept encrypted with Airflow's Fernet key, or comes from an ``AIRFLOW_CONN_*``
variable) or as ``env:<VARIABLE>`` naming an environment variable that holds the URL; an empty
value means the embedded default. A URL with a password is refused as a DAG-run parameter:
Airflow stores the run's params in clear in its metadata database (``dag_run.conf``).

The hash key that keys the hashes standing for ids in reports and messages is a secret too: it
comes from ``SIS_MIGRATE_HASH_KEY`` or the Airflow variable ``sis_migrate_hash_key``, never from
params; only a run entirely on the embedded default (the demo district) falls back to the public
development key :data:`~sis_migrate.errors.DEFAULT_HASH_KEY`.

The run id is the run label folded to a safe name: re-running a label replaces that run's
target and published reports once the new run completes. ``dag_id`` and ``dag_run`` say which
Airflow DAG run this is (set by the Airflow adapter, never params); the run's attempt folder in
staging is named after the DAG run.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import asdict, dataclass, fields
from datetime import date
from functools import cached_property
from typing import Any

from sis_migrate.errors import DEFAULT_HASH_KEY, ConfigurationError
from sis_migrate.legacy import RELATIONAL_SYSTEMS
from sis_migrate.locations import LegacyLocations, sqlite_url, work_dir

HASH_KEY_ENV = "SIS_MIGRATE_HASH_KEY"
HASH_KEY_VARIABLE = "sis_migrate_hash_key"
RUNTIME_FIELDS = ("dag_id", "dag_run")
SECRET_BEARING = ("sim", "gradebook", "cim", "target")  # the params that may name a database
ENV_PREFIX = "env:"
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
    dag_id: str = ""  # the Airflow DAG and DAG run this configuration runs in ('' outside Airflow)
    dag_run: str = ""

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
    def attempt(self) -> str:
        """This DAG run's folder under ``<staging>/<run id>/attempts/`` ('' outside Airflow)."""
        return attempt_of(self.dag_run)

    @cached_property
    def hash_key(self) -> str:
        """The key of the hashes that stand for ids (see the module docstring); never a param."""
        found = os.environ.get(HASH_KEY_ENV) or _airflow_variable(HASH_KEY_VARIABLE)
        if found:
            return found
        if self.is_embedded_demo:
            return DEFAULT_HASH_KEY  # the public development key: only for the embedded demo district
        raise ConfigurationError(f"no hash key: set {HASH_KEY_ENV} or the Airflow variable {HASH_KEY_VARIABLE} "
                                 "(the public development key is used only when every location is the "
                                 "embedded default)")

    @property
    def is_embedded_demo(self) -> bool:
        return not any((self.sim, self.gradebook, self.cim, self.verify, self.target, self.staging))

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
        """This run's staging area: ``<staging>/<run id>/attempts/<attempt>/`` in a DAG run, else
        ``<staging>/<run id>/``."""
        from sis_migrate.storage import Staging

        return Staging(self.staging_location(), self.run_id, self.attempt)

    def target_url(self) -> str:
        if self.target:
            return resolve_source(self.target)
        return sqlite_url(work_dir() / "target" / f"{self.run_id}.sqlite")

    def as_params(self) -> dict[str, Any]:
        """The DAG-run params of this configuration (what Airflow stores in ``dag_run.conf``)."""
        return {name: value for name, value in asdict(self).items() if name not in RUNTIME_FIELDS}

    @classmethod
    def from_params(cls, params: dict[str, Any], dag_id: str = "", dag_run: str = "") -> RunConfig:
        """From DAG-run params; a password in a URL is refused (it would be stored in clear)."""
        if "hash_key" in params:
            raise ConfigurationError(f"the hash key is a secret and never a run parameter: set {HASH_KEY_ENV} "
                                     f"or the Airflow variable {HASH_KEY_VARIABLE}")
        known = {f.name: params[f.name] for f in fields(cls)
                 if f.name not in RUNTIME_FIELDS and params.get(f.name) is not None}
        for name in SECRET_BEARING:
            refuse_password(str(known.get(name) or ""), name)
        return cls(**known, dag_id=dag_id, dag_run=dag_run)


def attempt_of(dag_run: str) -> str:
    """The attempt folder of a DAG run id (``manual__2026-01-02T03:04:05+00:00`` -> a plain name)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", dag_run).strip("._")[:120]


def refuse_password(value: str, name: str) -> None:
    """A run parameter holding a URL with a password is refused, naming the ways that keep it secret."""
    if "://" not in value:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(value).password
    except ArgumentError:
        return  # not a URL: the location check names it
    if password:
        raise ConfigurationError(f"the {name} parameter holds a password, which Airflow would store in clear in "
                                 f"dag_run.conf: give an Airflow connection id, or {ENV_PREFIX}<VARIABLE> naming an "
                                 "environment variable that holds the URL")


def _airflow_variable(key: str) -> str | None:
    """An Airflow variable's value from inside a task (its metadata copy is Fernet-encrypted); None elsewhere."""
    if "airflow.sdk" not in sys.modules:  # not under Airflow: importing it here would cost seconds
        return None
    try:
        from airflow.sdk import Variable

        return Variable.get(key, default=None)
    except Exception:  # noqa: BLE001 - outside a task there is no variable to ask for
        return None


def resolve_source(value: str) -> str:
    """A SQLAlchemy URL as given, the URL in an ``env:`` variable, or an Airflow connection's ('' stays '')."""
    if value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX):]
        if not os.environ.get(name):
            raise ConfigurationError(f"the environment variable {name} (from {value!r}) is not set")
        return os.environ[name]
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
