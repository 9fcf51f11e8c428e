import pandas as pd

from transforms.grades import grade_by_student, grade_number


def test_grade_number_from_codes_and_descriptors():
    values = pd.Series(["PK", "K", "KG", "09", "9", "12", "Ninth grade", "uri://ed-fi.org/GradeLevelDescriptor#Kindergarten",
                        "Preschool/Prekindergarten", "13", "", None])
    assert grade_number(values).tolist() == [-1, 0, 0, 9, 9, 12, 9, 0, -1, pd.NA, pd.NA, pd.NA]


def test_grade_by_student_from_current_primary_latest_entry():
    enrollments = pd.DataFrame({
        "student_unique_id": [1, 1, 1, 2, 3],
        "school_year": ["2018-2019", "2018-2019", "2017-2018", "2018-2019", "2018-2019"],
        "entry_grade_level": ["09", "10", "08", "07", "11"],
        "primary_school": pd.array([True, True, True, True, False], dtype="boolean"),
        "entry_date": pd.to_datetime(["2018-09-04", "2019-01-07", "2017-09-05", "2018-09-04", "2018-09-04"]),
    })
    grades = grade_by_student(enrollments, "2018-2019")
    assert grades.to_dict() == {1: 10, 2: 7}
