"""The unified schema: its entities and keys, its strict loader, and the tables it builds on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import IntegrityError

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.schema import MAPPINGS_DIR, MERGE_TABLE, build_metadata, load_schema, quarantine_table_name

ENTITIES = {
    "school", "student", "contact", "student_contact_association", "student_school_association", "staff",
    "course", "local_course", "session", "course_offering", "section", "student_section_association",
    "staff_section_association", "gradebook_entry", "student_gradebook_entry", "grade",
    "student_section_attendance_event", "student_school_attendance_event", "discipline_incident",
    "discipline_action", "program", "student_program_association", "assessment", "student_assessment",
    "communication_consent", "residency_verification", "enrollment_verification", "descriptor",
}

# Field names the pipeline applies rules to, with the type the rules rely on.
RULE_FIELDS = {
    "student": {"student_unique_id": "bigint", "state_id": None, "last_surname": None, "first_name": None,
                "middle_name": None, "birth_date": "date"},
    "student_school_association": {"enroll_id": "bigint", "student_unique_id": "bigint", "school_id": None,
                                   "school_year": None, "entry_date": "date", "entry_grade_level_descriptor": None,
                                   "exit_withdraw_date": "date", "primary_school": "bool"},
    "contact": {"contact_unique_id": "bigint", "last_surname": None, "first_name": None, "mobile_phone": None},
    "communication_consent": {"consent_id": None, "student_unique_id": "bigint", "consent_type": None,
                              "activity": None, "school_year": None, "parent_signed_date": "date",
                              "principal_signed_date": "date", "revoked_date": "date"},
    "descriptor": {"namespace": None, "code_value": None, "description": None},
}


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def test_schema_has_every_entity(schema):
    assert set(schema.entities) == ENTITIES


def test_rule_fields_exist_with_their_types(schema):
    for entity_name, fields in RULE_FIELDS.items():
        entity = schema.entity(entity_name)
        for field_name, field_type in fields.items():
            assert field_name in entity.field_names, f"{entity_name}.{field_name}"
            if field_type:
                assert entity.field(field_name).type == field_type, f"{entity_name}.{field_name}"


def test_natural_keys_the_pipeline_relies_on(schema):
    assert schema.entity("student_school_association").natural_key == ("student_unique_id", "school_id", "entry_date")
    assert schema.entity("session").natural_key == ("school_id", "school_year", "term_descriptor")
    assert schema.entity("descriptor").natural_key == ("namespace", "code_value")
    assert schema.entity("local_course").field("course_code").nullable
    assert schema.entity("student_school_attendance_event").derived_from == "student_section_attendance_event"


def test_descriptor_fields_name_declared_code_sets(schema):
    used = {code_set for entity in schema.entities.values() for code_set in entity.descriptor_fields.values()}
    assert used <= set(schema.descriptors)
    assert schema.entity("student_school_association").descriptor_fields["entry_grade_level_descriptor"] == \
        "grade_level"
    assert "entry_grade_level_descriptor" in schema.entity("student_school_association").required_fields


def _copy_schema(tmp_path, old: str, new: str):
    path = tmp_path / "unified_schema.yaml"
    shutil.copy(MAPPINGS_DIR / "unified_schema.yaml", path)
    content = path.read_text()
    assert old in content
    start_line = content[:content.index(old)].count("\n") + 1
    path.write_text(content.replace(old, new, 1))
    return path, start_line  # the line where the replacement starts


def test_unknown_key_names_file_and_line(tmp_path):
    path, line = _copy_schema(tmp_path, "    natural_key: [school_id]\n",
                              "    natural_key: [school_id]\n    primary: yes\n")
    with pytest.raises(ConfigurationError, match=rf"{path}:{line + 1}: .*unknown key 'primary'"):
        load_schema(path)


def test_bad_type_names_file_and_line(tmp_path):
    path, line = _copy_schema(tmp_path, "{name: network_code, type: string(10)", "{name: network_code, type: varchar")
    with pytest.raises(ConfigurationError, match=rf"{path}:{line}: .*type 'varchar'"):
        load_schema(path)


def test_foreign_key_to_unknown_entity_names_file_and_line(tmp_path):
    path, line = _copy_schema(tmp_path, "- {entity: contact, fields: [contact_unique_id]}",
                              "- {entity: parent, fields: [contact_unique_id]}")
    with pytest.raises(ConfigurationError, match=rf"{path}:{line}: .*unknown entity 'parent'"):
        load_schema(path)


def test_nullable_natural_key_is_rejected(tmp_path):
    path, _ = _copy_schema(tmp_path, "{name: course_code, type: string(10), nullable: false}",
                           "{name: course_code, type: string(10), nullable: true}")
    with pytest.raises(ConfigurationError, match="natural key field 'course_code' must not be nullable"):
        load_schema(path)


def test_repeated_key_in_yaml_is_rejected(tmp_path):
    path, line = _copy_schema(tmp_path, "  school:\n    description: A school",
                              "  school:\n    description: once\n    description: A school")
    with pytest.raises(ConfigurationError, match=rf"{path}:{line + 2}: key 'description' is given twice"):
        load_schema(path)


def _check_created(engine, schema) -> None:
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    assert ENTITIES <= tables
    quarantine = {quarantine_table_name(t.system, t.name) for t in legacy.TABLES.values()}
    assert len(quarantine) == len(legacy.TABLES) and quarantine <= tables
    assert MERGE_TABLE in tables
    for name, entity in schema.entities.items():
        assert tuple(inspector.get_pk_constraint(name)["constrained_columns"]) == entity.natural_key, name
        nullable = {column["name"]: column["nullable"] for column in inspector.get_columns(name)}
        assert [f for f in entity.field_names if not nullable[f]] == list(entity.required_fields), name
        foreign = {(fk["referred_table"], tuple(fk["constrained_columns"])) for fk in inspector.get_foreign_keys(name)}
        assert foreign == {(fk.entity, fk.fields) for fk in entity.foreign_keys}, name
    score_quarantine = [c["name"] for c in inspector.get_columns(quarantine_table_name("gradebook", "Score"))]
    assert score_quarantine == ["AssignmentId", "StudentNumber", "_reason", "_reason_column", "run_id",
                                "_source_school"]


def test_metadata_creates_on_sqlite_and_enforces_keys(tmp_path, schema):
    engine = create_engine(f"sqlite:///{tmp_path / 'target.sqlite'}")
    event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))
    build_metadata(schema).create_all(engine)
    _check_created(engine, schema)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO school (school_id, name_of_institution) VALUES ('000001', 'One')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a second row with the same natural key
        conn.execute(text("INSERT INTO school (school_id, name_of_institution) VALUES ('000001', 'Again')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a session of a school that does not exist
        conn.execute(text("INSERT INTO session (school_id, school_year, term_descriptor) "
                          "VALUES ('999999', '2018-2019', 'Fall Semester')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # NOT NULL
        conn.execute(text("INSERT INTO school (school_id) VALUES ('000002')"))
    engine.dispose()


@pytest.mark.postgres
def test_metadata_creates_on_postgresql(pg_url, schema):
    engine = create_engine(pg_url)
    try:
        build_metadata(schema).create_all(engine)
        _check_created(engine, schema)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO student_school_association (student_unique_id, school_id, entry_date, "
                              "enroll_id, school_year, entry_grade_level_descriptor, primary_school) "
                              "VALUES (12345678, '000001', DATE '2018-09-04', 1, '2018-2019', 'Ninth grade', true)"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_metadata_creates_in_a_named_postgresql_schema(pg_url, schema):
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA run_a"))
        build_metadata(schema, schema_name="run_a").create_all(engine)
        assert ENTITIES <= set(inspect(engine).get_table_names(schema="run_a"))
        assert inspect(engine).get_foreign_keys("section", schema="run_a")[0]["referred_schema"] == "run_a"
    finally:
        engine.dispose()
