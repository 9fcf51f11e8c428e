"""Validation point 1: a value-free profile of each staged legacy table, compared with the run manifest.

Input: ``manifest.json`` and ``extract/<system>/<table>/`` Parquet. Output:
``validation/profile/<system>.<table>.json`` (rows, null share and distinct count per column) and
``validation/profile/summary.json`` (rows against the manifest's count per table); numbers only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sis_migrate.stages.validate.results import VALIDATION_DIR
from sis_migrate.storage import Staging


class _DistinctHashes:
    """Exact distinct count of a column seen part by part, holding 64-bit hashes rather than values.

    Each part's unique hashes are kept until they outgrow the last compacted set, then merged:
    memory stays near 8 bytes per distinct value and the merging cost is amortised.
    """

    def __init__(self) -> None:
        self._merged = np.empty(0, dtype=np.uint64)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0

    def add(self, values: pd.Series) -> None:
        hashed = np.unique(pd.util.hash_pandas_object(values, index=False).to_numpy())
        self._pending.append(hashed)
        self._pending_size += len(hashed)
        if self._pending_size > max(len(self._merged), 1_000_000):
            self._compact()

    def _compact(self) -> None:
        self._merged = np.unique(np.concatenate([self._merged, *self._pending]))
        self._pending, self._pending_size = [], 0

    def count(self) -> int:
        self._compact()
        return len(self._merged)


def profile_staged(staging: Staging) -> dict[str, Any]:
    """Rows, null share and distinct count per column of each staged legacy table; no value leaves.

    Distinct counts are exact, over 64-bit hashes of the values, so memory holds hashes rather than
    data. Rows are compared with the run manifest's count for the table.
    """
    manifest = staging.read_json("manifest.json")
    tables = {}
    for name, entry in sorted((manifest.get("tables") or {}).items()):
        system, table = name.split(".", 1)
        rows, nulls, distinct = 0, {}, {}
        for frame in staging.read_parts(f"extract/{system}/{table}/"):
            rows += len(frame)
            for column in frame.columns:
                nulls[column] = nulls.get(column, 0) + int(frame[column].isna().sum())
                distinct.setdefault(column, _DistinctHashes()).add(frame[column].dropna())
        profile = {"table": name, "rows": rows, "manifest_rows": entry.get("rows"),
                   "rows_match": entry.get("rows") is None or entry.get("rows") == rows,
                   "columns": {column: {"null_share": round(nulls[column] / rows, 6) if rows else 0.0,
                                        "distinct": distinct[column].count()} for column in nulls}}
        staging.write_json(f"{VALIDATION_DIR}/profile/{name}.json", profile)
        tables[name] = {"rows": rows, "manifest_rows": profile["manifest_rows"], "rows_match": profile["rows_match"],
                        "columns": len(nulls)}
    summary = {"point": "staged", "success": all(t["rows_match"] for t in tables.values()), "tables": tables}
    staging.write_json(f"{VALIDATION_DIR}/profile/summary.json", summary)
    return summary
