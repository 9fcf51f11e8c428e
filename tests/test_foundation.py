"""The shared contracts: the legacy data dictionary and the reason codes."""

from sis_migrate import legacy
from sis_migrate.legacy import System
from transforms.reasons import REASONS, Disposition


def test_every_system_has_its_tables_in_its_naming_convention():
    assert [t.name for t in legacy.tables_of(System.SIM)] == [
        "SIM_SCHOOL", "SIM_STUDENT", "SIM_GUARDIAN", "SIM_ENROLLMENT", "SIM_INCIDENT"]
    assert all(t.name[0].isupper() and "_" not in t.name for t in legacy.tables_of(System.GRADEBOOK))
    assert all(t.name.startswith("cim_") for t in legacy.tables_of(System.CIM))
    assert all(t.name.startswith("verify_") for t in legacy.tables_of(System.VERIFY))
    assert len(legacy.TABLES) == 21


def test_types_parse_with_their_arguments():
    student = legacy.table("sim", "SIM_STUDENT")
    assert student.column("STUDENT_ID").base_type == "NUMERIC"
    assert student.column("STUDENT_ID").type_args == (8,)
    assert legacy.table("sim", "SIM_INCIDENT").column("DAYS_SUSPENDED").type_args == (4, 1)
    assert student.column("MEDICAL_NOTES").type_args == (2000,)
    assert len(student.columns) == 32


def test_keys_name_real_columns():
    for table in legacy.TABLES.values():
        assert set(table.key) <= set(table.column_names), table.name


def test_reason_codes_have_a_disposition_and_text():
    assert REASONS["duplicate_student"].disposition is Disposition.MERGE
    assert REASONS["unknown_student"].disposition is Disposition.QUARANTINE
    assert all(r.description for r in REASONS.values())
