"""The GX suites: generated from the unified schema, committed as JSON, and the two never drift apart."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sis_migrate.errors import ConfigurationError
from sis_migrate.mapping import DenyEntry, DenyList, default_deny_list, default_mappings
from sis_migrate.schema import LINEAGE, default_schema
from sis_migrate.stages.validate import suites
from transforms.scrub import ssn_shaped


def test_committed_suites_equal_what_the_generator_makes():
    generated = suites.build_suites()
    committed = sorted(path.stem for path in suites.EXPECTATIONS_DIR.glob("*.json"))
    assert committed == sorted(default_schema().entities), "one suite file per entity, no other"
    for name, suite in generated.items():
        text = (suites.EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert text == suites.suite_json(suite), (f"expectations/{name}.json is stale: "
                                                  "run python -m sis_migrate.stages.validate.suites")


def test_write_suites_writes_every_entity_and_removes_stale_files(tmp_path):
    (tmp_path / "retired_entity.json").write_text("{}", encoding="utf-8")
    written = suites.write_suites(tmp_path)
    assert sorted(path.stem for path in written) == sorted(default_schema().entities)
    assert not (tmp_path / "retired_entity.json").exists()
    assert suites.load_suites(tmp_path) == suites.build_suites()


def test_every_suite_loads_into_gx_and_every_expectation_has_a_severity():
    import great_expectations as gx

    for suite in suites.build_suites().values():
        gx_suite = gx.ExpectationSuite(**suite)
        assert len(gx_suite.expectations) == len(suite["expectations"])
        for expectation in suite["expectations"]:
            severity = expectation["meta"]["severity"]
            assert severity in (suites.BLOCKING, suites.WARNING)
            assert expectation["severity"] == suites.GX_SEVERITY[severity]


def _by_check(suite: dict, check: str) -> list[dict]:
    return [e for e in suite["expectations"] if e["meta"]["check"] == check]


def test_schema_rules_become_expectations():
    schema, mappings = default_schema(), default_mappings()
    generated = suites.build_suites()
    for name, entity in schema.entities.items():
        suite = generated[name]
        (unique,) = _by_check(suite, "natural_key_unique")
        if len(entity.natural_key) == 1:
            assert unique["type"] == "expect_column_values_to_be_unique"
            assert unique["kwargs"]["column"] == entity.natural_key[0]
        else:
            assert unique["type"] == "expect_compound_columns_to_be_unique"
            assert unique["kwargs"]["column_list"] == list(entity.natural_key)
        assert sorted(e["kwargs"]["column"] for e in _by_check(suite, "required")) == sorted(entity.required_fields)
        code_sets = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in _by_check(suite, "code_set")}
        assert code_sets == {field: list(mappings.crosswalks[code_set].code_values)
                             for field, code_set in entity.descriptor_fields.items()}
        (columns,) = _by_check(suite, "tier1_columns_absent")
        assert columns["kwargs"] == {"column_set": [*entity.field_names, *LINEAGE], "exact_match": True}
        foreign = [(e["meta"]["spec"]["parent"], e["meta"]["spec"]["fields"]) for e in _by_check(suite, "foreign_key")]
        assert foreign == [(fk.entity, list(fk.fields)) for fk in entity.foreign_keys]
        assert all(e["meta"]["severity"] == suites.BLOCKING
                   for check in ("natural_key_unique", "required", "code_set", "foreign_key", "tier2_ssn")
                   for e in _by_check(suite, check))
    student = generated["student"]
    ssn_columns = {e["kwargs"]["column"] for e in _by_check(student, "tier2_ssn")}
    assert {"state_id", "last_surname", "street_address"} <= ssn_columns
    assert "sex_descriptor" not in ssn_columns  # a code set is checked by its set, not by a pattern
    ranges = {e["kwargs"]["column"]: e["kwargs"] for e in _by_check(generated["student_assessment"], "value_range")}
    assert ranges["percentile"] == {"column": "percentile", "min_value": 1, "max_value": 99}
    assert {e["meta"]["spec"]["kind"] for e in _by_check(generated["student_school_association"], "date_logic")} == {
        "date_in_school_year", "age_for_grade"}
    assert _by_check(generated["gradebook_entry"], "date_logic")[0]["meta"]["spec"]["kind"] == \
        "date_in_parent_school_year"


def test_tier1_names_come_from_the_deny_list():
    names = suites.tier1_names(default_deny_list())
    assert {"SSN", "ssn", "medical_notes", "citizenship_status_cd", "citizenship_status", "birth_city"} <= set(names)
    committed = json.loads((suites.EXPECTATIONS_DIR / "student.json").read_text(encoding="utf-8"))
    assert _by_check(committed, "tier1_columns_absent")[0]["meta"]["tier1_names"] == names


def test_a_schema_field_named_like_a_tier1_column_stops_generation():
    deny_list = DenyList(denied=(*default_deny_list().denied, DenyEntry(
        system="sim", table="SIM_STUDENT", column="CITY", category="not_needed", reason="pretend the city is denied")))
    with pytest.raises(ConfigurationError, match=r"entity school has field.*city"):
        suites.build_suites(deny_list=deny_list)


def test_ssn_regex_finds_what_the_scrub_removes():
    values = ["123-45-6789", "id 123-45-6789 here", " 123456789 ", "123456789", "1234567890", "12-345-6789",
              "a123-45-6789", "123-45-67890", "60601-1234", "", "Zyxwvut"]
    shaped = ssn_shaped(pd.Series(values)).tolist()
    regex_hits = pd.Series(values).str.contains(suites.SSN_REGEX, regex=True).tolist()
    assert regex_hits == shaped
    assert shaped[:4] == [True, True, True, True] and not any(shaped[4:])
