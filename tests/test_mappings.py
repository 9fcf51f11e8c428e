"""Mapping files, crosswalks and the deny-list: strict loading, the closed world, the extract query, the report."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from sqlalchemy.dialects import mysql, postgresql, sqlite

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.mapping import check_closed_world, load_crosswalk, load_deny_list, load_mappings
from sis_migrate.schema import MAPPINGS_DIR
from sis_migrate.sources.sql import build_extract_query, extract_columns
from sis_migrate.stages.report.disposition import column_dispositions, disposition_markdown, write_disposition_report

# The tier-1 columns of the restricted-data policy, written out here independently of deny_list.yaml.
TIER_1 = {
    ("sim", "SIM_STUDENT", "CITIZENSHIP_STATUS_CD"), ("sim", "SIM_STUDENT", "BIRTH_COUNTRY_CD"),
    ("sim", "SIM_STUDENT", "BIRTH_CITY"), ("sim", "SIM_STUDENT", "IMMIGRATION_STATUS_CD"),
    ("sim", "SIM_STUDENT", "US_ENTRY_DT"), ("sim", "SIM_STUDENT", "FIRST_US_SCHOOL_DT"),
    ("sim", "SIM_STUDENT", "SSN"), ("sim", "SIM_STUDENT", "MEDICAL_NOTES"),
    ("sim", "SIM_GUARDIAN", "EMPLOYER_NM"), ("sim", "SIM_GUARDIAN", "CITIZENSHIP_STATUS_CD"),
    ("sim", "SIM_INCIDENT", "NARRATIVE"), ("gradebook", "Score", "Comment"),
    ("cim", "cim_assessment_result", "accommodations_note"), ("verify", "verify_enrollment_check", "notes"),
    ("verify", "verify_residency", "proof_type"), ("verify", "verify_residency", "proof_doc_no"),
    ("verify", "verify_residency", "proof_country"),
}


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


@pytest.fixture(scope="module")
def deny_list():
    return load_deny_list()


@pytest.fixture
def config_copy(tmp_path):
    """A private copy of mappings/ to break on purpose; ``edit`` returns the line where the change starts."""
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, root)

    def edit(name: str, old: str, new: str) -> int:
        path = root / name
        content = path.read_text(encoding="utf-8")
        assert content.count(old) == 1, f"{old!r} must occur once in {name}"
        path.write_text(content.replace(old, new), encoding="utf-8")
        return content[:content.index(old)].count("\n") + 1

    return root, edit


# --- the real configuration ------------------------------------------------------------------

def test_closed_world_holds_on_the_real_files(mappings, deny_list):
    assert check_closed_world(mappings, deny_list) == []


def test_every_tier_1_column_is_denied(deny_list):
    denied = {(entry.system.value, entry.table, entry.column) for entry in deny_list.denied}
    assert TIER_1 - denied == set()


def test_the_tier_1_list_is_pinned(deny_list):
    """Any change to what is denied is a reviewed change of this test too."""
    denied = {(entry.system.value, entry.table, entry.column) for entry in deny_list.denied}
    assert denied == TIER_1
    categories = {(e.table, e.column): e.category for e in deny_list.denied}
    assert categories[("SIM_STUDENT", "SSN")] == "ssn"
    assert categories[("verify_residency", "proof_doc_no")] == "identity_document"
    assert categories[("SIM_GUARDIAN", "EMPLOYER_NM")] == "not_needed"


def test_no_denied_column_appears_in_any_mapping(mappings):
    named = {(system.value, table_name, column)
             for system, system_mapping in mappings.systems.items()
             for table_name, table_mapping in system_mapping.tables.items()
             for column in (*table_mapping.mapped_columns, *table_mapping.ignored)}
    assert named & TIER_1 == set()


def test_unneeded_verify_columns_are_ignored_with_a_reason(mappings):
    assert mappings.table("verify", "verify_residency").ignored["addr"]
    assert mappings.table("verify", "verify_enrollment_check").ignored["verified_by"]


def test_every_legacy_table_feeds_an_entity(mappings):
    for table in legacy.TABLES.values():
        assert mappings.table(table.system, table.name).targets, f"{table.system}.{table.name}"


def test_crosswalks_hold_exactly_the_documented_codes(mappings):
    assert set(mappings.crosswalks["discipline_action"].codes) == {"WARN", "DET", "ISS", "OSS", "EXP"}
    assert set(mappings.crosswalks["attendance_mark"].codes) == {"P", "A", "T", "E", "X"}
    grades = set(mappings.crosswalks["grade_level"].codes)
    assert grades == {"PK", "K", "KG", *(f"{n:02d}" for n in range(1, 13)), *(str(n) for n in range(1, 10))}
    assert "13" not in grades and "" not in grades
    assert mappings.crosswalks["grade_level"].codes["9"] == mappings.crosswalks["grade_level"].codes["09"]


def test_key_fields_use_the_identity_transforms(mappings):
    student = mappings.table("sim", "SIM_STUDENT").targets["student"]
    assert student["student_unique_id"].column == "STUDENT_ID"
    roster = mappings.table("gradebook", "Roster").targets["student_section_association"]
    assert roster["student_unique_id"].transform_name == "student_number"
    grade_level = mappings.table("sim", "SIM_ENROLLMENT").targets["student_school_association"]
    assert grade_level["entry_grade_level_descriptor"].crosswalk == "grade_level"
    assert grade_level["entry_grade_level_descriptor"].transform_name is None


# --- strict loading ----------------------------------------------------------------------------

def test_unknown_key_is_rejected_with_file_and_line(config_copy):
    root, edit = config_copy
    line = edit("sim.yaml", "state_id: {from: STATE_ID, transform: trim}",
                "state_id: {from: STATE_ID, transfrom: trim}")
    with pytest.raises(ConfigurationError, match=rf"{root / 'sim.yaml'}:{line}: .*unknown key 'transfrom'"):
        load_mappings(root)


def test_bad_transform_name_is_rejected_with_file_and_line(config_copy):
    root, edit = config_copy
    line = edit("gradebook.yaml", "due_date: {from: DueDate, transform: mmddyyyy}",
                "due_date: {from: DueDate, transform: mm_dd_yyyy}")
    with pytest.raises(ConfigurationError,
                       match=rf"{root / 'gradebook.yaml'}:{line}: .*unknown transform 'mm_dd_yyyy'"):
        load_mappings(root)


def test_a_transform_may_prepare_the_code_a_crosswalk_maps(mappings, config_copy):
    score = mappings.table("gradebook", "Score").targets["student_gradebook_entry"]
    status = score["submission_status_descriptor"]
    assert (status.transform_name, status.crosswalk) == ("score_status", "submission_status")
    root, edit = config_copy
    line = edit("gradebook.yaml", "transform: score_status, crosswalk: submission_status",
                "transform: score_state, crosswalk: submission_status")
    with pytest.raises(ConfigurationError,
                       match=rf"{root / 'gradebook.yaml'}:{line}: .*unknown transform 'score_state'"):
        load_mappings(root)


def test_a_crosswalk_may_name_the_quarantine_reason_of_a_code_outside_it(mappings, config_copy):
    grade = mappings.table("sim", "SIM_ENROLLMENT").targets["student_school_association"]
    assert grade["entry_grade_level_descriptor"].unknown_code_reason == "invalid_grade_level"
    root, edit = config_copy
    line = edit("sim.yaml", "unknown_code_reason: invalid_grade_level", "unknown_code_reason: duplicate_student")
    with pytest.raises(ConfigurationError, match=rf"{root / 'sim.yaml'}:{line - 1}: .*not a quarantine reason"):
        load_mappings(root)


def test_unknown_legacy_column_is_rejected_with_file_and_line(config_copy):
    root, edit = config_copy
    line = edit("cim.yaml", "course_title: {from: title, transform: trim}",
                "course_title: {from: course_title, transform: trim}")
    with pytest.raises(ConfigurationError,
                       match=rf"{root / 'cim.yaml'}:{line}: .*no column cim\.cim_course\.course_title"):
        load_mappings(root)


def test_unknown_ignored_column_is_rejected(config_copy):
    root, edit = config_copy
    line = edit("verify.yaml", "      addr: The address", "      address: The address")
    with pytest.raises(ConfigurationError, match=rf"{root / 'verify.yaml'}:{line}: .*no column .*address"):
        load_mappings(root)


def test_unknown_target_entity_and_field_are_rejected(config_copy):
    root, edit = config_copy
    line = edit("cim.yaml", "      program:\n", "      programme:\n")
    with pytest.raises(ConfigurationError, match=rf"{root / 'cim.yaml'}:{line}: .*unknown target entity 'programme'"):
        load_mappings(root)
    edit("cim.yaml", "      programme:\n", "      program:\n")
    line = edit("cim.yaml", "program_name: {from: program_name", "program_title: {from: program_name")
    with pytest.raises(ConfigurationError,
                       match=rf"{root / 'cim.yaml'}:{line}: .*unknown field program\.program_title"):
        load_mappings(root)
    edit("cim.yaml", "        program_title: {from: program_name, transform: trim}\n", "")
    with pytest.raises(ConfigurationError, match=rf"{root / 'cim.yaml'}:{line - 2}: .*required field.*program_name"):
        load_mappings(root)


def test_missing_crosswalk_file_is_rejected_with_file_and_line(config_copy):
    root, edit = config_copy
    line = edit("sim.yaml", "{from: RELATION_CD, crosswalk: relation}", "{from: RELATION_CD, crosswalk: relationship}")
    with pytest.raises(ConfigurationError, match=rf"{root / 'sim.yaml'}:{line}: .*crosswalk 'relationship'"):
        load_mappings(root)
    (root / "crosswalks" / "relation.csv").unlink()
    edit("sim.yaml", "crosswalk: relationship}", "crosswalk: relation}")
    with pytest.raises(ConfigurationError, match=r"relation\.csv: crosswalk file .* does not exist"):
        load_mappings(root)


def test_descriptor_field_needs_its_own_crosswalk(config_copy):
    root, edit = config_copy
    edit("sim.yaml", "{from: GENDER_CD, crosswalk: sex}", "{from: GENDER_CD, crosswalk: race}")
    with pytest.raises(ConfigurationError, match="holds the 'sex' code set, not 'race'"):
        load_mappings(root)
    edit("sim.yaml", "{from: GENDER_CD, crosswalk: race}", "{from: GENDER_CD, transform: upper_trim}")
    with pytest.raises(ConfigurationError, match="map it with crosswalk: sex"):
        load_mappings(root)


def test_unmapped_key_column_is_rejected(config_copy):
    root, edit = config_copy
    edit("gradebook.yaml", "event_date: {from: ClassDate, transform: date}",
         "event_date: {from: MinutesLate, transform: date}")
    with pytest.raises(ConfigurationError, match=r"key column\(s\) ClassDate must be mapped"):
        load_mappings(root)


# Every construct the loader accepts is one the transform stage runs; anything else is refused at load,
# naming file and line, before any row is extracted.
@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("sim.yaml", "{from: SCHOOL_NM, transform: trim}", "{from: [SCHOOL_NM, CITY], transform: trim}",
     r"sim\.yaml:\d+: tables\.SIM_SCHOOL\.targets\.school\.name_of_institution\.from: 'from' names one legacy column"),
    ("sim.yaml", "{from: SCHOOL_NM, transform: trim}", '{value: "A school"}',
     r"sim\.yaml:\d+: .*name_of_institution\.value: unknown key 'value'"),
    ("sim.yaml", "rules: [merge_duplicate_students]", "rules: [merge_twins]",
     r"sim\.yaml:\d+: tables\.SIM_STUDENT\.rules\.0: unknown table rule 'merge_twins'"),
    ("sim.yaml", "rules: [merge_duplicate_students]", "rules: [enrollment_rules]",
     r"sim\.yaml:\d+: tables\.SIM_STUDENT\.rules\.0: rule enrollment_rules reads .*which this table does not map"),
    ("sim.yaml", "school: school.school_id", "school: school.city_id",
     r"sim\.yaml:\d+: tables\.SIM_SCHOOL\.school: school\.city_id is not a field this table maps"),
    ("sim.yaml", "school: school.school_id", "school: {via: section, key: school.school_id, by: x}",
     r"sim\.yaml:\d+: tables\.SIM_SCHOOL\.school\.by: unknown key 'by'"),
])
def test_a_construct_the_engine_does_not_run_is_refused_with_file_and_line(config_copy, file, old, new, message):
    root, edit = config_copy
    edit(file, old, new)
    with pytest.raises(ConfigurationError, match=message):
        load_mappings(root)


def test_a_rule_that_needs_the_whole_table_is_refused_on_a_table_processed_in_parts(config_copy):
    root, edit = config_copy
    edit("sim.yaml", "rules: [merge_duplicate_students]", "process: parts\n    rules: [merge_duplicate_students]")
    with pytest.raises(ConfigurationError, match=r"SIM_STUDENT\.rules\.0: rule merge_duplicate_students needs the "
                                                 r"whole table: process: whole"):
        load_mappings(root)


def test_tables_run_after_what_they_need_and_parts_only_after_whole_tables(config_copy):
    order = [(table.qualified, mapping.process) for table, mapping in load_mappings().processing_order()]
    names = [name for name, _ in order]
    assert names.index("sim.SIM_STUDENT") < names.index("sim.SIM_ENROLLMENT") < names.index("verify.verify_consent")
    assert names.index("cim.cim_course") < names.index("gradebook.Course") < names.index("gradebook.Section")
    assert names.index("gradebook.Section") < names.index("gradebook.Assignment")
    assert [process for _, process in order] == sorted(process for _, process in order)[::-1]  # whole, then parts
    assert {name for name, process in order if process == "parts"} == {
        "gradebook.Roster", "gradebook.Score", "gradebook.PeriodGrade", "gradebook.ClassAttendance"}
    root, edit = config_copy
    edit("gradebook.yaml", "    school_lookup: section.section_id\n", "")
    with pytest.raises(ConfigurationError, match=r"gradebook\.Assignment \(needs school_of:section\)"):
        load_mappings(root)


def test_crosswalk_csv_is_validated(tmp_path):
    path = tmp_path / "term.csv"
    path.write_text("legacy_code,code_value,description\nS1,Fall Semester,x\nQ1,First Quarter,x\nS1,Other,x\n")
    with pytest.raises(ConfigurationError, match=rf"{path}:4: legacy code 'S1' is already on line 2"):
        load_crosswalk(path, "uri://x")
    path.write_text("code,value,description\nS1,Fall Semester,x\n")
    with pytest.raises(ConfigurationError, match=rf"{path}:1: crosswalk header"):
        load_crosswalk(path, "uri://x")
    path.write_text("legacy_code,code_value,description\nS1,,x\n")
    with pytest.raises(ConfigurationError, match=rf"{path}:2: code_value is empty"):
        load_crosswalk(path, "uri://x")


def test_deny_list_entry_is_validated(config_copy):
    root, edit = config_copy
    line = edit("deny_list.yaml", "    column: BIRTH_CITY\n    category: birth_place",
                "    column: BIRTH_CITY\n    category: place_of_birth")
    with pytest.raises(ConfigurationError, match=rf"{root / 'deny_list.yaml'}:{line + 1}: .*category"):
        load_deny_list(root / "deny_list.yaml")


# --- the closed world ----------------------------------------------------------------------------

def _without_entry(root, column: str, table: str) -> None:
    path = root / "deny_list.yaml"
    content = path.read_text()
    pattern = rf"  - system: \w+\n    table: {table}\n    column: {column}\n(    .*\n)+?(?=  - |\Z)"
    trimmed, count = re.subn(pattern, "", content)
    assert count == 1
    path.write_text(trimmed)


def test_deleting_a_deny_list_entry_leaves_the_column_unclassified(config_copy, mappings):
    root, _ = config_copy
    _without_entry(root, "SSN", "SIM_STUDENT")
    problems = check_closed_world(mappings, load_deny_list(root / "deny_list.yaml"))
    assert [(p.system, p.table, p.column, p.kind) for p in problems] == [
        ("sim", "SIM_STUDENT", "SSN", "unclassified")]
    assert "sim.SIM_STUDENT.SSN" in str(problems[0])


def test_a_denied_column_that_is_also_mapped_is_classified_twice_and_never_extracted(config_copy, deny_list):
    root, edit = config_copy
    edit("sim.yaml", "        state_id: {from: STATE_ID, transform: trim}\n",
         "        state_id: {from: SSN, transform: trim}\n")
    edit("sim.yaml", "    ignored:\n      CREATE_TS:", "    ignored:\n      STATE_ID: moved\n      CREATE_TS:")
    broken = load_mappings(root)
    problems = check_closed_world(broken, deny_list)
    assert [(p.table, p.column, p.kind) for p in problems] == [("SIM_STUDENT", "SSN", "classified_twice")]
    with pytest.raises(ConfigurationError, match="denied column.*SSN.*never read"):
        extract_columns("sim", "SIM_STUDENT", broken, deny_list)


def test_live_columns_added_and_removed_are_named(mappings, deny_list):
    live = {(t.system, t.name): list(t.column_names) for t in legacy.TABLES.values()}
    live[(System.SIM, "SIM_STUDENT")].append("EYE_COLOR")
    live[(System.GRADEBOOK, "Teacher")].remove("Email")
    del live[(System.CIM, "cim_program")]
    problems = check_closed_world(mappings, deny_list, live)
    assert {(p.system, p.table, p.column, p.kind) for p in problems} == {
        ("sim", "SIM_STUDENT", "EYE_COLOR", "unclassified"),
        ("gradebook", "Teacher", "Email", "missing_from_source"),
        ("cim", "cim_program", None, "table_missing"),
    }


# --- the extract query ---------------------------------------------------------------------------

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "mysql": mysql.dialect()}


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_extract_query_names_only_mapped_columns_quoted(dialect_name, mappings, deny_list):
    quote = "`" if dialect_name == "mysql" else '"'
    for table in legacy.TABLES.values():
        if table.system not in legacy.RELATIONAL_SYSTEMS:
            continue
        sql = str(build_extract_query(table.system, table.name, dialect_name).compile(dialect=DIALECTS[dialect_name]))
        named = set(re.findall(rf"{quote}([^{quote}]+){quote}\.{quote}([^{quote}]+){quote}", sql))
        assert {column for _, column in named} == set(mappings.table(table.system, table.name).mapped_columns)
        assert {owner for owner, _ in named} == {table.name}
        assert "*" not in sql
        for column in deny_list.columns_of(table.system, table.name):
            assert f"{quote}{column}{quote}" not in sql, f"{table.name}.{column}"


def test_no_denied_column_is_ever_extracted(mappings):
    for table in legacy.TABLES.values():
        columns = extract_columns(table.system, table.name, mappings)
        assert not {(table.system.value, table.name, column) for column in columns} & TIER_1
        assert set(table.key) <= set(columns)
        assert columns == [name for name in table.column_names if name in columns]  # catalog order


def test_verify_has_no_sql_and_unknown_dialects_are_refused():
    with pytest.raises(ConfigurationError, match="export files"):
        build_extract_query("verify", "verify_consent", "sqlite")
    with pytest.raises(ConfigurationError, match="dialect"):
        build_extract_query("sim", "SIM_SCHOOL", "oracle")


# --- the disposition report ------------------------------------------------------------------------

def test_disposition_gives_every_catalog_column_one_fate(mappings, deny_list):
    rows = column_dispositions(mappings, deny_list)
    catalog = [(t.system.value, t.name, c) for t in legacy.TABLES.values() for c in t.column_names]
    assert [(r.system, r.table, r.column) for r in rows] == catalog
    assert {r.fate for r in rows} == {"mapped", "ignored", "denied"}
    assert {(r.system, r.table, r.column) for r in rows if r.fate == "denied"} == TIER_1
    incident = {r.column: r for r in rows if r.table == "SIM_INCIDENT"}
    assert set(incident["INCIDENT_ID"].targets) >= {"discipline_incident.incident_identifier",
                                                    "discipline_action.discipline_action_identifier"}
    assert incident["NARRATIVE"].category == "staff_free_text"


def test_disposition_files_agree_with_the_catalog(tmp_path, mappings, deny_list):
    markdown, as_json = write_disposition_report(tmp_path / "reports", mappings, deny_list)
    report = json.loads(as_json.read_text())
    total_columns = sum(len(t.columns) for t in legacy.TABLES.values())
    totals = report["totals"]
    assert totals["columns"] == total_columns
    assert totals["denied"] == len(TIER_1)
    assert totals["mapped"] + totals["ignored"] + totals["denied"] == total_columns
    assert report["systems"]["verify"]["tables"]["verify_residency"]["totals"]["denied"] == 3
    text = markdown.read_text()
    assert text == disposition_markdown(mappings, deny_list)
    assert "| SSN | CHAR(11) | denied | **ssn**:" in text
    assert "| addr | TEXT | ignored |" in text
    assert f"| **all** | {len(legacy.TABLES)} | {total_columns} |" in text
