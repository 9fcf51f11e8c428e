"""The column-disposition report: every legacy column and its fate, for people who review the migration.

By system and table, each column is mapped (to which ``entity.field``), ignored (and why) or
denied (its category and the policy reason), with totals. Markdown for reading, JSON for tools.
It is built from the configuration alone and holds no row value.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from sis_migrate import legacy
from sis_migrate.mapping import DenyList, Mappings, default_deny_list, default_mappings, fates

FATES = ("mapped", "ignored", "denied", "unclassified")
REPORT_NAME = "column_disposition"


@dataclass(frozen=True)
class ColumnDisposition:
    system: str
    table: str
    column: str
    sql_type: str
    fate: str  # one of FATES; "unclassified" or a joined list only when the closed world is broken
    targets: tuple[str, ...] = ()  # entity.field names, when mapped
    category: str | None = None  # when denied
    reason: str | None = None  # when ignored or denied


def column_dispositions(mappings: Mappings | None = None, deny_list: DenyList | None = None) -> list[ColumnDisposition]:
    """One row per column of every legacy table, in catalog order."""
    mappings = mappings or default_mappings()
    deny_list = deny_list or default_deny_list()
    rows = []
    for table in legacy.TABLES.values():
        table_mapping = mappings.table(table.system, table.name)
        denied = deny_list.columns_of(table.system, table.name)
        table_fates = fates(mappings, deny_list, table.system, table.name)
        for column in table.columns:
            given = table_fates.get(column.name, [])
            fate = "+".join(given) if given else "unclassified"
            targets, category, reason = (), None, None
            if "mapped" in given:
                targets = tuple(table_mapping.targets_of(column.name))
            if "ignored" in given:
                reason = table_mapping.ignored[column.name]
            if "denied" in given:
                category, reason = denied[column.name].category, denied[column.name].reason
            rows.append(ColumnDisposition(table.system.value, table.name, column.name, column.sql_type, fate,
                                          targets, category, reason))
    return rows


def _totals(rows: list[ColumnDisposition]) -> dict[str, int]:
    counts = Counter(row.fate for row in rows)
    totals = {fate: counts.get(fate, 0) for fate in FATES}
    totals.update({fate: count for fate, count in counts.items() if fate not in FATES})
    return {"columns": len(rows), **totals}


def disposition_report(mappings: Mappings | None = None, deny_list: DenyList | None = None) -> dict:
    """The report as one JSON-ready structure: totals, then systems -> tables -> columns."""
    rows = column_dispositions(mappings, deny_list)
    systems: dict[str, dict] = {}
    for row in rows:
        system = systems.setdefault(row.system, {"tables": {}})
        system["tables"].setdefault(row.table, {"columns": []})["columns"].append(
            {key: value for key, value in asdict(row).items() if key not in ("system", "table")})
    for name, system in systems.items():
        system_rows = [row for row in rows if row.system == name]
        system["totals"] = _totals(system_rows)
        system["table_count"] = len(system["tables"])
        for table_name, table in system["tables"].items():
            table["totals"] = _totals([row for row in system_rows if row.table == table_name])
    return {"totals": {"tables": len(legacy.TABLES), **_totals(rows)}, "systems": systems}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict) -> str:
    """The report as Markdown: a totals table, then one table of columns per legacy table."""
    totals = report["totals"]
    lines = ["# Column disposition", "",
             "Every column of every legacy table and its fate: mapped to the unified schema, ignored "
             "(not needed), or denied (tier 1: never read). Configuration only; no data values.", "",
             "| system | tables | columns | mapped | ignored | denied | unclassified |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, system in report["systems"].items():
        t = system["totals"]
        lines.append(f"| {name} | {system['table_count']} | {t['columns']} | {t['mapped']} | {t['ignored']} | "
                     f"{t['denied']} | {t['unclassified']} |")
    lines += [f"| **all** | {totals['tables']} | {totals['columns']} | {totals['mapped']} | {totals['ignored']} | "
              f"{totals['denied']} | {totals['unclassified']} |", ""]
    for name, system in report["systems"].items():
        for table_name, table in system["tables"].items():
            t = table["totals"]
            lines += [f"## {name}.{table_name}", "",
                      f"{t['columns']} columns: {t['mapped']} mapped, {t['ignored']} ignored, {t['denied']} denied.",
                      "", "| column | type | fate | where / why |", "|---|---|---|---|"]
            for column in table["columns"]:
                if column["fate"] == "mapped":
                    detail = ", ".join(f"`{target}`" for target in column["targets"])
                elif column["fate"] == "denied":
                    detail = f"**{column['category']}**: {column['reason']}"
                else:
                    detail = column["reason"] or "NOT CLASSIFIED"
                lines.append(f"| {column['column']} | {column['sql_type']} | {column['fate']} | {_cell(detail)} |")
            lines.append("")
    return "\n".join(lines)


def disposition_markdown(mappings: Mappings | None = None, deny_list: DenyList | None = None) -> str:
    """The Markdown report text of the given (default: the project's) configuration."""
    return render_markdown(disposition_report(mappings, deny_list))


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def write_disposition_report(out_dir: Path | str, mappings: Mappings | None = None,
                             deny_list: DenyList | None = None) -> tuple[Path, Path]:
    """Write ``column_disposition.md`` and ``column_disposition.json`` into ``out_dir``; return both paths."""
    report = disposition_report(mappings, deny_list)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, as_json = out_dir / f"{REPORT_NAME}.md", out_dir / f"{REPORT_NAME}.json"
    markdown.write_text(render_markdown(report), encoding="utf-8")
    as_json.write_text(render_json(report), encoding="utf-8")
    return markdown, as_json
