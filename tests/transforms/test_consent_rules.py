import pandas as pd
import pytest

from transforms.consent import check_consents

GRADES = pd.Series([10, 8, 6, -1], index=pd.Index([1, 2, 3, 4]), dtype="Int64")
CURRENT = "2018-2019"


def consents(rows):
    """rows: (consent_id, student, type, school_year, principal_signed, revoked)."""
    frame = pd.DataFrame(rows, columns=["consent_id", "student_unique_id", "consent_type", "school_year",
                                        "principal_signed_date", "revoked_date"])
    return frame.astype({"student_unique_id": "Int64", "principal_signed_date": "datetime64[s]",
                         "revoked_date": "datetime64[s]"})


def reasons(frame, accounted):
    outcome = accounted(frame, check_consents(frame, CURRENT, GRADES))
    found = dict(zip(outcome.quarantined["consent_id"], outcome.quarantined["_reason"], strict=True))
    return [found.get(consent_id, "kept") for consent_id in frame["consent_id"]]


def test_valid_consents_are_kept(accounted):
    frame = consents([
        ("a", 1, "SAFETY_MEETUP", CURRENT, "2018-09-10", None),
        ("b", 2, "REENGAGEMENT", CURRENT, None, None),
        ("c", 3, "TEXT_ALERTS", CURRENT, None, None),
        ("d", 99, "TEXT_ALERTS", CURRENT, None, None),
    ])
    assert reasons(frame, accounted) == ["kept"] * 4


def test_each_rule_alone(accounted):
    frame = consents([
        ("revoked", 3, "TEXT_ALERTS", CURRENT, None, "2019-01-05"),
        ("year", 3, "TEXT_ALERTS", "2017-2018", None, None),
        ("blank-year", 3, "TEXT_ALERTS", None, None, None),
        ("unsigned", 1, "SAFETY_MEETUP", CURRENT, None, None),
        ("band-safety", 2, "SAFETY_MEETUP", CURRENT, "2018-09-10", None),
        ("band-reengage", 3, "REENGAGEMENT", CURRENT, None, None),
        ("band-pk", 4, "REENGAGEMENT", CURRENT, None, None),
        ("no-grade", 99, "SAFETY_MEETUP", CURRENT, "2018-09-10", None),
    ])
    assert reasons(frame, accounted) == [
        "consent_revoked", "consent_wrong_school_year", "consent_wrong_school_year",
        "consent_missing_principal_signature", "consent_outside_grade_band", "consent_outside_grade_band",
        "consent_outside_grade_band", "consent_outside_grade_band"]


@pytest.mark.parametrize("grade, expected", [(6, "consent_outside_grade_band"), (7, "kept"), (12, "kept")])
def test_reengagement_band_edges(grade, expected, accounted):
    frame = consents([("x", 5, "REENGAGEMENT", CURRENT, None, None)])
    outcome = accounted(frame, check_consents(frame, CURRENT, pd.Series([grade], index=[5], dtype="Int64")))
    assert (outcome.quarantined["_reason"].tolist() or ["kept"]) == [expected]


@pytest.mark.parametrize("grade, expected", [(8, "consent_outside_grade_band"), (9, "kept"), (12, "kept")])
def test_safety_meetup_band_edges(grade, expected, accounted):
    frame = consents([("x", 5, "SAFETY_MEETUP", CURRENT, "2018-09-10", None)])
    outcome = accounted(frame, check_consents(frame, CURRENT, pd.Series([grade], index=[5], dtype="Int64")))
    assert (outcome.quarantined["_reason"].tolist() or ["kept"]) == [expected]


def test_first_match_wins_in_order(accounted):
    frame = consents([
        ("all", 2, "SAFETY_MEETUP", "2017-2018", None, "2019-01-05"),
        ("three", 2, "SAFETY_MEETUP", "2017-2018", None, None),
        ("two", 2, "SAFETY_MEETUP", CURRENT, None, None),
    ])
    assert reasons(frame, accounted) == [
        "consent_revoked", "consent_wrong_school_year", "consent_missing_principal_signature"]


def test_without_any_known_grade_banded_types_are_outside_and_others_kept(accounted):
    frame = consents([("a", 1, "SAFETY_MEETUP", CURRENT, "2018-09-10", None),
                      ("b", 1, " text_alerts ", CURRENT, None, None)])
    outcome = accounted(frame, check_consents(frame, CURRENT, pd.Series(dtype="Int64")))
    assert outcome.quarantined["consent_id"].tolist() == ["a"]
    assert outcome.kept["consent_id"].tolist() == ["b"]
