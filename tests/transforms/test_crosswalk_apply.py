import pandas as pd
import pytest

from transforms.accounting import REASON, REASON_COLUMN
from transforms.crosswalk import Crosswalk, apply_crosswalk
from transforms.errors import CodeSetError

ACTIONS = Crosswalk.from_frame(pd.DataFrame({
    "legacy_code": ["WARN", "DET", "ISS", "OSS", "EXP"],
    "code_value": ["Warning", "Detention", "In-School Suspension", "Out-of-School Suspension", "Expulsion"],
}))


def test_known_codes_map_unknown_codes_are_quarantined(accounted):
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "ACTION_CD": ["WARN", "SUSP", "OSS ", "det"]})
    outcome = accounted(frame, apply_crosswalk(frame, "ACTION_CD", ACTIONS, "action"))
    assert outcome.kept["action"].tolist() == ["Warning", "Out-of-School Suspension"]
    assert outcome.quarantined["id"].tolist() == [2, 4]
    assert set(outcome.quarantined[REASON]) == {"unmapped_code"}
    assert set(outcome.quarantined[REASON_COLUMN]) == {"ACTION_CD"}
    assert "action" not in outcome.quarantined.columns, "an unknown code is never passed through"


def test_case_insensitive_lookup(accounted):
    frame = pd.DataFrame({"ACTION_CD": ["det", "Exp"]})
    outcome = accounted(frame, apply_crosswalk(frame, "ACTION_CD", ACTIONS, "action", case_insensitive=True))
    assert outcome.kept["action"].tolist() == ["Detention", "Expulsion"]


def test_blank_is_null_or_a_code(accounted):
    frame = pd.DataFrame({"ACTION_CD": ["", None, "  ", "WARN"]})
    as_null = accounted(frame, apply_crosswalk(frame, "ACTION_CD", ACTIONS, "action"))
    assert len(as_null.kept) == 4 and as_null.kept["action"].isna().sum() == 3
    as_code = accounted(frame, apply_crosswalk(frame, "ACTION_CD", ACTIONS, "action", blank_is_null=False))
    assert len(as_code.quarantined) == 3


def test_a_code_with_two_meanings_or_a_value_with_two_ordinals_is_refused():
    table = pd.DataFrame({"legacy_code": ["P", "A", "P"], "code_value": ["Present", "Absent", "Probation"]})
    with pytest.raises(CodeSetError, match="legacy code 'P' maps to more than one value"):
        Crosswalk.from_frame(table, "mark")
    with pytest.raises(CodeSetError, match="legacy_code and code_value"):
        Crosswalk.from_frame(table.drop(columns="code_value"))
    grades = pd.DataFrame({"legacy_code": ["09", "9"], "code_value": ["Ninth grade"] * 2, "ordinal": ["9", "8"]})
    with pytest.raises(CodeSetError, match="more than one ordinal"):
        Crosswalk.from_frame(grades, "grade_level")


def test_ordinals_and_descriptions_come_from_the_rows():
    grades = Crosswalk.from_frame(pd.DataFrame({
        "legacy_code": ["K", "KG", "09", "9"],
        "code_value": ["Kindergarten", "Kindergarten", "Ninth grade", "Ninth grade"],
        "description": ["Kindergarten", "Kindergarten", "Grade 9", "Grade 9 (unpadded)"],
        "ordinal": ["0", "0", "9", "9"]}))
    assert grades.code_values == ("Kindergarten", "Ninth grade")
    assert grades.ordinals == {"Kindergarten": 0, "Ninth grade": 9}
    assert grades.description_of("Ninth grade") == "Grade 9"


def test_repeated_identical_rows_are_fine():
    table = pd.DataFrame({"legacy_code": ["P", "P"], "code_value": ["Present", "Present"]})
    assert Crosswalk.from_frame(table).lookup(pd.Series(["P", "Q"])).isna().tolist() == [False, True]


def test_case_insensitive_reading_of_a_case_sensitive_crosswalk_is_refused():
    table = pd.DataFrame({"legacy_code": ["P", "p"], "code_value": ["Present", "Pending"]})
    crosswalk = Crosswalk.from_frame(table)
    assert crosswalk.lookup(pd.Series(["p"])).tolist() == ["Pending"]
    with pytest.raises(CodeSetError):
        crosswalk.lookup(pd.Series(["p"]), case_insensitive=True)


def test_lower_case_legacy_entries_agreeing_with_upper_case_are_fine(accounted):
    sex = Crosswalk.from_frame(pd.DataFrame({"legacy_code": ["M", "m", "F"], "code_value": ["Male", "Male", "Female"]}))
    frame = pd.DataFrame({"GENDER_CD": ["m", "f", "M", "q"]})
    outcome = accounted(frame, apply_crosswalk(frame, "GENDER_CD", sex, "sex", case_insensitive=True))
    assert outcome.kept["sex"].tolist() == ["Male", "Female", "Male"]
    assert outcome.reason_counts() == {"unmapped_code": 1}
