"""Extracted legacy rows as typed Arrow tables, tier-2 values emptied: what every source hands to staging.

Input: one chunk of a legacy table's mapped columns, either rows as the database driver returns
them (relational systems) or Verify's text columns, plus the table's entry in the legacy data
dictionary. Output: a ``pyarrow.Table`` typed by the data dictionary (:func:`arrow_type`; Verify
fields stay text, the transforms parse them) with every SSN-shaped value in a non-key text column
emptied, and how many were emptied per column (never which, never the value).

A value that does not fit its declared type (SQLite stores anything) stops the extract with a
RowDataError naming system, table, column and a keyed hash of the row's key (never the key).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sis_migrate import legacy
from sis_migrate.errors import RowDataError, row_named_by_key
from sis_migrate.legacy import Column, System

if TYPE_CHECKING:
    import pyarrow as pa


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


def empty_table(table: legacy.Table, columns: list[str]) -> pa.Table:
    """No rows, the columns typed as :func:`arrow_type` says: what an empty legacy table stages."""
    import pyarrow as pa

    return pa.schema([(name, arrow_type(table.column(name), table.system)) for name in columns]).empty_table()


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
    """Driver rows (tuples in ``columns`` order) as a table typed by the data dictionary."""
    import pyarrow as pa

    keys = _row_keys(rows, columns, table)
    arrays = [
        _typed_array([row[i] for row in rows], table.column(name), table.system, keys, table.name)
        for i, name in enumerate(columns)
    ]
    return pa.Table.from_arrays(arrays, names=columns)
