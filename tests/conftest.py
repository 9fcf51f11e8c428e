"""Shared fixtures: real PostgreSQL and MariaDB databases, and moto's S3 server over HTTP.

Tests that need a server skip with a clear reason when it is missing, except under ``CI=true``,
where a missing server is a failure: CI must exercise the realistic path.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Airflow reads its configuration when first imported, by whichever test comes first: the tests
# get their own home, never the developer's, and the project's DAGs folder from the start.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sis-test-airflow-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
# Runs off the embedded default need a hash key from the environment: the tests use the public
# development key's value, so that the hashes they expect are the same everywhere.
os.environ.setdefault("SIS_MIGRATE_HASH_KEY", "rehearsal-report-key")

PG_ADMIN_URL = os.environ.get("SIS_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
MARIADB_ADMIN_URL = os.environ.get("SIS_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _server_missing(what: str, err: Exception) -> None:
    message = f"{what} is not reachable ({type(err).__name__}: {str(err).splitlines()[0][:160]})"
    if IN_CI:
        pytest.fail(f"CI=true and {message}: the realistic path must run in CI", pytrace=False)
    pytest.skip(message)


def _fresh_database(admin_url: str, what: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sis_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as err:  # noqa: BLE001 - any failure to reach the server means "missing"
        _server_missing(what, err)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    yield from _fresh_database(PG_ADMIN_URL, "PostgreSQL on 127.0.0.1:5432")


@pytest.fixture
def pg_url_factory():
    """Make several fresh PostgreSQL databases (e.g. SIM, CIM and a target), all dropped afterwards."""
    generators = []

    def make() -> str:
        generator = _fresh_database(PG_ADMIN_URL, "PostgreSQL on 127.0.0.1:5432")
        generators.append(generator)
        return next(generator)

    yield make
    for generator in generators:
        next(generator, None)


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database, dropped afterwards."""
    yield from _fresh_database(MARIADB_ADMIN_URL, "MariaDB on 127.0.0.1:3306")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 over HTTP (never in-process patching); yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server; boto3 in this process is pointed at it by environment."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"sis-test-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def work_dir(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Point the project's default work folder at a temporary one."""
    monkeypatch.setenv("SIS_MIGRATE_WORK", str(tmp_path / "work"))
    return tmp_path / "work"


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Airflow's metadata database for this test session (migrated once, about 10 s)."""
    from sis_migrate.airflow_env import prepare

    return str(prepare())


@pytest.fixture
def s3_call_spy():
    """Make an S3 client factory (the project's, so its time-outs apply) that records one parameter of
    every call of one operation; tests put it in place of ``sis_migrate.storage.s3_client``."""
    from sis_migrate.storage import s3_client  # taken before any test replaces it

    def spy(operation: str, parameter: str, seen: list):
        def make_client():
            client = s3_client()
            client.meta.events.register(f"provide-client-params.s3.{operation}",
                                        lambda params, **_: seen.append(params.get(parameter)))
            return client

        return make_client

    return spy

