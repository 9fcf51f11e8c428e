"""The ground-truth manifest of a synthetic district: what was generated and what was planted.

Shape (JSON-serialisable, keys in a fixed order):
- ``seed``, ``students``, ``preset``, ``school_year``, ``prior_school_year``, ``export_day``,
  ``export_days`` (per Verify table, oldest first, ``YYYYMMDD``), ``generator_version``;
- ``rows``: ``{"system.table": rows}`` (Verify tables: rows of the newest export day);
- ``anomalies``: a list of ``{code, system, table, column, count, keys}``; each key is the legacy
  key of one planted row as a dict of column -> value as typed (dates ``YYYY-MM-DD``); for merges
  the dict also holds ``"survivor"``: the survivor's key;
- ``consequences``: ``{"depends_on_quarantined": {"system.table": rows}}``;
- ``variants``: ``{variant: {"system.table.column": count}}``; ``rates``: the rates used;
- ``canary``: ``{"marker", "columns": {"system.table.column": kind}, "values": {...: [values]}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np


def json_value(value):
    """A legacy key value as JSON: numbers as int, dates as ISO text, strings as typed."""
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    if isinstance(value, datetime):
        return value.date().isoformat() if value == datetime(value.year, value.month, value.day) else \
            value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class ManifestBuilder:
    """Collects rows, anomalies, consequences and variants while the district is generated."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self._anomalies: dict[tuple[str, str, str, str | None], list[dict]] = {}
        self.consequences: dict[str, int] = {}
        self._variants: dict[str, dict[str, int]] = {}

    def count_rows(self, system: str, table: str, rows: int) -> None:
        name = f"{system}.{table}"
        self.rows[name] = self.rows.get(name, 0) + int(rows)

    def anomaly(self, code: str, system: str, table: str, column: str | None, keys: Iterable[dict]) -> None:
        bucket = self._anomalies.setdefault((code, system, table, column), [])
        bucket.extend({name: (json_value(v) if name != "survivor" else {k: json_value(x) for k, x in v.items()})
                       for name, v in key.items()} for key in keys)

    def consequence(self, system: str, table: str, rows: int) -> None:
        name = f"{system}.{table}"
        self.consequences[name] = self.consequences.get(name, 0) + int(rows)

    def variant(self, name: str, system: str, table: str, column: str, count: int) -> None:
        columns = self._variants.setdefault(name, {})
        key = f"{system}.{table}.{column}"
        columns[key] = columns.get(key, 0) + int(count)

    def build(self, header: dict, rates: dict, canary: dict) -> dict:
        anomalies = []
        for (code, system, table, column), keys in sorted(self._anomalies.items(),
                                                          key=lambda item: tuple(str(x) for x in item[0])):
            anomalies.append({"code": code, "system": system, "table": table, "column": column,
                              "count": len(keys), "keys": keys})
        return {
            **header,
            "rows": dict(sorted(self.rows.items())),
            "anomalies": anomalies,
            "consequences": {"depends_on_quarantined": dict(sorted(self.consequences.items()))},
            "variants": {name: dict(sorted(cols.items())) for name, cols in sorted(self._variants.items())},
            "rates": rates,
            "canary": canary,
        }
