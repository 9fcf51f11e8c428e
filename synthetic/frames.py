"""Turn generated column arrays into frames with the dtypes of docs/CONTRACTS.md, and small helpers.

DATE/TIMESTAMP/DATETIME/YYYYMMDD -> datetime64[s] (NaT = NULL); INT/INTEGER/SMALLINT/NUMERIC(n) ->
Int64; DECIMAL/NUMERIC(p,s) -> float64; BIT/BOOLEAN -> boolean; all else object str (None = NULL),
except Gradebook DueDate and all text of Verify, which stay strings.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sis_migrate.legacy import Column, Table

_DATE_TYPES = {"DATE", "TIMESTAMP", "DATETIME", "YYYYMMDD"}
_INT_TYPES = {"INT", "INTEGER", "SMALLINT"}


def contract_dtype(column: Column) -> str:
    base = column.base_type
    if base in _DATE_TYPES:
        return "datetime64[s]"
    if base in _INT_TYPES:
        return "Int64"
    if base in {"NUMERIC", "DECIMAL"}:
        args = column.type_args
        return "float64" if base == "DECIMAL" or len(args) > 1 else "Int64"
    if base in {"BIT", "BOOLEAN"}:
        return "boolean"
    return "object"


def make_frame(table: Table, data: dict[str, object]) -> pd.DataFrame:
    """A frame with exactly the table's columns, in order, each in its contract dtype."""
    missing = set(table.column_names) - set(data)
    extra = set(data) - set(table.column_names)
    if missing or extra:
        raise ValueError(f"{table.system}.{table.name}: missing columns {sorted(missing)}, extra {sorted(extra)}")
    series = {}
    for column in table.columns:
        values = data[column.name]
        dtype = contract_dtype(column)
        if isinstance(values, pd.api.extensions.ExtensionArray):
            series[column.name] = pd.Series(values, copy=False).astype(dtype)
        elif dtype == "object":
            array = np.asarray(values, dtype=object)
            series[column.name] = pd.Series(array, dtype=object, copy=False)
        elif dtype == "datetime64[s]":
            series[column.name] = pd.Series(np.asarray(values, dtype="datetime64[s]"))
        elif dtype == "Int64":
            array = np.asarray(values)
            if array.dtype == object:
                series[column.name] = pd.Series(pd.array(list(array), dtype="Int64"))
            else:
                series[column.name] = pd.Series(pd.array(array.astype(np.int64), dtype="Int64"))
        elif dtype == "float64":
            series[column.name] = pd.Series(np.asarray(values, dtype=np.float64))
        else:
            series[column.name] = pd.Series(pd.array(np.asarray(values, dtype=bool), dtype="boolean"))
    return pd.DataFrame(series)


def nullable_int(values: np.ndarray, null: np.ndarray) -> pd.arrays.IntegerArray:
    """An Int64 array from integers and a NULL mask (fast, no per-value conversion)."""
    return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), np.asarray(null, dtype=bool))


def days(values: np.ndarray | int) -> np.ndarray:
    return np.asarray(values).astype("timedelta64[D]")


def d64(day: date) -> np.datetime64:
    return np.datetime64(day, "D")


def choice(rng: np.random.Generator, pool, size: int, p=None) -> np.ndarray:
    """Draw ``size`` values from a pool (sequence or array), keeping object strings as objects."""
    pool = np.asarray(pool, dtype=object) if not isinstance(pool, np.ndarray) else pool
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return pool[rng.choice(len(pool), size=size, p=p)]


def int_str(values: np.ndarray, width: int = 0) -> np.ndarray:
    values = np.asarray(values)
    fmt = f"{{:0{width}d}}" if width else "{:d}"
    return np.array([fmt.format(v) for v in values.tolist()], dtype=object)


def pick(rng: np.random.Generator, eligible: np.ndarray, count: int) -> np.ndarray:
    """``count`` distinct sorted indices among the True positions of ``eligible``."""
    candidates = np.flatnonzero(eligible)
    count = min(count, len(candidates))
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]


def ragged_arange(counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(c) for each c in counts."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts
