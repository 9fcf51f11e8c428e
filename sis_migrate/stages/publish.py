"""Publish: the run's target and reports made the label's visible ones, together, as the last step.

Input: the run configuration (its attempt) once report has written everything under
``<staging>/<run id>/attempts/<attempt>/``. Output: the candidate target swapped in (marked with
the attempt), ``<staging>/<run id>/published.json`` naming the attempt whose reports describe it,
the label's other attempt folders removed, and the run's locks released.

Until this task, the label's previous target and the reports ``published.json`` points at stay
as they were. The target swap and the pointer are two writes in two places; the target is
swapped first, so a publish cut short between them leaves a new target whose attempt folder is
complete; :func:`settle` (this task's retry, or the next run's check task) points at it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sis_migrate.storage import ATTEMPTS_FOLDER, Staging

PUBLISHED = "published.json"
REPORT_HTML = "report/report.html"


def published_staging(location: str, run_id: str) -> Staging | None:
    """The attempt folder whose reports describe the label's published target, None if nothing is published."""
    pointer = Staging(location, run_id).run_store.read_optional(PUBLISHED)
    if not pointer:
        return None
    import json

    return Staging(location, run_id, json.loads(pointer)["attempt"])


def _point_at(cfg, attempt: str, target: str) -> None:
    import json

    staging = Staging(cfg.staging_location(), cfg.run_id, attempt)
    record = {"attempt": attempt, "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "target": target, "reports": f"{staging.uri}/report", "migration report": f"{staging.uri}/{REPORT_HTML}"}
    staging.run_store.write_bytes(PUBLISHED, json.dumps(record, indent=2, sort_keys=True).encode("utf-8"))


def settle(cfg) -> None:
    """If the published target came from an attempt the pointer does not name, and that attempt's
    report is complete (publish was cut short after the swap), point at it."""
    from sis_migrate.stages.load import Target, published_attempt

    target = Target(cfg.target_url(), cfg.run_id)
    attempt = published_attempt(target)
    current = published_staging(cfg.staging_location(), cfg.run_id)
    if attempt and (current is None or current.attempt != attempt):
        staging = Staging(cfg.staging_location(), cfg.run_id, attempt)
        if staging.store.exists(REPORT_HTML):
            _point_at(cfg, attempt, target.describe())


def _remove_other_attempts(cfg) -> list[str]:
    run_store = cfg.staging_area().run_store
    others = [name for name in run_store.child(ATTEMPTS_FOLDER).subfolders() if name != cfg.attempt]
    for name in others:
        run_store.delete(f"{ATTEMPTS_FOLDER}/{name}/")
    return others


def publish(cfg, validated: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """The stage: target swapped in, reports pointed at, older attempts removed, locks released."""
    from sis_migrate import locks
    from sis_migrate.errors import ConfigurationError
    from sis_migrate.faults import fault_point
    from sis_migrate.stages.load import Target, publish_target

    if not cfg.attempt:
        raise ConfigurationError("publish runs inside a DAG run: its attempt folder is what it publishes")
    holder = locks.holder_for(cfg)
    held = locks.holder_of(cfg)
    if held is None or not held.same_run(holder):
        raise ConfigurationError(f"run {cfg.run_id} no longer holds its staging lock "
                                 f"({held.describe() if held else 'nobody does'}): nothing was published")
    if not cfg.staging_area().store.exists(REPORT_HTML):
        raise ConfigurationError(f"no report at {cfg.staging_area().uri}/{REPORT_HTML}: nothing was published")
    target = Target(cfg.target_url(), cfg.run_id)
    swapped = publish_target(target, cfg.attempt)
    fault_point("publish", "after_swap")
    _point_at(cfg, cfg.attempt, target.describe())
    removed = _remove_other_attempts(cfg)
    locks.release(cfg, holder)
    return {"target": target.describe(), "attempt": cfg.attempt, "swapped": swapped,
            "reports": f"{cfg.staging_area().uri}/report", "attempts_removed": len(removed)}
