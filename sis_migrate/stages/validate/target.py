"""Validation point 3: the same suites inside the target database, through GX's SQL datasource.

Input: the loaded target (PostgreSQL schema or SQLite file) and the suites. Output:
``validation/target/<entity>.json`` and ``validation/target/summary.json`` (sanitized results,
through the run's :class:`Staging`). The checks run in the database (PostgreSQL or SQLite):
nothing is pulled into pandas. That the target holds the unified data (counts and key checksums
per school) is the reconcile stage's to show, before this runs (:mod:`sis_migrate.stages.reconcile`).
"""

from __future__ import annotations

from typing import Any

from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import redact_url
from sis_migrate.schema import UnifiedSchema, default_schema
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
from sis_migrate.storage import Staging


def _gx_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def validate_target(target_url: str, schema_name: str | None, staging: Staging, schema: UnifiedSchema | None = None,
                    suites: dict | None = None) -> dict[str, Any]:
    """Run the suites in the target database (GX SQL datasource); an entity with no row is skipped.

    ``schema_name`` is the run's PostgreSQL schema (None on SQLite or the default schema). Writes
    ``validation/target/<entity>.json`` and ``validation/target/summary.json``; returns the
    summary. Success: no blocking failure.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    schema = schema or default_schema()
    suites = suites or load_suites()
    url = _gx_url(target_url)
    engine = create_engine(url)
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
    results, rows = {}, {}
    try:
        for name in schema.entities:
            if name not in tables or name not in suites:
                continue
            with engine.connect() as connection:
                rows[name] = int(connection.execute(text(f"SELECT COUNT(*) FROM {tables[name]}")).scalar_one())
            if not rows[name]:
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
    summary = summarize("target", results, rows)
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

