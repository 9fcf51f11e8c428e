"""The only Airflow code outside ``dags/``: DAG params to a run configuration, timing, error to task outcome.

A DAG task calls :func:`run_stage` with a stage's name, the DAG run's params and the task's
inputs. The stage itself knows nothing of Airflow. Only a :class:`~sis_migrate.errors.SourceError`
is left to Airflow's retries (a source or target may be reachable again); a configuration error,
a data error or a bug fails the task at once, with its group and cause as the message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from sis_migrate.errors import group_of
from sis_migrate.run_config import RunConfig

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

    cfg = RunConfig.from_params(dict(params or {}))
    started = time.perf_counter()
    try:
        result = stage_function(name)(cfg, *args)
    except Exception as err:
        if getattr(err, "retryable", False):
            raise
        raise AirflowFailException(f"{group_of(err)}: {type(err).__name__}: {err}") from err
    detail = _mapped_detail(args[0]) if args else ""
    cfg.staging_area().write_json(f"timings/{name}{'.' + detail if detail else ''}.json",
                                  {"stage": name, "detail": detail, "seconds": time.perf_counter() - started})
    json.dumps(result)  # XCom must be plain JSON: fail here, loudly, rather than in the XCom backend
    return result
