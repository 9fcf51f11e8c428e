"""Report: Data Docs, the migration report, the restricted steward worklist and the run summary.

Input: everything the run staged (manifest, accounting, validation results, timings, reconcile).
Output: ``report/`` (``report.html``/``report.json``, ``summary.txt``/``summary.json``,
``data_docs/``, ``restricted/steward_worklist.csv``). Only the worklist holds legacy keys.
"""

from __future__ import annotations

from typing import Any

from sis_migrate.run_config import RunConfig


def report(cfg: RunConfig, validated: dict[str, Any]) -> dict[str, Any]:
    """GX Data Docs, the migration report (HTML and JSON), the restricted steward worklist, the summary."""
    from sis_migrate.stages.report.migration_report import write_report, write_worklist
    from sis_migrate.stages.report.summary import write_summary
    from sis_migrate.stages.validate.data_docs import build_data_docs

    staging = cfg.staging_area()
    docs = build_data_docs(staging)
    written = write_report(staging)
    write_worklist(staging)  # restricted: its location is in the summary, its content is never logged
    return {**write_summary(staging, cfg), "report": written["html"], "data_docs": docs}
