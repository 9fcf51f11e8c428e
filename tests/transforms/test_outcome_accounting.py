import pandas as pd
import pytest

from transforms.accounting import (
    REASON,
    REASON_COLUMN,
    SURVIVOR_KEY,
    AccountingError,
    Outcome,
    check_accounting,
    combine,
    merge,
    split,
)
from transforms.errors import TransformError


def frame(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"key": pd.array(range(start, start + n), dtype="Int64")}, index=range(start, start + n))


def test_split_quarantines_marked_rows_with_reason_and_column(accounted):
    rows = frame(4)
    outcome = accounted(rows, split(rows, pd.Series([False, True, None, True], dtype="boolean"), "unknown_student",
                                    "key"))
    assert outcome.kept["key"].tolist() == [0, 2]
    assert outcome.quarantined["key"].tolist() == [1, 3]
    assert outcome.quarantined[REASON].tolist() == ["unknown_student"] * 2
    assert outcome.quarantined[REASON_COLUMN].tolist() == ["key"] * 2
    assert outcome.reason_counts() == {"unknown_student": 2}


def test_split_is_positional_even_with_repeated_index_labels(accounted):
    rows = pd.DataFrame({"key": [1, 2, 3]}, index=[0, 0, 1])
    outcome = accounted(rows, split(rows, [False, True, False], "unknown_school"))
    assert outcome.quarantined["key"].tolist() == [2]
    assert outcome.quarantined[REASON_COLUMN].isna().all()


def test_split_refuses_codes_that_are_not_quarantine_reasons():
    with pytest.raises(KeyError):
        split(frame(1), [True], "unknown-student")
    with pytest.raises(ValueError):
        split(frame(1), [True], "duplicate_student")


def test_merge_records_survivor_key(accounted):
    rows = frame(3)
    outcome = accounted(rows, merge(rows, pd.Series([None, 0, None], dtype="Int64"), "duplicate_student"))
    assert outcome.kept["key"].tolist() == [0, 2]
    assert outcome.merged[SURVIVOR_KEY].tolist() == [0]
    assert outcome.reason_counts() == {"duplicate_student": 1}


def test_then_chains_rules_on_kept_rows_and_adds_fixes(accounted):
    rows = frame(5)
    first = split(rows, rows["key"] == 1, "unknown_student").with_fixes({("ssn_scrubbed", "STATE_ID"): 2})
    outcome = accounted(rows, first.then(
        lambda kept: split(kept, kept["key"] >= 3, "unknown_school").with_fixes({("ssn_scrubbed", "STATE_ID"): 1})))
    assert outcome.kept["key"].tolist() == [0, 2]
    assert outcome.reason_counts() == {"unknown_school": 2, "unknown_student": 1}
    assert outcome.fixes == {("ssn_scrubbed", "STATE_ID"): 3}


def test_combine_concatenates_chunks(accounted):
    chunks = [frame(3), frame(2, start=3)]
    outcome = combine(split(chunk, chunk["key"] % 2 == 1, "unknown_student") for chunk in chunks)
    accounted(pd.concat(chunks), outcome)
    assert outcome.quarantined["key"].tolist() == [1, 3]


def test_check_accounting_names_table_and_difference():
    outcome = Outcome.clean(frame(3))
    assert check_accounting("SIM_STUDENT", 3, outcome) is outcome
    with pytest.raises(AccountingError) as caught:
        check_accounting("SIM_STUDENT", 5, outcome)
    assert isinstance(caught.value, TransformError)
    assert "SIM_STUDENT" in str(caught.value) and "2 row(s) lost" in str(caught.value)
    assert caught.value.difference == 2
    too_many = split(frame(7), [True] * 7, "unknown_school")
    with pytest.raises(AccountingError, match="2 row"):
        check_accounting("SIM_SCHOOL", 5, too_many)


def test_fixes_refuse_non_fix_codes():
    with pytest.raises(ValueError):
        Outcome.clean(frame(1)).with_fixes({("unknown_student", "x"): 1})
