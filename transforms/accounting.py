"""Where every row of a table went: kept, merged into a survivor, or quarantined with a reason.

Every rule of the migration returns an :class:`Outcome`. Outcomes chain (a rule runs on the rows
the previous one kept) and concatenate (chunk by chunk), and :func:`check_accounting` proves that
no row was lost or invented: rows in = kept + merged + quarantined, per table.

Quarantined rows carry ``_reason`` (a code of ``transforms.reasons``) and ``_reason_column`` (the
column at fault, or NA); merged rows carry ``_reason`` and ``_survivor_key``. Fixes are counts per
(reason, column); the fixed rows stay in ``kept``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from transforms.errors import AccountingError
from transforms.reasons import Disposition, reason

REASON = "_reason"
REASON_COLUMN = "_reason_column"
SURVIVOR_KEY = "_survivor_key"
_STRING = pd.StringDtype()

FixCounts = dict[tuple[str, str], int]




def _checked(code: str, disposition: Disposition) -> str:
    if reason(code).disposition is not disposition:
        raise ValueError(f"reason {code!r} is a {reason(code).disposition}, not a {disposition}")
    return code


@dataclass(frozen=True)
class Outcome:
    kept: pd.DataFrame
    quarantined: pd.DataFrame
    merged: pd.DataFrame
    fixes: FixCounts = field(default_factory=dict)
    key_map: pd.Series | None = None  # merged key -> survivor key, when the rule merges rows

    @classmethod
    def clean(cls, frame: pd.DataFrame, fixes: Mapping[tuple[str, str], int] | None = None) -> Outcome:
        """Every row kept."""
        none = frame.iloc[:0]
        return cls(frame, _quarantine_frame(none, None, None), _merged_frame(none, pd.array([], dtype="Int64"), None),
                   add_fixes(fixes or {}))

    @property
    def rows(self) -> int:
        return len(self.kept) + len(self.merged) + len(self.quarantined)

    def reason_counts(self) -> dict[str, int]:
        """Rows per quarantine or merge reason (fixes are in ``fixes``)."""
        counts = Counter(self.quarantined[REASON].tolist()) + Counter(self.merged[REASON].tolist())
        return dict(sorted(counts.items()))

    def then(self, step: Callable[[pd.DataFrame], Outcome]) -> Outcome:
        """Run ``step`` on the kept rows and add what it quarantined, merged and fixed to this outcome."""
        following = step(self.kept)
        return Outcome(
            kept=following.kept,
            quarantined=_concat([self.quarantined, following.quarantined]),
            merged=_concat([self.merged, following.merged]),
            fixes=add_fixes(self.fixes, following.fixes),
            key_map=_concat_maps([self.key_map, following.key_map]),
        )

    def with_fixes(self, fixes: Mapping[tuple[str, str], int]) -> Outcome:
        return Outcome(self.kept, self.quarantined, self.merged, add_fixes(self.fixes, fixes), self.key_map)


def _constant(rows: pd.DataFrame, value: str | None) -> ExtensionArray:
    return pd.array(np.full(len(rows), value, dtype=object), dtype=_STRING)


def _quarantine_frame(rows: pd.DataFrame, code: str | None, column: str | None) -> pd.DataFrame:
    return rows.assign(**{REASON: _constant(rows, code), REASON_COLUMN: _constant(rows, column)})


def _merged_frame(rows: pd.DataFrame, survivor_keys: ExtensionArray, code: str | None) -> pd.DataFrame:
    return rows.assign(**{REASON: _constant(rows, code), SURVIVOR_KEY: survivor_keys})


def positional_mask(mask: pd.Series | np.ndarray | list) -> np.ndarray:
    """A boolean numpy mask, one entry per row in order; NA counts as false."""
    if isinstance(mask, pd.Series):
        mask = mask.fillna(False)
    return np.asarray(mask, dtype=bool)


def split(frame: pd.DataFrame, mask: pd.Series | np.ndarray | list, code: str, column: str | None = None) -> Outcome:
    """Quarantine the rows where ``mask`` is true under ``code`` (a quarantine reason); keep the rest.

    ``mask`` is positional (one entry per row of ``frame``, in order; NA counts as false), so
    frames with repeated index labels split correctly.
    """
    bad = positional_mask(mask)
    outcome = Outcome.clean(frame[~bad])
    return Outcome(outcome.kept, _quarantine_frame(frame[bad], _checked(code, Disposition.QUARANTINE), column),
                   outcome.merged)


def merge(frame: pd.DataFrame, survivor_keys: pd.Series, code: str) -> Outcome:
    """Merge the rows that have a survivor key (``survivor_keys`` positional, one per row; NA = keep)."""
    folded = survivor_keys.notna().to_numpy(dtype=bool)
    outcome = Outcome.clean(frame[~folded])
    return Outcome(outcome.kept, outcome.quarantined,
                   _merged_frame(frame[folded], survivor_keys.array[folded], _checked(code, Disposition.MERGE)))


def add_fixes(*fix_counts: Mapping[tuple[str, str], int]) -> FixCounts:
    total: Counter[tuple[str, str]] = Counter()
    for counts in fix_counts:
        for (code, column), count in counts.items():
            total[(_checked(code, Disposition.FIX), column)] += count
    return dict(total)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [frame for frame in frames if len(frame)]
    if not non_empty:
        return frames[0]
    return non_empty[0] if len(non_empty) == 1 else pd.concat(non_empty)


def _concat_maps(maps: list[pd.Series | None]) -> pd.Series | None:
    present = [key_map for key_map in maps if key_map is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else pd.concat(present)


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """Concatenate the outcomes of chunks of one table."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("combine needs at least one outcome")
    return Outcome(
        kept=_concat([outcome.kept for outcome in outcomes]),
        quarantined=_concat([outcome.quarantined for outcome in outcomes]),
        merged=_concat([outcome.merged for outcome in outcomes]),
        fixes=add_fixes(*(outcome.fixes for outcome in outcomes)),
        key_map=_concat_maps([outcome.key_map for outcome in outcomes]),
    )


def check_accounting(table: str, rows_in: int, outcome: Outcome) -> Outcome:
    """Raise :class:`AccountingError` unless rows in = kept + merged + quarantined; return the outcome."""
    if rows_in != outcome.rows:
        raise AccountingError(table, rows_in, len(outcome.kept), len(outcome.merged), len(outcome.quarantined))
    return outcome
