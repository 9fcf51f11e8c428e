"""A student's current grade as a number, for grade bands (K = 0, 1 ... 12, PK = -1).

The numbers are not written here: they are the ordinals of the grade-level code set, in
``mappings/crosswalks/grade_level.csv``, and reach these functions as ``ordinals``
(code value -> number, see :attr:`transforms.crosswalk.Crosswalk.ordinals`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def grade_number(code_values: pd.Series, ordinals: Mapping[str, int]) -> pd.Series:
    """The grade as Int64 from a grade-level code value ('Ninth grade', or its URI '...#Ninth grade');
    NA for anything else."""
    folded = {value.casefold(): number for value, number in ordinals.items()}
    text = code_values.astype(pd.StringDtype()).str.rsplit("#", n=1).str[-1].str.strip().str.casefold()
    return text.map(folded).astype("Int64")


def grade_by_student(enrollments: pd.DataFrame, school_year: str, ordinals: Mapping[str, int],
                     student: str = "student_unique_id", year_column: str = "school_year",
                     grade: str = "entry_grade_level", primary: str = "primary_school",
                     entry_date: str = "entry_date") -> pd.Series:
    """Each student's grade number from their current-year primary enrollment (the latest entry wins).

    Meant for kept (checked) enrollments; indexed by student, Int64.
    """
    current = enrollments[(enrollments[year_column] == school_year).fillna(False).to_numpy(dtype=bool)
                          & enrollments[primary].fillna(False).to_numpy(dtype=bool)]
    latest = current.sort_values([student, entry_date], kind="stable").drop_duplicates(student, keep="last")
    return pd.Series(grade_number(latest[grade], ordinals).array, index=pd.Index(latest[student].array, name=student),
                     name="grade")
