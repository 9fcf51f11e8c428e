"""Load: unified entities from staging into a fresh target, in dependency order, keys enforced.

Input: ``unified/``, ``quarantine/`` and ``merge/`` Parquet. Output: the target (a PostgreSQL
schema or a SQLite file) with every entity, quarantine and merge table, and rows per table.

On PostgreSQL each run gets its own schema, ``rehearsal_<run id>``. The run is loaded into a
side schema first and swapped in with ``ALTER SCHEMA ... RENAME`` inside one transaction, so a
reader sees the previous complete load or the new complete load, never half of one; a task
retried by Airflow starts the side schema again from nothing and so leaves no duplicates. On the
embedded default the target is a fresh SQLite file, written aside and renamed into place.
Bulk path: COPY on PostgreSQL (psycopg 3), executemany in one transaction on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Target:
    """Where one run loads: a PostgreSQL schema or a SQLite file, from a SQLAlchemy URL."""

    url: str
    run_id: str

    @property
    def dialect(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).get_backend_name()

    @property
    def schema(self) -> str | None:
        return schema_name(self.run_id) if self.dialect == "postgresql" else None

    @property
    def sqlite_path(self) -> Path:
        from sqlalchemy.engine import make_url

        return Path(make_url(self.url).database or "").resolve()

    def describe(self) -> str:
        if self.dialect == "sqlite":
            return str(self.sqlite_path)
        return f"{redact_url(self.url)} schema {self.schema}"

    def engine(self, loading: bool = False) -> Engine:
        """An engine on the target; with ``loading`` it points at the side schema or file being built."""
        from sqlalchemy import create_engine, event

        if self.dialect == "sqlite":
            path = self._sqlite_loading_path() if loading else self.sqlite_path
            engine = create_engine(f"sqlite:///{path}")

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):
                dbapi_conn.execute("PRAGMA foreign_keys=ON")
                if loading:  # a side file, renamed into place only after a complete load: no journal needed
                    dbapi_conn.execute("PRAGMA journal_mode=OFF")
                    dbapi_conn.execute("PRAGMA synchronous=OFF")

            return engine
        if self.dialect != "postgresql":
            raise ConfigurationError(f"the target must be PostgreSQL or SQLite, got {self.dialect}")
        schema = f"{self.schema}__loading" if loading else self.schema
        return create_engine(self.url, execution_options={"schema_translate_map": {None: schema}})

    def _sqlite_loading_path(self) -> Path:
        return self.sqlite_path.with_name(self.sqlite_path.name + ".loading")


def _arrow_rows(table: pa.Table, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    return zip(*(table.column(name).to_pylist() for name in columns), strict=True)


def _prepare(target: Target) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    if target.dialect == "sqlite":
        path = target._sqlite_loading_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return
    try:
        engine = create_engine(target.url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{target.schema}__loading" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{target.schema}__loading"'))
        engine.dispose()
    except OperationalError as err:
        raise SourceError(f"the target {redact_url(target.url)} is not reachable: "
                          f"{str(err.orig).splitlines()[0][:200]}") from err


def _discard(target: Target) -> None:
    """Drop a side schema (or file) whose load failed; the previous complete load stays as it was."""
    from sqlalchemy import create_engine, text

    if target.dialect == "sqlite":
        target._sqlite_loading_path().unlink(missing_ok=True)
        return
    engine = create_engine(target.url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{target.schema}__loading" CASCADE'))
    engine.dispose()


def _publish(target: Target) -> None:
    """Swap the freshly loaded side schema (or file) in place of the run's previous load."""
    from sqlalchemy import create_engine, text

    if target.dialect == "sqlite":
        target._sqlite_loading_path().replace(target.sqlite_path)
        return
    engine = create_engine(target.url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE'))
        conn.execute(text(f'ALTER SCHEMA "{target.schema}__loading" RENAME TO "{target.schema}"'))
    engine.dispose()


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
    """Create every table of ``metadata`` in a fresh side schema/file, load each from ``parts_of[name]``
    (an iterable of Arrow tables with the table's columns) in dependency order, then publish.

    ``parts_of`` may be a mapping or a callable ``name -> iterable``; a table it has nothing for
    is created empty. Returns rows loaded per table.
    """
    _prepare(target)
    engine = target.engine(loading=True)
    loaded: dict[str, int] = {}
    try:
        deferred = _create_tables(engine, metadata, defer_foreign_keys=target.dialect == "postgresql")
        progress = Progress("load")
        for table in metadata.sorted_tables:
            parts = parts_of(table.name) if callable(parts_of) else parts_of.get(table.name, ())
            columns = [c.name for c in table.columns]
            parts = (part.select(columns) for part in parts)
            try:
                if target.dialect == "postgresql":
                    loaded[table.name] = _copy_postgres(engine, f"{target.schema}__loading", table.name,
                                                        columns, parts, progress)
                else:
                    loaded[table.name] = _insert_sqlite(engine, table, columns, parts, progress)
            except engine.dialect.loaded_dbapi.IntegrityError as err:
                raise ConfigurationError(f"loading {table.name} broke a key or foreign key "
                                         f"({type(err).__name__}): the transform stage let through a row "
                                         "the unified schema forbids") from err
        _add_foreign_keys(engine, deferred)
        progress.done(f"{len(loaded)} tables")
    except BaseException:
        engine.dispose()
        _discard(target)
        raise
    engine.dispose()
    _publish(target)
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
    """The stage: the run's unified data, quarantine and merge records into a fresh target."""
    from sis_migrate.schema import build_metadata

    target = Target(cfg.target_url(), cfg.run_id)
    loaded = load_tables(target, build_metadata(), _parts_of(cfg.staging_area()))
    return {"target": target.describe(), "rows": sum(loaded.values()), "tables": loaded}
