"""Validation point 3: the same suites inside the target database, through GX's SQL datasource.

Input: the loaded target (PostgreSQL schema or SQLite file), ``unified/`` Parquet and the suites.
Output: ``validation/target/<entity>.json``, ``validation/target/reconcile.json`` and
``validation/target/summary.json``. The checks run in the database (PostgreSQL or SQLite):
nothing is pulled into pandas. Plus row counts and keyed checksums of the natural keys, per
school where the entity has one, reconciled with the unified Parquet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import redact_url
from sis_migrate.schema import NO_SCHOOL, SOURCE_SCHOOL, UnifiedSchema, default_schema
from sis_migrate.stages.validate.context import add_suite, ephemeral_context
from sis_migrate.stages.validate.results import (
    RESULT_FORMAT,
    ROWS_META,
    ROWS_RULE,
    VALIDATION_DIR,
    percent,
    sanitize_result,
    summarize,
)
from sis_migrate.stages.validate.suites import load_suites
from sis_migrate.stages.validate.unified import read_entity_frames, unified_parts
from sis_migrate.storage import Staging

SCHOOL_FIELDS = ("school_id", "responsibility_school_id", "home_school_id")

ALL_SCHOOLS = "(all)"
DEFAULT_HASH_KEY = "rehearsal-report-key"


def _gx_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _checksum_of(text: str, hash_key: str) -> int:
    """A 32-bit keyed hash of a natural key's text; sums of it stand for the set of keys."""
    return int(hashlib.md5(f"{hash_key}|{text}".encode()).hexdigest()[:8], 16)


def _key_texts(frame: pd.DataFrame, fields: list[str]) -> pd.Series:
    parts = []
    for field in fields:
        column = frame[field]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            parts.append(column.dt.strftime("%Y-%m-%d").astype(object))
        else:
            parts.append(column.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else
                                    str(int(v)) if isinstance(v, (int, np.integer, float, np.floating)) else str(v)))
    text = parts[0].astype(str)
    for part in parts[1:]:
        text = text + "|" + part.astype(str)
    return text


def _school_column(entity, columns: Iterable[str]) -> str | None:
    """The entity's own school field, else the lineage school the pipeline records; None if neither."""
    available = set(columns)
    return next((field for field in (*SCHOOL_FIELDS, SOURCE_SCHOOL)
                 if field in available and (field in entity.field_names or field == SOURCE_SCHOOL)), None)


def _unified_checksums(staging: Staging, name: str, entity, hash_key: str) -> dict[str, dict[str, int]]:
    """Per school: rows and checksum of the distinct natural keys in the unified Parquet."""
    key = list(entity.natural_key)
    paths = unified_parts(staging, name)
    if not paths:
        return {}
    school = _school_column(entity, [*entity.field_names, *_parquet_columns(staging, paths[0])])
    columns = key + ([school] if school and school not in key else [])
    frame = pd.concat(list(read_entity_frames(staging, paths, columns)), ignore_index=True).drop_duplicates(key)
    groups = (frame[school].astype(object).where(frame[school].notna(), NO_SCHOOL) if school
              else pd.Series(ALL_SCHOOLS, index=frame.index))
    sums = _key_texts(frame, key).map(lambda text: _checksum_of(text, hash_key))
    table = pd.DataFrame({"school": groups.astype(str), "checksum": sums.astype(object)})
    return {str(school_id): {"rows": len(group), "checksum": int(sum(group["checksum"]))}
            for school_id, group in table.groupby("school", sort=True)}


def _parquet_columns(staging: Staging, path: str) -> list[str]:
    return list(staging.read_arrow(path).schema.names)


def _target_checksums(engine, table: str, columns: list[str], entity, hash_key: str) -> dict[str, dict[str, int]]:
    from sqlalchemy import text

    key = list(entity.natural_key)
    school = _school_column(entity, columns)
    group = f"COALESCE(CAST({school} AS TEXT), '{NO_SCHOOL}')" if school else f"'{ALL_SCHOOLS}'"
    key_text = " || '|' || ".join(f"CAST({field} AS TEXT)" for field in key)
    if engine.dialect.name == "postgresql":
        hashed = f"(('x' || substr(md5(CAST(:hash_key AS TEXT) || '|' || {key_text}), 1, 8))::bit(32)::bigint)"
    else:
        hashed = f"sis_keyed_checksum(:hash_key, {key_text})"
    query = text(f"SELECT {group} AS school, COUNT(*) AS n, SUM({hashed}) AS checksum FROM {table} GROUP BY 1")
    with engine.connect() as connection:
        rows = connection.execute(query, {"hash_key": hash_key}).all()
    return {str(school_id): {"rows": int(count), "checksum": int(checksum or 0)} for school_id, count, checksum in rows}


def _engine(url: str):
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _register(dbapi_connection, _record) -> None:  # the checksum the PostgreSQL side computes with md5
            dbapi_connection.create_function("sis_keyed_checksum", 2,
                                             lambda key, text: _checksum_of(text, key), deterministic=True)
    return engine


def _reconcile(unified: dict[str, dict[str, int]], target: dict[str, dict[str, int]]) -> dict[str, Any]:
    schools = sorted(set(unified) | set(target))
    mismatched = [school for school in schools if unified.get(school) != target.get(school)]
    return {"rows_unified": sum(v["rows"] for v in unified.values()),
            "rows_target": sum(v["rows"] for v in target.values()),
            "count_match": sum(v["rows"] for v in unified.values()) == sum(v["rows"] for v in target.values()),
            "checksum_match": not mismatched, "schools": len(schools), "schools_mismatched": mismatched,
            "by_school": {school: {"unified": unified.get(school, {}).get("rows", 0),
                                   "target": target.get(school, {}).get("rows", 0),
                                   "checksum_match": school not in mismatched} for school in schools}}


def validate_target(target_url: str, schema_name: str | None, staging: Staging, schema: UnifiedSchema | None = None,
                    suites: dict | None = None, hash_key: str = DEFAULT_HASH_KEY) -> dict[str, Any]:
    """Run the suites in the target database (GX SQL datasource) and reconcile counts and checksums.

    ``schema_name`` is the run's PostgreSQL schema (None on SQLite or the default schema). Writes
    ``validation/target/<entity>.json``, ``validation/target/reconcile.json`` and
    ``validation/target/summary.json``; returns the summary. Success: no blocking failure and
    every entity's count and checksum equal to the unified Parquet's, per school.
    """
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    schema = schema or default_schema()
    suites = suites or load_suites()
    url = _gx_url(target_url)
    engine = _engine(url)
    try:
        present = set(inspect(engine).get_table_names(schema=schema_name))
    except SQLAlchemyError as err:
        raise SourceError(f"target {redact_url(url)} cannot be inspected ({type(err).__name__})") from err
    qualify = (lambda t: f'"{schema_name}"."{t}"') if schema_name else (lambda t: f'"{t}"')
    tables = {name: qualify(name) for name in schema.entities if name in present}
    context = ephemeral_context()
    if engine.dialect.name == "postgresql":
        datasource = context.data_sources.add_postgres("target", connection_string=url)
    elif engine.dialect.name == "sqlite":
        datasource = context.data_sources.add_sqlite("target", connection_string=url)
    else:
        raise ConfigurationError(f"target validation supports PostgreSQL and SQLite, not {engine.dialect.name}")
    results, rows, reconcile = {}, {}, {}
    try:
        for name, entity in schema.entities.items():
            if name not in tables or name not in suites:
                continue
            columns = [c["name"] for c in inspect(engine).get_columns(name, schema=schema_name)]
            target_sums = _target_checksums(engine, tables[name], columns, entity, hash_key)
            reconcile[name] = _reconcile(_unified_checksums(staging, name, entity, hash_key), target_sums)
            rows[name] = reconcile[name]["rows_target"]
            if not rows[name] and not reconcile[name]["rows_unified"]:
                continue  # an entity this run has no row of: nothing for the suite to look at
            asset = datasource.add_table_asset(name, table_name=name, schema_name=schema_name)
            batch = asset.add_batch_definition_whole_table("all").get_batch()
            suite_result = batch.validate(add_suite(context, suites[name], tables), result_format=RESULT_FORMAT)
            checked = _with_row_counts(suite_result.to_json_dict(), rows[name])
            checked.setdefault("meta", {})[ROWS_META] = rows[name]
            results[name] = sanitize_result(checked)
            staging.write_json(f"{VALIDATION_DIR}/target/{name}.json", results[name])
    except SQLAlchemyError as err:
        raise SourceError(f"target {redact_url(url)} could not be validated ({type(err).__name__})") from err
    finally:
        engine.dispose()
    for name, entity in schema.entities.items():
        if name not in reconcile and unified_parts(staging, name):
            reconcile[name] = _reconcile(_unified_checksums(staging, name, entity, hash_key), {})
    summary = summarize("target", results, rows)
    unreconciled = sorted(name for name, entry in reconcile.items()
                          if not (entry["count_match"] and entry["checksum_match"]))
    summary.update({"reconciled": not unreconciled, "unreconciled_entities": unreconciled,
                    "success": summary["success"] and not unreconciled})
    staging.write_json(f"{VALIDATION_DIR}/target/reconcile.json", reconcile)
    staging.write_json(f"{VALIDATION_DIR}/target/summary.json", summary)
    return summary


def _with_row_counts(suite_result: dict[str, Any], row_count: int) -> dict[str, Any]:
    """SQL rules report only a count of unexpected rows; give them the table's rows and a percentage."""
    for result in suite_result["results"]:
        if result["expectation_config"]["type"] == ROWS_RULE and "observed_value" in (result.get("result") or {}):
            unexpected = int(result["result"]["observed_value"])
            result["result"].update({"element_count": row_count, "unexpected_count": unexpected,
                                     "unexpected_percent": percent(unexpected, row_count)})
    return suite_result

