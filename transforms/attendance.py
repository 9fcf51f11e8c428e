"""Daily school attendance derived from class-period attendance.

The legacy systems keep attendance per class period only (Gradebook ClassAttendance); the new
system also wants a student's day at a school. A day is recorded only when it is an exception,
as Ed-Fi school attendance events usually are: absent from every class marked that day
(unexcused when any absence was unexcused, else excused), or tardy to at least one class.
Days present in every class are not events.
"""

from __future__ import annotations

import pandas as pd

UNEXCUSED, EXCUSED, TARDY = "Unexcused Absence", "Excused Absence", "Tardy"


def daily_attendance(events: pd.DataFrame, school_of_section: pd.Series, school_year: str,
                     student: str = "student_unique_id", section: str = "section_id", day: str = "event_date",
                     category: str = "attendance_event_category_descriptor") -> pd.DataFrame:
    """One row per (student, school, day) that is an absence or tardy day; columns as the schema's entity."""
    columns = ["student_unique_id", "school_id", "event_date", "school_year", "attendance_event_category_descriptor"]
    if events.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    marks = pd.DataFrame({
        "student_unique_id": events[student].to_numpy(),
        "school_id": events[section].map(school_of_section).to_numpy(),
        "event_date": events[day].to_numpy(),
        "unexcused": (events[category] == UNEXCUSED).to_numpy(),
        "absent": events[category].isin([UNEXCUSED, EXCUSED]).to_numpy(),
        "tardy": (events[category] == TARDY).to_numpy(),
    })
    days = marks.groupby(["student_unique_id", "school_id", "event_date"], sort=True).agg(
        all_absent=("absent", "all"), any_unexcused=("unexcused", "any"), any_tardy=("tardy", "any")).reset_index()
    days["attendance_event_category_descriptor"] = pd.NA
    days.loc[days["any_tardy"], "attendance_event_category_descriptor"] = TARDY
    days.loc[days["all_absent"], "attendance_event_category_descriptor"] = EXCUSED
    days.loc[days["all_absent"] & days["any_unexcused"], "attendance_event_category_descriptor"] = UNEXCUSED
    days = days[days["attendance_event_category_descriptor"].notna()].assign(school_year=school_year)
    return days[columns].reset_index(drop=True)
