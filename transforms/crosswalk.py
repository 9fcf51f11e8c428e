"""Code crosswalks: a legacy code to the new system's code value; a code outside it never passes through."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from transforms.accounting import Outcome, split
from transforms.errors import CodeSetError

_STRING = pd.StringDtype()


@dataclass(frozen=True)
class Crosswalk:
    """``legacy_code -> code_value`` for one namespace (e.g. grade levels, discipline actions).

    ``mapping`` is indexed by the legacy code exactly as written in the crosswalk file (stripped).
    """

    mapping: pd.Series
    namespace: str | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, namespace: str | None = None) -> Crosswalk:
        """From columns ``legacy_code``, ``code_value`` (and ``namespace``, then one is chosen).

        A legacy code listed twice with different values is a configuration error: the crosswalk
        would not say what the code means.
        """
        missing = {"legacy_code", "code_value"} - set(frame.columns)
        if missing:
            raise CodeSetError(
                f"a crosswalk needs the columns legacy_code and code_value; missing {sorted(missing)}")
        rows = frame
        if namespace is not None:
            if "namespace" not in frame.columns:
                raise CodeSetError(f"crosswalk namespace {namespace!r} asked for, but the crosswalk has none")
            rows = frame[frame["namespace"].astype(_STRING).str.strip() == namespace]
        codes = rows["legacy_code"].astype(_STRING).fillna("").str.strip()
        values = rows["code_value"].astype(_STRING).str.strip()
        pairs = pd.DataFrame({"code": codes, "value": values}).drop_duplicates()
        conflicting = pairs["code"][pairs["code"].duplicated()]
        if len(conflicting):
            raise CodeSetError(
                f"crosswalk {namespace or ''}: {conflicting.nunique()} legacy code(s) map to more than one value")
        return cls(pd.Series(pairs["value"].to_numpy(), index=pd.Index(pairs["code"].to_numpy()), dtype=_STRING),
                   namespace)

    def lookup(self, codes: pd.Series, case_insensitive: bool = False) -> pd.Series:
        """The code value of each (stripped) code; NA where the code is not in the crosswalk."""
        mapping = self.mapping
        keys = codes.astype(_STRING).str.strip()
        if case_insensitive:
            folded = pd.DataFrame({"code": mapping.index.str.upper(), "value": mapping.array}).drop_duplicates()
            if folded["code"].duplicated().any():
                raise CodeSetError(f"crosswalk {self.namespace or ''}: codes that differ only in case map to "
                                         "different values, so it cannot be read case-insensitively")
            mapping = pd.Series(folded["value"].array, index=pd.Index(folded["code"].array))
            keys = keys.str.upper()
        return keys.map(mapping).astype(_STRING)


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
