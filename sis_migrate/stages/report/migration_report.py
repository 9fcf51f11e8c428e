"""The migration report of a rehearsal (JSON + one static HTML page) and the steward worklist.

The report is for data stewards deciding whether the data is ready: rows by legacy table and by
target entity, merges and quarantines by reason and by school, validation failures (blocking
first), column disposition, seconds per stage, and the change since the previous rehearsal. It is
built only from what the run staged as counts (accounting, validation summaries, reconciliation,
timings), so it holds counts, rates, column names and school ids (institutions, not persons),
never a row value.
The HTML is self-contained: inline CSS, hand-made inline SVG charts, no script, no network.

The steward worklist is the one artifact that names legacy rows (their legacy keys), so a steward
can fix the record at the source. It goes only to ``report/restricted/`` in the staging area,
says RESTRICTED in its first line, is never logged, and every cell that a spreadsheet would read
as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html import escape
from typing import Any

from sis_migrate.storage import MissingFile, Staging, Store
from transforms.reasons import REASONS

REPORT_JSON, REPORT_HTML = "report/report.json", "report/report.html"
WORKLIST = "report/restricted/steward_worklist.csv"
WORKLIST_BANNER = ("# RESTRICTED - steward worklist: legacy keys of quarantined rows. Access-controlled; "
                   "do not copy, e-mail or attach. Counts only in logs and reports.")
WORKLIST_HEADER = ("legacy_system", "legacy_table", "key_columns", "key_values", "reason", "column_at_fault", "school")
KEY_SEPARATOR = "|"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUARANTINE_META = ("_reason", "_reason_column", "run_id", "_source_school")
TOP_SCHOOLS = 20


# --- gathering ---------------------------------------------------------------------------------

def _read_optional(staging: Staging, relpath: str) -> Any:
    """The staged JSON, or None when it was never written; an unreachable staging area still fails."""
    try:
        return staging.read_json(relpath)
    except MissingFile:
        return None


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0


def _accounting(staging: Staging) -> list[dict[str, Any]]:
    return [staging.read_json(path) for path in staging.list("accounting/") if path.endswith(".json")]


def _tables(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [{"table": f"{a['system']}.{a['table']}", "rows_in": a["rows_in"], "loaded": a["loaded"],
             "merged": a["merged"], "quarantined": a["quarantined"],
             "quarantine_rate": _rate(a["quarantined"], a["rows_in"])} for a in accounts]
    return sorted(rows, key=lambda row: row["table"])


def _reasons(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for account in accounts:
        table = f"{account['system']}.{account['table']}"
        for code, count in (account.get("by_reason") or {}).items():
            entry = found.setdefault(code, {"reason": code, "count": 0, "tables": {}})
            entry["count"] += count
            entry["tables"][table] = entry["tables"].get(table, 0) + count
        for key, count in (account.get("fixes") or {}).items():
            code, _, column = key.partition(":")
            entry = found.setdefault(code, {"reason": code, "count": 0, "tables": {}})
            entry["count"] += count
            where = f"{table}.{column}" if column else table
            entry["tables"][where] = entry["tables"].get(where, 0) + count
    for code, entry in found.items():
        known = REASONS.get(code)
        entry["disposition"] = known.disposition.value if known else "unknown"
        entry["description"] = known.description if known else ""
    order = {"quarantine": 0, "merge": 1, "fix": 2}
    return sorted(found.values(), key=lambda e: (order.get(e["disposition"], 3), -e["count"], e["reason"]))


def _schools(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    schools: dict[str, dict[str, int]] = {}
    for account in accounts:
        for school, rows_in in (account.get("rows_in_by_school") or {}).items():
            schools.setdefault(school, {"rows_in": 0, "loaded": 0, "merged": 0, "quarantined": 0})["rows_in"] += rows_in
        for school, fates in (account.get("by_school") or {}).items():
            entry = schools.setdefault(school, {"rows_in": 0, "loaded": 0, "merged": 0, "quarantined": 0})
            for fate in ("loaded", "merged", "quarantined"):
                entry[fate] += fates.get(fate, 0)
    rows = [{"school": school, **counts, "quarantine_rate": _rate(counts["quarantined"], counts["rows_in"])}
            for school, counts in schools.items()]
    return sorted(rows, key=lambda row: (-row["quarantine_rate"], -row["quarantined"], row["school"]))


def _entities(staging: Staging, unified: dict | None, reconciled: dict | None) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, Any]] = {}
    for path in staging.list("unified/"):
        if path.endswith(".parquet"):
            entity = path.split("/")[1]
            count = pq.ParquetFile(io.BytesIO(staging.read_bytes(path))).metadata.num_rows
            rows.setdefault(entity, {"entity": entity, "rows_unified": 0, "rows_target": None})
            rows[entity]["rows_unified"] += count
    for entity, entry in ((unified or {}).get("entities") or {}).items():
        rows.setdefault(entity, {"entity": entity, "rows_target": None})["rows_unified"] = entry["rows"]
    for entity, entry in ((reconciled or {}).get("entities") or {}).items():
        rows.setdefault(entity, {"entity": entity, "rows_unified": entry.get("rows_unified", 0)})
        rows[entity].update(rows_target=entry.get("rows_target"), checksum_match=entry.get("checksum_match"))
    return sorted(rows.values(), key=lambda row: row["entity"])


def _reconciliation(reconciled: dict | None) -> dict[str, Any] | None:
    """Whether the target holds every legacy row and the unified data (``reconcile.json``): names and counts."""
    if reconciled is None:
        return None
    return {key: reconciled.get(key) for key in ("balanced", "unreconciled_entities", "mismatches")}


def _timings(staging: Staging) -> list[dict[str, Any]]:
    by_stage: dict[str, float] = {}
    for path in staging.list("timings/"):
        if path.endswith(".json"):
            timing = staging.read_json(path)
            by_stage[timing["stage"]] = by_stage.get(timing["stage"], 0.0) + float(timing["seconds"])
    return [{"stage": stage, "seconds": round(seconds, 3)} for stage, seconds in by_stage.items()]


def _disposition() -> dict[str, Any]:
    from sis_migrate.stages.report.disposition import disposition_report

    report = disposition_report()
    return {"totals": report["totals"],
            "systems": {name: {"totals": system["totals"],
                               "tables": {table: entry["totals"] for table, entry in system["tables"].items()}}
                        for name, system in report["systems"].items()}}


def _validation(unified: dict | None, target: dict | None) -> dict[str, Any]:
    failures = [{**failure, "point": point} for point, summary in (("unified", unified), ("target", target))
                if summary for failure in summary.get("failures", [])]
    failures.sort(key=lambda f: (f["severity"] != "blocking", f["point"], -(f.get("unexpected_percent") or 0)))
    points = {point: {key: summary.get(key) for key in ("success", "blocking_failures", "warning_failures")
                      if key in summary}
              for point, summary in (("unified", unified), ("target", target)) if summary}
    return {"points": points, "failures": failures,
            "blocking_failures": sum(1 for f in failures if f["severity"] == "blocking"),
            "warning_failures": sum(1 for f in failures if f["severity"] != "blocking")}


# --- change since the previous rehearsal ---------------------------------------------------------

def _sibling_run_ids(staging: Staging) -> list[str]:
    """The run ids beside this one in the staging location (its folders, or common prefixes on S3)."""
    return Store(staging.location).subfolders()


def previous_report(staging: Staging, previous_staging: Staging | None = None) -> dict[str, Any] | None:
    """The previous rehearsal's report.json: of ``previous_staging``, else the newest other run's."""
    from sis_migrate.stages.publish import published_staging

    if previous_staging is not None:
        return _read_optional(previous_staging, REPORT_JSON)
    candidates = []
    for run_id in _sibling_run_ids(staging):
        if run_id == staging.run_id or run_id.startswith("."):
            continue
        # a DAG run's published attempt, or the run's own root when its stages ran outside Airflow
        found = _read_optional(published_staging(staging.location, run_id) or Staging(staging.location, run_id),
                               REPORT_JSON)
        if found:
            candidates.append(found)
    return max(candidates, key=lambda report: report.get("generated_at", "")) if candidates else None


def _delta(current: float | int | None, previous: float | int | None) -> dict[str, Any]:
    if current is None or previous is None:
        return {"current": current, "previous": previous, "change": None, "direction": "n/a"}
    change = round(current - previous, 3)
    return {"current": current, "previous": previous, "change": change,
            "direction": "up" if change > 0 else "down" if change < 0 else "same"}


def _change(report: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if not previous:
        return None
    headline = {key: _delta(value, previous.get("headline", {}).get(key))
                for key, value in report["headline"].items() if isinstance(value, (int, float))
                and not isinstance(value, bool)}
    before = {entry["reason"]: entry["count"] for entry in previous.get("reasons", [])}
    now = {entry["reason"]: entry["count"] for entry in report["reasons"]}
    reasons = {code: _delta(now.get(code, 0), before.get(code, 0)) for code in sorted(set(now) | set(before))}
    before_tables = {t["table"]: t for t in previous.get("tables", [])}
    tables = {t["table"]: _delta(t["quarantine_rate"], before_tables.get(t["table"], {}).get("quarantine_rate"))
              for t in report["tables"]}
    return {"previous_run_id": previous.get("run_id"), "headline": headline, "reasons": reasons,
            "quarantine_rate_by_table": tables}


# --- the report ----------------------------------------------------------------------------------

def build_report(staging: Staging, previous_staging: Staging | None = None) -> dict[str, Any]:
    """The report as one JSON-ready dict, from the run's staged accounting, validation and timings."""
    accounts = _accounting(staging)
    unified = _read_optional(staging, "validation/unified/summary.json")
    target_summary = _read_optional(staging, "validation/target/summary.json")
    reconciled = _read_optional(staging, "reconcile.json")
    tables = _tables(accounts)
    totals = {fate: sum(t[fate] for t in tables) for fate in ("rows_in", "loaded", "merged", "quarantined")}
    reasons = _reasons(accounts)
    validation = _validation(unified, target_summary)
    timings = _timings(staging)
    worklist_rows = sum(1 for _ in _quarantine_rows(staging))
    report = {
        "run_id": staging.run_id, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "headline": {**totals, "quarantine_rate": _rate(totals["quarantined"], totals["rows_in"]),
                     "fixes": sum(e["count"] for e in reasons if e["disposition"] == "fix"),
                     "blocking_failures": validation["blocking_failures"],
                     "warning_failures": validation["warning_failures"],
                     "seconds": round(sum(t["seconds"] for t in timings), 3), "worklist_rows": worklist_rows},
        "tables": tables, "entities": _entities(staging, unified, reconciled), "reasons": reasons,
        "schools": _schools(accounts), "validation": validation, "reconciliation": _reconciliation(reconciled),
        "disposition": _disposition(), "timings": timings,
    }
    report["change"] = _change(report, previous_report(staging, previous_staging))
    return report


def write_report(staging: Staging, previous_staging: Staging | None = None) -> dict[str, Any]:
    """Write ``report/report.json`` and ``report/report.html``; return the headline (counts only) and paths."""
    report = build_report(staging, previous_staging)
    staging.write_json(REPORT_JSON, report)
    staging.write_bytes(REPORT_HTML, render_html(report).encode("utf-8"))
    return {"headline": report["headline"], "json": f"{staging.uri}/{REPORT_JSON}",
            "html": f"{staging.uri}/{REPORT_HTML}",
            "previous_run_id": (report["change"] or {}).get("previous_run_id")}


def planted_mismatches(report: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Where a synthetic district's ground truth and the report disagree: one line per planted class.

    ``manifest`` is the generator's manifest: ``anomalies`` (code, system, table, column, count) and
    ``consequences`` ({code: {system.table: count}}). A quarantine or merge is counted per legacy
    table, a fix per table and column, as the report shows them. Empty when every class matches.
    """
    expected: dict[tuple[str, str], int] = {}
    for anomaly in manifest.get("anomalies", []):
        where = f"{anomaly['system']}.{anomaly['table']}"
        known = REASONS.get(anomaly["code"])
        if known and known.disposition.value == "fix" and anomaly.get("column"):
            where = f"{where}.{anomaly['column']}"
        expected[(anomaly["code"], where)] = expected.get((anomaly["code"], where), 0) + anomaly["count"]
    for code, tables in (manifest.get("consequences") or {}).items():
        for where, count in tables.items():
            expected[(code, where)] = expected.get((code, where), 0) + count
    reported = {(entry["reason"], where): count
                for entry in report["reasons"] for where, count in entry["tables"].items()}
    return [f"{code} in {where}: planted {count:,}, reported {reported.get((code, where), 0):,}"
            for (code, where), count in sorted(expected.items()) if reported.get((code, where), 0) != count]


# --- HTML ----------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1150px;color:#1d2733;
 padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #dde3ea;padding-bottom:.3rem}
.sub{color:#5b6b7c}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1.2rem 0}
.card{border:1px solid #dde3ea;border-radius:8px;padding:.7rem 1rem;min-width:150px;background:#f8fafc}
.card .v{font-size:1.6rem;font-weight:700}.card .k{color:#5b6b7c;font-size:.85rem}
.card.bad{border-color:#d64545;background:#fdf0f0}.card.good{border-color:#3c9a5f;background:#eff8f2}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
th,td{border-bottom:1px solid #e6ebf0;padding:.3rem .5rem;text-align:left}td.n,th.n{text-align:right}
tr.blocking td{background:#fdf0f0}.tag{border-radius:4px;padding:0 .4rem;font-size:.8rem}
.tag.blocking{background:#d64545;color:#fff}.tag.warning{background:#e8a33d;color:#fff}
.up{color:#b23a3a}.down{color:#2f7d4f}.same{color:#5b6b7c}svg text{font-size:12px;fill:#1d2733}
.note{color:#5b6b7c;font-size:.85rem}
"""
COLORS = {"loaded": "#3c9a5f", "merged": "#4a78c2", "quarantined": "#d64545", "bar": "#4a78c2"}


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _bar_chart(items: list[tuple[str, float]], title: str, unit: str = "", color: str = COLORS["bar"]) -> str:
    """A horizontal bar chart as inline SVG, one bar per (label, value)."""
    if not items:
        return f'<p class="note">{escape(title)}: nothing to show.</p>'
    width, label_w, bar_h = 900, 300, 22
    top = max(value for _, value in items) or 1
    rows = []
    for index, (label, value) in enumerate(items):
        y = index * (bar_h + 6) + 24
        length = (width - label_w - 110) * value / top
        rows.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{color}"/>'
                    f'<text x="{label_w + length + 6:.1f}" y="{y + 15}">{_n(value)}{escape(unit)}</text>')
    height = len(items) * (bar_h + 6) + 30
    return (f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>{"".join(rows)}</svg>')


def _stacked_chart(tables: list[dict[str, Any]]) -> str:
    """Rows of each legacy table as one bar split into loaded, merged and quarantined."""
    if not tables:
        return '<p class="note">No legacy table was accounted for.</p>'
    width, label_w, bar_h = 900, 260, 20
    top = max(t["rows_in"] for t in tables) or 1
    parts = []
    for index, table in enumerate(tables):
        y = index * (bar_h + 6) + 40
        x = label_w
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{escape(table["table"])}</text>')
        for fate in ("loaded", "merged", "quarantined"):
            length = (width - label_w - 100) * table[fate] / top
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{COLORS[fate]}">'
                         f'<title>{fate}: {table[fate]:,}</title></rect>')
            x += length
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}">{table["rows_in"]:,}</text>')
    legend = "".join(f'<rect x="{label_w + i * 120}" y="8" width="12" height="12" fill="{COLORS[f]}"/>'
                     f'<text x="{label_w + i * 120 + 16}" y="18">{f}</text>'
                     for i, f in enumerate(("loaded", "merged", "quarantined")))
    height = len(tables) * (bar_h + 6) + 50
    return (f'<svg role="img" aria-label="rows by legacy table" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{legend}{"".join(parts)}</svg>')


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None,
           row_classes: list[str] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for index, row in enumerate(rows):
        css = f' class="{row_classes[index]}"' if row_classes else ""
        cells = "".join(f'<td class="n">{_n(v)}</td>' if i in numeric else f"<td>{_cell(v)}</td>"
                        for i, v in enumerate(row))
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any) -> str:
    return value.html if isinstance(value, _Html) else _n(value)


class _Html(str):
    """Markup built here from escaped parts, placed in a cell as is."""

    @property
    def html(self) -> str:
        return str(self)


def _card(key: str, label: str, value: Any, state: str = "") -> str:
    return (f'<div class="card {state}"><div class="v" id="{key}">{_n(value)}</div>'
            f'<div class="k">{escape(label)}</div></div>')


def _arrow(delta: dict[str, Any], worse_when_up: bool = True) -> _Html:
    if delta["direction"] == "n/a":
        return _Html("-")
    sign = "+" if (delta["change"] or 0) > 0 else ""
    good = (delta["direction"] == "down") == worse_when_up if delta["direction"] != "same" else None
    css = "same" if good is None else ("down" if good else "up")
    symbol = {"up": "&#9650;", "down": "&#9660;", "same": "="}[delta["direction"]]
    return _Html(f'<span class="{css}">{symbol} {sign}{_n(delta["change"])}</span>')


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; no script, no external resource)."""
    head = report["headline"]
    validation = report["validation"]
    blocking = head["blocking_failures"]
    sections = [
        f"<h1>Migration rehearsal report</h1><p class='sub'>Run <b>{escape(report['run_id'])}</b>, generated "
        f"{escape(report['generated_at'])}. Counts, rates, column names and school ids only; no personal value.</p>",
        '<div class="cards">'
        + _card("rows-in", "legacy rows in", head["rows_in"]) + _card("loaded", "loaded", head["loaded"])
        + _card("merged", "merged", head["merged"]) + _card("quarantined", "quarantined", head["quarantined"])
        + _card("quarantine-rate", "quarantine rate %", head["quarantine_rate"])
        + _card("fixes", "fields fixed", head["fixes"])
        + _card("blocking-failures", "blocking failures", blocking, "bad" if blocking else "good")
        + _card("warning-failures", "warnings", head["warning_failures"])
        + _card("seconds", "seconds, all stages", head["seconds"]) + "</div>",
        "<h2>Validation: blocking failures first</h2>",
    ]
    if validation["failures"]:
        sections.append(_table(
            ["severity", "point", "entity", "check", "column", "rows failing", "rows checked", "% failing"],
            [[_Html(f'<span class="tag {escape(f["severity"])}">{escape(f["severity"])}</span>'), f["point"],
              f["entity"], f["check"] or f["expectation"], f["column"] or "", f["unexpected_count"],
              f["element_count"], f["unexpected_percent"]] for f in validation["failures"]],
            numeric={5, 6, 7}, row_classes=[f["severity"] for f in validation["failures"]]))
    else:
        sections.append("<p>Every expectation passed.</p>")
    points = validation["points"]
    if points:
        sections.append(_table(["validation point", "success", "blocking", "warnings"],
                               [[p, "yes" if v.get("success") else "NO", v.get("blocking_failures"),
                                 v.get("warning_failures")] for p, v in points.items()], numeric={2, 3}))
    change = report.get("change")
    sections.append("<h2>Change since the previous rehearsal</h2>")
    if change:
        sections.append(f"<p>Compared with run <b>{escape(str(change['previous_run_id']))}</b>.</p>")
        sections.append(_table(["figure", "previous", "now", "change"],
                               [[key, d["previous"], d["current"], _arrow(d, worse_when_up=key not in ("loaded",))]
                                for key, d in change["headline"].items()], numeric={1, 2}))
        sections.append(_table(["reason", "previous", "now", "change"],
                               [[code, d["previous"], d["current"], _arrow(d)]
                                for code, d in change["reasons"].items()], numeric={1, 2}))
    else:
        sections.append('<p class="note">No previous rehearsal report was found.</p>')
    tables = report["tables"]
    sections += ["<h2>Rows by legacy table</h2>", _stacked_chart(tables),
                 _table(["legacy table", "rows in", "loaded", "merged", "quarantined", "quarantine %"],
                        [[t["table"], t["rows_in"], t["loaded"], t["merged"], t["quarantined"], t["quarantine_rate"]]
                         for t in tables], numeric={1, 2, 3, 4, 5})]
    entities = report["entities"]
    sections += ["<h2>Rows by target entity</h2>",
                 _bar_chart([(e["entity"], e["rows_unified"] or 0) for e in entities], "rows per entity (unified)"),
                 _table(["entity", "unified rows", "target rows", "checksums match"],
                        [[e["entity"], e.get("rows_unified"), e.get("rows_target"),
                          {True: "yes", False: "NO"}.get(e.get("checksum_match"), "-")] for e in entities],
                        numeric={1, 2})]
    reconciliation = report.get("reconciliation")
    if reconciliation and reconciliation["balanced"]:
        sections.append("<p>Reconciled: every legacy row is accounted for in the target, and every entity's rows "
                        "and natural-key checksums equal the unified data's, school by school.</p>")
    elif reconciliation:
        sections.append("<p><b>Not reconciled:</b></p><ul>"
                        + "".join(f"<li>{escape(line)}</li>" for line in reconciliation["mismatches"]) + "</ul>")
    reasons = report["reasons"]
    sections += ["<h2>Merged, quarantined and fixed, by reason</h2>",
                 _bar_chart([(r["reason"], r["count"]) for r in reasons if r["disposition"] != "fix"],
                            "rows merged or quarantined, by reason", color=COLORS["quarantined"]),
                 _table(["reason", "disposition", "rows", "where", "meaning"],
                        [[r["reason"], r["disposition"], r["count"],
                          ", ".join(f"{where}: {count:,}" for where, count in sorted(r["tables"].items())),
                          r["description"]] for r in reasons], numeric={2})]
    top = report["schools"][:TOP_SCHOOLS]
    sections += [f"<h2>Schools by quarantine rate (top {len(top)} of {len(report['schools'])})</h2>",
                 _bar_chart([(s["school"], s["quarantine_rate"]) for s in top], "quarantine rate by school", "%",
                            COLORS["quarantined"]),
                 _table(["school", "rows in", "loaded", "merged", "quarantined", "quarantine %"],
                        [[s["school"], s["rows_in"], s["loaded"], s["merged"], s["quarantined"], s["quarantine_rate"]]
                         for s in top], numeric={1, 2, 3, 4, 5})]
    disposition = report["disposition"]
    totals = disposition["totals"]
    sections += ["<h2>Column disposition</h2>",
                 f"<p>{totals['columns']:,} legacy columns in {totals['tables']} tables: {totals['mapped']:,} mapped, "
                 f"{totals['ignored']:,} ignored, {totals['denied']:,} denied (tier 1, never read), "
                 f"{totals['unclassified']:,} unclassified.</p>",
                 _table(["system", "table", "columns", "mapped", "ignored", "denied"],
                        [[system, table, t["columns"], t["mapped"], t["ignored"], t["denied"]]
                         for system, entry in disposition["systems"].items() for table, t in entry["tables"].items()],
                        numeric={2, 3, 4, 5})]
    timings = sorted(report["timings"], key=lambda t: -t["seconds"])
    sections += ["<h2>Seconds per stage</h2>",
                 _bar_chart([(t["stage"], t["seconds"]) for t in timings], "seconds per stage", " s")]
    sections.append(f'<p class="note">The steward worklist ({head["worklist_rows"]:,} quarantined rows with their '
                    "legacy keys) is a separate, restricted file in the staging area; it is not linked here.</p>")
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            "img-src data:\">"
            f"<title>Migration report {escape(report['run_id'])}</title><style>{CSS}</style></head><body>"
            + "\n".join(sections) + "</body></html>\n")


# --- steward worklist ----------------------------------------------------------------------------

def neutralise(value: Any) -> str:
    """A cell a spreadsheet will not run: a leading =, +, -, @, tab or CR gets a single quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _quarantine_rows(staging: Staging):
    for path in staging.list("quarantine/"):
        if not path.endswith(".parquet"):
            continue
        system, _, table = path.split("/")[1].partition(".")
        frame = staging.read_frame(path)
        keys = [column for column in frame.columns if column not in QUARANTINE_META]
        frame = frame.astype(object).where(frame.notna(), None)
        for record in frame.to_dict("records"):
            values = KEY_SEPARATOR.join("" if record[key] is None else str(record[key]) for key in keys)
            yield (system, table, KEY_SEPARATOR.join(keys), values, record.get("_reason"),
                   record.get("_reason_column"), record.get("_source_school"))


def write_worklist(staging: Staging) -> str:
    """Write ``report/restricted/steward_worklist.csv`` (quarantined rows with their legacy keys); return its location.

    Restricted: never logged, never linked from the report; the first line says so. Every cell is
    neutralised against spreadsheet formula injection.
    """
    buffer = io.StringIO()
    buffer.write(WORKLIST_BANNER + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(WORKLIST_HEADER)
    for row in _quarantine_rows(staging):
        writer.writerow([neutralise(value) for value in row])
    staging.write_bytes(WORKLIST, buffer.getvalue().encode("utf-8"))
    return f"{staging.uri}/{WORKLIST}"
