import pandas as pd

from transforms.references import split_by_parent, split_known


def test_unknown_references_are_orphans(accounted):
    frame = pd.DataFrame({"StudentNumber": pd.array([12345678, 99999999, None, 12345678], dtype="Int64")})
    outcome = accounted(frame, split_known(frame, "StudentNumber", pd.Index([12345678, 23456789]), "unknown_student"))
    assert outcome.kept["StudentNumber"].tolist() == [12345678, 12345678]
    assert outcome.reason_counts() == {"unknown_student": 2}
    assert set(outcome.quarantined["_reason_column"]) == {"StudentNumber"}


def test_optional_reference_null_is_known(accounted):
    frame = pd.DataFrame({"CimCourseId": ["C1", None, "C9"]})
    outcome = accounted(frame, split_known(frame, "CimCourseId", {"C1"}, "unknown_cim_course", null_is_known=True))
    assert outcome.quarantined["CimCourseId"].tolist() == ["C9"]


def test_children_of_quarantined_parents(accounted):
    frame = pd.DataFrame({"SectionId": pd.array([1, 2, 3, None], dtype="Int64")})
    outcome = accounted(frame, split_by_parent(frame, "SectionId", [2, 3]))
    assert outcome.quarantined["SectionId"].tolist() == [2, 3]
    assert outcome.reason_counts() == {"depends_on_quarantined": 2}
    assert len(outcome.kept) == 2


def test_no_quarantined_parents_keeps_everything(accounted):
    frame = pd.DataFrame({"SectionId": [1, 2]})
    assert len(accounted(frame, split_by_parent(frame, "SectionId", pd.Index([]))).kept) == 2
