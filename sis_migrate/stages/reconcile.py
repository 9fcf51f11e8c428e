"""Reconcile: every legacy row accounted for, and the target holding the unified data, from the target itself.

Input: the run manifest, ``accounting/``, the staged ``unified/`` Parquet and the loaded target
(opened read-only). Output: ``reconcile.json``, or the run fails with a ReconciliationError that
names the table or entity, the school and the difference (counts: never a key or a value):

- per legacy table and per school: rows in = loaded + merged + quarantined, counted in the target;
- per entity and per school: rows, and an order-independent checksum of the natural keys (the sum
  of the first 32 bits of each key's keyed hash, :mod:`transforms.privacy`).

The entity side runs one SQL query, :func:`entity_checksum_sql`, twice: in the target
(PostgreSQL or SQLite) and with DuckDB over the staged Parquet. DuckDB is what lets the unified
side be computed by the same SQL text rather than by a Python twin of it: it reads the Parquet of
a staging folder in place, and on S3 it is handed Arrow tables read through :class:`Staging`, so
it needs no S3 credentials of its own. The keyed hash is bound as a parameter on both sides.
"""

from __future__ import annotations

from typing import Any

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, ReconciliationError, SourceError
from sis_migrate.locations import is_s3, read_only_sqlite
from sis_migrate.run_config import RunConfig
from sis_migrate.schema import NO_SCHOOL, SOURCE_SCHOOL, Entity, UnifiedSchema, default_schema
from sis_migrate.storage import Staging
from transforms.privacy import hash_number_sql, joined_text_sql, keyed_hash_sql, register_sqlite, text_sql

# An entity's own school field, in this order; an entity with none is grouped by the lineage school.
SCHOOL_FIELDS = ("school_id", "responsibility_school_id", "home_school_id")
HASH_KEY_PARAMETER = {"postgresql": ":hash_key", "sqlite": ":hash_key", "duckdb": "$hash_key"}
_TEXT_KINDS = {"int": "integer", "bigint": "integer", "date": "date", "datetime": "datetime", "bool": "boolean"}


def school_column(entity: Entity) -> str:
    """The column an entity's rows are grouped by: its own school field, else the lineage school."""
    return next((field for field in SCHOOL_FIELDS if field in entity.field_names), SOURCE_SCHOOL)


def _text_kind(name: str, entity: Entity, field: str) -> str:
    type_name = entity.field(field).type
    if type_name.startswith("string"):
        return "text"
    if type_name in _TEXT_KINDS:
        return _TEXT_KINDS[type_name]
    raise ConfigurationError(f"{name}.{field} is a natural-key field of type {type_name}, which has no fixed text "
                             "form for the key checksum: use a string, integer, date, datetime or bool key")


def entity_checksum_sql(table: str, name: str, entity: Entity, dialect: str) -> str:
    """Per school: rows and the checksum of the distinct natural keys of ``table`` (already quoted).

    The same query for the target and the unified Parquet; only the keyed hash's primitives and
    the date format differ by engine. DISTINCT because the target holds one row per natural key
    (its primary key) while a deduplicated entity's Parquet holds the key once per legacy row.
    """
    fields = list(entity.natural_key)
    texts = [text_sql(f'"{field}"', _text_kind(name, entity, field), dialect) for field in fields]
    number = hash_number_sql(keyed_hash_sql(joined_text_sql(texts), dialect, HASH_KEY_PARAMETER[dialect]), dialect)
    columns = ", ".join(f'"{field}"' for field in fields)
    school = f"COALESCE(CAST(\"{school_column(entity)}\" AS TEXT), '{NO_SCHOOL}')"
    return (f"SELECT school_group, COUNT(*) AS row_count, SUM({number}) AS checksum FROM "
            f"(SELECT DISTINCT {columns}, {school} AS school_group FROM {table}) AS entity_keys GROUP BY school_group")


def _by_school(rows) -> dict[str, dict[str, int]]:
    return {str(school): {"rows": int(count), "checksum": int(checksum or 0)} for school, count, checksum in rows}


# --- the target ---------------------------------------------------------------------------------

def _read_only_engine(target):
    """An engine that cannot write the target; bound parameters (the hash key) stay out of error messages."""
    from sqlalchemy import create_engine, event

    if target.dialect == "sqlite":
        engine = create_engine(read_only_sqlite(target.url), hide_parameters=True)
        event.listen(engine, "connect", lambda dbapi_connection, _record: register_sqlite(dbapi_connection))
        return engine
    return create_engine(target.url, hide_parameters=True,
                         connect_args={"options": "-c default_transaction_read_only=on"})


def _account_tables(conn, prefix: str, staging: Staging) -> tuple[dict[str, Any], list[str]]:
    """Per legacy table and school, from the target: rows in = loaded + merged + quarantined."""
    from sqlalchemy import text

    from sis_migrate.schema import MERGE_TABLE, SOURCE_TABLE, quarantine_table_name

    def by_school(sql: str, **bind) -> dict[str, int]:
        return {str(school): int(count) for school, count in conn.execute(text(sql), bind)}

    manifest = staging.read_json("manifest.json")
    tables, mismatches = {}, []
    for table in legacy.TABLES.values():
        name = table.qualified
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
    return tables, mismatches


def _target_checksums(conn, schema_name: str | None, schema: UnifiedSchema,
                      hash_key: str) -> dict[str, dict[str, dict[str, int]]]:
    from sqlalchemy import inspect, text

    present = set(inspect(conn).get_table_names(schema=schema_name))
    prefix = f'"{schema_name}".' if schema_name else ""
    dialect = conn.dialect.name
    return {name: _by_school(conn.execute(text(entity_checksum_sql(f'{prefix}"{name}"', name, entity, dialect)),
                                          {"hash_key": hash_key}))
            for name, entity in schema.entities.items() if name in present}


# --- the unified Parquet ------------------------------------------------------------------------

def _unified_relation(connection, staging: Staging, paths: list[str], columns: list[str]):
    """The entity's Parquet parts as one DuckDB relation: read in place, or from S3 through Staging as Arrow."""
    if is_s3(staging.location):
        import pyarrow as pa

        return connection.from_arrow(pa.concat_tables([staging.read_arrow(path, columns) for path in paths]))
    return connection.read_parquet([f"{staging.uri}/{path}" for path in paths], union_by_name=True)


def _unified_checksums(staging: Staging, schema: UnifiedSchema, hash_key: str) -> dict[str, dict[str, dict[str, int]]]:
    import duckdb

    found = {}
    connection = duckdb.connect()
    try:
        for name, entity in schema.entities.items():
            paths = [path for path in staging.list(f"unified/{name}/") if path.endswith(".parquet")]
            if not paths:
                found[name] = {}
                continue
            columns = list(dict.fromkeys([*entity.natural_key, school_column(entity)]))
            _unified_relation(connection, staging, paths, columns).create_view(name, replace=True)
            try:
                rows = connection.execute(entity_checksum_sql(f'"{name}"', name, entity, "duckdb"),
                                          {"hash_key": hash_key}).fetchall()
            except duckdb.IOException as err:
                raise SourceError(f"the unified Parquet of {name} in {staging.uri} could not be read "
                                  f"({type(err).__name__})") from err
            found[name] = _by_school(rows)
            connection.execute(f'DROP VIEW "{name}"')
    finally:
        connection.close()
    return found


def _compare(name: str, unified: dict[str, dict[str, int]],
             target: dict[str, dict[str, int]]) -> tuple[dict[str, Any], list[str]]:
    """One entity's rows and checksums, school by school; the mismatches as counts, never a key."""
    nothing = {"rows": 0, "checksum": 0}
    by_school, mismatches = {}, []
    for school in sorted(set(unified) | set(target)):
        ours, theirs = unified.get(school, nothing), target.get(school, nothing)
        checksum_match = ours == theirs
        by_school[school] = {"unified": ours["rows"], "target": theirs["rows"], "checksum_match": checksum_match}
        if ours["rows"] != theirs["rows"]:
            mismatches.append(f"{name} school {school}: {ours['rows']:,} rows in the unified data, "
                              f"{theirs['rows']:,} in the target (difference {theirs['rows'] - ours['rows']:+,})")
        elif not checksum_match:
            mismatches.append(f"{name} school {school}: {ours['rows']:,} rows on both sides, but not the same "
                              "natural keys (their checksums differ)")
    rows_unified = sum(entry["rows"] for entry in unified.values())
    rows_target = sum(entry["rows"] for entry in target.values())
    entry = {"rows_unified": rows_unified, "rows_target": rows_target, "count_match": rows_unified == rows_target,
             "checksum_match": all(school["checksum_match"] for school in by_school.values()),
             "schools": len(by_school),
             "schools_mismatched": [school for school, counts in by_school.items() if not counts["checksum_match"]],
             "by_school": by_school}
    return entry, mismatches


# --- the stage ----------------------------------------------------------------------------------

def reconcile(cfg: RunConfig, loaded: dict[str, Any]) -> dict[str, Any]:
    """Every legacy row accounted for, and every entity's rows and natural keys equal in the target and
    the unified data, per school; writes ``reconcile.json`` and fails with ReconciliationError otherwise."""
    from sqlalchemy.exc import SQLAlchemyError

    from sis_migrate.stages.load import candidate_target

    staging = cfg.staging_area()
    schema = default_schema()
    target = candidate_target(cfg)  # what this run loaded, not yet published
    engine = _read_only_engine(target)
    try:
        with engine.connect() as conn:
            tables, mismatches = _account_tables(conn, f'"{target.schema}".' if target.schema else "", staging)
            in_target = _target_checksums(conn, target.schema, schema, cfg.hash_key)
    except SQLAlchemyError as err:
        raise SourceError(f"the target {target.describe()} could not be reconciled ({type(err).__name__})") from err
    finally:
        engine.dispose()
    in_unified = _unified_checksums(staging, schema, cfg.hash_key)
    entities = {}
    for name in schema.entities:
        if in_unified.get(name) or in_target.get(name):
            entities[name], differences = _compare(name, in_unified.get(name, {}), in_target.get(name, {}))
            mismatches += differences
    unreconciled = sorted(name for name, entry in entities.items()
                          if not (entry["count_match"] and entry["checksum_match"]))
    result = {"tables": tables, "entities": entities, "unreconciled_entities": unreconciled,
              "mismatches": mismatches, "balanced": not mismatches}
    staging.write_json("reconcile.json", result)
    if mismatches:
        raise ReconciliationError("reconciliation failed:\n" + "\n".join(f"  {m}" for m in mismatches))
    return {"balanced": True, "tables": len(tables), "rows_in": sum(t["rows_in"] for t in tables.values()),
            "entities_reconciled": len(entities)}  # not "entities": the adapter reads that as a mapped batch
