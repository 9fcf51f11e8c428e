import pandas as pd

from transforms.references import split_missing_parents

STUDENTS = pd.DataFrame({"student_unique_id": pd.array([12345678, 23456789], dtype="Int64")})


def test_a_reference_to_an_unknown_student_is_quarantined_with_the_given_reason(accounted):
    frame = pd.DataFrame({"StudentNumber": pd.array([12345678, 99999999, None, 12345678], dtype="Int64")})
    outcome = accounted(frame, split_missing_parents(frame, ["StudentNumber"], STUDENTS, reason="unknown_student"))
    assert outcome.kept["StudentNumber"].tolist() == [12345678, pd.NA, 12345678]  # NULL: no reference at all
    assert outcome.reason_counts() == {"unknown_student": 1}
    assert set(outcome.quarantined["_reason_column"]) == {"StudentNumber"}


def test_a_missing_parent_was_either_quarantined_or_never_existed(accounted):
    frame = pd.DataFrame({"SectionId": pd.array([1, 2, 3, None, 4], dtype="Int64")})
    kept = pd.DataFrame({"section_id": pd.array([1], dtype="Int64")})
    lost = pd.DataFrame({"section_id": pd.array([2, 3], dtype="Int64")})
    outcome = accounted(frame, split_missing_parents(frame, ["SectionId"], kept, lost))
    assert outcome.reason_counts() == {"depends_on_quarantined": 2, "unknown_parent": 1}
    assert outcome.quarantined.loc[outcome.quarantined["_reason"] == "unknown_parent", "SectionId"].tolist() == [4]
    assert outcome.kept["SectionId"].tolist() == [1, pd.NA]


def test_a_composite_reference_matches_on_every_column_together(accounted):
    frame = pd.DataFrame({"school": ["A", "A", "B"], "year": ["2019", "2018", "2019"]})
    sessions = pd.DataFrame({"school_id": ["A", "B"], "school_year": ["2019", "2018"]})
    outcome = accounted(frame, split_missing_parents(frame, ["school", "year"], sessions))
    assert outcome.kept.values.tolist() == [["A", "2019"]]
    assert outcome.reason_counts() == {"unknown_parent": 2}


def test_no_quarantined_parents_keeps_every_known_reference(accounted):
    frame = pd.DataFrame({"SectionId": [1, 2]})
    kept = pd.DataFrame({"section_id": [1, 2]})
    assert len(accounted(frame, split_missing_parents(frame, ["SectionId"], kept, pd.DataFrame())).kept) == 2
