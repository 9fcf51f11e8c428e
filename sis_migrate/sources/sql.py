"""Reading a relational legacy table: the extract query and the streamed, read-only read of its rows.

Input: a SQLAlchemy URL, a system and a table. Output: :func:`read_rows` yields the table's
mapped columns (:func:`extract_columns`, in catalog order) as chunks of driver rows, at most
``chunk_rows`` at a time, so memory stays flat whatever the table's size.

The query names only mapped columns, never ``SELECT *``: this is where the tier-1 promise is kept.
A denied (or ignored) column is not named, so its values never leave the legacy system. The column
list comes from the mapping files; a denied column found in it (a mapping and the deny-list
disagree) stops the run instead of reading it. Every connection is read-only (SQLite opened with
``mode=ro``, read-only transactions on PostgreSQL and MariaDB): an extract can never change a
legacy system.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, Select, column, select, table
from sqlalchemy.sql.elements import quoted_name

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.legacy import System
from sis_migrate.locations import read_only_sqlite, redact_url
from sis_migrate.mapping import DenyList, Mappings, default_deny_list, default_mappings

SQL_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")
DEFAULT_CHUNK_ROWS = 200_000


def extract_columns(system: System | str, table_name: str, mappings: Mappings | None = None,
                    deny_list: DenyList | None = None) -> list[str]:
    """The columns to read from a legacy table: its mapped columns, in catalog order.

    The table's key columns are always among them (the loader requires them mapped). Raises
    ConfigurationError when the table has no mapping or a mapped column is on the deny-list.
    """
    mappings = mappings or default_mappings()
    deny_list = deny_list or default_deny_list()
    catalog_table = _catalog_table(system, table_name)
    table_mapping = mappings.table(system, table_name)
    if table_mapping is None:
        raise ConfigurationError(f"{catalog_table.system.value}.{table_name} has no mapping: nothing may be read")
    mapped = set(table_mapping.mapped_columns)
    denied = sorted(mapped & set(deny_list.columns_of(system, table_name)))
    if denied:
        raise ConfigurationError(f"{catalog_table.system.value}.{table_name}: denied column(s) {', '.join(denied)} "
                                 "are mapped; a denied column is never read")
    missing_keys = [key for key in catalog_table.key if key not in mapped]
    if missing_keys:
        raise ConfigurationError(f"{catalog_table.system.value}.{table_name}: key column(s) "
                                 f"{', '.join(missing_keys)} are not mapped")
    return [name for name in catalog_table.column_names if name in mapped]


def build_extract_query(system: System | str, table_name: str, dialect_name: str,
                        mappings: Mappings | None = None, deny_list: DenyList | None = None) -> Select:
    """``SELECT "col", ... FROM "table"`` naming only :func:`extract_columns`, identifiers always quoted.

    Quoting keeps each legacy system's identifier case (``SIM_STUDENT``, ``StudentNumber``) on
    every dialect. No ORDER BY: the read is one streamed pass, and a sort of a 90-million-row
    table on the legacy server would cost more than it gives.
    """
    if dialect_name not in SQL_DIALECTS:
        raise ConfigurationError(f"no extract query for dialect {dialect_name!r}; known: {', '.join(SQL_DIALECTS)}")
    catalog_table = _catalog_table(system, table_name)
    if catalog_table.system not in legacy.RELATIONAL_SYSTEMS:
        raise ConfigurationError(f"{catalog_table.system.value} is read from export files, not with SQL")
    names = extract_columns(system, table_name, mappings, deny_list)
    columns = {name: column(quoted_name(name, quote=True)) for name in names}
    source = table(quoted_name(table_name, quote=True), *columns.values())
    return select(*columns.values()).select_from(source)


def read_only_engine(url: str) -> Engine:
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


def read_rows(url: str, system: System | str, table_name: str,
              chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[tuple]]:
    """Stream the mapped columns of a legacy table, in :func:`extract_columns` order, in chunks of rows.

    One server-side cursor inside one read-only transaction; no ORDER BY (see
    :func:`build_extract_query`). A table or column the source lacks is a ConfigurationError, a
    source that cannot be reached a SourceError. Close the generator (``contextlib.closing``) if
    you stop early: the connection is released when it ends.
    """
    from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, ProgrammingError

    system = System(system)
    engine = read_only_engine(url)
    try:
        with engine.connect() as conn:
            query = build_extract_query(system, table_name, engine.dialect.name)
            streamed = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows).execute(query)
            for rows in streamed.partitions(chunk_rows):
                yield [tuple(row) for row in rows]
    except (NoSuchTableError, ProgrammingError) as err:
        raise ConfigurationError(f"{system.value}.{table_name} cannot be read at {redact_url(url)}: "
                                 f"{type(err.orig if isinstance(err, DBAPIError) else err).__name__}") from err
    except OperationalError as err:
        raise SourceError(f"{system.value} at {redact_url(url)} is not reachable: "
                          f"{str(err.orig).splitlines()[0][:200] if err.orig else type(err).__name__}") from err
    finally:
        engine.dispose()


def _catalog_table(system: System | str, table_name: str) -> legacy.Table:
    try:
        return legacy.table(system, table_name)
    except KeyError as err:
        raise ConfigurationError(str(err.args[0])) from err
