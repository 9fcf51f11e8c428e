"""A fault at every task of the rehearsal: the label's published target and report stay as they were
(or, past the swap, are fully replaced), never partial; a re-run succeeds and equals a clean run.

``SIS_FAULT=<task>:<point>:raise`` fails a task in this process; ``...:kill`` makes the process running
the DAG send itself SIGKILL (run in a child process here). The tiny embedded-default district keeps
each run short; one PostgreSQL case covers the load and publish points there.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from sis_migrate.airflow_env import run_dag
from sis_migrate.errors import ConfigurationError
from sis_migrate.faults import FAULT_ENV, InjectedFault, fault_point
from sis_migrate.locations import LegacyLocations
from sis_migrate.run_config import RunConfig
from sis_migrate.stages.load import PUBLICATION_TABLE, Target, published_attempt
from sis_migrate.stages.publish import published_staging, settle
from synthetic.generator import District, SynthSpec
from synthetic.writers import write_district

PROJECT = Path(__file__).resolve().parents[1]
TASKS = ["check_mappings", "extract", "stage", "transform_core", "transform_facts", "derive", "validate",
         "gather_validation", "load", "reconcile", "validate_target", "report", "publish"]


def test_the_switch_fails_or_kills_only_where_it_says(monkeypatch):
    fault_point("load", "after_copy")  # no variable: nothing
    monkeypatch.setenv(FAULT_ENV, "load:after_copy:raise")
    fault_point("load", "start")
    with pytest.raises(InjectedFault, match="load:after_copy"):
        fault_point("load", "after_copy")
    monkeypatch.setenv(FAULT_ENV, "load:after_copy:explode")
    with pytest.raises(ConfigurationError, match="must look like"):
        fault_point("load", "after_copy")
    code = "from sis_migrate.faults import fault_point; fault_point('x', 'y'); print('survived')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env={**os.environ, FAULT_ENV: "x:y:kill", "PYTHONPATH": str(PROJECT)})
    assert done.returncode == -signal.SIGKILL and "survived" not in done.stdout


def _visible(cfg: RunConfig) -> dict:
    """What a reader of the label sees: the target's rows, the attempt it came from, the report it points at."""
    target = Target(cfg.target_url(), cfg.run_id)
    published = published_staging(cfg.staging_location(), cfg.run_id)
    engine = target.engine()
    prefix = f'"{target.schema}".' if target.schema else ""
    rows = {}
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names(schema=target.schema):
            if name != PUBLICATION_TABLE:
                found = conn.execute(text(f'SELECT * FROM {prefix}"{name}"'))
                rows[name] = sorted(tuple(map(str, row)) for row in found)
    engine.dispose()
    report = published.read_bytes("report/report.json") if published else b""
    return {"pointer": published.attempt if published else None, "target_attempt": published_attempt(target),
            "rows": hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest(), "tables": len(rows),
            "report": hashlib.sha256(report).hexdigest()}


def _rehearse(cfg: RunConfig) -> str:
    return str(run_dag("sis_rehearsal", cfg.as_params()).state)


def _rehearse_in_child(cfg: RunConfig, fault: str) -> int:
    """A rehearsal in a child process (as the CLI would run it) with a fault that may kill it."""
    import json

    code = ("import json, sys; from sis_migrate.airflow_env import run_dag; "
            "run_dag('sis_rehearsal', json.loads(sys.argv[1]))")
    path = os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code, json.dumps(cfg.as_params())], capture_output=True, text=True,
                          check=False, timeout=900, env={**os.environ, FAULT_ENV: fault, "PYTHONPATH": path})
    return done.returncode


def _consistent(seen: dict, baseline: dict) -> None:
    assert seen["pointer"] == seen["target_attempt"] is not None  # the report describes the visible target
    assert (seen["rows"], seen["tables"]) == (baseline["rows"], baseline["tables"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, airflow_db):
    base = tmp_path_factory.mktemp("faults")
    legacy_dir = base / "legacy"
    write_district(District(SynthSpec(students=40, seed=2)).chunks(), LegacyLocations.embedded_default(legacy_dir))
    cfg = RunConfig(run_label="faulty", legacy_dir=str(legacy_dir), staging=str(base / "staging"),
                    target=f"sqlite:///{base / 'target.sqlite'}")
    assert _rehearse(cfg).endswith("success")
    return cfg, _visible(cfg)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_a_fault_at_the_end_of_any_task_leaves_the_published_target_and_report_as_they_were(
        tiny, task, monkeypatch):
    cfg, baseline = tiny
    before = _visible(cfg)
    monkeypatch.setenv(FAULT_ENV, f"{task}:end:raise")
    assert _rehearse(cfg).endswith("failed")
    after = _visible(cfg)
    if task == "publish":  # past the swap and the pointer: fully replaced by this run, never half
        _consistent(after, baseline)
        assert after["pointer"] != before["pointer"]
    else:
        assert after == before
    _consistent(after, baseline)


@pytest.mark.slow
def test_a_kill_after_the_swap_is_settled_and_a_rerun_equals_a_clean_run(tiny, monkeypatch):
    cfg, baseline = tiny
    before = _visible(cfg)
    assert _rehearse_in_child(cfg, "publish:after_swap:kill") == -signal.SIGKILL
    cut_short = _visible(cfg)
    assert cut_short["target_attempt"] != before["target_attempt"]  # the new target is in place, whole
    assert (cut_short["rows"], cut_short["pointer"]) == (baseline["rows"], before["pointer"])
    settle(cfg)  # what the next run's check (or publish's retry) does first
    _consistent(_visible(cfg), baseline)
    assert _visible(cfg)["pointer"] == cut_short["target_attempt"]
    # killed during the load: the dead run's lock is stale and the previous publication stays
    assert _rehearse_in_child(cfg, "load:after_copy:kill") == -signal.SIGKILL
    assert _visible(cfg)["target_attempt"] == cut_short["target_attempt"]
    assert _rehearse(cfg).endswith("success")  # takes over the dead run's lock
    final = _visible(cfg)
    _consistent(final, baseline)
    published = published_staging(cfg.staging_location(), cfg.run_id)
    assert published.read_json("reconcile.json")["balanced"] is True
    assert Path(cfg.staging_location(), cfg.run_id, "attempts").exists()
    assert [p.name for p in Path(cfg.staging_location(), cfg.run_id, "attempts").iterdir()] == [published.attempt]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_kills_in_load_and_publish_leave_the_previous_schema(tmp_path, airflow_db, pg_url, monkeypatch):
    legacy_dir = tmp_path / "legacy"
    write_district(District(SynthSpec(students=40, seed=2)).chunks(), LegacyLocations.embedded_default(legacy_dir))
    cfg = RunConfig(run_label="faulty-pg", legacy_dir=str(legacy_dir), staging=str(tmp_path / "staging"),
                    target=pg_url)
    assert _rehearse(cfg).endswith("success")
    baseline = _visible(cfg)
    for fault in ("load:after_copy:kill", "publish:before_swap:kill"):
        assert _rehearse_in_child(cfg, fault) == -signal.SIGKILL, fault
        assert _visible(cfg) == baseline, fault
    assert _rehearse(cfg).endswith("success")
    final = _visible(cfg)
    _consistent(final, baseline)
    assert final["target_attempt"] != baseline["target_attempt"]
