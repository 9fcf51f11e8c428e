"""The only Airflow code outside ``dags/``: DAG params to a run configuration, timing, error to task outcome.

A DAG task calls :func:`run_stage` with a stage's name, the DAG run's params and the task's
inputs. The stage itself knows nothing of Airflow. Only a :class:`~sis_migrate.errors.SourceError`
is left to Airflow's retries (a source or target may be reachable again); a configuration error,
a data error or a bug fails the task at once, with its group and cause as the message.

The configuration names the DAG run (``dag_id``, ``dag_run``), so every stage writes under the
run's attempt folder in staging and the locks know their holder. Each stage passes the fault
points ``<stage>:start`` and ``<stage>:end`` (:mod:`sis_migrate.faults`).

Every failure is also recorded in the run's attempt folder, ``errors/<task>[.<detail>].json``
(group, exit code, exception class and message; a bug's message is left out, as it is not ours to
vouch for), so that ``sis-migrate rehearse`` can exit with the failing task's own group and cause.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from sis_migrate.errors import MigrationError, exit_code_of, group_of
from sis_migrate.faults import fault_point
from sis_migrate.run_config import RunConfig

ERRORS_PREFIX = "errors/"

log = logging.getLogger(__name__)

# stage name -> (module, function): imported when the task runs, never when the DAG file is parsed.
STAGES: dict[str, tuple[str, str]] = {
    "check_mappings": ("sis_migrate.stages.check", "check_mappings"),
    "extract": ("sis_migrate.stages.extract", "extract"),
    "stage": ("sis_migrate.stages.stage", "stage"),
    "transform_core": ("sis_migrate.stages.unify", "transform_core"),
    "transform_facts": ("sis_migrate.stages.unify", "transform_facts"),
    "derive": ("sis_migrate.stages.derive", "derive"),
    "validate": ("sis_migrate.stages.validate", "validate"),
    "gather_validation": ("sis_migrate.stages.validate", "gather_validation"),
    "load": ("sis_migrate.stages.load", "load"),
    "reconcile": ("sis_migrate.stages.reconcile", "reconcile"),
    "validate_target": ("sis_migrate.stages.validate", "validate_target"),
    "report": ("sis_migrate.stages.report", "report"),
    "publish": ("sis_migrate.stages.publish", "publish"),
}


def stage_function(name: str) -> Callable[..., Any]:
    module, function = STAGES[name]
    return getattr(import_module(module), function)


def _mapped_detail(argument: Any) -> str:
    """What one mapped task instance works on (a table, a batch of entities), to name its timing."""
    if isinstance(argument, dict) and {"system", "table"} <= set(argument):
        return f"{argument['system']}.{argument['table']}"
    if isinstance(argument, dict) and argument.get("entities"):
        return f"batch-{argument['entities'][0]}"
    return ""


def run_stage(name: str, params: dict[str, Any] | None, *args: Any) -> Any:
    """Run one stage for the DAG: configuration from params, timing staged, only source errors retried."""
    from airflow.sdk.exceptions import AirflowFailException

    detail = _mapped_detail(args[0]) if args else ""
    task = f"{name}{'.' + detail if detail else ''}"
    cfg = None
    started = time.perf_counter()
    try:
        cfg = RunConfig.from_params(dict(params or {}), *_dag_run())
        fault_point(name, "start")
        result = stage_function(name)(cfg, *args)
        fault_point(name, "end")
    except Exception as err:
        if cfg is not None:
            record_failure(cfg, task, name, detail, err)
        if isinstance(err, MigrationError) and err.retryable:
            raise
        raise AirflowFailException(f"{group_of(err)}: {type(err).__name__}: {err}") from err
    cfg.staging_area().write_json(f"timings/{task}.json",
                                  {"stage": name, "detail": detail, "seconds": time.perf_counter() - started})
    json.dumps(result)  # XCom must be plain JSON: fail here, loudly, rather than in the XCom backend
    return result


def _dag_run() -> tuple[str, str]:
    """(dag id, DAG run id) of the running task; ('', '') when a stage is run outside a task (tests, tools)."""
    from airflow.sdk import get_current_context

    try:
        context = get_current_context()
    except RuntimeError:  # "no context was found": not inside an Airflow task
        return "", ""
    return context["dag"].dag_id, context["run_id"]


def failure_records(cfg: RunConfig) -> list:
    """Where a task's failure record goes: the run's attempt folder, else (staging unreachable, a missing
    bucket) the same path under the local ``work/failures/`` folder of the machine that ran the task."""
    from sis_migrate.locations import work_dir
    from sis_migrate.storage import Staging

    return [cfg.staging_area(), Staging(str(work_dir() / "failures"), cfg.run_id, cfg.attempt)]


def record_failure(cfg: RunConfig, task: str, stage: str, detail: str, err: BaseException) -> None:
    """Record ``errors/<task>.json`` for this failure (see :func:`failure_records`); if neither place
    can take it, keep no record.

    A retried task overwrites its record: what stays is its last failure. Each DAG run has its own
    attempt folder, so no record of an earlier run is read as this run's.
    """
    record = {"task": task, "stage": stage, "detail": detail, "group": group_of(err),
              "exit_code": exit_code_of(err), "error": type(err).__name__,
              "message": str(err) if isinstance(err, MigrationError) else ""}
    for place in failure_records(cfg):
        try:
            place.write_json(f"{ERRORS_PREFIX}{task}.json", record)
            return
        except Exception as unrecorded:  # noqa: BLE001 - the stage's own error is the one to raise
            log.warning("the failure of %s could not be recorded in %s (%s)", task, place.uri,
                        type(unrecorded).__name__)
