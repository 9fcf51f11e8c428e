"""Grade levels as numbers (PK = -1, K = 0, 1..12), for grade bands and the current grade of a student."""

from __future__ import annotations

import pandas as pd

# The legacy spellings SIM uses for a valid grade level (GRADE_LVL_CD, cim_course.grade_low/high).
LEGACY_GRADE_NUMBERS: dict[str, int] = {
    "PK": -1, "K": 0, "KG": 0,
    **{f"{grade:02d}": grade for grade in range(1, 13)},
    **{str(grade): grade for grade in range(1, 13)},
}

# Ed-Fi GradeLevelDescriptor code values.
DESCRIPTOR_CODE_VALUES: dict[int, str] = {
    -1: "Preschool/Prekindergarten", 0: "Kindergarten", 1: "First grade", 2: "Second grade", 3: "Third grade",
    4: "Fourth grade", 5: "Fifth grade", 6: "Sixth grade", 7: "Seventh grade", 8: "Eighth grade",
    9: "Ninth grade", 10: "Tenth grade", 11: "Eleventh grade", 12: "Twelfth grade",
}

_NUMBER_OF: dict[str, int] = {
    **{code.casefold(): number for code, number in LEGACY_GRADE_NUMBERS.items()},
    **{value.casefold(): number for number, value in DESCRIPTOR_CODE_VALUES.items()},
}


def grade_number(code_values: pd.Series) -> pd.Series:
    """The grade as Int64 from a descriptor code value ('Ninth grade', or its URI '...#Ninth grade')
    or a legacy code ('09', '9', 'K', 'PK'); NA for anything else."""
    text = code_values.astype(pd.StringDtype()).str.rsplit("#", n=1).str[-1].str.strip().str.casefold()
    return text.map(_NUMBER_OF).astype("Int64")


def grade_by_student(enrollments: pd.DataFrame, school_year: str, student: str = "student_unique_id",
                     year_column: str = "school_year", grade: str = "entry_grade_level",
                     primary: str = "primary_school", entry_date: str = "entry_date") -> pd.Series:
    """Each student's grade number from their current-year primary enrollment (the latest entry wins).

    Meant for kept (checked) enrollments; indexed by student, Int64.
    """
    current = enrollments[(enrollments[year_column] == school_year).fillna(False).to_numpy(dtype=bool)
                          & enrollments[primary].fillna(False).to_numpy(dtype=bool)]
    latest = current.sort_values([student, entry_date], kind="stable").drop_duplicates(student, keep="last")
    return pd.Series(grade_number(latest[grade]).array, index=pd.Index(latest[student].array, name=student),
                     name="grade")
