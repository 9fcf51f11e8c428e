"""Orphans and their descendants: rows naming a parent that is unknown or was itself quarantined."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.accounting import Outcome, split

DEPENDS_ON_QUARANTINED = "depends_on_quarantined"
UNKNOWN_PARENT = "unknown_parent"


def split_missing_parents(rows: pd.DataFrame, columns: list[str], known: pd.DataFrame,
                          quarantined: pd.DataFrame | None = None, reason: str | None = None) -> Outcome:
    """Quarantine the rows whose reference (``columns`` together) names no kept parent row.

    ``known`` and ``quarantined`` hold the parent's natural keys that were kept and that were not
    (one column per reference column, in order). A NULL in any reference column is no reference
    (an optional parent). With ``reason`` (``unknown_student``, ``unknown_school``, ...) every
    missing parent is that; otherwise a parent that was quarantined itself gives
    ``depends_on_quarantined`` and one no legacy row has ``unknown_parent``. The reason column
    is the first reference column.
    """
    values = rows[columns]
    present = values.notna().all(axis=1).to_numpy(dtype=bool)
    missing = present & ~_isin(values, known)
    if reason:
        return split(rows, missing, reason, columns[0])
    was_quarantined = (_isin(values, quarantined) if quarantined is not None and len(quarantined)
                       else np.zeros(len(rows), dtype=bool))
    step = split(rows, missing & was_quarantined, DEPENDS_ON_QUARANTINED, columns[0])
    never = (missing & ~was_quarantined)[~(missing & was_quarantined)]
    return step.then(lambda kept: split(kept, never, UNKNOWN_PARENT, columns[0]))


def _isin(values: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Positional: does each row of ``values`` equal some row of ``keys`` (compared column by column)?"""
    if values.shape[1] == 1:
        return np.asarray(values.iloc[:, 0].isin(pd.Index(keys.iloc[:, 0].dropna().unique())), dtype=bool)
    return np.asarray(pd.MultiIndex.from_frame(values).isin(pd.MultiIndex.from_frame(keys)), dtype=bool)
