"""The manifest tells the truth: independent pandas checks, written from the rules in docs/CONTRACTS.md
(not from generator internals), find exactly the anomalies, keys and consequences it lists, and the
canaries it promises. Runs on the tiny preset and, marked slow, on the small one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from sis_migrate.legacy import TABLES
from synthetic.generator import District, SynthSpec
from synthetic.presets import PRESETS

SENTINEL_UNKNOWN = pd.Timestamp("1900-01-01")
SENTINEL_OPEN = pd.Timestamp("9999-12-31")
GRADE_CROSSWALK = {"PK": -1, "K": 0, "KG": 0, **{f"{g:02d}": g for g in range(1, 13)},
                   **{str(g): g for g in range(1, 10)}}
ACTION_CODES = {"WARN", "DET", "ISS", "OSS", "EXP"}
ATTENDANCE_MARKS = {"P", "A", "T", "E", "X"}


def match_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def student_number(text: str) -> int:
    return int(text.strip().lstrip("0") or "0")


def course_code(text: str) -> str:
    return "".join(text.split()).upper()


@pytest.fixture(scope="module", ids=lambda param: f"{param[0]}-seed{param[1]}",
                params=[("tiny", 11), ("tiny", 2024), pytest.param(("small", 11), marks=pytest.mark.slow)])
def district(request):
    preset, seed = request.param
    spec = SynthSpec(students=PRESETS[preset], seed=seed, preset=preset)
    generated = District(spec)
    parts: dict[str, list[pd.DataFrame]] = {}
    older: dict[str, list[pd.DataFrame]] = {}
    for chunk in generated.chunks():
        name = f"{chunk.table.system.value}.{chunk.table.name}"
        target = older if chunk.export_day is not None and chunk.export_day != spec.export_day else parts
        target.setdefault(name, []).append(chunk.frame)
    frames = {name: pd.concat(chunks, ignore_index=True) for name, chunks in parts.items()}
    return frames, generated.manifest(), spec


def planted(manifest: dict, code: str, table: str) -> list[dict]:
    entries = [a for a in manifest["anomalies"] if a["code"] == code and a["table"] == table]
    assert entries, f"manifest plants no {code} in {table}"
    assert all(a["count"] == len(a["keys"]) for a in entries)
    return [key for entry in entries for key in entry["keys"]]


def as_set(keys: list[dict]) -> set:
    return {json.dumps(key, sort_keys=True) for key in keys}


def iso(value) -> str:
    return pd.Timestamp(value).date().isoformat()


def test_every_anomaly_code_is_checked_here(district):
    _, manifest, _ = district
    checked = {"duplicate_student", "duplicate_contact", "unknown_student", "leave_before_entry",
               "invalid_grade_level", "overlapping_primary_enrollment", "unmapped_code", "unknown_cim_course",
               "consent_revoked", "consent_wrong_school_year", "consent_missing_principal_signature",
               "consent_outside_grade_band", "ssn_scrubbed", "sentinel_date_cleared", "invalid_date_cleared"}
    codes = {a["code"] for a in manifest["anomalies"]}
    assert codes == checked
    assert all(a["count"] >= 1 for a in manifest["anomalies"])


def test_duplicate_students(district):
    frames, manifest, _ = district
    students = frames["sim.SIM_STUDENT"]
    known = students[students["BIRTH_DT"] != SENTINEL_UNKNOWN]
    key = pd.DataFrame({"l": known["LAST_NM"].map(match_name), "f": known["FIRST_NM"].map(match_name),
                        "b": known["BIRTH_DT"], "id": known["STUDENT_ID"].astype(int)})
    survivor = key.groupby(["l", "f", "b"])["id"].transform("min")
    merged = key[key["id"] != survivor]
    expected = [{"STUDENT_ID": int(i), "survivor": {"STUDENT_ID": int(s)}}
                for i, s in zip(merged["id"], survivor[merged.index], strict=True)]
    assert as_set(expected) == as_set(planted(manifest, "duplicate_student", "SIM_STUDENT"))
    # nothing anywhere refers to a planted duplicate
    duplicates = set(merged["id"])
    for name, column in (("sim.SIM_GUARDIAN", "STUDENT_ID"), ("sim.SIM_ENROLLMENT", "STUDENT_ID"),
                         ("sim.SIM_INCIDENT", "STUDENT_ID"), ("cim.cim_program_participation", "student_id"),
                         ("cim.cim_assessment_result", "student_id")):
        assert not duplicates & set(frames[name][column].astype(int))
    assert not duplicates & set(frames["gradebook.Roster"]["StudentNumber"].map(student_number))


def test_duplicate_contacts(district):
    frames, manifest, _ = district
    guardians = frames["sim.SIM_GUARDIAN"]
    assert guardians["CELL_PHONE"].notna().all() and (guardians["CELL_PHONE"].str.strip() != "").all()
    key = pd.DataFrame({"l": guardians["LAST_NM"].map(match_name), "f": guardians["FIRST_NM"].map(match_name),
                        "c": guardians["CELL_PHONE"].str.replace(r"\D", "", regex=True),
                        "id": guardians["GUARDIAN_ID"].astype(int)})
    survivor = key.groupby(["l", "f", "c"])["id"].transform("min")
    merged = key[key["id"] != survivor]
    expected = [{"GUARDIAN_ID": int(i), "survivor": {"GUARDIAN_ID": int(s)}}
                for i, s in zip(merged["id"], survivor[merged.index], strict=True)]
    assert as_set(expected) == as_set(planted(manifest, "duplicate_contact", "SIM_GUARDIAN"))
    per_student = guardians.groupby("STUDENT_ID").size()
    assert per_student.between(1, 3).all()
    assert (key.groupby(["l", "f", "c"]).size() >= 3).any(), "a parent of three appears three times"


def _quarantined_sections(frames) -> set[int]:
    catalog = set(frames["cim.cim_course"]["course_id"])
    courses = frames["gradebook.Course"]
    cim = courses["CimCourseId"]
    bad = courses[cim.notna() & (cim.fillna("").str.strip() != "") & ~cim.isin(catalog)]
    bad_codes = set(bad["CourseCode"].map(course_code))
    sections = frames["gradebook.Section"]
    return set(sections.loc[sections["CourseCode"].map(course_code).isin(bad_codes), "SectionId"].astype(int))


def test_unknown_students_and_their_rows(district):
    frames, manifest, _ = district
    sim_ids = set(frames["sim.SIM_STUDENT"]["STUDENT_ID"].astype(int))
    quarantined = _quarantined_sections(frames)
    assignment_section = frames["gradebook.Assignment"].set_index("AssignmentId")["SectionId"]
    for table, key_columns in (("Roster", ("SectionId", "StudentNumber")), ("Score", ("AssignmentId", "StudentNumber")),
                               ("ClassAttendance", ("SectionId", "StudentNumber", "ClassDate"))):
        frame = frames[f"gradebook.{table}"]
        unknown = frame[~frame["StudentNumber"].map(student_number).isin(sim_ids)]
        expected = [{c: (iso(row[c]) if c == "ClassDate" else int(row[c]) if c.endswith("Id") else row[c])
                     for c in key_columns} for _, row in unknown.iterrows()]
        assert as_set(expected) == as_set(planted(manifest, "unknown_student", table)), table
        sections = (unknown["SectionId"] if "SectionId" in unknown else
                    unknown["AssignmentId"].map(assignment_section)).astype(int)
        assert not set(sections) & quarantined
    grades = frames["gradebook.PeriodGrade"]
    assert grades["StudentNumber"].map(student_number).isin(sim_ids).all()


def _enrollment_checks(frames):
    enrollment = frames["sim.SIM_ENROLLMENT"].copy()
    leave = enrollment["LEAVE_DT"].where(enrollment["LEAVE_DT"] != SENTINEL_OPEN)
    enrollment["leave"] = leave
    enrollment["lbe"] = leave.notna() & (leave < enrollment["ENTRY_DT"])
    enrollment["igl"] = ~enrollment["GRADE_LVL_CD"].fillna("").isin(GRADE_CROSSWALK)
    return enrollment


def test_enrollment_anomalies(district):
    frames, manifest, spec = district
    enrollment = _enrollment_checks(frames)
    prior_year = enrollment["SCHOOL_YR"] != spec.school_year
    for flag, code, column in (("lbe", "leave_before_entry", "LEAVE_DT"), ("igl", "invalid_grade_level",
                                                                              "GRADE_LVL_CD")):
        rows = enrollment[enrollment[flag]]
        assert prior_year[rows.index].all()
        assert as_set([{"ENROLL_ID": int(e)} for e in rows["ENROLL_ID"]]) == as_set(
            planted(manifest, code, "SIM_ENROLLMENT"))
        entry = next(a for a in manifest["anomalies"] if a["code"] == code)
        assert entry["column"] == column
    flagged = enrollment[enrollment["lbe"] | enrollment["igl"]]
    assert flagged["STUDENT_ID"].is_unique and not (enrollment["lbe"] & enrollment["igl"]).any()

    candidates = enrollment[~enrollment["lbe"] & ~enrollment["igl"] & (enrollment["PRIMARY_IND"] == "Y")]
    candidates = candidates.sort_values(["STUDENT_ID", "ENTRY_DT", "ENROLL_ID"])
    open_end = pd.Timestamp("2262-01-01")
    quarantined = []
    for _, rows in candidates.groupby("STUDENT_ID", sort=False):
        kept: list[tuple] = []
        for entry, leave, enroll_id in zip(rows["ENTRY_DT"], rows["leave"].fillna(open_end), rows["ENROLL_ID"],
                                           strict=True):
            if any(entry <= other_leave and other_entry <= leave for other_entry, other_leave in kept):
                quarantined.append({"ENROLL_ID": int(enroll_id)})
            else:
                kept.append((entry, leave))
    assert as_set(quarantined) == as_set(planted(manifest, "overlapping_primary_enrollment", "SIM_ENROLLMENT"))
    overlap_rows = enrollment[enrollment["ENROLL_ID"].isin([k["ENROLL_ID"] for k in quarantined])]
    assert (overlap_rows["SCHOOL_YR"] == spec.school_year).all()


def test_unmapped_codes(district):
    frames, manifest, _ = district
    incidents = frames["sim.SIM_INCIDENT"]
    bad = incidents[~incidents["ACTION_CD"].isin(ACTION_CODES)]
    assert as_set([{"INCIDENT_ID": int(i)} for i in bad["INCIDENT_ID"]]) == as_set(
        planted(manifest, "unmapped_code", "SIM_INCIDENT"))
    attendance = frames["gradebook.ClassAttendance"]
    bad = attendance[~attendance["Mark"].isin(ATTENDANCE_MARKS)]
    expected = [{"SectionId": int(s), "StudentNumber": n, "ClassDate": iso(d)}
                for s, n, d in zip(bad["SectionId"], bad["StudentNumber"], bad["ClassDate"], strict=True)]
    assert as_set(expected) == as_set(planted(manifest, "unmapped_code", "ClassAttendance"))
    sim_ids = set(frames["sim.SIM_STUDENT"]["STUDENT_ID"].astype(int))
    assert bad["StudentNumber"].map(student_number).isin(sim_ids).all(), "one anomaly per row"


def test_unknown_cim_course_and_its_consequences(district):
    frames, manifest, _ = district
    catalog = set(frames["cim.cim_course"]["course_id"])
    courses = frames["gradebook.Course"]
    cim = courses["CimCourseId"]
    bad = courses[cim.notna() & (cim.fillna("").str.strip() != "") & ~cim.isin(catalog)]
    assert as_set([{"CourseCode": c} for c in bad["CourseCode"]]) == as_set(
        planted(manifest, "unknown_cim_course", "Course"))
    assert (cim.isna()).any(), "a few local-only courses have no CimCourseId"
    normalised = courses["CourseCode"].map(course_code)
    assert normalised.is_unique, "distinct courses never collide after normalisation"
    sections = frames["gradebook.Section"]
    assert sections["CourseCode"].map(course_code).isin(set(normalised)).all()
    assert (sections["CourseCode"] != sections["CourseCode"].map(course_code)).any()

    quarantined = _quarantined_sections(frames)
    assignments = frames["gradebook.Assignment"]
    bad_assignments = set(assignments.loc[assignments["SectionId"].isin(quarantined), "AssignmentId"])
    expected = {
        "gradebook.Section": len(quarantined),
        "gradebook.Roster": int(frames["gradebook.Roster"]["SectionId"].isin(quarantined).sum()),
        "gradebook.Assignment": len(bad_assignments),
        "gradebook.PeriodGrade": int(frames["gradebook.PeriodGrade"]["SectionId"].isin(quarantined).sum()),
        "gradebook.ClassAttendance": int(frames["gradebook.ClassAttendance"]["SectionId"].isin(quarantined).sum()),
        "gradebook.Score": int(frames["gradebook.Score"]["AssignmentId"].isin(bad_assignments).sum()),
    }
    assert manifest["consequences"]["depends_on_quarantined"] == expected
    assert expected["gradebook.Section"] >= 1 and expected["gradebook.Score"] >= 1


def _current_grades(frames, spec) -> pd.Series:
    enrollment = _enrollment_checks(frames)
    valid = enrollment[~enrollment["lbe"] & ~enrollment["igl"] & (enrollment["PRIMARY_IND"] == "Y")
                       & (enrollment["SCHOOL_YR"] == spec.school_year)]
    return valid.sort_values("ENTRY_DT").groupby("STUDENT_ID")["GRADE_LVL_CD"].first().map(GRADE_CROSSWALK)


def test_consent_anomalies(district):
    frames, manifest, spec = district
    consents = frames["verify.verify_consent"].copy()
    grades = _current_grades(frames, spec)
    student = consents["stu_key"].str.lstrip("S").astype(int)
    assert student.isin(grades.index).all(), "students with consents have a valid current-year enrollment"
    grade = student.map(grades)
    safety = consents["consent_type"] == "SAFETY_MEETUP"
    reengage = consents["consent_type"] == "REENGAGEMENT"
    rules = [
        ("consent_revoked", consents["revoked_on"].notna()),
        ("consent_wrong_school_year", consents["school_yr"] != spec.school_year),
        ("consent_missing_principal_signature", safety & consents["principal_signed_on"].isna()),
        ("consent_outside_grade_band", (safety & ~grade.between(9, 12)) | (reengage & ~grade.between(7, 12))),
    ]
    claimed = pd.Series(False, index=consents.index)
    hits = pd.Series(0, index=consents.index)
    for code, mask in rules:
        hits += mask.astype(int)
        first_match = mask & ~claimed
        claimed |= mask
        expected = [{"consent_id": c} for c in consents.loc[first_match, "consent_id"]]
        assert as_set(expected) == as_set(planted(manifest, code, "verify_consent")), code
    assert (hits <= 1).all(), "at most one consent anomaly per row"


def test_field_fixes(district):
    frames, manifest, _ = district
    students = frames["sim.SIM_STUDENT"]
    state = students["STATE_ID"].fillna("")
    ssn_like = state.str.contains(r"\d{3}-\d{2}-\d{4}", regex=True) | state.str.strip().str.fullmatch(r"\d{9}")
    assert as_set([{"STUDENT_ID": int(s)} for s in students.loc[ssn_like, "STUDENT_ID"]]) == as_set(
        planted(manifest, "ssn_scrubbed", "SIM_STUDENT"))
    assert state[~ssn_like & (state != "")].str.fullmatch(r"\d{10}").all()
    for name, table, column, key, sentinel in (
            ("sim.SIM_STUDENT", "SIM_STUDENT", "BIRTH_DT", "STUDENT_ID", SENTINEL_UNKNOWN),
            ("sim.SIM_SCHOOL", "SIM_SCHOOL", "CLOSE_DT", "SCHOOL_ID", SENTINEL_OPEN),
            ("sim.SIM_ENROLLMENT", "SIM_ENROLLMENT", "LEAVE_DT", "ENROLL_ID", SENTINEL_OPEN)):
        frame = frames[name]
        hit = frame.loc[frame[column] == sentinel, key]
        expected = [{key: (v if isinstance(v, str) else int(v))} for v in hit]
        keys = [k for a in manifest["anomalies"] if a["code"] == "sentinel_date_cleared" and a["column"] == column
                for k in a["keys"]]
        assert as_set(expected) == as_set(keys), column
        assert any(a["code"] == "sentinel_date_cleared" and a["table"] == table for a in manifest["anomalies"])

    assignments = frames["gradebook.Assignment"]
    typed = assignments["DueDate"]
    assert typed.map(lambda v: isinstance(v, str)).all()

    def impossible(text: str) -> bool:
        if text.strip() == "":
            return False
        try:
            datetime.strptime(text, "%m/%d/%Y")
            return False
        except ValueError:
            return True

    bad = assignments[typed.map(impossible)]
    assert as_set([{"AssignmentId": int(a)} for a in bad["AssignmentId"]]) == as_set(
        planted(manifest, "invalid_date_cleared", "Assignment"))
    assert bad["SectionId"].isin(_quarantined_sections(frames)).sum() == 0
    assert (typed == "").any(), "blank due dates occur (NULL, not an anomaly)"


def test_planted_rows_are_distinct(district):
    _, manifest, _ = district
    seen: dict[str, set] = {}
    for anomaly in manifest["anomalies"]:
        if anomaly["code"] in {"ssn_scrubbed", "sentinel_date_cleared", "invalid_date_cleared"}:
            continue  # fixes: the row loads
        rows = seen.setdefault(anomaly["table"], set())
        keys = {json.dumps({k: v for k, v in key.items() if k != "survivor"}, sort_keys=True)
                for key in anomaly["keys"]}
        assert not rows & keys, f"two anomalies planted on one row of {anomaly['table']}"
        rows |= keys


def test_canaries(district):
    frames, manifest, _ = district
    canary = manifest["canary"]
    marker = canary["marker"]
    assert re.fullmatch(r"QZ[A-Z2-7]{6}", marker)
    for column, kind in canary["columns"].items():
        system, table, name = column.split(".")
        values = frames[f"{system}.{table}"][name].dropna()
        assert len(values) > 0, f"{column} holds no value"
        if kind == "marker":
            assert values.astype(str).str.contains(marker, regex=False).all(), column
        elif kind == "values":
            assert set(values) == set(canary["values"][column]), column
            assert all(re.fullmatch(r"9\d{2}-\d{2}-\d{4}", v) for v in canary["values"][column])
        else:
            assert kind == "type_cannot_hold_marker"
    state_ids = set(frames["sim.SIM_STUDENT"]["STATE_ID"].dropna())
    assert set(canary["values"]["sim.SIM_STUDENT.STATE_ID"]) <= state_ids
    assert all(v.replace("-", "").startswith("9") for v in canary["values"]["sim.SIM_STUDENT.STATE_ID"])
    tier1 = set(canary["columns"])
    for name, frame in frames.items():
        for column in frame.columns:
            if f"{name}.{column}" in tier1 or frame[column].dtype != object:
                continue
            text = frame[column].dropna().astype(str)
            assert not text.str.contains(marker, regex=False).any(), f"marker leaked into {name}.{column}"


def test_rows_match_frames(district):
    frames, manifest, _ = district
    assert manifest["rows"] == {name: len(frame) for name, frame in sorted(frames.items())}
    assert set(manifest["rows"]) == {f"{s.value}.{t}" for s, t in TABLES}
    assert manifest["canary"]["values"]["sim.SIM_STUDENT.SSN"] == sorted(
        frames["sim.SIM_STUDENT"]["SSN"].dropna().unique().tolist())
    ssn = np.array(manifest["canary"]["values"]["sim.SIM_STUDENT.SSN"])
    assert len(ssn) > 0


def test_no_accidental_unknown_references(district):
    """Outside the planted orphans, every student and school reference resolves in SIM."""
    frames, _, _ = district
    sim_ids = set(frames["sim.SIM_STUDENT"]["STUDENT_ID"].astype(int))
    school_ids = {int(s) for s in frames["sim.SIM_SCHOOL"]["SCHOOL_ID"]}
    student_refs = [("sim.SIM_GUARDIAN", "STUDENT_ID"), ("sim.SIM_ENROLLMENT", "STUDENT_ID"),
                    ("sim.SIM_INCIDENT", "STUDENT_ID"), ("cim.cim_program_participation", "student_id"),
                    ("cim.cim_assessment_result", "student_id")]
    for name, column in student_refs:
        assert frames[name][column].astype(int).isin(sim_ids).all(), name
    for table in ("verify_enrollment_check", "verify_residency", "verify_consent"):
        keys = frames[f"verify.{table}"]["stu_key"]
        assert keys.str.fullmatch(r"S?\d{8}").all()
        assert keys.str.lstrip("S").astype(int).isin(sim_ids).all(), table
    school_refs = [("sim.SIM_ENROLLMENT", "SCHOOL_ID"), ("sim.SIM_INCIDENT", "SCHOOL_ID"),
                   ("gradebook.Teacher", "HomeSchool"), ("gradebook.Section", "SchoolCode"),
                   ("cim.cim_program_participation", "school_id"), ("verify.verify_enrollment_check", "school_num")]
    for name, column in school_refs:
        assert frames[name][column].str.strip().astype(int).isin(school_ids).all(), name
    teachers = set(frames["gradebook.Teacher"]["TeacherId"].astype(int))
    assert frames["gradebook.Section"]["TeacherId"].astype(int).isin(teachers).all()
    sections = set(frames["gradebook.Section"]["SectionId"].astype(int))
    for name in ("gradebook.Roster", "gradebook.Assignment", "gradebook.PeriodGrade", "gradebook.ClassAttendance"):
        assert frames[name]["SectionId"].astype(int).isin(sections).all(), name
    assignments = set(frames["gradebook.Assignment"]["AssignmentId"].astype(int))
    assert frames["gradebook.Score"]["AssignmentId"].astype(int).isin(assignments).all()
    roster = frames["gradebook.Roster"]
    on_roster = set(zip(roster["SectionId"].astype(int), roster["StudentNumber"], strict=True))
    attendance = frames["gradebook.ClassAttendance"]
    assert all(pair in on_roster for pair in zip(attendance["SectionId"].astype(int), attendance["StudentNumber"],
                                                 strict=True))
