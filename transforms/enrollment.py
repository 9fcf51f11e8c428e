"""SIM_ENROLLMENT rules: leave before entry, overlapping primary enrollments.

Rules run in that order; each sees only the rows the previous one kept. Dates are expected
after the ``date`` field transform (sentinel 9999-12-31 already NULL = still enrolled).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.accounting import Outcome, split

_OPEN_END = np.datetime64("9999-12-31", "s")


def leave_before_entry(frame: pd.DataFrame, entry_date: str = "entry_date",
                       exit_date: str = "exit_withdraw_date") -> Outcome:
    """Quarantine rows whose exit date precedes their entry date (a NULL exit is open, never early)."""
    early = (frame[exit_date] < frame[entry_date]).fillna(False)
    return split(frame, early, "leave_before_entry", exit_date)


def overlapping_primary(frame: pd.DataFrame, student: str = "student_unique_id", entry_date: str = "entry_date",
                        exit_date: str = "exit_withdraw_date", primary: str = "primary_school",
                        enroll_id: str = "enroll_id") -> Outcome:
    """Quarantine primary enrollments that overlap an earlier *kept* primary enrollment of the student.

    Ranges are inclusive and a NULL exit is open. Within a student, rows are taken in order of
    entry date, then enrollment key; a row overlaps when its entry is on or before the latest
    exit among the kept rows before it (a running max). A quarantined row must not hide the
    next one, so each round quarantines only the first overlapping row of each student and the
    running max is recomputed without it; the rounds needed are the most overlaps any one
    student has (one or two in practice).
    """
    order = (frame[[student, entry_date, enroll_id]].reset_index(drop=True)
             .sort_values([student, entry_date, enroll_id], kind="stable").index.to_numpy())
    considered = (frame[primary].fillna(False).to_numpy(dtype=bool)
                  & frame[entry_date].notna().to_numpy(dtype=bool)
                  & frame[student].notna().to_numpy(dtype=bool))[order]
    students = frame[student].to_numpy()[order]
    entries = frame[entry_date].to_numpy(dtype="datetime64[s]")[order]
    exits = frame[exit_date].to_numpy(dtype="datetime64[s]", na_value=_OPEN_END)[order]
    overlapping = np.zeros(len(frame), dtype=bool)
    pending = considered  # rows of students whose outcome may still change
    while True:
        rows = np.flatnonzero(pending & ~overlapping)
        group = pd.Series(students[rows])
        latest_exit = pd.Series(exits[rows]).groupby(group, sort=False).cummax()
        previous_exit = latest_exit.groupby(group, sort=False).shift(1)
        hits = (previous_exit.notna() & (pd.Series(entries[rows]) <= previous_exit)).to_numpy(dtype=bool)
        if not hits.any():
            break
        first_per_student = ~pd.Series(students[rows][hits]).duplicated().to_numpy()
        overlapping[rows[np.flatnonzero(hits)[first_per_student]]] = True
        # a student without a hit this round is settled; only the others need another round
        pending = considered & pd.Series(students).isin(students[rows][hits]).to_numpy(dtype=bool)
    quarantine = np.zeros(len(frame), dtype=bool)
    quarantine[order] = overlapping
    return split(frame, quarantine, "overlapping_primary_enrollment")  # a relation between rows, no one column


def enrollment_rules(frame: pd.DataFrame, student: str = "student_unique_id", entry_date: str = "entry_date",
                     exit_date: str = "exit_withdraw_date", primary: str = "primary_school",
                     enroll_id: str = "enroll_id") -> Outcome:
    """leave_before_entry, then overlapping_primary_enrollment, on the whole table at once.

    Overlaps are found across all of a student's enrollments, so the whole table must be given.
    (A grade level outside its crosswalk was quarantined before, by the mapping's crosswalk.)
    """
    return (leave_before_entry(frame, entry_date, exit_date)
            .then(lambda rows: overlapping_primary(rows, student, entry_date, exit_date, primary, enroll_id)))
