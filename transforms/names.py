"""The identity-matching form of a name. Used to find the same person twice, never as a migrated value."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd


@cache
def _combining_marks() -> str:
    """A regex character class of every code point with a non-zero canonical combining class.

    Built from ``unicodedata`` once, so the vectorised replace drops exactly what
    ``unicodedata.combining`` calls a combining mark.
    """
    ranges: list[tuple[int, int]] = []
    for code_point in range(0x110000):
        if unicodedata.combining(chr(code_point)):
            if ranges and ranges[-1][1] == code_point - 1:
                ranges[-1] = (ranges[-1][0], code_point)
            else:
                ranges.append((code_point, code_point))
    return "[" + "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges) + "]"


def match_name(series: pd.Series) -> pd.Series:
    """Unicode NFKD, combining marks dropped, casefolded, whitespace runs collapsed to one space, stripped.

    Apostrophes and hyphens stay: "O'Brien" and "OBrien" are different names. NULL stays NULL
    (and a name that is blank after normalising becomes NULL), so it never matches anything.
    """
    text = series.astype(pd.StringDtype()).str.normalize("NFKD")
    text = text.str.replace(_combining_marks(), "", regex=True).str.casefold()
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.mask(text == "")
