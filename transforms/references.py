"""Orphans and their descendants: rows naming a parent that is unknown or was itself quarantined."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from transforms.accounting import Outcome, split


def split_known(frame: pd.DataFrame, column: str, known: pd.Index | Iterable, reason: str,
                null_is_known: bool = False) -> Outcome:
    """Quarantine rows whose ``column`` is not among ``known`` (unknown_student, unknown_school, ...).

    A NULL reference is unknown unless ``null_is_known`` (an optional reference, e.g. a blank
    CimCourseId of a local-only course).
    """
    references = frame[column]
    unknown = ~references.isin(_index(known)).fillna(False).to_numpy(dtype=bool)
    if null_is_known:
        unknown &= references.notna().to_numpy(dtype=bool)
    return split(frame, unknown, reason, column)


def split_by_parent(frame: pd.DataFrame, column: str, quarantined_parent_keys: pd.Index | Iterable) -> Outcome:
    """Quarantine rows whose parent (named by ``column``) was quarantined: depends_on_quarantined."""
    orphaned = frame[column].isin(_index(quarantined_parent_keys)).fillna(False).to_numpy(dtype=bool)
    return split(frame, orphaned, "depends_on_quarantined", column)


def _index(keys: pd.Index | Iterable) -> pd.Index:
    return keys if isinstance(keys, pd.Index) else pd.Index(list(keys))
