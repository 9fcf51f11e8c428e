"""Tier 2: Social-Security-number-shaped values typed into columns that may migrate are emptied."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SSN_SCRUBBED = "ssn_scrubbed"
_SSN_INSIDE = r"\b\d{3}-\d{2}-\d{4}\b"
_NINE_DIGITS = r"\d{9}"


def ssn_shaped(series: pd.Series) -> pd.Series:
    """True where a value contains ddd-dd-dddd or its trimmed value is exactly nine digits."""
    text = series.astype(pd.StringDtype())
    found = text.str.contains(_SSN_INSIDE, regex=True) | text.str.strip().str.fullmatch(_NINE_DIGITS)
    return found.fillna(False).astype(bool)


def scrub_ssn(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """A copy of ``frame`` with SSN-shaped values of ``columns`` set to NULL, and the count per column."""
    scrubbed = frame.copy()
    counts: dict[str, int] = {}
    for column in columns:
        found = ssn_shaped(frame[column])
        counts[column] = int(found.sum())
        if counts[column]:
            scrubbed[column] = frame[column].mask(found)
    return scrubbed, counts
