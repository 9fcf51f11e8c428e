"""Each error group ends the real CLI with its own exit code and one last line saying what to do.

Configuration 2 (fix the configuration), source 3 (retry when reachable), data 4 (the legacy data
must change) and a bug 70 (traceback first). Under Airflow only a source error is retried.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from sis_migrate import airflow_adapter
from sis_migrate.cli import main
from sis_migrate.errors import (
    DEFAULT_HASH_KEY,
    GROUPS,
    BugError,
    ConfigurationError,
    DataError,
    MigrationError,
    RowDataError,
    SourceError,
)
from sis_migrate.run_config import RunConfig
from sis_migrate.schema import MAPPINGS_DIR
from transforms.privacy import keyed_hash

PROJECT = Path(__file__).resolve().parents[1]
CLI = PROJECT / ".venv" / "bin" / "sis-migrate"


def run_cli(*args: str, work: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed command, importing this checkout, with its work folder in the test's tmp folder."""
    env = {**os.environ, "SIS_MIGRATE_WORK": str(work),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_help_lists_the_exit_code_and_what_to_do_of_every_group(tmp_path):
    done = run_cli("--help", work=tmp_path / "work")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for cls in GROUPS:
        assert f"{cls.exit_code} {cls.group}: {cls.what_to_do}" in text
    assert [cls.exit_code for cls in GROUPS] == [2, 3, 4, 70]


def test_a_mapping_with_an_unknown_key_is_exit_2(tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, mappings)
    path = mappings / "cim.yaml"
    path.write_text(path.read_text().replace("    ignored: {}\n", "    ignored: {}\n    owner: registrar\n", 1))
    done = run_cli("check-mappings", "--catalog-only", "--mappings-dir", str(mappings), work=tmp_path / "work")
    assert done.returncode == 2, done.stderr
    assert last_line(done.stderr) == (f"sis-migrate check-mappings: configuration error: {path}:17: "
                                      "tables.cim_course.owner: unknown key 'owner' "
                                      f"({ConfigurationError.what_to_do})")


def test_a_bad_run_label_is_exit_2_before_airflow_starts(tmp_path):
    done = run_cli("rehearse", "--run-label", "two words", work=tmp_path / "work")
    assert done.returncode == 2, done.stderr
    assert last_line(done.stderr).startswith("sis-migrate rehearse: configuration error: run label 'two words' must")
    assert not (tmp_path / "work" / "airflow").exists()


def test_an_unreachable_source_is_exit_3_within_seconds(tmp_path):
    started = time.perf_counter()
    done = run_cli("check-mappings", "--sim", "postgresql+psycopg://root:secret@127.0.0.1:1/nope",
                   work=tmp_path / "work", timeout=60)
    assert done.returncode == 3, done.stderr
    assert time.perf_counter() - started < 30
    line = last_line(done.stderr)
    assert line.startswith("sis-migrate check-mappings: source error: sim at postgresql+psycopg://")
    assert "127.0.0.1:1/nope" in line and "secret" not in line
    assert line.endswith(f"({SourceError.what_to_do})")


@pytest.mark.parametrize("error", [KeyError("no_such_column"), BugError("a rule invented 3 rows"),
                                   MigrationError("raised without a group")])
def test_a_bug_is_exit_70_with_its_traceback(error, monkeypatch, capsys):
    from sis_migrate.commands import check_mappings

    def broken(args):
        raise error

    monkeypatch.setattr(check_mappings, "run", broken)
    assert main(["check-mappings", "--catalog-only"]) == 70
    stderr = capsys.readouterr().err
    assert "Traceback (most recent call last)" in stderr and "in broken" in stderr
    line = last_line(stderr)
    assert line.startswith("sis-migrate check-mappings: bug: ")
    assert line.endswith(f"({MigrationError.what_to_do})")
    if isinstance(error, KeyError):
        assert "KeyError: 'no_such_column'" in line


def test_a_message_of_several_lines_ends_in_its_first_line(monkeypatch, capsys):
    from sis_migrate.commands import check_mappings

    def broken(args):
        raise ConfigurationError("2 problem(s):\n  sim.A.B: not mapped\n  sim.A.C: not mapped")

    monkeypatch.setattr(check_mappings, "run", broken)
    assert main(["check-mappings", "--catalog-only"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["  sim.A.B: not mapped", "  sim.A.C: not mapped",
                     f"sis-migrate check-mappings: configuration error: 2 problem(s) ({ConfigurationError.what_to_do})"]


# --- the Airflow adapter: only a source error is left to Airflow's retries ---------------------------

def _params(tmp_path: Path) -> dict:
    return RunConfig(run_label="adapter", staging=str(tmp_path / "staging")).as_params()


def _failing_stage(monkeypatch, error: BaseException) -> None:
    def stage(cfg, *args):
        raise error

    monkeypatch.setattr(airflow_adapter, "stage_function", lambda name: stage)


def test_a_source_error_reaches_airflow_unchanged_to_be_retried(tmp_path, monkeypatch):
    error = SourceError("sim at postgresql://127.0.0.1:1/sim is not reachable")
    _failing_stage(monkeypatch, error)
    with pytest.raises(SourceError) as raised:
        airflow_adapter.run_stage("extract", _params(tmp_path), {"system": "sim", "table": "SIM_STUDENT"})
    assert raised.value is error
    record = RunConfig.from_params(_params(tmp_path)).staging_area().read_json("errors/extract.sim.SIM_STUDENT.json")
    assert record == {"task": "extract.sim.SIM_STUDENT", "stage": "extract", "detail": "sim.SIM_STUDENT",
                      "group": "source error", "exit_code": 3, "error": "SourceError", "message": str(error)}


@pytest.mark.parametrize(("error", "group", "exit_code", "message"), [
    (ConfigurationError("mappings/sim.yaml:3: unknown key"), "configuration error", 2,
     "mappings/sim.yaml:3: unknown key"),
    (RowDataError("sim", "SIM_INCIDENT", "POLICE_NOTIFIED_IND", "line 7", "are not Y or N"), "data error", 4,
     "sim.SIM_INCIDENT.POLICE_NOTIFIED_IND at line 7: are not Y or N"),
    (KeyError("no_such_column"), "bug", 70, ""),  # a bug's text is not ours to vouch for: not recorded
])
def test_any_other_error_fails_the_task_without_a_retry(error, group, exit_code, message, tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    _failing_stage(monkeypatch, error)
    with pytest.raises(AirflowFailException) as raised:
        airflow_adapter.run_stage("transform_core", _params(tmp_path), {})
    assert raised.value.__cause__ is error
    assert str(raised.value).startswith(f"{group}: {type(error).__name__}: ")
    record = RunConfig.from_params(_params(tmp_path)).staging_area().read_json("errors/transform_core.json")
    assert (record["group"], record["exit_code"], record["error"], record["message"]) == (
        group, exit_code, type(error).__name__, message)


def test_a_bad_param_fails_the_task_without_a_retry(monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    _failing_stage(monkeypatch, AssertionError("the stage must not run"))
    with pytest.raises(AirflowFailException, match="^configuration error: ConfigurationError: run label"):
        airflow_adapter.run_stage("check_mappings", {"run_label": "two words"})


def test_a_failure_the_staging_area_cannot_record_still_fails_with_its_own_error(tmp_path, monkeypatch, work_dir):
    from airflow.sdk.exceptions import AirflowFailException

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the staging folder should be")
    error = DataError("reconciliation failed")
    _failing_stage(monkeypatch, error)
    params = RunConfig(run_label="adapter", staging=str(blocker / "staging")).as_params()
    with pytest.raises(AirflowFailException) as raised:
        airflow_adapter.run_stage("reconcile", params, {})
    assert raised.value.__cause__ is error
    # recorded on the local disk instead, where the CLI finds it
    assert (work_dir / "failures" / "adapter" / "errors" / "reconcile.json").is_file()


# --- a rehearsal exits with the failing task's own group -------------------------------------------

def test_a_failed_run_names_a_task_no_retry_fixes_first(tmp_path):
    from sis_migrate.commands.rehearse import failure_of_run

    cfg = RunConfig(run_label="two", staging=str(tmp_path / "staging"))
    for task, error in (("extract.sim.SIM_STUDENT", SourceError("sim is not reachable")),
                        ("transform_facts.gradebook.Score", DataError("gradebook.Score at line 3: bad")),
                        ("validate.batch-school", DataError("an old run's failure"))):
        airflow_adapter.record_failure(cfg, task, task.split(".")[0], task.partition(".")[2], error)
    failure = failure_of_run(cfg, "failed", ["extract", "transform_facts"])
    assert type(failure) is DataError
    assert str(failure) == ("rehearsal run two: task transform_facts.gradebook.Score failed (also failed: "
                            "extract.sim.SIM_STUDENT): DataError: gradebook.Score at line 3: bad")


def test_a_failed_run_without_a_record_is_a_bug(tmp_path):
    from sis_migrate.commands.rehearse import failure_of_run

    cfg = RunConfig(run_label="none", staging=str(tmp_path / "staging"))
    failure = failure_of_run(cfg, "failed", ["load"])
    assert type(failure) is BugError and "no failure recorded" in str(failure) and "load" in str(failure)


@pytest.mark.slow
def test_a_value_the_transform_cannot_read_ends_the_rehearsal_in_a_data_error(tmp_path, airflow_db):
    from sis_migrate.locations import LegacyLocations
    from synthetic.generator import District, SynthSpec
    from synthetic.writers import write_district

    work = tmp_path / "work"
    write_district(District(SynthSpec(students=60, seed=3)).chunks(), LegacyLocations.embedded_default(work / "legacy"))
    with sqlite3.connect(work / "legacy" / "sim.sqlite") as conn:
        assert conn.execute("UPDATE SIM_INCIDENT SET POLICE_NOTIFIED_IND = 'maybe' "
                            "WHERE INCIDENT_ID = (SELECT MIN(INCIDENT_ID) FROM SIM_INCIDENT)").rowcount == 1
        (incident_id,) = conn.execute("SELECT MIN(INCIDENT_ID) FROM SIM_INCIDENT").fetchone()

    done = run_cli("rehearse", "--run-label", "maybe", work=work, timeout=600)
    assert done.returncode == 4, done.stderr[-3000:]
    hashed = keyed_hash(pd.Series([f"INCIDENT_ID={incident_id}"]), DEFAULT_HASH_KEY).iloc[0]
    assert last_line(done.stderr) == (
        "sis-migrate rehearse: data error: rehearsal run maybe: task transform_core failed: RowDataError: "
        f"sim.SIM_INCIDENT.POLICE_NOTIFIED_IND at row key#{hashed}: are not Y or N (1 row(s); transform yn_bool) "
        f"({DataError.what_to_do})")
    assert str(incident_id) not in done.stderr + done.stdout
    assert "[extract sim.SIM_INCIDENT] done 29 rows" in done.stderr  # progress lines still on stderr

    # the failure is recorded in the failed DAG run's own attempt folder: no later run reads it as its own
    from sis_migrate.storage import Store

    recorded = [path.split("/", 1)[1] for path in Store(str(work / "staging" / "maybe" / "attempts")).list()
                if "/errors/" in path]
    assert recorded == ["errors/transform_core.json"]
