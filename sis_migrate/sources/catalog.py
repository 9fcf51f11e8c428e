"""The live catalog: which tables and columns the legacy sources really have (names only, never a row).

Input: the legacy locations. Output: ``(system, table) -> column names`` as each source spells
them: the relational systems through SQLAlchemy's inspector (identifier case kept), Verify from
the header line of the newest export of each table. A table the source lacks is left out.
"""

from __future__ import annotations

from pathlib import Path

from sis_migrate import legacy
from sis_migrate.errors import SourceError
from sis_migrate.legacy import System
from sis_migrate.locations import LegacyLocations, read_only_sqlite, redact_url

LiveColumns = dict[tuple[System, str], list[str]]


def read_live_columns(locations: LegacyLocations) -> LiveColumns:
    """Columns of every catalog table each source has; a table the source lacks is left out."""
    live: LiveColumns = {}
    for system in legacy.RELATIONAL_SYSTEMS:
        live.update(relational_columns(locations.url(system), system))
    live.update(verify_columns(locations.verify))
    return live


def relational_columns(url: str, system: System) -> LiveColumns:
    """The catalog tables of ``system`` present at ``url``, each with its column names as the database spells them."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).is_file():
            raise SourceError(f"{system.value}: SQLite file {database or '(none)'} does not exist")
        parsed = read_only_sqlite(parsed)
    engine = create_engine(parsed)
    try:
        inspector = inspect(engine)
        present = set(inspector.get_table_names())
        return {(system, table.name): [column["name"] for column in inspector.get_columns(table.name)]
                for table in legacy.tables_of(system) if table.name in present}
    except SQLAlchemyError as err:
        raise SourceError(f"{system.value} at {redact_url(url)} could not be inspected: {type(err).__name__}") from err
    finally:
        engine.dispose()


def verify_columns(location: str) -> LiveColumns:
    """The header of the newest export of each Verify table at ``location`` (folder or s3://)."""
    from sis_migrate.sources.verify import newest_exports, read_header

    exports = newest_exports(location)
    return {(System.VERIFY, table.name): read_header(exports[table.name])
            for table in legacy.tables_of(System.VERIFY) if table.name in exports}
