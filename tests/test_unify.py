"""The transform stage on small hand-written legacy frames: one fate per legacy row, whatever it feeds."""

import pandas as pd
import pytest

from sis_migrate import legacy
from sis_migrate.errors import RowDataError
from sis_migrate.mapping import default_mappings
from sis_migrate.run_config import RunConfig
from sis_migrate.schema import SOURCE_SCHOOL
from sis_migrate.sources.sql import extract_columns
from sis_migrate.stages.unify import context
from sis_migrate.stages.unify.engine import quarantine_records, transform_table
from transforms.accounting import REASON, REASON_COLUMN
from transforms.privacy import keyed_hash


@pytest.fixture
def ctx():
    made = context(RunConfig())
    made.state.kept_keys["student"] = pd.DataFrame({"student_unique_id": pd.array([10000001, 10000002], "Int64")})
    made.state.kept_keys["school"] = pd.DataFrame({"school_id": ["009755"]})
    return made


def _incidents(rows):
    return pd.DataFrame(rows, columns=legacy.table("sim", "SIM_INCIDENT").column_names).drop(columns=["NARRATIVE"])


def _run(frame, system, table, ctx):
    return transform_table(frame, legacy.table(system, table), default_mappings().table(system, table), ctx)


def test_a_row_feeding_two_entities_is_quarantined_from_both(ctx):
    frame = _incidents([
        (7000001, 10000001, "9755", "2019-01-10", "3-10", "OSS", 2.0, "N", None),
        (7000002, 10000002, "009755", "2019-01-11", "2-01", "SUSP", 0.0, "N", None),  # no such action code
        (7000003, 99999999, "9755", "2019-01-12", "2-01", "DET", 0.0, "N", None),  # SIM has no such student
    ])
    frame["INCIDENT_DT"] = pd.to_datetime(frame["INCIDENT_DT"]).astype("datetime64[s]")
    result = _run(frame, "sim", "SIM_INCIDENT", ctx)
    assert set(result.entities) == {"discipline_incident", "discipline_action"}
    assert result.entities["discipline_incident"]["incident_identifier"].tolist() == [7000001]
    assert result.entities["discipline_action"]["incident_identifier"].tolist() == [7000001]
    quarantined = result.outcome.quarantined
    assert dict(zip(quarantined[REASON], quarantined[REASON_COLUMN], strict=True)) == {
        "unmapped_code": "ACTION_CD", "unknown_student": "STUDENT_ID"}  # legacy columns, for the steward
    assert result.accounting()["rows_in_by_school"] == {"009755": 3}
    records = quarantine_records(result, legacy.table("sim", "SIM_INCIDENT"), "run-1")
    assert records["INCIDENT_ID"].tolist() == ["7000002", "7000003"]
    assert set(records[SOURCE_SCHOOL]) == {"009755"}


def test_a_missing_parent_says_whether_it_was_quarantined_or_never_existed(ctx):
    ctx.state.kept_keys["section"] = pd.DataFrame({"section_id": pd.array([100], "Int64")})
    ctx.state.quarantined_keys["section"] = pd.DataFrame({"section_id": pd.array([200], "Int64")})
    ctx.state.school_of["section"] = pd.Series(["009755", "009755"], index=pd.Index([100, 200]))
    roster = pd.DataFrame({"SectionId": [100, 200, 300, 100], "StudentNumber": [" 0010000001", "10000001",
                                                                                 "10000002", "S99999999"],
                           "EnrolledOn": pd.to_datetime(["2018-09-04"] * 4).astype("datetime64[s]"),
                           "DroppedOn": pd.Series([pd.NaT] * 4, dtype="datetime64[s]")})
    result = _run(roster, "gradebook", "Roster", ctx)
    assert result.entities["student_section_association"]["student_unique_id"].tolist() == [10000001]
    assert sorted(result.outcome.quarantined[REASON]) == ["depends_on_quarantined", "unknown_parent",
                                                          "unknown_student"]
    assert result.accounting()["rows_in_by_school"] == {"(none)": 1, "009755": 3}


def test_duplicate_students_merge_into_the_lowest_id_and_later_tables_follow(ctx):
    students = pd.DataFrame({name: [None] * 3 for name in extract_columns("sim", "SIM_STUDENT")})
    students["STUDENT_ID"] = [10000001, 10000005, 10000003]
    students["LAST_NM"] = ["Nuñez", " NUNEZ ", "Nowak"]
    students["FIRST_NM"] = ["Ana", "ana", "Ana"]
    students["BIRTH_DT"] = pd.to_datetime(["2008-05-01", "2008-05-01", "2008-05-01"]).astype("datetime64[s]")
    result = _run(students, "sim", "SIM_STUDENT", ctx)
    assert result.entities["student"]["student_unique_id"].tolist() == [10000001, 10000003]
    assert result.outcome.merged["_survivor_key"].tolist() == ["10000001"]
    ctx.state.remember(result, default_mappings().table("sim", "SIM_STUDENT"), ctx.schema)
    assert ctx.state.key_maps["student"].to_dict() == {10000005: 10000001}
    assert ctx.state.quarantined_keys["student"]["student_unique_id"].tolist() == [10000005]


def test_a_value_a_field_transform_cannot_read_names_the_row(ctx):
    frame = _incidents([(7000001, 10000001, "9755", "2019-01-10", "3-10", "OSS", 2.0, "maybe", None)])
    frame["INCIDENT_DT"] = pd.to_datetime(frame["INCIDENT_DT"]).astype("datetime64[s]")
    with pytest.raises(RowDataError) as raised:
        _run(frame, "sim", "SIM_INCIDENT", ctx)
    hashed = keyed_hash(pd.Series(["INCIDENT_ID=7000001"]), RunConfig().hash_key).iloc[0]
    message = str(raised.value)
    assert message.startswith(f"sim.SIM_INCIDENT.POLICE_NOTIFIED_IND at row key#{hashed}: ")
    assert "7000001" not in message and "10000001" not in message and "maybe" not in message


def test_a_score_splits_into_points_and_status_and_an_unknown_code_is_quarantined(ctx):
    ctx.state.kept_keys["gradebook_entry"] = pd.DataFrame({"gradebook_entry_identifier": pd.array([9001], "Int64")})
    ctx.state.school_of["gradebook_entry"] = pd.Series(["009755"], index=pd.Index([9001]))
    scores = pd.DataFrame({"AssignmentId": [9001] * 4,
                           "StudentNumber": ["10000001", "10000002", " 0010000001", " 10000002"],
                           "Score": ["92.5", "EX", "A+", ""],
                           "LastModified": pd.to_datetime(["2019-01-10"] * 4).astype("datetime64[s]")})
    result = _run(scores, "gradebook", "Score", ctx)
    entries = result.entities["student_gradebook_entry"]
    assert entries["submission_status_descriptor"].tolist() == ["Graded", "Excused", "Not graded"]
    assert entries["points_earned"].iloc[0] == 92.5 and entries["points_earned"].iloc[1:].isna().all()
    quarantined = result.outcome.quarantined
    assert quarantined[[REASON, REASON_COLUMN]].values.tolist() == [["unmapped_code", "Score"]]


def _enrollments(rows):
    frame = pd.DataFrame(rows, columns=["ENROLL_ID", "STUDENT_ID", "SCHOOL_ID", "SCHOOL_YR", "GRADE_LVL_CD",
                                        "ENTRY_DT", "ENTRY_CD", "LEAVE_DT", "LEAVE_CD", "HOMEROOM_CD", "PRIMARY_IND"])
    for column in ("ENTRY_DT", "LEAVE_DT"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    return frame


@pytest.mark.parametrize(("code", "grade"), [("PK", "Preschool/Prekindergarten"), ("K", "Kindergarten"),
                                              ("KG", "Kindergarten"), ("09", "Ninth grade"), ("9", "Ninth grade"),
                                              ("12", "Twelfth grade"), ("k", "Kindergarten")])
def test_a_grade_level_in_the_crosswalk_maps_to_its_descriptor(code, grade, ctx):
    result = _run(_enrollments([(1, 10000001, "9755", "2018-2019", code, "2018-09-04", "E1", None, None, "", "Y")]),
                  "sim", "SIM_ENROLLMENT", ctx)
    assert result.entities["student_school_association"]["entry_grade_level_descriptor"].tolist() == [grade]


@pytest.mark.parametrize("code", ["13", "", None, "00", "1O"])
def test_a_grade_level_outside_the_crosswalk_is_an_invalid_grade_level_and_counts_before_the_date_rules(code, ctx):
    frame = _enrollments([(1, 10000001, "9755", "2018-2019", code, "2018-09-04", "E1", "2018-09-01", None, "", "Y"),
                          (2, 10000002, "9755", "2018-2019", "09", "2018-09-04", "E1", "2018-09-01", None, "", "Y")])
    quarantined = _run(frame, "sim", "SIM_ENROLLMENT", ctx).outcome.quarantined
    assert quarantined[[REASON, REASON_COLUMN]].values.tolist() == [["invalid_grade_level", "GRADE_LVL_CD"],
                                                                    ["leave_before_entry", "LEAVE_DT"]]


def test_the_current_grade_of_each_student_is_left_for_the_consent_rules(ctx):
    frame = _enrollments([(1, 10000001, "9755", "2018-2019", "10", "2018-09-04", "E1", None, None, "", "Y"),
                          (2, 10000002, "9755", "2017-2018", "08", "2017-09-04", "E1", "2018-06-20", None, "", "Y")])
    _run(frame, "sim", "SIM_ENROLLMENT", ctx)
    assert ctx.state.grade_by_student.to_dict() == {10000001: 10}
