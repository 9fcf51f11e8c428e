import numpy as np
import pandas as pd
import pytest

from transforms.accounting import REASON
from transforms.enrollment import enrollment_rules, overlapping_primary


def enrollments(rows):
    """rows: (enroll_id, student, grade, entry, exit, primary)."""
    frame = pd.DataFrame(rows, columns=["enroll_id", "student_unique_id", "entry_grade_level", "entry_date",
                                        "exit_withdraw_date", "primary_school"])
    return frame.astype({"enroll_id": "Int64", "student_unique_id": "Int64", "primary_school": "boolean",
                         "entry_date": "datetime64[s]", "exit_withdraw_date": "datetime64[s]"})


def quarantined(outcome, reason):
    return sorted(outcome.quarantined.loc[outcome.quarantined[REASON] == reason, "enroll_id"])


def test_leave_before_entry_but_same_day_and_open_are_fine(accounted):
    frame = enrollments([
        (1, 7, "09", "2018-09-04", "2018-09-03", False),
        (2, 8, "09", "2018-09-04", "2018-09-04", False),
        (3, 9, "09", "2018-09-04", None, False),
    ])
    outcome = accounted(frame, enrollment_rules(frame))
    assert quarantined(outcome, "leave_before_entry") == [1]
    assert len(outcome.kept) == 2


def test_rules_run_in_order_first_match_wins(accounted):
    frame = enrollments([(1, 7, "09", "2018-09-04", None, True), (2, 7, "09", "2018-10-01", "2018-09-01", True)])
    assert accounted(frame, enrollment_rules(frame)).reason_counts() == {"leave_before_entry": 1}


def test_touching_ranges_overlap_and_the_next_day_does_not(accounted):
    frame = enrollments([
        (1, 7, "09", "2018-09-04", "2018-12-01", True),
        (2, 7, "09", "2018-12-01", None, True),
        (3, 8, "09", "2018-09-04", "2018-12-01", True),
        (4, 8, "09", "2018-12-02", None, True),
    ])
    outcome = accounted(frame, overlapping_primary(frame))
    assert quarantined(outcome, "overlapping_primary_enrollment") == [2]


def test_open_enrollment_overlaps_everything_after_it(accounted):
    frame = enrollments([(1, 7, "09", "2018-09-04", None, True), (2, 7, "09", "2019-03-01", "2019-03-02", True)])
    assert quarantined(accounted(frame, overlapping_primary(frame)), "overlapping_primary_enrollment") == [2]


def test_same_entry_date_higher_enroll_id_is_quarantined(accounted):
    frame = enrollments([(9, 7, "09", "2018-09-04", None, True), (5, 7, "09", "2018-09-04", "2018-10-01", True)])
    assert quarantined(accounted(frame, overlapping_primary(frame)), "overlapping_primary_enrollment") == [9]


def test_non_primary_rows_and_other_students_never_overlap(accounted):
    frame = enrollments([
        (1, 7, "09", "2018-09-04", None, True),
        (2, 7, "09", "2018-09-04", None, False),
        (3, 8, "09", "2018-09-04", None, True),
    ])
    assert accounted(frame, overlapping_primary(frame)).quarantined.empty


def test_overlap_with_any_earlier_kept_row_uses_the_running_max(accounted):
    frame = enrollments([
        (1, 7, "09", "2018-09-01", "2019-06-01", True),  # long
        (2, 7, "09", "2018-10-01", "2018-10-31", True),  # inside 1
        (3, 7, "09", "2019-01-10", "2019-02-01", True),  # after 2, still inside 1
        (4, 7, "09", "2019-06-02", None, True),          # after 1
    ])
    assert quarantined(accounted(frame, overlapping_primary(frame)), "overlapping_primary_enrollment") == [2, 3]


def test_a_quarantined_row_does_not_hide_the_next_one(accounted):
    frame = enrollments([
        (1, 7, "09", "2018-09-01", "2018-12-01", True),
        (2, 7, "09", "2018-10-01", "2019-01-10", True),  # overlaps 1: quarantined
        (3, 7, "09", "2019-01-10", None, True),          # overlaps only 2, which is not kept
    ])
    assert quarantined(accounted(frame, overlapping_primary(frame)), "overlapping_primary_enrollment") == [2]


def test_rows_already_quarantined_do_not_count_as_overlaps(accounted):
    frame = enrollments([
        (2, 7, "09", "2018-09-04", "2018-09-01", True),
        (3, 7, "09", "2018-09-02", None, True),
    ])
    outcome = accounted(frame, enrollment_rules(frame))
    assert outcome.reason_counts() == {"leave_before_entry": 1}
    assert outcome.kept["enroll_id"].tolist() == [3]


def test_order_of_input_rows_does_not_matter(accounted):
    frame = enrollments([
        (4, 7, "09", "2019-06-02", None, True),
        (2, 7, "09", "2018-10-01", "2018-10-31", True),
        (1, 7, "09", "2018-09-01", "2019-06-01", True),
    ]).set_axis([30, 10, 20])
    outcome = accounted(frame, overlapping_primary(frame))
    assert quarantined(outcome, "overlapping_primary_enrollment") == [2]
    assert outcome.quarantined.index.tolist() == [10]


def sequential_overlaps(frame: pd.DataFrame) -> list[int]:
    """The rule read literally, one row at a time: the reference the vectorised version must agree with."""
    quarantined_ids = []
    primary = frame[frame["primary_school"].fillna(False).astype(bool)]
    for _, rows in primary.sort_values(["student_unique_id", "entry_date", "enroll_id"]).groupby("student_unique_id"):
        latest_kept_exit = None
        for row in rows.itertuples():
            exit_date = pd.Timestamp.max if pd.isna(row.exit_withdraw_date) else row.exit_withdraw_date
            if latest_kept_exit is not None and row.entry_date <= latest_kept_exit:
                quarantined_ids.append(row.enroll_id)
            else:
                latest_kept_exit = exit_date if latest_kept_exit is None else max(latest_kept_exit, exit_date)
    return sorted(quarantined_ids)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_rule_agrees_with_the_rule_read_literally(seed, accounted):
    rng = np.random.default_rng(seed)
    n = 600
    entry = pd.Timestamp("2017-09-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    length = pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    frame = enrollments(list(zip(
        rng.permutation(n) + 1, rng.integers(0, 60, n), ["09"] * n, entry,
        pd.Series(entry + length).mask(rng.random(n) < 0.2), rng.random(n) < 0.8, strict=True)))
    outcome = accounted(frame, overlapping_primary(frame))
    expected = sequential_overlaps(frame)
    assert len(expected) > 20, "the sample must exercise the rule"
    assert quarantined(outcome, "overlapping_primary_enrollment") == expected


def test_reason_columns_name_the_column_at_fault_and_none_for_an_overlap(accounted):
    frame = enrollments([
        (2, 8, "09", "2018-09-04", "2018-09-01", True),
        (3, 9, "09", "2018-09-04", None, True),
        (4, 9, "09", "2018-10-01", None, True),
    ])
    quarantined_rows = accounted(frame, enrollment_rules(frame)).quarantined.set_index("enroll_id")
    assert quarantined_rows.loc[2, "_reason_column"] == "exit_withdraw_date"
    assert pd.isna(quarantined_rows.loc[4, "_reason_column"])
