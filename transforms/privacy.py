"""The one keyed hash: how an identifier appears in a report or a log line, and what key checksums sum.

    keyed hash of a value = the first 16 hex digits of SHA-256(UTF-8 of  key + "|" + text of the value)

computed identically by pandas (:func:`keyed_hash`), DuckDB, PostgreSQL and SQLite (the SQL of
:func:`keyed_hash_sql`; SQLite through the functions :func:`register_sqlite` adds). The text of
a value is fixed, so a value hashes alike wherever it is held:

    text      as it is (any Unicode, hashed as UTF-8)
    integer   decimal digits, no decimal part: 12345678 whether it came as Int64, 12345678.0 or '12345678'
    date      ISO, YYYY-MM-DD
    datetime  YYYY-MM-DD HH:MM:SS
    boolean   true / false
    NULL      stays NULL: no text, no hash

A key of several fields is their texts joined with "|" (:func:`joined_text_sql`). Why not HMAC:
DuckDB has none and PostgreSQL only through an extension, and the same digest must come out of
every engine. A secret prefix is enough for what the hash is for (nobody without the key can
compute the hash of a guessed student number), and the digest is truncated, so length extension
has no full state to start from.

Pure: pandas and hashlib only; nothing from ``sis_migrate``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

HASH_HEX_LENGTH = 16
CHECKSUM_HEX_LENGTH = 8  # a checksum adds up the first 32 bits of each keyed hash (:func:`hash_number_sql`)
SEPARATOR = "|"
TEXT_KINDS = ("text", "integer", "date", "datetime", "boolean")
DIALECTS = ("duckdb", "postgresql", "sqlite")
DATE_FORMAT, DATETIME_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"
# SQLite has no SHA-256 and no hexadecimal parsing: register_sqlite adds these two.
SQLITE_SHA256, SQLITE_HEX_NUMBER = "sis_sha256_hex", "sis_hex_number"


def keyed_digest(text: str, key: str) -> str:
    """The keyed hash of one value's text (see the module docstring)."""
    return hashlib.sha256(f"{key}{SEPARATOR}{text}".encode()).hexdigest()[:HASH_HEX_LENGTH]


# --- pandas ---------------------------------------------------------------------------------------

def text_form(series: pd.Series) -> pd.Series:
    """Each value's fixed text (see the module docstring), by the series' type; NULL stays NULL.

    Floats that are all whole are integers; datetimes that are all at midnight are dates (a date
    read back through pandas); a column of Python objects is typed first (dates, integers, ...).
    """
    values = series
    if values.dtype == object:
        values = _typed(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        text = values.map({True: "true", False: "false"})
    elif pd.api.types.is_float_dtype(values.dtype) and bool((values.dropna() % 1 == 0).all()):
        text = values.astype("Int64")
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        present = values.dropna()
        midnight = bool((present == present.dt.normalize()).all())
        text = values.dt.strftime(DATE_FORMAT if midnight else DATETIME_FORMAT)
    else:
        text = values
    return text.astype(pd.StringDtype())


def _typed(values: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("date", "datetime", "datetime64"):
        return pd.to_datetime(values)
    if kind == "boolean":
        return values.astype("boolean")
    if kind == "integer":
        return values.astype("Int64")
    if kind in ("floating", "mixed-integer-float"):
        return values.astype("Float64")
    return values


def keyed_hash(series: pd.Series, key: str) -> pd.Series:
    """The keyed hash of each value (16 hex digits); NULL stays NULL; the index is kept.

    Each distinct text is hashed once: identifiers repeat a lot in reports of quarantined rows.
    """
    if not key:
        raise ValueError("keyed_hash needs a non-empty key")
    codes, uniques = pd.factorize(text_form(series), use_na_sentinel=True)
    digests = np.array([keyed_digest(text, key) for text in uniques], dtype=object)
    hashed = pd.Series(pd.NA, index=series.index, dtype=pd.StringDtype(), name=series.name)
    present = codes >= 0
    hashed[present] = digests[codes[present]]
    return hashed


# --- SQL: DuckDB, PostgreSQL, SQLite ---------------------------------------------------------------

def _dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"the keyed hash is written for {', '.join(DIALECTS)}, not {dialect!r}")
    return dialect


def text_sql(column: str, kind: str, dialect: str) -> str:
    """The SQL of a column's fixed text; ``column`` is already quoted, ``kind`` one of :data:`TEXT_KINDS`."""
    dialect = _dialect(dialect)
    if kind in ("text", "integer"):
        return f"CAST({column} AS TEXT)"
    if kind == "boolean":
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    if kind in ("date", "datetime"):
        if dialect == "postgresql":  # to_char, not a cast: a cast's text follows the session's DateStyle
            return f"to_char({column}, '{'YYYY-MM-DD' if kind == 'date' else 'YYYY-MM-DD HH24:MI:SS'}')"
        pattern = DATE_FORMAT if kind == "date" else DATETIME_FORMAT
        return f"strftime({column}, '{pattern}')" if dialect == "duckdb" else f"strftime('{pattern}', {column})"
    raise ValueError(f"no fixed text form for {kind!r}: one of {', '.join(TEXT_KINDS)}")


def joined_text_sql(texts: list[str]) -> str:
    """The text of a key of several fields: their texts joined with ``|`` (NULL if any is NULL)."""
    return f" || '{SEPARATOR}' || ".join(texts)


def keyed_hash_sql(text: str, dialect: str, key: str = ":hash_key") -> str:
    """The SQL of the keyed hash of ``text`` (an SQL expression); ``key`` is the key's bind parameter.

    Bind the key, never inline it: a statement's text can end up in an error message or a log.
    """
    prefixed = f"CAST({key} AS TEXT) || '{SEPARATOR}' || {text}"
    sha256_hex = {"duckdb": f"sha256({prefixed})",
                  "postgresql": f"encode(sha256(convert_to({prefixed}, 'UTF8')), 'hex')",
                  "sqlite": f"{SQLITE_SHA256}({prefixed})"}[_dialect(dialect)]
    return f"substr({sha256_hex}, 1, {HASH_HEX_LENGTH})"


def hash_number_sql(hashed: str, dialect: str) -> str:
    """The first 32 bits of a keyed hash (an SQL expression) as an integer: what a checksum adds up."""
    digits = f"substr({hashed}, 1, {CHECKSUM_HEX_LENGTH})"
    return {"duckdb": f"CAST('0x' || {digits} AS BIGINT)",
            "postgresql": f"CAST(CAST('x' || {digits} AS bit({4 * CHECKSUM_HEX_LENGTH})) AS BIGINT)",
            "sqlite": f"{SQLITE_HEX_NUMBER}({digits})"}[_dialect(dialect)]


def register_sqlite(connection) -> None:
    """Add to a sqlite3 connection the two functions the SQLite SQL of the keyed hash calls."""
    connection.create_function(SQLITE_SHA256, 1, _sha256_hex, deterministic=True)
    connection.create_function(SQLITE_HEX_NUMBER, 1, _hex_number, deterministic=True)


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(str(text).encode()).hexdigest()


def _hex_number(digits: str | None) -> int | None:
    return None if digits is None else int(digits, 16)
