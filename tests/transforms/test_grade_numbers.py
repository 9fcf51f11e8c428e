import pandas as pd

from transforms.grades import grade_by_student, grade_number

ORDINALS = {"Preschool/Prekindergarten": -1, "Kindergarten": 0, "Seventh grade": 7, "Eighth grade": 8,
            "Ninth grade": 9, "Tenth grade": 10, "Eleventh grade": 11, "Twelfth grade": 12}


def test_grade_number_from_code_values_and_their_uris():
    values = pd.Series(["Ninth grade", "ninth GRADE ", "uri://ed-fi.org/GradeLevelDescriptor#Kindergarten",
                        "Preschool/Prekindergarten", "09", "Thirteenth grade", "", None])
    assert grade_number(values, ORDINALS).tolist() == [9, 9, 0, -1, pd.NA, pd.NA, pd.NA, pd.NA]


def test_grade_by_student_from_current_primary_latest_entry():
    enrollments = pd.DataFrame({
        "student_unique_id": [1, 1, 1, 2, 3],
        "school_year": ["2018-2019", "2018-2019", "2017-2018", "2018-2019", "2018-2019"],
        "entry_grade_level": ["Ninth grade", "Tenth grade", "Eighth grade", "Seventh grade", "Eleventh grade"],
        "primary_school": pd.array([True, True, True, True, False], dtype="boolean"),
        "entry_date": pd.to_datetime(["2018-09-04", "2019-01-07", "2017-09-05", "2018-09-04", "2018-09-04"]),
    })
    grades = grade_by_student(enrollments, "2018-2019", ORDINALS)
    assert grades.to_dict() == {1: 10, 2: 7}
