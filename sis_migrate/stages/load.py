"""Load: unified entities from staging into a fresh candidate target, in dependency order, keys enforced.

Input: ``unified/``, ``quarantine/`` and ``merge/`` Parquet. Output: the run's candidate target
(a PostgreSQL side schema or a SQLite side file) with every entity, quarantine and merge table,
and rows per table. The candidate is not visible as the run's target: reconcile and
validate_target check it where it is, and the publish task (:func:`publish_target`, called by
:mod:`sis_migrate.stages.publish`) swaps it in as the last step of the run.

On PostgreSQL each run label has its own schema, ``rehearsal_<run id>``; the candidate is
``rehearsal_<run id>__loading``, swapped in with ``ALTER SCHEMA ... RENAME`` inside one
transaction, so a reader sees the previous complete load or the new complete load, never half of
one. On SQLite the candidate is ``<target>.loading``, renamed into place. A task retried by
Airflow starts the candidate again from nothing and so leaves no duplicates; a failed run leaves
its candidate behind (the next load drops it) and the published target as it was.
Each published target holds a one-row table ``sis_publication`` naming the attempt it came from,
written in the same transaction (or file) as the swap, so that a publish cut short can be told
from one that happened.
Bulk path: COPY on PostgreSQL (psycopg 3), executemany in one transaction on SQLite.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import redact_url
from sis_migrate.progress import Progress
from sis_migrate.storage import Staging

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Engine


def schema_name(run_id: str) -> str:
    """The PostgreSQL schema of a run: ``rehearsal_`` + the run id folded to [a-z0-9_]."""
    folded = re.sub(r"[^a-z0-9_]", "_", run_id.lower())
    return f"rehearsal_{folded}"[:63]


PUBLICATION_TABLE = "sis_publication"
CANDIDATE_SUFFIX = "__loading"  # of the candidate schema on PostgreSQL
SQLITE_CANDIDATE_SUFFIX = ".loading"  # of the candidate file on SQLite


@dataclass(frozen=True)
class Target:
    """Where one run loads: a PostgreSQL schema or a SQLite file, from a SQLAlchemy URL.

    ``candidate`` names the side schema or file a run loads and checks before publishing it.
    """

    url: str
    run_id: str
    candidate: bool = False

    @property
    def dialect(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).get_backend_name()

    @property
    def schema(self) -> str | None:
        if self.dialect != "postgresql":
            return None
        return schema_name(self.run_id) + (CANDIDATE_SUFFIX if self.candidate else "")

    @property
    def sqlite_path(self) -> Path:
        from sqlalchemy.engine import make_url

        return Path(make_url(self.url).database or "").resolve()

    def as_candidate(self) -> Target:
        """The side schema or file this target's next load is built in."""
        if self.candidate:
            return self
        if self.dialect == "sqlite":
            path = self.sqlite_path.with_name(self.sqlite_path.name + SQLITE_CANDIDATE_SUFFIX)
            return Target(f"sqlite:///{path}", self.run_id, candidate=True)
        return Target(self.url, self.run_id, candidate=True)

    def published(self) -> Target:
        if not self.candidate:
            return self
        if self.dialect == "sqlite":
            path = self.sqlite_path.with_name(self.sqlite_path.name.removesuffix(SQLITE_CANDIDATE_SUFFIX))
            return Target(f"sqlite:///{path}", self.run_id)
        return Target(self.url, self.run_id)

    def describe(self) -> str:
        if self.dialect == "sqlite":
            return str(self.sqlite_path)
        return f"{redact_url(self.url)} schema {self.schema}"

    def engine(self) -> Engine:
        """An engine on the target's schema (PostgreSQL) or file (SQLite)."""
        from sqlalchemy import create_engine, event

        if self.dialect == "sqlite":
            engine = create_engine(f"sqlite:///{self.sqlite_path}")
            side_file = self.candidate

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):
                dbapi_conn.execute("PRAGMA foreign_keys=ON")
                if side_file:  # renamed into place only after a complete load: no journal needed
                    dbapi_conn.execute("PRAGMA journal_mode=OFF")
                    dbapi_conn.execute("PRAGMA synchronous=OFF")

            return engine
        if self.dialect != "postgresql":
            raise ConfigurationError(f"the target must be PostgreSQL or SQLite, got {self.dialect}")
        return create_engine(self.url, execution_options={"schema_translate_map": {None: self.schema}})


def candidate_target(cfg) -> Target:
    """The side schema or file this run loads, reconciles and validates before it is published."""
    return Target(cfg.target_url(), cfg.run_id).as_candidate()


def _arrow_rows(table: pa.Table, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    return zip(*(table.column(name).to_pylist() for name in columns), strict=True)


def _prepare(candidate: Target) -> None:
    """An empty candidate: a side file removed, a side schema dropped and created again."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    if candidate.dialect == "sqlite":
        candidate.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        candidate.sqlite_path.unlink(missing_ok=True)
        return
    try:
        engine = create_engine(candidate.url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{candidate.schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{candidate.schema}"'))
        engine.dispose()
    except OperationalError as err:
        raise SourceError(f"the target {redact_url(candidate.url)} is not reachable: "
                          f"{str(err.orig).splitlines()[0][:200]}") from err


def _discard(candidate: Target) -> None:
    """Drop a candidate whose load failed; the published target stays as it was."""
    from sqlalchemy import create_engine, text

    if candidate.dialect == "sqlite":
        candidate.sqlite_path.unlink(missing_ok=True)
        return
    engine = create_engine(candidate.url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{candidate.schema}" CASCADE'))
    engine.dispose()


def published_attempt(target: Target) -> str | None:
    """The attempt the published target came from (its ``sis_publication`` row), None if there is none."""
    from sqlalchemy import inspect, text

    target = target.published()
    if target.dialect == "sqlite" and not target.sqlite_path.is_file():
        return None
    engine = target.engine()
    try:
        if PUBLICATION_TABLE not in inspect(engine).get_table_names(schema=target.schema):
            return None
        prefix = f'"{target.schema}".' if target.schema else ""
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT attempt FROM {prefix}{PUBLICATION_TABLE}")).scalar()
    finally:
        engine.dispose()


def _mark(conn, schema: str | None, attempt: str) -> None:
    from sqlalchemy import text

    prefix = f'"{schema}".' if schema else ""
    conn.execute(text(f"CREATE TABLE {prefix}{PUBLICATION_TABLE} (attempt VARCHAR(200) NOT NULL, "
                      "published_at VARCHAR(40) NOT NULL)"))
    conn.execute(text(f"INSERT INTO {prefix}{PUBLICATION_TABLE} VALUES (:attempt, :at)"),
                 {"attempt": attempt, "at": datetime.now(UTC).isoformat(timespec="seconds")})


def publish_target(target: Target, attempt: str) -> bool:
    """Swap the candidate in place of the published target, marked with ``attempt``; False if already done.

    Idempotent: a publish whose swap happened (the published target carries ``attempt`` and no
    candidate is left) does nothing, so a retried or resumed publish task finishes the job.
    """
    from sqlalchemy import create_engine, text

    from sis_migrate.faults import fault_point

    candidate, published = target.as_candidate(), target.published()
    if candidate.dialect == "sqlite":
        if not candidate.sqlite_path.is_file():
            if published_attempt(published) == attempt:
                return False
            raise ConfigurationError(f"no candidate target {candidate.sqlite_path} to publish: the load task "
                                     "of this run did not complete; start the run again")
        engine = candidate.engine()
        with engine.begin() as conn:
            _mark(conn, None, attempt)
        engine.dispose()
        fault_point("publish", "before_swap")
        os.replace(candidate.sqlite_path, published.sqlite_path)
        return True
    engine = create_engine(target.url)
    try:
        with engine.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
                                  {"name": candidate.schema}).scalar()
            if not exists:
                if published_attempt(published) == attempt:
                    return False
                raise ConfigurationError(f"no candidate schema {candidate.schema} to publish: the load task of "
                                         "this run did not complete; start the run again")
            _mark(conn, candidate.schema, attempt)
            fault_point("publish", "before_swap")
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{published.schema}" CASCADE'))
            conn.execute(text(f'ALTER SCHEMA "{candidate.schema}" RENAME TO "{published.schema}"'))
    finally:
        engine.dispose()
    return True


def _copy_postgres(engine: Engine, schema: str, table_name: str, columns: list[str],
                   parts: Iterable[pa.Table], progress: Progress) -> int:
    """COPY each part as CSV built column-wise in Arrow (no Python loop per value)."""
    from psycopg import sql

    from sis_migrate.copy_csv import NULL_TOKEN, csv_bytes

    loaded = 0
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv, NULL {})").format(
                sql.Identifier(schema), sql.Identifier(table_name),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Literal(NULL_TOKEN))
            with cursor.copy(statement) as copy:
                for part in parts:
                    copy.write(csv_bytes([part.column(name).combine_chunks() for name in columns]))
                    loaded += part.num_rows
                    progress.add(part.num_rows, table_name)
        raw.commit()
    finally:
        raw.close()
    return loaded


def _insert_sqlite(engine: Engine, table, columns: list[str], parts: Iterable[pa.Table],
                   progress: Progress) -> int:
    loaded = 0
    placeholders = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for part in parts:
            cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})',
                               list(_arrow_rows(part, columns)))
            loaded += part.num_rows
            progress.add(part.num_rows, table.name)
        raw.commit()
    finally:
        raw.close()
    return loaded


def _create_tables(engine: Engine, metadata: MetaData, defer_foreign_keys: bool) -> list:
    """Create every table; on PostgreSQL without its foreign keys, which are returned to add after COPY.

    A foreign key checked by a trigger per copied row made COPY crawl; added after the load,
    PostgreSQL validates it in one set-based pass, and a violation still fails the load.
    """
    from sqlalchemy.schema import CreateTable

    if not defer_foreign_keys:
        metadata.create_all(engine)
        return []
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            conn.execute(CreateTable(table, include_foreign_key_constraints=[]))
    return [fk for table in metadata.sorted_tables for fk in table.foreign_key_constraints]


def _add_foreign_keys(engine: Engine, constraints: list) -> None:
    from sqlalchemy.schema import AddConstraint

    for constraint in constraints:
        try:
            with engine.begin() as conn:
                conn.execute(AddConstraint(constraint))
        except Exception as err:
            if not isinstance(getattr(err, "orig", None), engine.dialect.loaded_dbapi.IntegrityError):
                raise
            raise ConfigurationError(f"loading {constraint.table.name} broke the foreign key {constraint.name}: "
                                     "the transform stage let through a row the unified schema forbids") from err


def load_tables(target: Target, metadata: MetaData,
                parts_of: dict[str, Iterable[pa.Table]] | Any) -> dict[str, int]:
    """Create every table of ``metadata`` in the target's fresh candidate and load each from
    ``parts_of[name]`` (an iterable of Arrow tables with the table's columns) in dependency order.

    ``parts_of`` may be a mapping or a callable ``name -> iterable``; a table it has nothing for
    is created empty. Returns rows loaded per table. The published target is not touched: a failed
    load drops its candidate; :func:`publish_target` swaps a complete one in.
    """
    from sis_migrate.faults import fault_point

    candidate = target.as_candidate()
    _prepare(candidate)
    engine = candidate.engine()
    loaded: dict[str, int] = {}
    try:
        deferred = _create_tables(engine, metadata, defer_foreign_keys=candidate.dialect == "postgresql")
        progress = Progress("load")
        for table in metadata.sorted_tables:
            parts = parts_of(table.name) if callable(parts_of) else parts_of.get(table.name, ())
            columns = [c.name for c in table.columns]
            parts = (part.select(columns) for part in parts)
            try:
                if candidate.dialect == "postgresql":
                    loaded[table.name] = _copy_postgres(engine, candidate.schema, table.name, columns, parts, progress)
                else:
                    loaded[table.name] = _insert_sqlite(engine, table, columns, parts, progress)
            except engine.dialect.loaded_dbapi.IntegrityError as err:
                raise ConfigurationError(f"loading {table.name} broke a key or foreign key "
                                         f"({type(err).__name__}): the transform stage let through a row "
                                         "the unified schema forbids") from err
        fault_point("load", "after_copy")
        _add_foreign_keys(engine, deferred)
        progress.done(f"{len(loaded)} tables")
    except BaseException:
        engine.dispose()
        _discard(candidate)
        raise
    engine.dispose()
    return loaded


# --- the stage ---------------------------------------------------------------------------------

def _parts_of(staging: Staging) -> Callable[[str], Iterator]:
    from sis_migrate.schema import MERGE_TABLE, quarantine_table_name

    quarantine_folders = {quarantine_table_name(t.system, t.name): f"quarantine/{t.qualified}/"
                          for t in legacy.TABLES.values()}

    def parts(table_name: str) -> Iterator:
        folder = (quarantine_folders.get(table_name)
                  or ("merge/" if table_name == MERGE_TABLE else f"unified/{table_name}/"))
        for path in staging.list(folder):
            if path.endswith(".parquet"):
                yield staging.read_arrow(path)

    return parts


def load(cfg, validated: dict[str, Any]) -> dict[str, Any]:
    """The stage: the run's unified data, quarantine and merge records into a fresh candidate target."""
    from sis_migrate.schema import build_metadata

    candidate = candidate_target(cfg)
    loaded = load_tables(candidate, build_metadata(), _parts_of(cfg.staging_area()))
    return {"target": candidate.describe(), "rows": sum(loaded.values()), "tables": loaded}
