"""Preflight: every location reached and of the right kind in seconds, one clear error of the right class.

The unit tests call the checks directly; the slow ones run ``sis-migrate rehearse`` through Airflow
and show the run ends within 30 seconds with one last line (no retry, no traceback).
"""

from __future__ import annotations

import socket
import time

import pytest

from sis_migrate import preflight
from sis_migrate.cli import main
from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import LegacyLocations
from sis_migrate.run_config import RunConfig
from synthetic.generator import District, SynthSpec
from synthetic.writers import write_district


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_mysql_target_is_a_configuration_error_at_once():
    started = time.perf_counter()
    with pytest.raises(ConfigurationError, match=r"the target must be postgresql or sqlite, got mysql"):
        preflight.check_target("mysql+pymysql://root@127.0.0.1:3306/test")
    assert time.perf_counter() - started < 2


def test_a_postgresql_target_on_a_wrong_port_is_a_source_error_within_seconds():
    started = time.perf_counter()
    with pytest.raises(SourceError, match=r"is not reachable within 5s") as caught:
        preflight.check_target(f"postgresql+psycopg://root:hidden-pw@127.0.0.1:{_free_port()}/postgres")
    assert time.perf_counter() - started < preflight.CONNECT_TIMEOUT + 2
    assert "hidden-pw" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.postgres
def test_a_postgresql_target_database_that_does_not_exist_is_a_configuration_error(pg_url):
    preflight.check_target(pg_url)  # reached
    with pytest.raises(ConfigurationError, match=r"refused the connection: .*does not exist"):
        preflight.check_target(pg_url.rsplit("/", 1)[0] + "/sis_no_such_database")


def test_a_sqlite_target_needs_a_writable_folder(tmp_path):
    preflight.check_target(f"sqlite:///{tmp_path / 'new' / 'target.sqlite'}")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError, match="a file stands where a folder is expected"):
        preflight.check_target(f"sqlite:///{tmp_path / 'file' / 'target.sqlite'}")
    with pytest.raises(ConfigurationError, match="must be a file"):
        preflight.check_target("sqlite://")


def test_staging_must_have_room(tmp_path, monkeypatch):
    preflight.check_staging(str(tmp_path / "staging"))
    assert list((tmp_path / "staging").iterdir()) == []  # the probe is gone
    monkeypatch.setenv(preflight.MIN_FREE_ENV, str(2 ** 40))  # a petabyte: no disk here has it
    with pytest.raises(SourceError, match=r"MiB free, less than the .* MiB a run needs"):
        preflight.check_staging(str(tmp_path / "staging"))


def test_a_missing_staging_bucket_is_a_configuration_error(s3_bucket):
    preflight.check_staging(f"s3://{s3_bucket}/staging")
    started = time.perf_counter()
    with pytest.raises(ConfigurationError, match="the bucket sis-no-such-bucket does not exist"):
        preflight.check_staging("s3://sis-no-such-bucket/staging")
    assert time.perf_counter() - started < 5


def test_a_source_of_an_unknown_kind_and_a_missing_verify_folder_are_configuration_errors(tmp_path):
    cfg = RunConfig(sim="oracle://reader@10.0.0.1/sim", legacy_dir=str(tmp_path),
                    target=f"sqlite:///{tmp_path / 't.sqlite'}", staging=str(tmp_path / "staging"))
    with pytest.raises(ConfigurationError, match=r"the sim source must be postgresql or sqlite or mysql"):
        preflight.preflight(cfg)
    with pytest.raises(ConfigurationError, match=r"the Verify exports folder .* does not exist"):
        preflight.check_verify(str(tmp_path / "verify"))


def test_a_run_off_the_embedded_default_needs_a_hash_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SIS_MIGRATE_HASH_KEY")
    assert RunConfig().hash_key  # the demo: the public development key
    with pytest.raises(ConfigurationError, match="no hash key: set SIS_MIGRATE_HASH_KEY"):
        preflight.preflight(RunConfig(target=f"sqlite:///{tmp_path / 't.sqlite'}"))


# --- through the DAG: within 30 seconds, one line -------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_legacy(tmp_path_factory):
    legacy_dir = tmp_path_factory.mktemp("legacy")
    write_district(District(SynthSpec(students=40, seed=2)).chunks(), LegacyLocations.embedded_default(legacy_dir))
    return legacy_dir


@pytest.mark.slow
@pytest.mark.parametrize("option, value, expected", [
    ("--target", "mysql+pymysql://root@127.0.0.1:3306/test",
     "configuration error: rehearsal run bad-target: task check_mappings failed: ConfigurationError: the target must "
     "be postgresql or sqlite, got mysql"),
    ("--target", "postgresql+psycopg://root@127.0.0.1:{port}/postgres",
     "source error: rehearsal run bad-target: task check_mappings failed: SourceError: the target "
     "postgresql+psycopg://root@127.0.0.1:{port}/postgres is not reachable within 5s"),
    ("--staging", "s3://sis-no-such-bucket/staging",
     "configuration error: rehearsal run bad-target: task check_mappings failed: ConfigurationError: staging: "
     "the bucket sis-no-such-bucket does not exist"),
])
def test_a_bad_target_or_bucket_ends_the_rehearsal_within_30_seconds_with_one_line(
        tmp_path, airflow_db, tiny_legacy, s3_bucket, work_dir, capsys, option, value, expected):
    port = _free_port()
    given = {"--target": f"sqlite:///{tmp_path / 'target.sqlite'}", "--staging": str(tmp_path / "staging")}
    given[option] = value.format(port=port)
    started = time.perf_counter()
    status = main(["rehearse", "--run-label", "bad-target", "--legacy-dir", str(tiny_legacy),
                   *[part for pair in given.items() for part in pair]])
    elapsed = time.perf_counter() - started
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert status in (2, 3) and elapsed < 30, (status, elapsed)
    assert last.startswith(f"sis-migrate rehearse: {expected.format(port=port)}"), last
