"""The stages of a rehearsal, as functions of a run configuration: what the DAG's tasks call.

Each stage reads what earlier stages staged under ``<staging>/<run id>/`` and returns a small
JSON-able dict (counts and staged paths, never row values) that Airflow passes on as XCom.
:func:`run_stage` is the one entry point: it builds the configuration from the DAG params, times
the stage, and turns errors that retrying cannot fix into a failed task without retries.

Staging layout (relative to the run's root):
    manifest.json                                  rows, columns, SHA-256 per file, config hash
    extract/<system>/<table>/part-NNNNN.parquet    legacy rows, mapped columns only
    unified/<entity>/<system>.<table>-NNNNN.parquet
    quarantine/<system>.<table>/NNNNN.parquet      legacy key, reason, column at fault
    merge/<system>.<table>/NNNNN.parquet           legacy key, survivor key, reason
    accounting/<system>.<table>.json               rows in / loaded / merged / quarantined, per school
    lookups/*.parquet                              keys the parallel fact tasks need
    timings/<stage>.json, reconcile.json, report/
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, MigrationError, RowDataError
from sis_migrate.legacy import System
from sis_migrate.locations import PROJECT_ROOT, redact_url
from sis_migrate.progress import Progress
from sis_migrate.run_config import RunConfig
from sis_migrate.staging import Staging

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
CONFIG_DIRS = ("mappings", "expectations")
VALIDATION_TASKS = 4


class ReconciliationError(MigrationError):
    """Rows in differ from rows loaded + merged + quarantined for a table (and school)."""


class ValidationFailed(ConfigurationError):
    """A blocking expectation failed: the data, not the run, must change before go-live."""


def _staging(cfg: RunConfig) -> Staging:
    return Staging(cfg.staging_location(), cfg.run_id)


def _qualified(system: System | str, table: str) -> str:
    return f"{System(system).value}.{table}"


# --- check mappings ------------------------------------------------------------------------------

def check_mappings(cfg: RunConfig) -> list[dict[str, str]]:
    """Closed world against the live sources before any row is read; a fresh staging area for the run."""
    from sis_migrate.commands.check_mappings import read_live_columns
    from sis_migrate.mapping import check_closed_world, default_deny_list, default_mappings

    problems = check_closed_world(default_mappings(), default_deny_list(), read_live_columns(cfg.locations()))
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise ConfigurationError(f"the closed world does not hold ({len(problems)} problem(s)); "
                                 f"no row is read until every column has one fate:\n{listed}")
    _staging(cfg).clear()  # re-running a run id replaces its own results
    return [{"system": table.system.value, "table": table.name} for table in legacy.TABLES.values()]


# --- extract and stage ------------------------------------------------------------------------------

def extract(cfg: RunConfig, table: dict[str, str]) -> dict[str, Any]:
    from sis_migrate.extract import extract_table

    progress = Progress(f"extract {table['system']}.{table['table']}")
    result = extract_table(cfg.locations(), table["system"], table["table"], _staging(cfg), cfg.chunk_rows, progress)
    progress.done()
    return {"system": result.system, "table": result.table, "rows": result.rows, "columns": result.columns,
            "files": result.files, "source_file": result.source_file, "scrubbed": result.scrubbed}


def config_hash() -> str:
    """SHA-256 over every mapping and expectation file: which rules this run applied."""
    digest = hashlib.sha256()
    for folder in CONFIG_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def stage(cfg: RunConfig, extracted: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the run manifest: rows, columns and SHA-256 of every staged file, and the config hash."""
    tables = {_qualified(r["system"], r["table"]): {key: r[key] for key in ("rows", "columns", "files",
                                                                             "source_file", "scrubbed")}
              for r in sorted(extracted, key=lambda r: (r["system"], r["table"]))}
    missing = sorted({_qualified(t.system, t.name) for t in legacy.TABLES.values()} - set(tables))
    if missing:
        raise ConfigurationError(f"extract results are missing for {', '.join(missing)}")
    manifest = {
        "run_id": cfg.run_id, "school_year": cfg.school_year, "staged_at": datetime.now(UTC).isoformat(),
        "config_hash": config_hash(), "tables": tables,
        "sources": {s.value: redact_url(cfg.locations().url(s)) for s in System},
        "target": redact_url(cfg.target_url()),
    }
    staging = _staging(cfg)
    staging.write_json("manifest.json", manifest)
    from sis_migrate.validation import profile_staged

    profile_staged(staging)  # validation point 1: a value-free profile of each staged source table
    return {"manifest": "manifest.json", "rows": sum(t["rows"] for t in tables.values()), "tables": len(tables)}


# --- transform --------------------------------------------------------------------------------------

def _context(cfg: RunConfig):
    import pandas as pd

    from sis_migrate.mapping import default_mappings
    from sis_migrate.unify import Context
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
    from sis_migrate.unify import FieldSpec

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
    from sis_migrate.extract import staged_prefix

    yield from staging.read_parts(staged_prefix(system.value, table_name))


def _whole_table(staging: Staging, system: System, table_name: str):
    import pandas as pd

    parts = list(_staged_frames(staging, system, table_name))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _entity_arrow(frame, entity):
    """Arrow table of an entity frame typed by the unified schema, so all parts of an entity agree."""
    import pyarrow as pa

    from sis_migrate.unify import LINEAGE

    arrays, names = [], []
    for field in entity.fields:
        arrays.append(_typed(frame[field.name], field.type))
        names.append(field.name)
    for name in LINEAGE:
        arrays.append(pa.array(frame[name].astype("string"), pa.string()))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _typed(series, type_name: str):
    import pandas as pd
    import pyarrow as pa

    if type_name.startswith("string"):
        return pa.array(series.astype("string"), pa.string())
    if type_name in {"int", "bigint"}:
        return pa.array(pd.array(series, dtype="Int64"), pa.int64())
    if type_name.startswith("decimal"):
        return pa.array(pd.array(series, dtype="Float64"), pa.float64())
    if type_name == "bool":
        return pa.array(pd.array(series, dtype="boolean"), pa.bool_())
    moments = pd.to_datetime(series).astype("datetime64[s]") if len(series) else series.astype("datetime64[s]")
    stamps = pa.array(moments, pa.timestamp("s"))
    return stamps.cast(pa.date32()) if type_name == "date" else stamps


def _write_result(staging: Staging, result, ctx, table: legacy.Table, part: int, run_id: str) -> None:
    from sis_migrate.unify import merge_records, quarantine_records

    name = _qualified(table.system, table.name)
    for entity_name, frame in result.entities.items():
        staging.write_arrow(f"unified/{entity_name}/{name}-{part:05d}.parquet",
                            _entity_arrow(frame, ctx.schema.entity(entity_name)))
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
    from sis_migrate.unify import remember, transform_table

    staging = _staging(cfg)
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
    print(f"[transform] {table_name}: {accounting['rows_in']:,} in, {accounting['loaded']:,} loaded, "
          f"{accounting['merged']:,} merged, {accounting['quarantined']:,} quarantined "
          f"in {seconds:.1f}s ({rate:,.0f} rows/s)", flush=True)


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
    from sis_migrate.unify import transform_table

    system, table_name = System(table["system"]), table["table"]
    staging = _staging(cfg)
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


# --- derive ---------------------------------------------------------------------------------------

def derive(cfg: RunConfig, facts: list[dict[str, Any]]) -> dict[str, Any]:
    """Entities the legacy systems do not hold as rows: daily school attendance and the descriptors."""
    import pandas as pd

    from sis_migrate.mapping import default_mappings
    from transforms.attendance import daily_attendance

    staging = _staging(cfg)
    schema = default_mappings().schema
    events = [staging.read_frame(path, ["student_unique_id", "section_id", "event_date",
                                        "attendance_event_category_descriptor"])
              for path in staging.list("unified/student_section_attendance_event/")]
    school_of_section = staging.read_frame("lookups/school_of_section.parquet")
    days = daily_attendance(pd.concat(events, ignore_index=True) if events else pd.DataFrame(
        columns=["student_unique_id", "section_id", "event_date", "attendance_event_category_descriptor"]),
        pd.Series(school_of_section["value"].to_numpy(), index=pd.Index(school_of_section["key"].to_numpy())),
        cfg.school_year)
    days = days.assign(_source_table=pd.NA, _source_key=pd.NA, _source_school=days["school_id"])
    staging.write_arrow("unified/student_school_attendance_event/derived.parquet",
                        _entity_arrow(days, schema.entity("student_school_attendance_event")))
    mappings = default_mappings()
    descriptors = pd.DataFrame([
        {"namespace": crosswalk.namespace, "code_value": value,
         "description": next(r.description for r in crosswalk.rows if r.code_value == value) or None}
        for crosswalk in mappings.crosswalks.values() for value in crosswalk.code_values
    ]).drop_duplicates(["namespace", "code_value"])
    descriptors = descriptors.assign(_source_table=pd.NA, _source_key=pd.NA, _source_school=pd.NA)
    staging.write_arrow("unified/descriptor/derived.parquet", _entity_arrow(descriptors, schema.entity("descriptor")))
    print(f"[derive] {len(days):,} school attendance days, {len(descriptors):,} descriptors", flush=True)
    return validation_batches(schema)


def validation_batches(schema) -> list[dict[str, list[str]]]:
    """The entities split into a few batches, one mapped validation task (one GX context) each."""
    names = list(schema.entities)
    return [{"entities": names[start::VALIDATION_TASKS]} for start in range(VALIDATION_TASKS)]


# --- validate, load, reconcile, report ------------------------------------------------------------

def validate(cfg: RunConfig, batch: dict[str, list[str]]) -> dict[str, Any]:
    """Validation point 2, for some entities: their suites on the unified data, in this task's own GX context."""
    from sis_migrate.validation import validate_unified

    summary = validate_unified(_staging(cfg), entities=batch["entities"])
    return {"entities": len(batch["entities"]), "blocking_failures": summary["blocking_failures"],
            "warning_failures": summary["warning_failures"]}


def gather_validation(cfg: RunConfig, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of the unified validation; a blocking failure stops the run before anything loads."""
    from sis_migrate.validation import gather_results

    summary = gather_results(_staging(cfg), "unified")
    if summary["blocking_failures"]:
        failed = ", ".join(sorted({f"{f['entity']}.{f.get('column') or f['check']}" for f in summary["failures"]
                                   if f["severity"] == "blocking"}))
        raise ValidationFailed(f"{summary['blocking_failures']} blocking expectation(s) failed on the unified "
                               f"data ({failed}); nothing was loaded. See report/data_docs of this run.")
    return {"blocking_failures": 0, "warning_failures": summary["warning_failures"]}


def target_metadata():
    """The unified schema's tables plus lineage: where each loaded row came from, and its school."""
    from sqlalchemy import Column, String

    from sis_migrate.schema import MERGE_TABLE, build_metadata
    from sis_migrate.unify import LINEAGE, SOURCE_SCHOOL

    metadata = build_metadata()
    for table in metadata.tables.values():
        if table.name.startswith("quarantine_") or table.name == MERGE_TABLE:
            table.append_column(Column(SOURCE_SCHOOL, String(16), nullable=True))
        else:
            for name in LINEAGE:
                table.append_column(Column(name, String(200), nullable=True))
    return metadata


def _parts_of(staging: Staging) -> Callable[[str], Iterator]:
    from sis_migrate.schema import MERGE_TABLE, quarantine_table_name

    quarantine_folders = {quarantine_table_name(t.system, t.name): f"quarantine/{_qualified(t.system, t.name)}/"
                          for t in legacy.TABLES.values()}

    def parts(table_name: str) -> Iterator:
        folder = (quarantine_folders.get(table_name)
                  or ("merge/" if table_name == MERGE_TABLE else f"unified/{table_name}/"))
        for path in staging.list(folder):
            if path.endswith(".parquet"):
                yield staging.read_arrow(path)

    return parts


def load(cfg: RunConfig, validated: dict[str, Any]) -> dict[str, Any]:
    from sis_migrate.load import Target, load_tables

    target = Target(cfg.target_url(), cfg.run_id)
    loaded = load_tables(target, target_metadata(), _parts_of(_staging(cfg)))
    return {"target": target.describe(), "rows": sum(loaded.values()), "tables": loaded}


def reconcile(cfg: RunConfig, loaded: dict[str, Any]) -> dict[str, Any]:
    """Per legacy table and school, from the target itself: rows in = loaded + merged + quarantined."""
    from sqlalchemy import text

    from sis_migrate.load import Target
    from sis_migrate.schema import MERGE_TABLE, quarantine_table_name
    from sis_migrate.unify import SOURCE_SCHOOL, SOURCE_TABLE

    staging = _staging(cfg)
    manifest = staging.read_json("manifest.json")
    target = Target(cfg.target_url(), cfg.run_id)
    prefix = f'"{target.schema}".' if target.schema else ""
    engine = target.engine()
    tables, mismatches = {}, []
    with engine.connect() as conn:
        def by_school(sql: str, **bind) -> dict[str, int]:
            return {str(school): int(count) for school, count in conn.execute(text(sql), bind)}

        for table in legacy.TABLES.values():
            name = _qualified(table.system, table.name)
            accounting = staging.read_json(f"accounting/{name}.json")
            extracted = manifest["tables"][name]["rows"]
            found = {
                "loaded": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM {prefix}"{accounting["primary_entity"]}" '
                                    f'WHERE "{SOURCE_TABLE}" = :name GROUP BY 1', name=name),
                "quarantined": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM '
                                         f'{prefix}"{quarantine_table_name(table.system, table.name)}" GROUP BY 1'),
                "merged": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM {prefix}"{MERGE_TABLE}" '
                                    'WHERE system = :system AND legacy_table = :table GROUP BY 1',
                                    system=table.system.value, table=table.name),
            }
            totals = {fate: sum(counts.values()) for fate, counts in found.items()}
            out = sum(totals.values())
            if extracted != out:
                mismatches.append(f"{name}: {extracted:,} rows in, {out:,} accounted for "
                                  f"(loaded {totals['loaded']:,} + merged {totals['merged']:,} + quarantined "
                                  f"{totals['quarantined']:,}; difference {extracted - out:+,})")
            for school, rows_in in accounting["rows_in_by_school"].items():
                school_out = sum(found[fate].get(school, 0) for fate in found)
                if rows_in != school_out:
                    mismatches.append(f"{name} school {school}: {rows_in:,} rows in, {school_out:,} accounted for "
                                      f"(difference {rows_in - school_out:+,})")
            tables[name] = {"rows_in": extracted, **totals}
    engine.dispose()
    result = {"tables": tables, "mismatches": mismatches, "balanced": not mismatches}
    staging.write_json("reconcile.json", result)
    if mismatches:
        raise ReconciliationError("reconciliation failed:\n" + "\n".join(f"  {m}" for m in mismatches))
    return {"balanced": True, "tables": len(tables),
            "rows_in": sum(t["rows_in"] for t in tables.values())}


def validate_target(cfg: RunConfig, reconciled: dict[str, Any]) -> dict[str, Any]:
    """Validation point 3: the suites run inside the target; counts and key checksums per school."""
    from sis_migrate.load import Target
    from sis_migrate.validation import validate_target as run_target_validation

    target = Target(cfg.target_url(), cfg.run_id)
    summary = run_target_validation(target.url, target.schema, _staging(cfg), hash_key=cfg.hash_key)
    if summary["blocking_failures"] or summary.get("unreconciled_entities"):
        raise ValidationFailed(f"target validation: {summary['blocking_failures']} blocking failure(s), "
                               f"unreconciled entities: {', '.join(summary.get('unreconciled_entities') or [])}")
    return {"blocking_failures": 0, "warning_failures": summary["warning_failures"]}


def report(cfg: RunConfig, validated: dict[str, Any]) -> dict[str, Any]:
    """GX Data Docs, the migration report (HTML and JSON), the restricted steward worklist, the summary."""
    from sis_migrate.report import write_report, write_worklist
    from sis_migrate.summary import write_summary
    from sis_migrate.validation import build_data_docs

    staging = _staging(cfg)
    docs = build_data_docs(staging)
    written = write_report(staging)
    write_worklist(staging)  # restricted: its location is in the summary, its content is never logged
    return {**write_summary(staging, cfg), "report": written["html"], "data_docs": docs}


STAGES: dict[str, Callable[..., Any]] = {
    "check_mappings": check_mappings, "extract": extract, "stage": stage, "transform_core": transform_core,
    "transform_facts": transform_facts, "derive": derive, "validate": validate,
    "gather_validation": gather_validation, "load": load, "reconcile": reconcile,
    "validate_target": validate_target, "report": report,
}
# Errors no retry can fix: the task fails at once, with the message, instead of retrying.
FATAL = (ConfigurationError, RowDataError, ReconciliationError)  # ValidationFailed is a ConfigurationError


def _mapped_detail(argument: Any) -> str:
    """What one mapped task instance works on (a table, a batch of entities), to name its timing."""
    if isinstance(argument, dict) and {"system", "table"} <= set(argument):
        return f"{argument['system']}.{argument['table']}"
    if isinstance(argument, dict) and argument.get("entities"):
        return f"batch-{argument['entities'][0]}"
    return ""


def run_stage(name: str, params: dict[str, Any] | None, *args: Any) -> Any:
    """Run one stage for the DAG: configuration from params, timing staged, fatal errors not retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from transforms.accounting import AccountingError

    cfg = RunConfig.from_params(dict(params or {}))
    started = time.perf_counter()
    try:
        result = STAGES[name](cfg, *args)
    except (*FATAL, AccountingError) as err:
        raise AirflowFailException(f"{type(err).__name__}: {err}") from err
    detail = _mapped_detail(args[0]) if args else ""
    _staging(cfg).write_json(f"timings/{name}{'.' + detail if detail else ''}.json",
                             {"stage": name, "detail": detail, "seconds": time.perf_counter() - started})
    json.dumps(result)  # XCom must be plain JSON: fail here, loudly, rather than in the XCom backend
    return result
