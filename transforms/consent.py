"""verify_consent rules, first match wins: revoked, wrong school year, missing principal signature,
outside the grade band of its type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.accounting import Outcome, split

# Consent types limited to a grade band (inclusive grade numbers, K = 0).
GRADE_BANDS: dict[str, tuple[int, int]] = {"SAFETY_MEETUP": (9, 12), "REENGAGEMENT": (7, 12)}
NEEDS_PRINCIPAL_SIGNATURE = frozenset({"SAFETY_MEETUP"})


def check_consents(frame: pd.DataFrame, current_school_year: str, grade_by_student: pd.Series,
                   consent_type: str = "consent_type", school_year: str = "school_year",
                   principal_signed_date: str = "principal_signed_date", revoked_date: str = "revoked_date",
                   student: str = "student_unique_id") -> Outcome:
    """Quarantine consents the new system must not honour.

    ``grade_by_student`` maps a student key to the grade number of the student's current-year
    primary enrollment (see ``transforms.grades.grade_by_student``); a student without one is
    outside every band.
    """
    def revoked(rows: pd.DataFrame) -> Outcome:
        return split(rows, rows[revoked_date].notna(), "consent_revoked", revoked_date)

    def wrong_year(rows: pd.DataFrame) -> Outcome:
        year = rows[school_year].astype(pd.StringDtype()).str.strip()
        return split(rows, (year != current_school_year).fillna(True), "consent_wrong_school_year", school_year)

    def unsigned(rows: pd.DataFrame) -> Outcome:
        needs = _types(rows, consent_type).isin(NEEDS_PRINCIPAL_SIGNATURE).to_numpy(dtype=bool)
        return split(rows, needs & rows[principal_signed_date].isna().to_numpy(dtype=bool),
                     "consent_missing_principal_signature", principal_signed_date)

    def outside_band(rows: pd.DataFrame) -> Outcome:
        types = _types(rows, consent_type)
        grades = pd.Series(rows[student].map(grade_by_student).array, dtype="Int64")
        outside = np.zeros(len(rows), dtype=bool)
        for band_type, (low, high) in GRADE_BANDS.items():
            in_band = grades.between(low, high).fillna(False).to_numpy(dtype=bool)
            outside |= (types == band_type).to_numpy(dtype=bool) & ~in_band
        return split(rows, outside, "consent_outside_grade_band", consent_type)

    return revoked(frame).then(wrong_year).then(unsigned).then(outside_band)


def _types(rows: pd.DataFrame, consent_type: str) -> pd.Series:
    return rows[consent_type].astype(pd.StringDtype()).str.strip().str.upper().fillna("")
