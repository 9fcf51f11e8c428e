"""The extract query of a legacy table: it names only mapped columns, never ``SELECT *``.

This is where the tier-1 promise is kept: a denied (or ignored) column is not named, so its
values never leave the legacy system. The column list comes from the mapping files; a denied
column found in it (a mapping and the deny-list disagree) stops the run instead of reading it.
"""

from __future__ import annotations

from sqlalchemy import Select, column, select, table
from sqlalchemy.sql.elements import quoted_name

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.mapping import DenyList, Mappings, default_deny_list, default_mappings

SQL_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")


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


def _catalog_table(system: System | str, table_name: str) -> legacy.Table:
    try:
        return legacy.table(system, table_name)
    except KeyError as err:
        raise ConfigurationError(str(err.args[0])) from err
