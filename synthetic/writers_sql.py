"""Write legacy tables into a relational location: SQLite, PostgreSQL or MariaDB by SQLAlchemy URL.

Each dialect takes its bulk path, chunk by chunk (memory stays flat):

- PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` through psycopg 3's raw connection.
- MariaDB: ``LOAD DATA LOCAL INFILE`` of a per-chunk temporary CSV file. Measured against PyMySQL's
  multi-row ``executemany`` on the same chunks it ran about twice as fast (164k against 80k rows/s
  of Gradebook Score on a shared 2-core machine).
- SQLite: ``executemany`` in one transaction per chunk, with journaling and syncing off: the file
  is written fresh by a generator, so a crash means regenerate, never recover.

PostgreSQL and MariaDB read the same CSV text (``sis_migrate.copy_csv``); booleans go as ``1``/``0``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sis_migrate import legacy
from sis_migrate.copy_csv import MARIADB_FIELDS, NULL_TOKEN, csv_bytes
from sis_migrate.errors import ConfigurationError, RowDataError, SourceError
from sis_migrate.legacy import System
from sis_migrate.locations import redact_url
from synthetic.ddl import system_metadata


def typed_arrays(frame: pd.DataFrame, table: legacy.Table) -> list[pa.Array]:
    """One Arrow array per column, in catalog order, for the CSV of COPY and LOAD DATA.

    Text stays text; dates and timestamps become their ISO text; booleans become 1/0; numbers stay
    numbers. Missing values are Arrow nulls.
    """
    _check_columns(frame, table)
    arrays = []
    for column in table.columns:
        series = frame[column.name]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            arrays.append(_iso_text(series, column))
        elif pd.api.types.is_bool_dtype(series.dtype):
            arrays.append(pc.cast(pa.array(series, from_pandas=True), pa.int8()))
        elif pd.api.types.is_numeric_dtype(series.dtype):
            arrays.append(pa.array(series, from_pandas=True))
        else:
            arrays.append(pa.array(series, type=pa.string(), from_pandas=True))
    return arrays


def python_columns(frame: pd.DataFrame, table: legacy.Table) -> list[list]:
    """One list of Python values per column (None for NULL), for DBAPI ``executemany``."""
    _check_columns(frame, table)
    columns = []
    for column in table.columns:
        series = frame[column.name]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            columns.append(_iso_text(series, column).to_pylist())
        else:
            columns.append(series.to_numpy(dtype=object, na_value=None).tolist())
    return columns


def _check_columns(frame: pd.DataFrame, table: legacy.Table) -> None:
    if tuple(frame.columns) != table.column_names:
        raise ConfigurationError(
            f"{table.system}.{table.name}: frame columns {list(frame.columns)} are not the table's "
            f"{list(table.column_names)}")


def _iso_text(series: pd.Series, column: legacy.Column) -> pa.Array:
    """``YYYY-MM-DD`` for a DATE column, ``YYYY-MM-DD HH:MM:SS`` otherwise (numpy formats fastest)."""
    values = series.to_numpy(dtype="datetime64[s]")
    if column.base_type == "DATE":
        return pa.array(np.datetime_as_string(values, unit="D"), mask=np.isnat(values))
    text = pa.array(np.datetime_as_string(values, unit="s"), mask=np.isnat(values))
    return pc.replace_substring(text, pattern="T", replacement=" ", max_replacements=1)


class SqlTarget:
    """One relational legacy system at one SQLAlchemy URL."""

    def __init__(self, system: System, url: str):
        self.system = system
        self.url = url
        self.metadata = system_metadata(system)
        self.engine = self._make_engine()
        self._raw = None
        self._insert_sql: dict[str, str] = {}

    @property
    def where(self) -> str:
        return f"{self.system.value} location {redact_url(self.url)}"

    def _make_engine(self) -> sa.Engine:
        parsed = sa.engine.make_url(self.url)
        backend = parsed.get_backend_name()
        connect_args: dict = {}
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        elif backend == "postgresql":
            connect_args = {"connect_timeout": 5}
        elif backend in ("mysql", "mariadb"):
            connect_args = {"connect_timeout": 5, "local_infile": True}
        else:
            raise ConfigurationError(f"{self.where}: unsupported database {backend!r} "
                                     "(use sqlite:///, postgresql+psycopg:// or mysql+pymysql://)")
        engine = sa.create_engine(self.url, connect_args=connect_args)
        if backend == "sqlite":
            sa.event.listen(engine, "connect", _fresh_file_pragmas)
        return engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def existing_tables(self) -> list[str]:
        """The legacy tables of this system already present (a non-empty target)."""
        try:
            with self.engine.connect() as conn:
                present = set(sa.inspect(conn).get_table_names())
        except sa.exc.DBAPIError as err:
            raise SourceError(f"{self.where} could not be reached: {_first_line(err)}") from err
        return [name for name in self.metadata.tables if name in present]

    def clear(self, names: list[str]) -> None:
        """Drop the given legacy tables; a SQLite file left with no table at all is removed."""
        with self.engine.begin() as conn:
            self.metadata.drop_all(conn, tables=[self.metadata.tables[name] for name in names])
            left = sa.inspect(conn).get_table_names()
        if self.backend == "sqlite" and not left and self.engine.url.database:
            self.engine.dispose()
            Path(self.engine.url.database).unlink(missing_ok=True)

    def create(self) -> None:
        with self.engine.begin() as conn:
            self.metadata.create_all(conn)

    def write(self, table: legacy.Table, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if self.backend == "postgresql":
            self._copy_postgres(table, typed_arrays(frame, table))
        elif self.backend in ("mysql", "mariadb"):
            self._load_data_mariadb(table, typed_arrays(frame, table))
        else:
            self._executemany(table, python_columns(frame, table))

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        self.engine.dispose()

    # --- bulk paths ------------------------------------------------------------------------------

    def _raw_connection(self):
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        return self._raw

    def _quoted(self, table: legacy.Table) -> tuple[str, list[str]]:
        preparer = self.engine.dialect.identifier_preparer
        return (preparer.format_table(self.metadata.tables[table.name]),
                [preparer.quote(name) for name in table.column_names])

    def _copy_postgres(self, table: legacy.Table, arrays: list[pa.Array]) -> None:
        name, columns = self._quoted(table)
        import psycopg

        raw = self._raw_connection()
        statement = f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv, NULL '{NULL_TOKEN}')"
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write(csv_bytes(arrays))
        except psycopg.errors.DataError as err:
            raw.rollback()
            # The server's context quotes the offending value: keep only its line and column.
            found = re.search(r"line (\d+), column (\w+)", err.diag.context or "")
            column, line = (found[2], found[1]) if found else ("*", "?")
            raise RowDataError(self.system.value, table.name, column, f"chunk line {line}",
                               f"PostgreSQL refused the value ({err.sqlstate})") from None
        raw.commit()

    def _load_data_mariadb(self, table: legacy.Table, arrays: list[pa.Array]) -> None:
        name, columns = self._quoted(table)
        # BIT(1) cannot take the text '1' from a file (it would store the byte 0x31): read a variable.
        targets, assignments = [], []
        for position, (column, quoted) in enumerate(zip(table.columns, columns, strict=True)):
            if column.base_type == "BIT":
                targets.append(f"@bit{position}")
                assignments.append(f"{quoted} = CAST(@bit{position} AS UNSIGNED)")
            else:
                targets.append(quoted)
        set_clause = f" SET {', '.join(assignments)}" if assignments else ""
        statement = (f"LOAD DATA LOCAL INFILE %s INTO TABLE {name} CHARACTER SET utf8mb4 {MARIADB_FIELDS} "
                     f"({', '.join(targets)}){set_clause}")
        handle, path = tempfile.mkstemp(prefix=f"synth-{table.name}-", suffix=".csv")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(csv_bytes(arrays))
            raw = self._raw_connection()
            with raw.cursor() as cursor:
                cursor.execute(statement, (path,))
                # LOCAL turns refused values into warnings (the row loads altered): treat one as an error.
                cursor.execute("SHOW WARNINGS LIMIT 1")
                warning = cursor.fetchone()
            if warning is not None:
                raw.rollback()
                found = re.search(r"column [`']?(\w+)[`']? at row (\d+)", warning[2])
                column, row = (found[1], found[2]) if found else ("*", "?")
                raise RowDataError(self.system.value, table.name, column, f"chunk line {row}",
                                   f"MariaDB refused or altered the value (warning {warning[1]})")
            raw.commit()
        finally:
            os.unlink(path)

    def _executemany(self, table: legacy.Table, columns: list[list]) -> None:
        if table.name not in self._insert_sql:
            insert = sa.insert(self.metadata.tables[table.name])
            self._insert_sql[table.name] = str(insert.compile(dialect=self.engine.dialect))
        raw = self._raw_connection()
        cursor = raw.cursor()
        try:
            cursor.executemany(self._insert_sql[table.name], zip(*columns, strict=True))
        finally:
            cursor.close()
        raw.commit()


def _fresh_file_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=OFF")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _first_line(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__
