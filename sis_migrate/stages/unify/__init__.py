"""Unify: staged legacy rows to unified entities, with one fate for every legacy row.

Input: ``extract/`` parts and ``manifest.json``. Output: ``unified/<entity>/`` Parquet typed by
the unified schema (with lineage), ``quarantine/`` and ``merge/`` records, ``accounting/`` per
legacy table (rows in, loaded, merged, quarantined; by reason, column and school), and the
transform state the fact tables need.

:func:`transform_core` transforms the tables that need the whole table at once, in dependency
order; :func:`transform_facts` transforms one large table part by part (one parallel task each)
against the state the core left. Which table is which is declared in its mapping file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.progress import Progress
from sis_migrate.run_config import RunConfig
from sis_migrate.storage import Staging

# Tables transformed whole, in dependency order (a table's parents come before it).
CORE_TABLES: tuple[tuple[System, str], ...] = (
    (System.SIM, "SIM_SCHOOL"), (System.SIM, "SIM_STUDENT"), (System.SIM, "SIM_GUARDIAN"),
    (System.SIM, "SIM_ENROLLMENT"), (System.SIM, "SIM_INCIDENT"),
    (System.CIM, "cim_course"), (System.CIM, "cim_program"), (System.CIM, "cim_program_participation"),
    (System.CIM, "cim_assessment"), (System.CIM, "cim_assessment_result"),
    (System.GRADEBOOK, "Teacher"), (System.GRADEBOOK, "Course"), (System.GRADEBOOK, "Section"),
    (System.GRADEBOOK, "Assignment"),
    (System.VERIFY, "verify_enrollment_check"), (System.VERIFY, "verify_residency"), (System.VERIFY, "verify_consent"),
)
# The big tables: transformed chunk by chunk, one parallel task each, with the core's keys.
FACT_TABLES: tuple[tuple[System, str], ...] = (
    (System.GRADEBOOK, "Roster"), (System.GRADEBOOK, "Score"),
    (System.GRADEBOOK, "PeriodGrade"), (System.GRADEBOOK, "ClassAttendance"),
)
# Entities whose keys the fact tables check their references against.
FACT_PARENTS = ("student", "section", "gradebook_entry")


def _qualified(system: System | str, table: str) -> str:
    return f"{System(system).value}.{table}"


def _context(cfg: RunConfig):
    import pandas as pd

    from sis_migrate.mapping import default_mappings
    from sis_migrate.stages.unify.engine import Context
    from transforms.crosswalk import Crosswalk

    mappings = default_mappings()
    crosswalks = {
        name: Crosswalk.from_frame(pd.DataFrame({"legacy_code": list(cw.codes), "code_value": list(cw.codes.values())}),
                                   None)
        for name, cw in mappings.crosswalks.items()
    }
    return Context(schema=mappings.schema, crosswalks=crosswalks, school_year=cfg.school_year)


def field_specs(system: System, table_name: str):
    """The mapping of one legacy table as the transform's flat list of target fields."""
    from sis_migrate.mapping import default_mappings
    from sis_migrate.stages.unify.engine import FieldSpec

    table_mapping = default_mappings().table(system, table_name)
    if table_mapping is None:
        raise ConfigurationError(f"{system.value}.{table_name} has no mapping")
    specs = []
    for entity, fields in table_mapping.targets.items():
        for name, source in fields.items():
            if len(source.from_) != 1:
                raise ConfigurationError(f"{system.value}.{table_name} -> {entity}.{name}: the transform stage "
                                         "takes exactly one legacy column per field")
            specs.append(FieldSpec(entity, name, source.from_[0], source.transform_name, source.crosswalk,
                                   source.unknown_code_reason or "unmapped_code"))
    return specs


def _staged_frames(staging: Staging, system: System, table_name: str) -> Iterator:
    from sis_migrate.stages.extract import staged_prefix

    yield from staging.read_parts(staged_prefix(system.value, table_name))


def _whole_table(staging: Staging, system: System, table_name: str):
    import pandas as pd

    parts = list(_staged_frames(staging, system, table_name))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _write_result(staging: Staging, result, ctx, table: legacy.Table, part: int, run_id: str) -> None:
    from sis_migrate.schema import arrow_table
    from sis_migrate.stages.unify.engine import merge_records, quarantine_records

    name = _qualified(table.system, table.name)
    for entity_name, frame in result.entities.items():
        staging.write_arrow(f"unified/{entity_name}/{name}-{part:05d}.parquet",
                            arrow_table(ctx.schema.entity(entity_name), frame))
    if len(result.outcome.quarantined):
        staging.write_frame(f"quarantine/{name}/{part:05d}.parquet", quarantine_records(result, table, run_id))
    if len(result.outcome.merged):
        staging.write_frame(f"merge/{name}/{part:05d}.parquet", merge_records(result, run_id))


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


def _with_extract_fixes(accounting: dict[str, Any], scrubbed: dict[str, int]) -> dict[str, Any]:
    """Tier-2 values were emptied at extract (so they were never staged): count them with the fixes."""
    for column, count in scrubbed.items():
        key = f"ssn_scrubbed:{column}"
        accounting["fixes"][key] = accounting["fixes"].get(key, 0) + count
    accounting["fixes"] = dict(sorted(accounting["fixes"].items()))
    return accounting


def _primary_entity(specs, extra_entities: set[str], schema) -> str:
    """The entity whose rows stand one-to-one for the table's kept rows (what 'loaded' counts)."""
    for spec in specs:
        entity = schema.entity(spec.entity)
        if not entity.deduplicate and spec.entity not in extra_entities:
            return spec.entity
    raise ConfigurationError(f"no one-to-one entity among {sorted({s.entity for s in specs})}")


def transform_core(cfg: RunConfig, staged: dict[str, Any]) -> list[dict[str, str]]:
    """Transform the whole-table legacy tables in dependency order; stage keys for the fact tables."""
    from sis_migrate.stages.unify.engine import remember, transform_table

    staging = cfg.staging_area()
    staging.clear("unified/")
    staging.clear("quarantine/")
    staging.clear("merge/")
    staging.clear("accounting/")
    ctx = _context(cfg)
    extracted = staging.read_json("manifest.json")["tables"]
    for system, table_name in CORE_TABLES:
        table = legacy.table(system, table_name)
        specs = field_specs(system, table_name)
        started = time.perf_counter()
        result = transform_table(_whole_table(staging, system, table_name), table, specs, ctx)
        remember(result, specs, ctx)
        _after_core_table(table_name, result, ctx)
        _write_result(staging, result, ctx, table, 0, cfg.run_id)
        accounting = _with_extract_fixes(result.accounting(), extracted[_qualified(system, table_name)]["scrubbed"])
        accounting["primary_entity"] = _primary_entity(specs, _extra_entities(table_name), ctx.schema)
        staging.write_json(f"accounting/{_qualified(system, table_name)}.json", accounting)
        _log_table(table_name, accounting, time.perf_counter() - started)
    _write_lookups(staging, ctx)
    return [{"system": system.value, "table": table_name} for system, table_name in FACT_TABLES]


def _extra_entities(table_name: str) -> set[str]:
    return {"student_contact_association"} if table_name == "SIM_GUARDIAN" else set()


def _log_table(table_name: str, accounting: dict[str, Any], seconds: float) -> None:
    rate = accounting["rows_in"] / seconds if seconds > 0 else 0.0
    logging.getLogger(__name__).info(
        f"[transform] {table_name}: {accounting['rows_in']:,} in, {accounting['loaded']:,} loaded, "
        f"{accounting['merged']:,} merged, {accounting['quarantined']:,} quarantined "
        f"in {seconds:.1f}s ({rate:,.0f} rows/s)")


def _after_core_table(table_name: str, result, ctx) -> None:
    """Keep the school of every legacy section and assignment, for per-school accounting of the facts."""
    import pandas as pd

    every_row = pd.concat([result.outcome.kept, result.outcome.quarantined])
    if table_name == "Section":
        sections = every_row[["section.section_id", "section.school_id"]].dropna()
        ctx.school_of_section = pd.Series(sections["section.school_id"].to_numpy(),
                                          index=pd.Index(sections["section.section_id"].to_numpy()))
    elif table_name == "Assignment":
        entries = every_row[["gradebook_entry.gradebook_entry_identifier", "gradebook_entry.section_id"]].dropna()
        ctx.school_of_entry = pd.Series(
            entries["gradebook_entry.section_id"].map(ctx.school_of_section).to_numpy(),
            index=pd.Index(entries["gradebook_entry.gradebook_entry_identifier"].to_numpy()))


def _write_lookups(staging: Staging, ctx) -> None:
    import pandas as pd

    for entity in FACT_PARENTS:
        staging.write_frame(f"lookups/kept_{entity}.parquet", ctx.kept_keys[entity])
        staging.write_frame(f"lookups/quarantined_{entity}.parquet",
                            ctx.quarantined_keys.get(entity, ctx.kept_keys[entity].iloc[:0]))
    for name, series in (("student_key_map", ctx.student_key_map), ("school_of_section", ctx.school_of_section),
                         ("school_of_entry", ctx.school_of_entry)):
        series = series if series is not None else pd.Series(dtype="Int64")
        staging.write_frame(f"lookups/{name}.parquet",
                            pd.DataFrame({"key": series.index.to_numpy(), "value": series.to_numpy()}))


def _read_lookups(staging: Staging, ctx) -> None:
    import pandas as pd

    for entity in FACT_PARENTS:
        ctx.kept_keys[entity] = staging.read_frame(f"lookups/kept_{entity}.parquet")
        ctx.quarantined_keys[entity] = staging.read_frame(f"lookups/quarantined_{entity}.parquet")
    for name in ("student_key_map", "school_of_section", "school_of_entry"):
        frame = staging.read_frame(f"lookups/{name}.parquet")
        setattr(ctx, name, pd.Series(frame["value"].to_numpy(), index=pd.Index(frame["key"].to_numpy())))


def transform_facts(cfg: RunConfig, table: dict[str, str]) -> dict[str, Any]:
    """Transform one big table chunk by chunk against the core's keys: memory stays flat."""
    from sis_migrate.stages.unify.engine import transform_table

    system, table_name = System(table["system"]), table["table"]
    staging = cfg.staging_area()
    name = _qualified(system, table_name)
    for prefix in (f"quarantine/{name}/", f"merge/{name}/"):
        staging.clear(prefix)
    ctx = _context(cfg)
    _read_lookups(staging, ctx)
    legacy_table = legacy.table(system, table_name)
    specs = field_specs(system, table_name)
    accounting = None
    progress = Progress(f"transform {table_name}")
    for part, raw in enumerate(_staged_frames(staging, system, table_name)):
        result = transform_table(raw, legacy_table, specs, ctx)
        _write_result(staging, result, ctx, legacy_table, part, cfg.run_id)
        accounting = _add_accounting(accounting, result.accounting())
        progress.add(len(raw))
    progress.done()
    accounting = _with_extract_fixes(accounting, staging.read_json("manifest.json")["tables"][name]["scrubbed"])
    accounting["primary_entity"] = _primary_entity(specs, set(), ctx.schema)
    staging.write_json(f"accounting/{name}.json", accounting)
    return {"table": name, "rows_in": accounting["rows_in"], "loaded": accounting["loaded"],
            "quarantined": accounting["quarantined"]}
