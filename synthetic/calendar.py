"""School-year calendar: first and last day, terms, grading periods and class days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def parse_school_year(school_year: str) -> tuple[int, int]:
    first, _, second = school_year.partition("-")
    if not (first.isdigit() and second.isdigit() and int(second) == int(first) + 1):
        raise ValueError(f"school year must look like '2018-2019', got {school_year!r}")
    return int(first), int(second)


@dataclass(frozen=True)
class SchoolCalendar:
    school_year: str
    start: date        # the day after Labor Day
    q1_end: date
    s1_end: date       # also the end of Q2
    s2_start: date
    q3_end: date
    end: date

    @classmethod
    def for_year(cls, school_year: str) -> SchoolCalendar:
        y1, y2 = parse_school_year(school_year)
        start = _nth_weekday(y1, 9, 0, 1) + timedelta(days=1)
        s1_end = _nth_weekday(y2, 1, 4, 4)
        return cls(school_year=school_year, start=start, q1_end=_nth_weekday(y1, 11, 4, 1), s1_end=s1_end,
                   s2_start=s1_end + timedelta(days=3), q3_end=_nth_weekday(y2, 4, 4, 1),
                   end=_nth_weekday(y2, 6, 4, 3))

    def previous(self) -> SchoolCalendar:
        y1, y2 = parse_school_year(self.school_year)
        return SchoolCalendar.for_year(f"{y1 - 1}-{y2 - 1}")

    @property
    def first_year(self) -> int:
        return int(self.school_year[:4])

    def class_days(self, first: date, last: date) -> np.ndarray:
        """Weekdays from first to last (inclusive) outside Thanksgiving and winter break, as datetime64[D]."""
        if last < first:
            return np.array([], dtype="datetime64[D]")
        all_days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        weekday = (all_days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
        thanksgiving = np.datetime64(_nth_weekday(self.first_year, 11, 3, 4), "D")
        winter_from = np.datetime64(date(self.first_year, 12, 22), "D")
        winter_to = np.datetime64(date(self.first_year + 1, 1, 6), "D")
        keep = (weekday < 5) & ~((all_days >= thanksgiving - 1) & (all_days <= thanksgiving + 1))
        keep &= ~((all_days >= winter_from) & (all_days <= winter_to))
        return all_days[keep]

    def term_window(self, term: str) -> tuple[date, date]:
        if term == "S1":
            return self.start, self.s1_end
        if term == "S2":
            return self.s2_start, self.end
        return self.start, self.end

    def grading_periods(self, term: str) -> tuple[tuple[str, date], ...]:
        """Grading periods of a term with their end dates."""
        if term == "S1":
            return (("Q1", self.q1_end), ("Q2", self.s1_end), ("S1", self.s1_end))
        if term == "S2":
            return (("Q3", self.q3_end), ("Q4", self.end), ("S2", self.end))
        return (("Q1", self.q1_end), ("Q2", self.s1_end), ("S1", self.s1_end), ("Q3", self.q3_end),
                ("Q4", self.end), ("S2", self.end), ("F", self.end))
