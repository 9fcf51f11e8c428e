"""Extract: read one legacy table into the run's staging area as typed Parquet parts.

Input: the run configuration and one ``{system, table}``. Output: ``extract/<system>/<table>/``
Parquet parts, and the rows, columns, files (with SHA-256) and tier-2 counts of the table.

Relational tables are read with SQL that names only the mapped columns (a denied column is never
selected, so its values never leave the legacy system), inside a read-only transaction, streamed
in chunks so memory stays flat whatever the table's size. Verify is read from the newest export
per table, decoded as Latin-1, keeping only the mapped fields.

Values are typed by the legacy data dictionary. A value that does not fit its declared type (SQLite
stores anything) stops the extract with an error naming system, table, column and a keyed hash of the row's key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, RowDataError, SourceError, row_named_by_key
from sis_migrate.legacy import Column, System
from sis_migrate.locations import read_only_sqlite, redact_url
from sis_migrate.progress import Progress
from sis_migrate.storage import Staging

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_CHUNK_ROWS = 200_000


@dataclass
class ExtractResult:
    system: str
    table: str
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    source_file: str | None = None  # Verify: the export file read
    scrubbed: dict[str, int] = field(default_factory=dict)  # tier 2: SSN-shaped values emptied, per column

    def add_scrubbed(self, counts: dict[str, int]) -> None:
        for column, count in counts.items():
            if count:
                self.scrubbed[column] = self.scrubbed.get(column, 0) + count


def staged_prefix(system: str, table: str) -> str:
    return f"extract/{system}/{table}/"


def arrow_type(column: Column, system: System) -> pa.DataType:
    """The Parquet type of a legacy column. Verify fields stay text: the transforms parse them."""
    import pyarrow as pa

    if system is System.VERIFY:
        return pa.string()
    base = column.base_type
    if base in {"INT", "INTEGER", "SMALLINT"} or (base == "NUMERIC" and len(column.type_args) == 1):
        return pa.int64()
    if base in {"NUMERIC", "DECIMAL"}:
        return pa.float64()
    if base == "DATE":
        return pa.date32()
    if base in {"TIMESTAMP", "DATETIME"}:
        return pa.timestamp("s")
    if base in {"BIT", "BOOLEAN"}:
        return pa.bool_()
    return pa.string()


# How drivers hand over BIT and BOOLEAN: SQLite 0/1, MariaDB BIT(1) as bytes, PostgreSQL bool.
_TRUTH = {1: True, 0: False, b"\x01": True, b"\x00": False, "1": True, "0": False}


def _typed_array(values: list[Any], column: Column, system: System, keys: list[str], table: str) -> pa.Array:
    """Build the Arrow array for one column; name the first row whose value does not fit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = arrow_type(column, system)
    if pa.types.is_date32(target) or pa.types.is_timestamp(target):
        if any(isinstance(value, str) for value in values):  # SQLite keeps dates as text
            text = pa.array([None if v is None or v == "" else str(v)[:19] for v in values], pa.string())
            fmt = "%Y-%m-%d" if pa.types.is_date32(target) else None
            parsed = _parse_datetimes(text, fmt)
            bad = pc.and_(pc.is_valid(text), pc.is_null(parsed))
            if pc.any(bad).as_py():
                row = pc.index(bad, True).as_py()
                raise RowDataError(system, table, column.name, row_named_by_key(keys[row]),
                                   f"not a valid {column.sql_type}")
            return parsed.cast(target)
    if pa.types.is_string(target):
        values = [None if v is None else v if isinstance(v, str) else str(v) for v in values]
    elif pa.types.is_floating(target):  # MariaDB and PostgreSQL hand DECIMAL over as Decimal
        values = [float(v) if isinstance(v, Decimal) else v for v in values]
    elif pa.types.is_boolean(target):
        values = [_TRUTH.get(v, v) if isinstance(v, int | bytes | str) else v for v in values]
    try:
        return pa.array(values, type=target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        for row, value in enumerate(values):
            try:
                pa.array([value], type=target)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as err:
                raise RowDataError(system, table, column.name, row_named_by_key(keys[row]),
                                   f"not a valid {column.sql_type}") from err
        raise


def _parse_datetimes(text: pa.Array, fmt: str | None) -> pa.Array:
    """Parse dates (or date-times) strictly: a value must print back as it was written.

    Arrow's strptime rolls an impossible day over ('2008-02-30' becomes March 1st); the
    round trip turns such a value into NULL, which the caller reports as not a valid date.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    formats = [fmt] if fmt else ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
    parsed = pa.nulls(len(text), pa.timestamp("s"))
    for each in formats:
        attempt = pc.strptime(text, format=each, unit="s", error_is_null=True)
        faithful = pc.equal(pc.strftime(attempt, format=each), text)
        parsed = pc.if_else(pc.and_(pc.is_null(parsed), pc.fill_null(faithful, False)), attempt, parsed)
    return parsed


def _row_keys(rows: list[tuple], columns: list[str], table: legacy.Table) -> list[str]:
    positions = [columns.index(k) for k in table.key if k in columns]
    return [",".join(f"{columns[p]}={row[p]}" for p in positions) for row in rows]


def scrub_tier2(arrow_table: pa.Table, table: legacy.Table) -> tuple[pa.Table, dict[str, int]]:
    """Empty SSN-shaped values in every non-key text column before anything is staged (tier 2).

    The policy removes such a value from the row and lets the row migrate; doing it here, and not
    later, keeps the value out of the staging area too. Counted per column, never shown.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from transforms.scrub import ssn_shaped

    counts: dict[str, int] = {}
    for name in arrow_table.column_names:
        if name in table.key or not pa.types.is_string(arrow_table.schema.field(name).type):
            continue
        column = arrow_table.column(name)
        found = pa.array(ssn_shaped(column.to_pandas()).to_numpy(), pa.bool_())
        counts[name] = int(pc.sum(found).as_py() or 0)
        if counts[name]:
            cleared = pc.if_else(found, pa.scalar(None, pa.string()), column.combine_chunks())
            arrow_table = arrow_table.set_column(arrow_table.column_names.index(name), name, cleared)
    return arrow_table, counts


def rows_to_arrow(rows: list[tuple], columns: list[str], table: legacy.Table) -> pa.Table:
    import pyarrow as pa

    keys = _row_keys(rows, columns, table)
    arrays = [
        _typed_array([row[i] for row in rows], table.column(name), table.system, keys, table.name)
        for i, name in enumerate(columns)
    ]
    return pa.Table.from_arrays(arrays, names=columns)


def _read_only_engine(url: str):
    """An engine whose connections cannot write: read-only transactions on every dialect."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(read_only_sqlite(url))
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":  # psycopg opens every transaction READ ONLY
        return engine.execution_options(postgresql_readonly=True)
    if engine.dialect.name in {"mysql", "mariadb"}:
        @event.listens_for(engine, "connect")
        def _session_read_only(dbapi_conn, _record):
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

    return engine


def extract_relational(url: str, system: System, table_name: str, staging: Staging,
                       chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, ProgrammingError

    from sis_migrate.sources.sql import build_extract_query, extract_columns

    table = legacy.table(system, table_name)
    columns = extract_columns(system, table_name)
    result = ExtractResult(system.value, table_name, columns=columns)
    staging.clear(staged_prefix(system.value, table_name))
    engine = _read_only_engine(url)
    try:
        with engine.connect() as conn:
            query = build_extract_query(system, table_name, engine.dialect.name)
            streamed = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows).execute(query)
            for part, rows in enumerate(streamed.partitions(chunk_rows)):
                arrow_table, scrubbed = scrub_tier2(rows_to_arrow([tuple(row) for row in rows], columns, table),
                                                    table)
                result.add_scrubbed(scrubbed)
                staged = staging.write_arrow(f"{staged_prefix(system.value, table_name)}part-{part:05d}.parquet",
                                             arrow_table)
                result.files.append(staged.as_dict())
                result.rows += arrow_table.num_rows
                if progress:
                    progress.add(arrow_table.num_rows, f"{system.value}.{table_name}")
    except (NoSuchTableError, ProgrammingError) as err:
        raise ConfigurationError(f"{system.value}.{table_name} cannot be read at {redact_url(url)}: "
                                 f"{type(err.orig if isinstance(err, DBAPIError) else err).__name__}") from err
    except OperationalError as err:
        raise SourceError(f"{system.value} at {redact_url(url)} is not reachable: "
                          f"{str(err.orig).splitlines()[0][:200] if err.orig else type(err).__name__}") from err
    finally:
        engine.dispose()
    if not result.files:  # an empty table still stages one empty, typed part
        _write_empty(staging, system, table, columns, result)
    return result


def _write_empty(staging: Staging, system: System, table: legacy.Table, columns: list[str],
                 result: ExtractResult) -> None:
    import pyarrow as pa

    schema = pa.schema([(name, arrow_type(table.column(name), system)) for name in columns])
    staged = staging.write_arrow(f"{staged_prefix(system.value, table.name)}part-00000.parquet",
                                 schema.empty_table())
    result.files.append(staged.as_dict())


def extract_verify(location: str, table_name: str, staging: Staging,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    import pyarrow as pa

    from sis_migrate.sources.sql import extract_columns
    from sis_migrate.sources.verify import newest_exports, read_export, read_verify_file

    table = legacy.table(System.VERIFY, table_name)
    columns = extract_columns(System.VERIFY, table_name)
    result = ExtractResult(System.VERIFY.value, table_name, columns=columns)
    staging.clear(staged_prefix(System.VERIFY.value, table_name))
    exports = newest_exports(location)
    if table_name not in exports:
        raise ConfigurationError(f"verify.{table_name}: no export file <table>_<YYYYMMDD>.txt at {location}")
    export = exports[table_name]
    result.source_file = export.name
    frame = read_verify_file(read_export(export), table, columns=columns)
    for part, start in enumerate(range(0, max(len(frame), 1), chunk_rows)):
        chunk = frame.iloc[start:start + chunk_rows]
        arrays = [pa.array(chunk[name].tolist(), pa.string()) for name in columns]
        arrow_table, scrubbed = scrub_tier2(pa.Table.from_arrays(arrays, names=columns), table)
        result.add_scrubbed(scrubbed)
        staged = staging.write_arrow(f"{staged_prefix(System.VERIFY.value, table_name)}part-{part:05d}.parquet",
                                     arrow_table)
        result.files.append(staged.as_dict())
        result.rows += len(chunk)
        if progress:
            progress.add(len(chunk), f"verify.{table_name}")
    return result


def extract_table(locations, system: System | str, table_name: str, staging: Staging,
                  chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    """Extract one legacy table from wherever its system lives (``LegacyLocations``)."""
    system = System(system)
    if system is System.VERIFY:
        return extract_verify(locations.verify, table_name, staging, chunk_rows, progress)
    return extract_relational(locations.url(system), system, table_name, staging, chunk_rows, progress)



def extract(cfg, table: dict[str, str]) -> dict[str, Any]:
    """The stage: one legacy table of the run's sources into its staging area; counts and files out."""
    progress = Progress(f"extract {table['system']}.{table['table']}")
    result = extract_table(cfg.locations(), table["system"], table["table"], cfg.staging_area(), cfg.chunk_rows,
                           progress)
    progress.done()
    return {"system": result.system, "table": result.table, "rows": result.rows, "columns": result.columns,
            "files": result.files, "source_file": result.source_file, "scrubbed": result.scrubbed}
