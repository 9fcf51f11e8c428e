"""The one keyed hash: its text forms, and the same digest from pandas, DuckDB, PostgreSQL and SQLite."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from transforms.privacy import (
    hash_number_sql,
    keyed_hash,
    keyed_hash_sql,
    register_sqlite,
    text_form,
    text_sql,
)

KEY = "key-one"
# One column per kind of value, a NULL in each; text with non-ASCII letters, a quote and the separator.
VALUES = {
    "n": ("integer", [12345678, None, 7, -3]),
    "s": ("text", ["Zoë", "東京 学校", None, "O'Brien|x"]),
    "d": ("date", [date(2018, 9, 4), None, date(2000, 2, 29), date(1999, 12, 31)]),
}


def test_hash_is_16_hex_keyed_and_stable_across_dtypes():
    as_int = keyed_hash(pd.Series([12345678, None, 12345678], dtype="Int64"), KEY)
    as_text = keyed_hash(pd.Series(["12345678"]), KEY)
    as_float = keyed_hash(pd.Series([12345678.0]), KEY)
    as_object = keyed_hash(pd.Series([12345678], dtype=object), KEY)
    other_key = keyed_hash(pd.Series(["12345678"]), "key-two")
    assert as_int[0] == as_int[2] == as_text[0] == as_float[0] == as_object[0]
    assert as_text[0] == hashlib.sha256(f"{KEY}|12345678".encode()).hexdigest()[:16]
    assert pd.isna(as_int[1])
    assert len(as_int[0]) == 16 and int(as_int[0], 16) >= 0
    assert other_key[0] != as_text[0]
    assert "12345678" not in as_int[0]


def test_text_forms_of_dates_datetimes_and_booleans():
    assert list(text_form(pd.Series([date(2018, 9, 4), None]))) == ["2018-09-04", pd.NA]
    assert list(text_form(pd.Series(pd.to_datetime(["2018-09-04", None])))) == ["2018-09-04", pd.NA]
    assert list(text_form(pd.Series([datetime(2018, 9, 4, 7, 5, 3)]))) == ["2018-09-04 07:05:03"]
    assert list(text_form(pd.Series([True, False, None], dtype="boolean"))) == ["true", "false", pd.NA]
    assert list(text_form(pd.Series([1.5, 2.0]))) == ["1.5", "2.0"]  # not all whole: not integers


def test_distinct_values_hash_differently_and_index_is_kept():
    hashed = keyed_hash(pd.Series(["a", "b"], index=[5, 6]), "k")
    assert hashed[5] != hashed[6]
    assert list(hashed.index) == [5, 6]


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError, match="non-empty key"):
        keyed_hash(pd.Series(["a"]), "")


def _select(dialect: str, key: str) -> str:
    hashes = [keyed_hash_sql(text_sql(f'"{column}"', kind, dialect), dialect, key) for column, (kind, _) in
              VALUES.items()]
    numbers = [hash_number_sql(hashed, dialect) for hashed in hashes]
    return f'SELECT {", ".join(hashes + numbers)} FROM sample ORDER BY "i"'


def _expected() -> list[tuple]:
    """Per row: the pandas digests of each column, then the first 32 bits of each as a number."""
    columns = [keyed_hash(pd.Series(values, dtype="Int64" if kind == "integer" else object), KEY)
               for kind, values in VALUES.values()]
    rows = []
    for position in range(len(VALUES["n"][1])):
        digests = [None if pd.isna(column[position]) else column[position] for column in columns]
        rows.append(tuple(digests + [None if d is None else int(d[:8], 16) for d in digests]))
    return rows


def test_duckdb_gives_the_pandas_digests():
    import duckdb

    table = pa.table({"i": list(range(len(VALUES["n"][1]))),
                      "n": pa.array(VALUES["n"][1], pa.int64()), "s": pa.array(VALUES["s"][1], pa.string()),
                      "d": pa.array(VALUES["d"][1], pa.date32())})
    connection = duckdb.connect()
    connection.register("sample", table)
    assert connection.execute(_select("duckdb", "$hash_key"), {"hash_key": KEY}).fetchall() == _expected()


def _in_database(url: str) -> list[tuple]:
    from sqlalchemy import BigInteger, Column, Date, Integer, MetaData, Table, Text, create_engine, event, insert, text

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda dbapi_connection, _record: register_sqlite(dbapi_connection))
    metadata = MetaData()
    sample = Table("sample", metadata, Column("i", Integer, primary_key=True), Column("n", BigInteger),
                   Column("s", Text), Column("d", Date))
    rows = [{"i": i, **{column: values[i] for column, (_, values) in VALUES.items()}}
            for i in range(len(VALUES["n"][1]))]
    with engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(insert(sample), rows)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(_select(engine.dialect.name, ":hash_key")),
                                                          {"hash_key": KEY})]
    engine.dispose()
    return found


def test_sqlite_gives_the_pandas_digests(tmp_path):
    assert _in_database(f"sqlite:///{tmp_path / 'hash.sqlite'}") == _expected()


@pytest.mark.postgres
def test_postgresql_gives_the_pandas_digests(pg_url):
    assert _in_database(pg_url) == _expected()


def test_an_unknown_kind_or_dialect_is_refused():
    with pytest.raises(ValueError, match="no fixed text form"):
        text_sql('"x"', "decimal", "duckdb")
    with pytest.raises(ValueError, match="not 'mysql'"):
        keyed_hash_sql("'x'", "mysql")
