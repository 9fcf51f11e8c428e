"""``sis-migrate rehearse``: run one whole rehearsal through the Airflow DAG ``sis_rehearsal``.

The DAG runs in this process through Airflow's ``dag.test()`` against a metadata database in
``work/airflow`` (created on first use), so what runs is exactly what the scheduler would run.
A source or target URL with a password is handed to the DAG run through an environment variable
of this process (``env:SIS_MIGRATE_URL_<NAME>``), never as a param: Airflow keeps params in clear
in its metadata database. At the end the run summary is printed: rows per legacy table and entity,
merged and quarantined by reason, seconds per stage, and where the target, staging and reports are. A failed run raises
the failing task's own error group with its cause, from the record the task left in staging.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import fields, replace

from sis_migrate.errors import BugError, MigrationError, error_class_of
from sis_migrate.run_config import ENV_PREFIX, SECRET_BEARING, RunConfig, refuse_password

DAG_ID = "sis_rehearsal"
_HELP = {
    "run_label": "names the run: its staging folder and target schema; reusing it replaces them",
    "school_year": "the current school year, e.g. 2018-2019",
    "sim": "SIM: SQLAlchemy URL or Airflow connection id",
    "gradebook": "Gradebook: SQLAlchemy URL or Airflow connection id",
    "cim": "CIM: SQLAlchemy URL or Airflow connection id",
    "verify": "Verify exports: a folder or s3://bucket/prefix",
    "target": "target: PostgreSQL URL or connection id (a schema per run), or a sqlite:/// URL",
    "staging": "staging: a folder or s3://bucket/prefix",
    "legacy_dir": "folder of the embedded default legacy district",
    "chunk_rows": "rows per extract chunk and per fact-transform part",
}

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = RunConfig()
    for field in fields(RunConfig):
        if field.name not in _HELP:
            continue
        default = getattr(defaults, field.name)
        shown = default if default not in ("", None) else "the embedded default"
        parser.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=default,
                            type=type(default), help=f"{_HELP[field.name]} (default: {shown})")


def run(args: argparse.Namespace) -> int:
    from sis_migrate.airflow_env import prepare, run_dag

    cfg = RunConfig(**{name: getattr(args, name) for name in _HELP})
    prepare()
    log.info(f"rehearse: running DAG {DAG_ID} for run {cfg.run_id} through Airflow ...")
    dag_run = run_dag(DAG_ID, params_without_secrets(cfg))
    return _finish(replace(cfg, dag_id=DAG_ID, dag_run=dag_run.run_id), dag_run)


def params_without_secrets(cfg: RunConfig) -> dict:
    """The DAG-run params, each URL with a password moved to an environment variable of this process."""
    params = cfg.as_params()
    for name in SECRET_BEARING:
        try:
            refuse_password(str(params[name] or ""), name)
        except MigrationError:
            variable = f"SIS_MIGRATE_URL_{name.upper()}"
            os.environ[variable] = params[name]  # dag.test runs the tasks in this process: they see it
            params[name] = f"{ENV_PREFIX}{variable}"
    return params


def _finish(cfg: RunConfig, dag_run) -> int:
    from sis_migrate.stages.report.summary import build_summary, format_summary

    staging = cfg.staging_area()
    state = str(getattr(dag_run, "state", "unknown"))
    if not state.endswith("success"):
        # the tasks that failed, not the ones they left upstream_failed
        failed = sorted({ti.task_id for ti in dag_run.get_task_instances() if str(ti.state) == "failed"})
        raise failure_of_run(cfg, state, failed)
    summary = build_summary(staging, cfg)
    print(format_summary(summary))
    print(json.dumps({"balanced": summary["balanced"], **summary["paths"]}), file=sys.stderr)
    if not summary["balanced"]:  # the reconcile task fails an unbalanced run: a success must balance
        raise BugError(f"the rehearsal run {cfg.run_id} succeeded but does not balance: "
                       f"see {staging.uri}/reconcile.json")
    return 0


def failure_of_run(cfg: RunConfig, state: str, failed: list[str]) -> MigrationError:
    """An error of the failing task's own group, naming the task and its cause (from ``errors/`` in staging).

    Of several failed tasks, one that no retry fixes is named first. Without a record (the task
    failed outside :func:`~sis_migrate.airflow_adapter.run_stage`, or staging could not take the
    record) the cause is only in the task log: reported as a bug.
    """
    from sis_migrate.airflow_adapter import ERRORS_PREFIX, failure_records

    records = []
    for place in failure_records(cfg):
        try:
            records += [place.read_json(path) for path in place.list(ERRORS_PREFIX)]
        except MigrationError:
            continue  # staging unreachable: the task recorded its failure in the local fallback
    staging = cfg.staging_area()
    records = sorted((r for r in records if r["stage"] in failed),
                     key=lambda r: (error_class_of(r["group"]).retryable, r["task"]))
    if not records:
        return BugError(f"the rehearsal run {cfg.run_id} ended {state} with no failure recorded in "
                        f"{staging.uri}/{ERRORS_PREFIX} (failed task(s): {', '.join(failed) or 'none'}); "
                        "the task log above says why")
    first, others = records[0], records[1:]
    cause = first["error"] + (f": {first['message']}" if first["message"] else ", its traceback in the task log above")
    also = f" (also failed: {', '.join(r['task'] for r in others)})" if others else ""
    return error_class_of(first["group"])(f"rehearsal run {cfg.run_id}: task {first['task']} failed{also}: {cause}")
