"""``sis-migrate rehearse``: run one whole rehearsal through the Airflow DAG ``sis_rehearsal``.

The DAG runs in this process through Airflow's ``dag.test()`` against a metadata database in
``work/airflow`` (created on first use), so what runs is exactly what the scheduler would run.
At the end the run summary is printed: rows per legacy table and entity, merged and quarantined
by reason, seconds per stage, and where the target, staging and reports are.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from sis_migrate.errors import MigrationError
from sis_migrate.run_config import RunConfig

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


class RehearsalFailed(MigrationError):
    """The DAG run ended in a state other than success."""


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
    print(f"rehearse: running DAG {DAG_ID} for run {cfg.run_id} through Airflow ...", file=sys.stderr, flush=True)
    dag_run = run_dag(DAG_ID, cfg.as_params())
    return _finish(cfg, dag_run)


def _finish(cfg: RunConfig, dag_run) -> int:
    from sis_migrate.stages.report.summary import build_summary, format_summary
    from sis_migrate.storage import Staging

    staging = Staging(cfg.staging_location(), cfg.run_id)
    state = str(getattr(dag_run, "state", "unknown"))
    if not state.endswith("success"):
        # the task that failed, not the ones it left upstream_failed
        failed = sorted({ti.task_id for ti in dag_run.get_task_instances() if str(ti.state) == "failed"})
        raise RehearsalFailed(f"the rehearsal run {cfg.run_id} ended {state}; failed task(s): "
                              f"{', '.join(failed) or 'none recorded'}; the task log above says why; "
                              f"staging: {staging.uri}")
    summary = build_summary(staging, cfg)
    print(format_summary(summary))
    print(json.dumps({"balanced": summary["balanced"], **summary["paths"]}), file=sys.stderr)
    return 0 if summary["balanced"] else 1
