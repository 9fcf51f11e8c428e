"""Code crosswalks: a legacy code to the new system's code value; a code outside it never passes through.

:class:`Crosswalk` is the one type of a code set: the mapping loader builds it from a crosswalk
CSV, the transform maps codes through it, the descriptor table and the validation suites take
its code values from it, and where the code values are ordered (grade levels) their ordinals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from transforms.accounting import Outcome, split
from transforms.errors import CodeSetError

_STRING = pd.StringDtype()


@dataclass(frozen=True)
class CodeRow:
    """One legacy spelling of a code and what it means in the new system."""

    legacy_code: str
    code_value: str
    description: str = ""
    ordinal: int | None = None  # the place of the code value in an ordered code set (PK = -1, K = 0, 1 ...)


@dataclass(frozen=True)
class Crosswalk:
    """``legacy_code -> code_value`` for one code set (grade levels, discipline actions, ...).

    Legacy codes are as written in the crosswalk file (stripped); a legacy code listed twice
    with different values, or a code value given two ordinals, is a :class:`CodeSetError`.
    """

    name: str
    namespace: str | None
    rows: tuple[CodeRow, ...]

    def __post_init__(self) -> None:
        meanings: dict[str, str] = {}
        ordinals: dict[str, int | None] = {}
        for row in self.rows:
            if meanings.setdefault(row.legacy_code, row.code_value) != row.code_value:
                raise CodeSetError(f"crosswalk {self.name}: legacy code {row.legacy_code!r} maps to more than one "
                                   "value")
            if ordinals.setdefault(row.code_value, row.ordinal) != row.ordinal:
                raise CodeSetError(f"crosswalk {self.name}: code value {row.code_value!r} has more than one ordinal")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str = "", namespace: str | None = None) -> Crosswalk:
        """From columns ``legacy_code``, ``code_value`` (``description``, ``ordinal`` optional)."""
        missing = {"legacy_code", "code_value"} - set(frame.columns)
        if missing:
            raise CodeSetError(f"crosswalk {name}: needs the columns legacy_code and code_value; "
                               f"missing {sorted(missing)}")
        text = frame.astype(_STRING)
        rows = []
        for position in range(len(frame)):
            ordinal = text["ordinal"].iloc[position] if "ordinal" in frame.columns else pd.NA
            rows.append(CodeRow(
                legacy_code=str(text["legacy_code"].fillna("").iloc[position]).strip(),
                code_value=str(text["code_value"].iloc[position]).strip(),
                description=str(text["description"].fillna("").iloc[position]).strip()
                if "description" in frame.columns else "",
                ordinal=None if pd.isna(ordinal) or not str(ordinal).strip() else int(ordinal)))
        return cls(name, namespace, tuple(_distinct(rows)))

    @cached_property
    def mapping(self) -> pd.Series:
        """legacy code -> code value."""
        return pd.Series([row.code_value for row in self.rows],
                         index=pd.Index([row.legacy_code for row in self.rows]), dtype=_STRING)

    @property
    def codes(self) -> dict[str, str]:
        """legacy code -> code value, as a plain dict."""
        return {row.legacy_code: row.code_value for row in self.rows}

    @property
    def code_values(self) -> tuple[str, ...]:
        """The distinct code values, in file order: the rows this code set puts in the descriptor table."""
        return tuple(dict.fromkeys(row.code_value for row in self.rows))

    def description_of(self, code_value: str) -> str:
        """The description of a code value's first row ('' when the file gives none)."""
        return next(row.description for row in self.rows if row.code_value == code_value)

    @property
    def ordinals(self) -> dict[str, int]:
        """code value -> ordinal, for the code values that have one."""
        return {row.code_value: row.ordinal for row in self.rows if row.ordinal is not None}

    def lookup(self, codes: pd.Series, case_insensitive: bool = False) -> pd.Series:
        """The code value of each (stripped) code; NA where the code is not in the crosswalk."""
        mapping = self.mapping
        keys = codes.astype(_STRING).str.strip()
        if case_insensitive:
            folded = pd.DataFrame({"code": mapping.index.str.upper(), "value": mapping.array}).drop_duplicates()
            if folded["code"].duplicated().any():
                raise CodeSetError(f"crosswalk {self.name}: codes that differ only in case map to different values, "
                                   "so it cannot be read case-insensitively")
            mapping = pd.Series(folded["value"].array, index=pd.Index(folded["code"].array))
            keys = keys.str.upper()
        return keys.map(mapping).astype(_STRING)


def _distinct(rows: Iterable[CodeRow]) -> list[CodeRow]:
    """Rows in order, a row repeated exactly (the same code, value and ordinal) kept once."""
    seen: dict[tuple, CodeRow] = {}
    for row in rows:
        seen.setdefault((row.legacy_code, row.code_value, row.ordinal), row)
    return list(seen.values())


def apply_crosswalk(frame: pd.DataFrame, column: str, crosswalk: Crosswalk, target_column: str,
                    case_insensitive: bool = False, blank_is_null: bool = True,
                    reason: str = "unmapped_code") -> Outcome:
    """Map ``column`` through ``crosswalk`` into ``target_column``; quarantine rows with an unknown code.

    A NULL or blank code is NULL in the target when ``blank_is_null``; otherwise it is a code
    like any other ('' is then only valid if the crosswalk lists it). ``_reason_column`` of a
    quarantined row is ``column``; the code itself is never reported.
    """
    codes = frame[column].astype(_STRING).fillna("").str.strip()
    blank = (codes == "").to_numpy(dtype=bool)
    values = crosswalk.lookup(codes, case_insensitive)
    unknown = values.isna().to_numpy(dtype=bool) & ~(blank & blank_is_null)
    outcome = split(frame, unknown, reason, column)
    kept = outcome.kept.assign(**{target_column: values.array[~unknown]})
    return Outcome(kept, outcome.quarantined, outcome.merged)
