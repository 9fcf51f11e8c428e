"""The pure transforms, run straight on a synthetic district's legacy frames, find exactly what was planted.

This checks the rules of docs/CONTRACTS.md end to end without extract, staging or mappings: the
generator writes the ground truth by the contract, the transforms apply it, the keys must agree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from transforms.accounting import REASON
from transforms.consent import check_consents
from transforms.crosswalk import Crosswalk, apply_crosswalk
from transforms.enrollment import check_enrollments
from transforms.fields import FIELD_TRANSFORMS
from transforms.grades import grade_by_student
from transforms.identity import contacts_from_guardians, resolve_students
from transforms.references import split_known
from transforms.scrub import scrub_ssn

pytestmark = pytest.mark.slow
CROSSWALKS = Path(__file__).resolve().parents[2] / "mappings" / "crosswalks"


def field(transform: str, series: pd.Series):
    return FIELD_TRANSFORMS[transform](series)


@pytest.fixture(scope="module")
def district():
    from synthetic.generator import District, SynthSpec

    generated = District(SynthSpec(students=1500, seed=23))
    frames: dict[str, list[pd.DataFrame]] = {}
    for chunk in generated.chunks():
        if chunk.export_day is None or chunk.export_day == generated.spec.export_day:
            frames.setdefault(chunk.table.name, []).append(chunk.frame)
    tables = {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
    return tables, generated.manifest()


def planted_keys(manifest: dict, code: str, table: str) -> list[dict]:
    keys = [k for a in manifest["anomalies"] if (a["code"], a["table"]) == (code, table) for k in a["keys"]]
    assert keys, f"the sample district must plant {code} in {table}"
    return keys


def planted(manifest: dict, code: str, table: str, key: str) -> list:
    return sorted(k[key] for k in planted_keys(manifest, code, table))


def survivors(manifest: dict, code: str, table: str, key: str) -> dict:
    return {k[key]: k["survivor"][key] for k in planted_keys(manifest, code, table)}


def crosswalk(name: str) -> Crosswalk:
    return Crosswalk.from_frame(pd.read_csv(CROSSWALKS / f"{name}.csv", dtype=str, keep_default_na=False))


def with_reason(outcome, code: str, key: str) -> list:
    return sorted(outcome.quarantined.loc[outcome.quarantined[REASON] == code, key].tolist())


def test_students_duplicates_sentinels_and_ssns(district):
    tables, manifest = district
    students = tables["SIM_STUDENT"]
    resolved = resolve_students(students)
    assert resolved.key_map.to_dict() == survivors(manifest, "duplicate_student", "SIM_STUDENT", "STUDENT_ID")
    birth = field("date", students["BIRTH_DT"])
    assert sorted(students.loc[birth.cleared, "STUDENT_ID"]) == planted(
        manifest, "sentinel_date_cleared", "SIM_STUDENT", "STUDENT_ID")
    _, counts = scrub_ssn(students, ["STATE_ID"])
    assert counts["STATE_ID"] == len(planted_keys(manifest, "ssn_scrubbed", "SIM_STUDENT"))


def test_guardians_become_contacts(district):
    tables, manifest = district
    contacts, associations = contacts_from_guardians(tables["SIM_GUARDIAN"])
    assert contacts.key_map.to_dict() == survivors(manifest, "duplicate_contact", "SIM_GUARDIAN", "GUARDIAN_ID")
    assert len(associations) == len(tables["SIM_GUARDIAN"])


def test_school_and_enrollment_rules(district):
    tables, manifest = district
    schools = tables["SIM_SCHOOL"]
    assert sorted(schools.loc[field("date", schools["CLOSE_DT"]).cleared, "SCHOOL_ID"]) == planted(
        manifest, "sentinel_date_cleared", "SIM_SCHOOL", "SCHOOL_ID")
    raw = tables["SIM_ENROLLMENT"]
    leave = field("date", raw["LEAVE_DT"])
    assert sorted(raw.loc[leave.cleared, "ENROLL_ID"]) == planted(
        manifest, "sentinel_date_cleared", "SIM_ENROLLMENT", "ENROLL_ID")
    outcome = check_enrollments(enrollment_frame(raw), crosswalk("grade_level"))
    for code in ("invalid_grade_level", "leave_before_entry", "overlapping_primary_enrollment"):
        assert with_reason(outcome, code, "enroll_id") == planted(manifest, code, "SIM_ENROLLMENT", "ENROLL_ID")


def enrollment_frame(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "enroll_id": field("int", raw["ENROLL_ID"]).values,
        "student_unique_id": field("student_number", raw["STUDENT_ID"]).values,
        "school_year": field("trim", raw["SCHOOL_YR"]).values,
        "entry_grade_level": raw["GRADE_LVL_CD"],
        "entry_date": field("date", raw["ENTRY_DT"]).values,
        "exit_withdraw_date": field("date", raw["LEAVE_DT"]).values,
        "primary_school": field("yn_bool", raw["PRIMARY_IND"]).values,
    })


def test_codes_outside_their_crosswalks(district):
    tables, manifest = district
    incidents = apply_crosswalk(tables["SIM_INCIDENT"], "ACTION_CD", crosswalk("discipline_action"), "action",
                                case_insensitive=True)
    assert sorted(incidents.quarantined["INCIDENT_ID"]) == planted(manifest, "unmapped_code", "SIM_INCIDENT",
                                                                   "INCIDENT_ID")
    marks = apply_crosswalk(tables["ClassAttendance"], "Mark", crosswalk("attendance_mark"), "mark",
                            case_insensitive=True)
    assert len(marks.quarantined) == len(planted_keys(manifest, "unmapped_code", "ClassAttendance"))


def test_gradebook_orphans_and_typed_dates(district):
    tables, manifest = district
    known = pd.Index(field("student_number", tables["SIM_STUDENT"]["STUDENT_ID"]).values.dropna())
    for name in ("Roster", "Score", "ClassAttendance"):
        rows = tables[name].assign(_student=field("student_number", tables[name]["StudentNumber"]).values)
        orphans = split_known(rows, "_student", known, "unknown_student")
        assert len(orphans.quarantined) == len(planted_keys(manifest, "unknown_student", name))
    assignments = tables["Assignment"]
    due = field("mmddyyyy", assignments["DueDate"])
    assert sorted(assignments.loc[due.cleared, "AssignmentId"]) == planted(
        manifest, "invalid_date_cleared", "Assignment", "AssignmentId")
    courses = tables["Course"].assign(_cim=field("trim", tables["Course"]["CimCourseId"]).values)
    unknown = split_known(courses, "_cim", pd.Index(tables["cim_course"]["course_id"]), "unknown_cim_course",
                          null_is_known=True)
    assert sorted(unknown.quarantined["CourseCode"]) == planted(manifest, "unknown_cim_course", "Course",
                                                                "CourseCode")


def test_consents(district):
    tables, manifest = district
    enrollments = check_enrollments(enrollment_frame(tables["SIM_ENROLLMENT"]), crosswalk("grade_level"))
    grades = grade_by_student(enrollments.kept, manifest["school_year"])
    raw = tables["verify_consent"]
    consents = pd.DataFrame({
        "consent_id": raw["consent_id"], "student_unique_id": field("student_number", raw["stu_key"]).values,
        "consent_type": raw["consent_type"], "school_year": field("trim", raw["school_yr"]).values,
        "principal_signed_date": field("yyyymmdd", raw["principal_signed_on"]).values,
        "revoked_date": field("yyyymmdd", raw["revoked_on"]).values,
    })
    outcome = check_consents(consents, manifest["school_year"], grades)
    for code in ("consent_revoked", "consent_wrong_school_year", "consent_missing_principal_signature",
                 "consent_outside_grade_band"):
        assert with_reason(outcome, code, "consent_id") == planted(manifest, code, "verify_consent", "consent_id")
