"""SQLAlchemy tables for the relational legacy systems, built from the data dictionary.

One ``MetaData`` per system serves SQLite, PostgreSQL and MariaDB: where the dialects disagree the
column type carries a per-dialect variant. Each system keeps its own identifier case (PascalCase
Gradebook, UPPER_SNAKE SIM): SQLAlchemy quotes any name that is not all lower case, so PostgreSQL
keeps ``"SIM_STUDENT"`` and ``"TeacherId"`` as written instead of folding them.

No keys or indexes: these are legacy exports as they stand (Gradebook's local course codes, for
one, are not unique), and bulk loads into bare tables are fastest.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from sis_migrate import legacy
from sis_migrate.legacy import RELATIONAL_SYSTEMS, System

_MYSQL_DIALECTS = ("mysql", "mariadb")


def column_type(column: legacy.Column) -> TypeEngine:
    """The SQLAlchemy type of a legacy column, with per-dialect variants where the dialects differ."""
    base, args = column.base_type, column.type_args
    if base == "CHAR":
        return sa.CHAR(*args)
    if base == "VARCHAR":
        return sa.VARCHAR(*args)
    if base == "NUMERIC":
        precision, scale = (args + (0,))[:2]
        return sa.Numeric(precision, scale, asdecimal=scale > 0)
    if base == "DECIMAL":
        precision, scale = (args + (0,))[:2]
        return sa.DECIMAL(precision, scale, asdecimal=scale > 0)
    if base in ("INT", "INTEGER"):
        return sa.Integer()
    if base == "SMALLINT":
        return sa.SmallInteger()
    if base == "DATE":
        return sa.Date()
    if base in ("TIMESTAMP", "DATETIME"):
        # MariaDB's TIMESTAMP is an epoch type (1970-2038, converted by session time zone, auto
        # updated when NOT NULL): a legacy wall-clock timestamp is a DATETIME there. PostgreSQL has
        # no DATETIME: TIMESTAMP (without time zone) is the same wall-clock type.
        return sa.DateTime().with_variant(postgresql.TIMESTAMP(), "postgresql").with_variant(
            mysql.DATETIME(), *_MYSQL_DIALECTS)
    if base == "BIT":
        return sa.Boolean(create_constraint=False).with_variant(mysql.BIT(1), *_MYSQL_DIALECTS)
    if base == "BOOLEAN":
        return sa.Boolean(create_constraint=False)
    raise ValueError(f"{column.name}: no SQL type for legacy type {column.sql_type!r}")


def system_metadata(system: System | str) -> sa.MetaData:
    """A fresh ``MetaData`` holding every table of one relational legacy system, in catalog order."""
    system = System(system)
    if system not in RELATIONAL_SYSTEMS:
        raise ValueError(f"{system} is not a relational legacy system (it is written as files)")
    metadata = sa.MetaData()
    for table in legacy.tables_of(system):
        sa.Table(
            table.name, metadata,
            *(sa.Column(column.name, column_type(column), nullable=True) for column in table.columns),
            mysql_charset="utf8mb4",
        )
    return metadata
