"""A small hand-made run in a staging folder, shaped like the pipeline's, for validation and report tests.

Personal values are distinctive (surname 'Zyxwvut', street 'Plughstrasse', a fake SSN typed into
a state id) so a leak check can search every written file for them. Nothing here runs the pipeline.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from sis_migrate import legacy
from sis_migrate.run_config import RunConfig
from sis_migrate.schema import default_schema
from sis_migrate.storage import Staging

SCHOOLS = ("610001", "610002")
# Values that must never appear in a validation result, a data doc or the report.
PERSONAL_VALUES = ("Zyxwvut", "Qwertzuiop", "Mnbvcxy", "Plughstrasse", "078-05-1120", "90817263", "90817264",
                   "2009-03-17", "1111-22-3333")
# Legacy keys (and their parts) that only the restricted steward worklist may hold.
LEGACY_KEYS = ("STUDENT_ID=90817299", "90817299", "ENROLL_ID=7766554", "7766554")
FORMULA_VALUE = "=HYPERLINK(\"http://x\")"
# The legacy table whose rows each entity's rows stand for, as accounted for; other entities name none.
SOURCE_TABLES = {"student": "sim.SIM_STUDENT", "student_school_association": "sim.SIM_ENROLLMENT"}


def _student(sid: int, last: str, first: str, birth: date, state_id: str | None = None) -> dict:
    return {"student_unique_id": sid, "state_id": state_id, "last_surname": last, "first_name": first,
            "birth_date": birth, "sex_descriptor": "Female", "street_address": "12 Plughstrasse",
            "city": "Chicago", "state_abbreviation": "IL", "postal_code": "60601"}


def entity_rows(duplicate_student: bool = False, ssn_in_state_id: bool = False) -> dict[str, list[dict]]:
    """Unified rows per entity: consistent keys, one enrollment whose age does not fit its grade."""
    students = [_student(90817263, "Zyxwvut", "Qwertzuiop", date(2009, 3, 17), "078-05-1120" if ssn_in_state_id
                         else "1234567890"),
                _student(90817264, "Mnbvcxy", "Ann", date(2012, 1, 2))]
    if duplicate_student:
        students.append(_student(90817263, "Zyxwvut", "Other", date(2010, 5, 5)))
    return {
        "school": [{"school_id": school, "name_of_institution": f"School {n}", "school_type_descriptor": None,
                    "is_active": True} for n, school in enumerate(SCHOOLS)],
        "student": students,
        "student_school_association": [
            {"student_unique_id": 90817263, "school_id": SCHOOLS[0], "entry_date": date(2018, 9, 4), "enroll_id": 1,
             "school_year": "2018-2019", "entry_grade_level_descriptor": "Fourth grade", "primary_school": True},
            {"student_unique_id": 90817264, "school_id": SCHOOLS[1], "entry_date": date(2018, 9, 4), "enroll_id": 2,
             "school_year": "2018-2019", "entry_grade_level_descriptor": "Twelfth grade", "primary_school": True},
        ],
        "course": [{"course_code": "C1", "course_title": "Reading"}],
        "local_course": [{"local_course_code": "ENG101", "local_course_title": "English", "course_code": "C1"}],
        "session": [{"school_id": SCHOOLS[0], "school_year": "2018-2019", "term_descriptor": "Year Round"}],
        "course_offering": [{"local_course_code": "ENG101", "school_id": SCHOOLS[0], "school_year": "2018-2019",
                             "term_descriptor": "Year Round"}],
        "section": [{"section_id": 501, "local_course_code": "ENG101", "school_id": SCHOOLS[0],
                     "school_year": "2018-2019", "term_descriptor": "Year Round"}],
        "gradebook_entry": [
            {"gradebook_entry_identifier": 9001, "section_id": 501, "title": "Essay", "due_date": date(2018, 10, 1),
             "max_points": 10.0},
            {"gradebook_entry_identifier": 9002, "section_id": 501, "title": "Quiz", "due_date": date(2020, 1, 1),
             "max_points": -5.0},
        ],
    }


def _arrow(rows: list[dict], name: str, entity) -> pa.Table:
    frame = pd.DataFrame(rows)
    arrays = []
    for field in entity.fields:
        values = frame[field.name] if field.name in frame else pd.Series([None] * len(frame), dtype=object)
        if field.type.startswith("string"):
            arrays.append(pa.array(values.astype("string"), pa.string()))
        elif field.type in ("int", "bigint"):
            arrays.append(pa.array(pd.array(values, dtype="Int64"), pa.int64()))
        elif field.type.startswith("decimal"):
            arrays.append(pa.array(pd.array(values, dtype="Float64"), pa.float64()))
        elif field.type == "bool":
            arrays.append(pa.array(pd.array(values, dtype="boolean"), pa.bool_()))
        elif field.type == "date":
            arrays.append(pa.array(list(values), pa.date32()))
        else:
            arrays.append(pa.array(list(values), pa.timestamp("s")))
    school = frame["school_id"] if "school_id" in frame else pd.Series(["(none)"] * len(frame))
    lineage = {"_source_table": [SOURCE_TABLES.get(name, "sim.SIM_X")] * len(frame),
               "_source_key": [f"KEY={n}" for n in range(len(frame))], "_source_school": list(school)}
    names = list(entity.field_names) + list(lineage)
    return pa.Table.from_arrays(arrays + [pa.array(v, pa.string()) for v in lineage.values()], names=names)


def make_run(location, run_id: str = "r1", *, duplicate_student: bool = False, ssn_in_state_id: bool = False,
             quarantined_scale: int = 1, seconds: float = 2.5, every_legacy_table: bool = False) -> Staging:
    """A complete small run under ``location``: manifest, extract, unified, quarantine, merge, accounting, timings.

    Rows come from two legacy tables; with ``every_legacy_table`` the manifest and the accounting
    also name every other legacy table, with no row, as a real run's do (what reconcile reads).
    """
    schema = default_schema()
    staging = Staging(str(location), run_id)
    rows = entity_rows(duplicate_student, ssn_in_state_id)
    for name, entity_rows_ in rows.items():
        staging.write_arrow(f"unified/{name}/sim.SIM_X-00000.parquet", _arrow(entity_rows_, name, schema.entity(name)))
    extract = pd.DataFrame({"STUDENT_ID": pd.array([90817263, 90817264, 90817299], dtype="Int64"),
                            "LAST_NM": ["Zyxwvut", "Mnbvcxy", None]})
    staging.write_frame("extract/sim/SIM_STUDENT/part-00000.parquet", extract)
    tables = {"sim.SIM_STUDENT": {"rows": 3, "columns": ["STUDENT_ID", "LAST_NM"], "files": []},
              "sim.SIM_ENROLLMENT": {"rows": 2 + 2 * quarantined_scale, "columns": [], "files": []}}
    if every_legacy_table:
        for table in legacy.TABLES.values():
            if table.qualified not in tables:
                tables[table.qualified] = {"rows": 0, "columns": [], "files": []}
                staging.write_json(f"accounting/{table.qualified}.json", _no_rows(table))
    staging.write_json("manifest.json", {"tables": tables, "config_hash": "abc"})
    staging.write_frame("quarantine/sim.SIM_ENROLLMENT/00000.parquet", pd.DataFrame({
        "ENROLL_ID": ["7766554", FORMULA_VALUE] * quarantined_scale,
        "_reason": ["leave_before_entry", "invalid_grade_level"] * quarantined_scale,
        "_reason_column": ["LEAVE_DT", "GRADE_LVL_CD"] * quarantined_scale,
        "run_id": [run_id] * 2 * quarantined_scale, "_source_school": [SCHOOLS[0], SCHOOLS[1]] * quarantined_scale}))
    staging.write_frame("merge/sim.SIM_STUDENT/00000.parquet", pd.DataFrame({
        "system": ["sim"], "legacy_table": ["SIM_STUDENT"], "legacy_key": ["STUDENT_ID=90817299"],
        "survivor_key": ["90817263"], "_reason": ["duplicate_student"], "run_id": [run_id],
        "_source_school": ["(none)"]}))
    staging.write_json("accounting/sim.SIM_STUDENT.json", {
        "system": "sim", "table": "SIM_STUDENT", "rows_in": 3, "loaded": 2, "merged": 1, "quarantined": 0,
        "by_reason": {"duplicate_student": 1}, "quarantined_by_column": {}, "fixes": {"ssn_scrubbed:STATE_ID": 1},
        "rows_in_by_school": {"(none)": 3}, "by_school": {"(none)": {"loaded": 2, "merged": 1}},
        "primary_entity": "student"})
    staging.write_json("accounting/sim.SIM_ENROLLMENT.json", {
        "system": "sim", "table": "SIM_ENROLLMENT", "rows_in": 2 + 2 * quarantined_scale, "loaded": 2, "merged": 0,
        "quarantined": 2 * quarantined_scale,
        "by_reason": {"leave_before_entry": quarantined_scale, "invalid_grade_level": quarantined_scale},
        "quarantined_by_column": {"leave_before_entry:LEAVE_DT": quarantined_scale,
                                  "invalid_grade_level:GRADE_LVL_CD": quarantined_scale},
        "fixes": {}, "rows_in_by_school": {SCHOOLS[0]: 1 + quarantined_scale, SCHOOLS[1]: 1 + quarantined_scale},
        "by_school": {SCHOOLS[0]: {"loaded": 1, "quarantined": quarantined_scale},
                      SCHOOLS[1]: {"loaded": 1, "quarantined": quarantined_scale}},
        "primary_entity": "student_school_association"})
    for stage, spent in (("extract", seconds), ("transform_core", seconds * 2), ("load", seconds / 2)):
        staging.write_json(f"timings/{stage}.json", {"stage": stage, "seconds": spent})
    return staging


def _no_rows(table: legacy.Table) -> dict:
    """The accounting of a legacy table this sample has no row of; its rows would load as its first mapped entity."""
    from sis_migrate.mapping import default_mappings

    schema = default_schema()
    primary = next(name for name in default_mappings().table(table.system, table.name).targets
                   if not schema.entity(name).deduplicate)
    return {"system": table.system.value, "table": table.name, "rows_in": 0, "loaded": 0, "merged": 0,
            "quarantined": 0, "by_reason": {}, "quarantined_by_column": {}, "fixes": {}, "rows_in_by_school": {},
            "by_school": {}, "primary_entity": primary}


def written_text(root) -> dict[str, str]:
    """Every file under ``root`` decoded leniently: relative path -> text (Parquet too, as bytes decoded)."""
    from pathlib import Path

    root = Path(root)
    return {str(path.relative_to(root)): path.read_bytes().decode("utf-8", errors="replace")
            for path in root.rglob("*") if path.is_file()}


def load_target(staging: Staging, url: str) -> RunConfig:
    """Load the sample into a fresh target at ``url`` with the load stage itself; return the run's configuration.

    On PostgreSQL the run's tables are in the schema ``rehearsal_<run id>``, as in a real run.
    """
    from sis_migrate.stages.load import load

    cfg = RunConfig(run_label=staging.run_id, staging=staging.location, target=url)
    load(cfg, {})
    return cfg
