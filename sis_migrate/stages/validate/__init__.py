"""Validate: Great Expectations suites on the unified data (point 2) and inside the target (point 3).

Input: ``unified/`` Parquet (point 2) or the loaded target (point 3), the suites of
``expectations/``. Output: ``validation/<point>/`` results holding counts and rates only (never a
value), and a summary; a blocking failure stops the run (before anything loads, at point 2).
Point 1, the staged profile, runs in the stage step (:func:`.profile.profile_staged`).

The package, by concern: :mod:`.suites` (the suites, generated from the schema), :mod:`.context`
(GX Core), :mod:`.results` (value-free results and summaries), :mod:`.profile` (point 1),
:mod:`.unified` (point 2), :mod:`.target` (point 3), :mod:`.data_docs` (the one file context).
"""

from __future__ import annotations

from typing import Any

from sis_migrate.errors import ValidationFailed
from sis_migrate.run_config import RunConfig

VALIDATION_TASKS = 4


def validation_batches(schema) -> list[dict[str, list[str]]]:
    """The entities split into a few batches, one mapped validation task (one GX context) each."""
    names = list(schema.entities)
    return [{"entities": names[start::VALIDATION_TASKS]} for start in range(VALIDATION_TASKS)]


def _blocking(summary: dict[str, Any]) -> str:
    """Where the blocking failures of a summary are: ``entity.column`` (or ``entity.check``), no value."""
    return ", ".join(sorted({f"{f['entity']}.{f.get('column') or f['check']}" for f in summary["failures"]
                             if f["severity"] == "blocking"}))


def validate(cfg: RunConfig, batch: dict[str, list[str]]) -> dict[str, Any]:
    """Validation point 2, for some entities: their suites on the unified data, in this task's own GX context."""
    from sis_migrate.stages.validate.unified import validate_unified

    summary = validate_unified(cfg.staging_area(), entities=batch["entities"])
    return {"entities": len(batch["entities"]), "blocking_failures": summary["blocking_failures"],
            "warning_failures": summary["warning_failures"]}


def gather_validation(cfg: RunConfig, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of the unified validation; a blocking failure stops the run before anything loads."""
    from sis_migrate.stages.validate.results import gather_results

    summary = gather_results(cfg.staging_area(), "unified")
    if summary["blocking_failures"]:
        raise ValidationFailed(f"{summary['blocking_failures']} blocking expectation(s) failed on the unified "
                               f"data ({_blocking(summary)}); nothing was loaded. See report/data_docs of this run.")
    return {"blocking_failures": 0, "warning_failures": summary["warning_failures"]}


def validate_target(cfg: RunConfig, reconciled: dict[str, Any]) -> dict[str, Any]:
    """Validation point 3: the suites run inside the target (that it holds the unified data, reconcile showed)."""
    from sis_migrate.stages.load import candidate_target
    from sis_migrate.stages.validate.target import validate_target as run_target_validation

    target = candidate_target(cfg)  # what this run loaded, not yet published
    summary = run_target_validation(target.url, target.schema, cfg.staging_area())
    if summary["blocking_failures"]:
        raise ValidationFailed(f"{summary['blocking_failures']} blocking expectation(s) failed in the target "
                               f"({_blocking(summary)}); see validation/target/summary.json of this run.")
    return {"blocking_failures": 0, "warning_failures": summary["warning_failures"]}
