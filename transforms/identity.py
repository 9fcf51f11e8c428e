"""The same person under two keys: duplicate students and guardians repeated per sibling.

Matching needs the whole table at once (a duplicate may sit in any chunk), so these functions
take the full SIM_STUDENT or SIM_GUARDIAN frame; they are vectorised (one groupby).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from transforms.accounting import Outcome, merge, positional_mask
from transforms.fields import date, phone
from transforms.names import match_name


def resolve_duplicates(frame: pd.DataFrame, key: str, match_columns: Sequence[str] | pd.DataFrame, reason: str,
                       exclude_mask: pd.Series | np.ndarray | None = None) -> Outcome:
    """Merge rows that agree on every match column into the row with the lowest ``key``.

    ``match_columns`` names columns of ``frame`` or is a frame of already normalised match
    values, one row per row of ``frame`` (positional). A row with any NA match value, or marked
    in ``exclude_mask`` (positional), never matches. The outcome's ``key_map`` maps each merged
    key to its survivor's key.
    """
    if isinstance(match_columns, pd.DataFrame):
        match = match_columns.reset_index(drop=True)
    else:
        match = frame[list(match_columns)].reset_index(drop=True)
    match.columns = [f"m{position}" for position in range(match.shape[1])]
    eligible = match.notna().all(axis=1).to_numpy(dtype=bool)
    if exclude_mask is not None:
        eligible = eligible & ~positional_mask(exclude_mask)
    keys = frame[key].reset_index(drop=True)
    if pd.api.types.is_integer_dtype(keys.dtype):
        keys = keys.astype("Int64")  # survivor keys need NA for rows that survive themselves
    candidates = match[eligible].assign(_key=keys[eligible])
    lowest = candidates.groupby(list(match.columns), sort=False)["_key"].transform("min")
    survivor = pd.Series(pd.NA, index=keys.index, dtype=keys.dtype)
    is_duplicate = (lowest != candidates["_key"]).to_numpy(dtype=bool)
    survivor.iloc[np.flatnonzero(eligible)[is_duplicate]] = lowest[is_duplicate].to_numpy()
    outcome = merge(frame, survivor, reason)
    key_map = pd.Series(survivor[survivor.notna()].to_numpy(), index=pd.Index(keys[survivor.notna()].to_numpy()),
                        dtype=keys.dtype)
    return Outcome(outcome.kept, outcome.quarantined, outcome.merged, key_map=key_map)


def resolve_students(frame: pd.DataFrame, key: str = "STUDENT_ID", last: str = "LAST_NM", first: str = "FIRST_NM",
                     birth: str = "BIRTH_DT") -> Outcome:
    """Duplicate students: same match_name of last and first name and same birth date (unknown never matches).

    The birth date goes through the ``date`` field transform, so the sentinel 1900-01-01 is
    unknown whether or not it was cleared before.
    """
    match = pd.DataFrame({"last": match_name(frame[last]).array, "first": match_name(frame[first]).array,
                          "birth": date(frame[birth]).values.array})
    return resolve_duplicates(frame, key, match, "duplicate_student")


def contact_match_keys(frame: pd.DataFrame, last: str = "LAST_NM", first: str = "FIRST_NM",
                       cell: str = "CELL_PHONE") -> pd.DataFrame:
    """match_name of last and first name and the cell phone's digits (country code 1 dropped), positional."""
    digits = frame[cell].astype(pd.StringDtype()).str.replace(r"\D", "", regex=True)
    national = phone(frame[cell]).values.fillna(digits)
    return pd.DataFrame({"last": match_name(frame[last]).array, "first": match_name(frame[first]).array,
                         "cell": national.mask(national == "").array})


def contacts_from_guardians(frame: pd.DataFrame, key: str = "GUARDIAN_ID", last: str = "LAST_NM",
                            first: str = "FIRST_NM", cell: str = "CELL_PHONE",
                            contact_key: str = "contact_key") -> tuple[Outcome, pd.DataFrame]:
    """One contact per person, and one student-contact association per guardian row.

    SIM has a guardian row per guardian per student. Rows of one person (same match_name of last
    and first name, same cell digits) merge into the lowest GUARDIAN_ID. The associations are
    every input row with ``contact_key`` = its person's surviving GUARDIAN_ID.
    """
    contacts = resolve_duplicates(frame, key, contact_match_keys(frame, last, first, cell), "duplicate_contact")
    associations = frame.assign(**{contact_key: rekey_values(frame[key], contacts.key_map).array})
    return contacts, associations


def rekey_values(values: pd.Series, key_map: pd.Series | None) -> pd.Series:
    """``values`` with every merged key replaced by its survivor's key."""
    if key_map is None or key_map.empty:
        return values
    mapped = values.map(key_map)
    return values.where(mapped.isna(), mapped).astype(values.dtype)


def rekey(frame: pd.DataFrame, column: str, key_map: pd.Series | None) -> pd.DataFrame:
    """A copy of ``frame`` whose ``column`` names survivors instead of merged keys."""
    return frame.assign(**{column: rekey_values(frame[column], key_map).array})
