"""Daily attendance: absent from every class is an absence day, any tardy is a tardy day, else no event."""

import pandas as pd

from transforms.attendance import daily_attendance

SCHOOLS = pd.Series(["000101", "000101", "000202"], index=pd.Index([1, 2, 3]))


def _events(rows):
    return pd.DataFrame(rows, columns=["student_unique_id", "section_id", "event_date",
                                       "attendance_event_category_descriptor"])


def test_classify_days():
    day1, day2, day3 = pd.Timestamp("2019-01-07"), pd.Timestamp("2019-01-08"), pd.Timestamp("2019-01-09")
    events = _events([
        (11, 1, day1, "Unexcused Absence"), (11, 2, day1, "Excused Absence"),  # all absent, one unexcused
        (11, 1, day2, "Excused Absence"), (11, 2, day2, "Excused Absence"),  # all absent, excused
        (11, 1, day3, "Excused Absence"), (11, 2, day3, "In Attendance"),  # missed one class only: no event
        (12, 1, day1, "Tardy"), (12, 2, day1, "In Attendance"),  # tardy day
        (12, 1, day2, "In Attendance"), (12, 2, day2, "School Activity"),  # present: no event
        (13, 3, day1, "Unexcused Absence"),  # another school
    ])
    days = daily_attendance(events, SCHOOLS, "2018-2019")
    got = {(r.student_unique_id, r.school_id, r.event_date.day): r.attendance_event_category_descriptor
           for r in days.itertuples()}
    assert got == {(11, "000101", 7): "Unexcused Absence", (11, "000101", 8): "Excused Absence",
                   (12, "000101", 7): "Tardy", (13, "000202", 7): "Unexcused Absence"}
    assert set(days["school_year"]) == {"2018-2019"}


def test_no_events_gives_an_empty_frame_with_the_schema_columns():
    days = daily_attendance(_events([]), SCHOOLS, "2018-2019")
    assert days.empty and list(days.columns) == [
        "student_unique_id", "school_id", "event_date", "school_year", "attendance_event_category_descriptor"]
