"""Unify: staged legacy rows to unified entities, with one fate for every legacy row.

Input: ``extract/`` parts and ``manifest.json``. Output: ``unified/<entity>/`` Parquet typed by
the unified schema (with lineage), ``quarantine/`` and ``merge/`` records, ``accounting/`` per
legacy table (rows in, loaded, merged, quarantined; by reason, column and school), and the
transform state the fact tables need.

:func:`transform_core` transforms the tables that need the whole table at once, in dependency
order; :func:`transform_facts` transforms one large table part by part (one parallel task each)
against the state the core left. Which table is which (``process: whole | parts``), and in what
order the whole tables run (each after the tables it needs), comes from the mapping files.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sis_migrate import legacy
from sis_migrate.mapping import TableMapping, default_mappings
from sis_migrate.progress import Progress
from sis_migrate.run_config import RunConfig
from sis_migrate.storage import Staging

log = logging.getLogger(__name__)
# What derive reads of the state besides the unified data: the school of every section.
DERIVE_NEEDS = frozenset({"school_of:section"})


def context(cfg: RunConfig, state=None):
    """The transform context of a run: schema, code sets, school year, and the state so far (or a new one)."""
    from sis_migrate.stages.unify.engine import Context
    from sis_migrate.stages.unify.state import TransformState

    mappings = default_mappings()
    return Context(schema=mappings.schema, crosswalks=mappings.crosswalks, school_year=cfg.school_year,
                   state=state if state is not None else TransformState(), hash_key=cfg.hash_key)


def _staged_parts(staging: Staging, table: legacy.Table):
    from sis_migrate.stages.extract import staged_prefix

    yield from staging.read_parts(staged_prefix(table.system.value, table.name))


def _whole_table(staging: Staging, table: legacy.Table):
    import pandas as pd

    parts = list(_staged_parts(staging, table))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _write_result(staging: Staging, result, ctx, table: legacy.Table, part: int, run_id: str) -> None:
    from sis_migrate.schema import arrow_table
    from sis_migrate.stages.unify.engine import merge_records, quarantine_records

    for entity_name, frame in result.entities.items():
        staging.write_arrow(f"unified/{entity_name}/{table.qualified}-{part:05d}.parquet",
                            arrow_table(ctx.schema.entity(entity_name), frame))
    if len(result.outcome.quarantined):
        staging.write_frame(f"quarantine/{table.qualified}/{part:05d}.parquet",
                            quarantine_records(result, table, run_id))
    if len(result.outcome.merged):
        staging.write_frame(f"merge/{table.qualified}/{part:05d}.parquet", merge_records(result, run_id))


def _add_accounting(total: dict[str, Any] | None, part: dict[str, Any]) -> dict[str, Any]:
    if total is None:
        return part
    for key in ("rows_in", "loaded", "merged", "quarantined"):
        total[key] += part[key]
    for key in ("by_reason", "quarantined_by_column", "fixes", "rows_in_by_school"):
        for name, count in part[key].items():
            total[key][name] = total[key].get(name, 0) + count
    for school, fates in part["by_school"].items():
        for fate, count in fates.items():
            total["by_school"].setdefault(school, {})
            total["by_school"][school][fate] = total["by_school"][school].get(fate, 0) + count
    return total


def _write_accounting(staging: Staging, table: legacy.Table, mapping: TableMapping, accounting: dict[str, Any],
                      ctx) -> None:
    """The table's accounting, with the tier-2 values emptied at extract (never staged) counted among the fixes."""
    from sis_migrate.stages.unify.engine import primary_entity

    scrubbed = staging.read_json("manifest.json")["tables"][table.qualified]["scrubbed"]
    for column, count in scrubbed.items():
        key = f"ssn_scrubbed:{column}"
        accounting["fixes"][key] = accounting["fixes"].get(key, 0) + count
    accounting["fixes"] = dict(sorted(accounting["fixes"].items()))
    accounting["primary_entity"] = primary_entity(mapping, ctx.schema)
    staging.write_json(f"accounting/{table.qualified}.json", accounting)


def _log_table(table: legacy.Table, accounting: dict[str, Any], seconds: float) -> None:
    rate = accounting["rows_in"] / seconds if seconds > 0 else 0.0
    log.info("[transform] %s: %s in, %s loaded, %s merged, %s quarantined in %.1fs (%s rows/s)", table.name,
             f"{accounting['rows_in']:,}", f"{accounting['loaded']:,}", f"{accounting['merged']:,}",
             f"{accounting['quarantined']:,}", seconds, f"{rate:,.0f}")


def transform_core(cfg: RunConfig, staged: dict[str, Any]) -> list[dict[str, str]]:
    """Transform the whole tables in dependency order; stage the state the part-by-part tables need."""
    from sis_migrate.stages.unify.engine import transform_table

    staging = cfg.staging_area()
    for folder in ("unified/", "quarantine/", "merge/", "accounting/", "state/"):
        staging.clear(folder)
    mappings = default_mappings()
    ctx = context(cfg)
    in_parts, needs = [], set(DERIVE_NEEDS)
    for table, mapping in mappings.processing_order():
        if mapping.process == "parts":
            in_parts.append({"system": table.system.value, "table": table.name})
            needs |= mappings.needs(table, mapping)
            continue
        started = time.perf_counter()
        result = transform_table(_whole_table(staging, table), table, mapping, ctx)
        ctx.state.remember(result, mapping, ctx.schema)
        _write_result(staging, result, ctx, table, 0, cfg.run_id)
        accounting = result.accounting()
        _write_accounting(staging, table, mapping, accounting, ctx)
        _log_table(table, accounting, time.perf_counter() - started)
    ctx.state.save(staging, needs)
    return in_parts


def transform_facts(cfg: RunConfig, table: dict[str, str]) -> dict[str, Any]:
    """Transform one table processed in parts, part by part against the core's state: memory stays flat."""
    from sis_migrate.stages.unify.engine import transform_table
    from sis_migrate.stages.unify.state import TransformState

    legacy_table = legacy.table(table["system"], table["table"])
    staging = cfg.staging_area()
    for prefix in (f"quarantine/{legacy_table.qualified}/", f"merge/{legacy_table.qualified}/"):
        staging.clear(prefix)
    mapping = default_mappings().table(legacy_table.system, legacy_table.name)
    ctx = context(cfg, TransformState.load(staging))
    accounting = None
    progress = Progress(f"transform {legacy_table.name}")
    for part, raw in enumerate(_staged_parts(staging, legacy_table)):
        result = transform_table(raw, legacy_table, mapping, ctx)
        _write_result(staging, result, ctx, legacy_table, part, cfg.run_id)
        accounting = _add_accounting(accounting, result.accounting())
        progress.add(len(raw))
    progress.done()
    _write_accounting(staging, legacy_table, mapping, accounting, ctx)
    return {"table": legacy_table.qualified, "rows_in": accounting["rows_in"], "loaded": accounting["loaded"],
            "quarantined": accounting["quarantined"]}
