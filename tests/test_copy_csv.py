"""The COPY / LOAD DATA encoding: the exact bytes, and a hand-written table of awkward values loaded
through real PostgreSQL COPY and real MariaDB LOAD DATA comes back value for value."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sis_migrate.copy_csv import MARIADB_FIELDS, NULL_TOKEN, csv_bytes

TEXT = ["plain", "", None, 'O\'Brien, "Jr"', "a|b", "line1\r\nline2", "line\nfeed", "NULL", "back\\slash",
        "Zoë Núñez", " padded ", "\\N", ","]
ROWS = len(TEXT)


def _cycle(values: list) -> list:
    return [values[i % len(values)] for i in range(ROWS)]


COLUMNS = {  # name: (Arrow type, PostgreSQL type, MariaDB type, values)
    "txt": (pa.string(), "text", "TEXT", TEXT),
    "big_txt": (pa.large_string(), "varchar(40)", "VARCHAR(40)", TEXT[::-1]),  # pandas hands over large_string
    "n": (pa.int64(), "bigint", "BIGINT", _cycle([1, None, -5, 2**40])),
    "amount": (pa.decimal128(6, 2), "numeric(6,2)", "DECIMAL(6,2)",
            _cycle([Decimal("1.50"), None, Decimal("-2.25"), Decimal("9999.99"), Decimal("0.00")])),
    "dbl": (pa.float64(), "double precision", "DOUBLE", _cycle([0.5, None, 1e20, -0.25, 1 / 3])),
    "day": (pa.date32(), "date", "DATE", _cycle([date(2018, 9, 4), None, date(9999, 12, 31), date(1900, 1, 1)])),
    "stamp": (pa.timestamp("s"), "timestamp", "DATETIME",
              _cycle([datetime(2018, 9, 4, 7, 30, 5), None, datetime(9999, 12, 31, 0, 0, 0)])),
    "flag": (pa.bool_(), "boolean", "TINYINT(1)", _cycle([True, False, None])),
}


def _arrays(for_mariadb: bool = False) -> list[pa.Array]:
    arrays = [pa.array(values, type) for type, _, _, values in COLUMNS.values()]
    if for_mariadb:  # what synthetic.writers_sql.typed_arrays sends: booleans as 1/0
        position = list(COLUMNS).index("flag")
        arrays[position] = arrays[position].cast(pa.int8())
    return arrays


def _expected(for_mariadb: bool = False) -> list[tuple]:
    rows = list(zip(*(values for *_, values in COLUMNS.values()), strict=True))
    if for_mariadb:
        flag = list(COLUMNS).index("flag")
        rows = [row[:flag] + (None if row[flag] is None else int(row[flag]),) + row[flag + 1:] for row in rows]
    return rows


def test_the_bytes_keep_text_apart_from_null_and_print_iso_dates():
    arrays = [pa.array(["", None, 'say "hi"', "NULL", "a,b\nc"]), pa.array([1, None, 3, 4, 5]),
              pa.array([date(2018, 9, 4), None] * 2 + [None], pa.date32()),
              pa.array([datetime(2018, 9, 4, 7, 30, 5), None, None, None, None], pa.timestamp("s")),
              pa.array([True, False, None, True, True]), pa.array([Decimal("1.50")] + [None] * 4, pa.decimal128(3, 2))]
    assert csv_bytes(arrays).decode() == (
        '"",1,2018-09-04,2018-09-04 07:30:05,true,1.50\n'
        'NULL,NULL,NULL,NULL,false,NULL\n'
        '"say ""hi""",3,2018-09-04,NULL,NULL,NULL\n'
        '"NULL",4,NULL,NULL,true,NULL\n'
        '"a,b\nc",5,NULL,NULL,true,NULL\n')
    assert csv_bytes([pa.array([], pa.string())]) == b""


@pytest.mark.postgres
def test_postgresql_copy_reads_back_every_value(pg_url):
    engine = sa.create_engine(pg_url)
    columns = ", ".join(f"{n} {c[1]}" for n, c in COLUMNS.items())
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE awkward (row_no int, {columns})"))
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            statement = f"COPY awkward ({', '.join(['row_no', *COLUMNS])}) FROM STDIN (FORMAT csv, NULL '{NULL_TOKEN}')"
            with cursor.copy(statement) as copy:
                copy.write(csv_bytes([pa.array(range(ROWS)), *_arrays()]))
        raw.commit()
    finally:
        raw.close()
    with engine.connect() as conn:
        stored = [tuple(row[1:]) for row in conn.execute(sa.text("SELECT * FROM awkward ORDER BY row_no"))]
    engine.dispose()
    assert stored == _expected()


@pytest.mark.mariadb
def test_mariadb_load_data_reads_back_every_value(mariadb_url):
    engine = sa.create_engine(mariadb_url, connect_args={"local_infile": True})
    columns = ", ".join(f"{n} {c[2]}" for n, c in COLUMNS.items())
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(csv_bytes([pa.array(range(ROWS)), *_arrays(for_mariadb=True)]))
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE awkward (row_no INT, {columns}) DEFAULT CHARSET=utf8mb4"))
            conn.exec_driver_sql(f"LOAD DATA LOCAL INFILE %s INTO TABLE awkward CHARACTER SET utf8mb4 {MARIADB_FIELDS}",
                                 (path,))
            warnings = conn.exec_driver_sql("SHOW WARNINGS").all()
            stored = [tuple(row[1:]) for row in conn.execute(sa.text("SELECT * FROM awkward ORDER BY row_no"))]
    finally:
        os.unlink(path)
        engine.dispose()
    assert warnings == []  # LOCAL turns a refused value into a warning and loads the row altered
    assert stored == _expected(for_mariadb=True)
