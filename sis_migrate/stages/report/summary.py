"""The run summary the migration team reads first: rows per entity, merged, quarantined by reason,
seconds per stage, and where the target, staging and reports are. Counts only, never a value."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sis_migrate.run_config import RunConfig
from sis_migrate.storage import Staging


def build_summary(staging: Staging, cfg: RunConfig) -> dict[str, Any]:
    """The terminal's view of the run: the figures of ``report/report.json``, which the report task
    computed from the staged accounting, unified data and timings, so nothing is counted twice."""
    from sis_migrate.stages.load import Target
    from sis_migrate.stages.report.migration_report import REPORT_JSON

    report = staging.read_json(REPORT_JSON)
    fixes: Counter[str] = Counter()
    for reason in report["reasons"]:
        if reason["disposition"] == "fix":
            for where, count in reason["tables"].items():  # "<system>.<table>.<column>"
                fixes[f"{reason['reason']}:{where.rsplit('.', 1)[1]}"] += count
    reconcile = staging.read_json("reconcile.json") if "reconcile.json" in staging.list() else {}
    return {
        "run_id": cfg.run_id,
        "school_year": cfg.school_year,
        "balanced": reconcile.get("balanced"),
        "tables": {t["table"]: {k: t[k] for k in ("rows_in", "loaded", "merged", "quarantined")}
                   for t in report["tables"]},
        "entities": {e["entity"]: e["rows_unified"] for e in sorted(report["entities"], key=lambda e: e["entity"])},
        "by_reason": {r["reason"]: r["count"] for r in sorted(report["reasons"], key=lambda r: r["reason"])
                      if r["disposition"] != "fix"},
        "fixes": dict(sorted(fixes.items())),
        "seconds_per_stage": {t["stage"]: round(t["seconds"], 2) for t in report["timings"]},
        "paths": {"staging": staging.uri, "target": Target(cfg.target_url(), cfg.run_id).describe(),
                  "reports": f"{staging.uri}/report",
                  "migration report": f"{staging.uri}/report/report.html",
                  "data docs": f"{staging.uri}/report/data_docs/index.html",
                  "steward worklist (RESTRICTED)": f"{staging.uri}/report/restricted/steward_worklist.csv"},
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as plain-text tables for a terminal."""
    lines = [f"Rehearsal {summary['run_id']} ({summary['school_year']}): "
             f"{'balanced' if summary['balanced'] else 'NOT balanced'}", "",
             f"{'legacy table':<36}{'rows in':>12}{'loaded':>12}{'merged':>10}{'quarantined':>13}"]
    for name, t in summary["tables"].items():
        lines.append(f"{name:<36}{t['rows_in']:>12,}{t['loaded']:>12,}{t['merged']:>10,}{t['quarantined']:>13,}")
    lines += ["", f"{'target entity':<44}{'rows':>12}"]
    lines += [f"{name:<44}{rows:>12,}" for name, rows in summary["entities"].items()]
    lines += ["", f"{'merged or quarantined, by reason':<44}{'rows':>12}"]
    lines += [f"{reason:<44}{rows:>12,}" for reason, rows in summary["by_reason"].items()]
    if summary["fixes"]:
        lines += ["", f"{'fields fixed (reason:column)':<44}{'values':>12}"]
        lines += [f"{fix:<44}{count:>12,}" for fix, count in summary["fixes"].items()]
    lines += ["", f"{'stage':<44}{'seconds':>12}"]
    lines += [f"{stage:<44}{seconds:>12.1f}" for stage, seconds in summary["seconds_per_stage"].items()]
    lines += ["", *(f"{what}: {where}" for what, where in summary["paths"].items())]
    return "\n".join(lines)


def write_summary(staging: Staging, cfg: RunConfig) -> dict[str, Any]:
    summary = build_summary(staging, cfg)
    staging.write_json("report/summary.json", summary)
    staging.write_bytes("report/summary.txt", format_summary(summary).encode("utf-8"))
    return {"summary": "report/summary.json", "balanced": summary["balanced"],
            "reports": summary["paths"]["reports"]}
