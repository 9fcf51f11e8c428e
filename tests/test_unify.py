"""The transform stage on small hand-written legacy frames: one fate per legacy row, whatever it feeds."""

import pandas as pd
import pytest

from sis_migrate import legacy
from sis_migrate.errors import DEFAULT_HASH_KEY, RowDataError
from sis_migrate.run_config import RunConfig
from sis_migrate.sources.sql import extract_columns
from sis_migrate.stages.unify import _context, field_specs
from sis_migrate.stages.unify.engine import SOURCE_SCHOOL, quarantine_records, remember, transform_table
from transforms.accounting import REASON, REASON_COLUMN
from transforms.privacy import keyed_hash


@pytest.fixture
def ctx():
    context = _context(RunConfig())
    context.kept_keys["student"] = pd.DataFrame({"student_unique_id": pd.array([10000001, 10000002], "Int64")})
    context.kept_keys["school"] = pd.DataFrame({"school_id": ["009755"]})
    return context


def _incidents(rows):
    return pd.DataFrame(rows, columns=legacy.table("sim", "SIM_INCIDENT").column_names).drop(columns=["NARRATIVE"])


def _run(frame, system, table, ctx):
    return transform_table(frame, legacy.table(system, table), field_specs(legacy.System(system), table), ctx)


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
    ctx.kept_keys["section"] = pd.DataFrame({"section_id": pd.array([100], "Int64")})
    ctx.quarantined_keys["section"] = pd.DataFrame({"section_id": pd.array([200], "Int64")})
    ctx.school_of_section = pd.Series(["009755", "009755"], index=pd.Index([100, 200]))
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
    remember(result, field_specs(legacy.System.SIM, "SIM_STUDENT"), ctx)
    assert ctx.student_key_map.to_dict() == {10000005: 10000001}


def test_a_value_a_field_transform_cannot_read_names_the_row(ctx):
    frame = _incidents([(7000001, 10000001, "9755", "2019-01-10", "3-10", "OSS", 2.0, "maybe", None)])
    frame["INCIDENT_DT"] = pd.to_datetime(frame["INCIDENT_DT"]).astype("datetime64[s]")
    with pytest.raises(RowDataError) as raised:
        _run(frame, "sim", "SIM_INCIDENT", ctx)
    hashed = keyed_hash(pd.Series(["INCIDENT_ID=7000001"]), DEFAULT_HASH_KEY.encode()).iloc[0]
    message = str(raised.value)
    assert message.startswith(f"sim.SIM_INCIDENT.POLICE_NOTIFIED_IND at row key#{hashed}: ")
    assert "7000001" not in message and "10000001" not in message and "maybe" not in message


def test_a_score_splits_into_points_and_status_and_an_unknown_code_is_quarantined(ctx):
    ctx.kept_keys["gradebook_entry"] = pd.DataFrame({"gradebook_entry_identifier": pd.array([9001], "Int64")})
    ctx.school_of_entry = pd.Series(["009755"], index=pd.Index([9001]))
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
