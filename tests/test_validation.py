"""Validation points on a hand-made run: severity, batching, SQL pushdown, and no value in any result."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from unified_sample import PERSONAL_VALUES, load_target, make_run, written_text

from sis_migrate.errors import ConfigurationError
from sis_migrate.stages.load import candidate_target
from sis_migrate.stages.validate.data_docs import build_data_docs
from sis_migrate.stages.validate.profile import profile_staged
from sis_migrate.stages.validate.results import gather_results, sanitize_result
from sis_migrate.stages.validate.suites import load_suites
from sis_migrate.stages.validate.target import validate_target
from sis_migrate.stages.validate.unified import validate_unified

# Rows the sample plants against the warning rules (see unified_sample.entity_rows).
PLANTED_WARNINGS = {("gradebook_entry", "value_range", "max_points"): 1,
                    ("gradebook_entry", "date_logic", "due_date"): 1,
                    ("student_school_association", "date_logic", "entry_date"): 1}


def _failures(summary: dict) -> dict[tuple[str, str, str], tuple[str, int]]:
    return {(f["entity"], f["check"], f["column"]): (f["severity"], f["unexpected_count"]) for f in summary["failures"]}


def test_clean_run_passes_and_warnings_do_not_fail_it(tmp_path):
    summary = validate_unified(make_run(tmp_path))
    assert summary["success"] is True and summary["blocking_failures"] == 0
    assert _failures(summary) == {key: ("warning", count) for key, count in PLANTED_WARNINGS.items()}
    assert summary["entities"]["student"] == {"rows": 2, "evaluated": len(load_suites()["student"][
        "expectations"]), "failed_blocking": 0, "failed_warning": 0}


def test_duplicate_natural_key_is_a_blocking_failure_listed_first(tmp_path):
    staging = make_run(tmp_path, duplicate_student=True)
    summary = validate_unified(staging)
    assert summary["success"] is False and summary["blocking_failures"] == 1
    first = summary["failures"][0]
    assert (first["entity"], first["check"], first["severity"]) == ("student", "natural_key_unique", "blocking")
    assert (first["unexpected_count"], first["element_count"]) == (2, 3)
    assert first["unexpected_percent"] == pytest.approx(200 / 3)
    stored = staging.read_json("validation/unified/student.json")
    assert stored["success"] is False and stored["suite_name"] == "unified.student"
    assert staging.read_json("validation/unified/summary.json") == summary


def test_batches_are_summed_and_uniqueness_is_counted_across_batches(tmp_path):
    staging = make_run(tmp_path, duplicate_student=True)
    whole = validate_unified(staging)
    one_row_batches = validate_unified(staging, batch_rows=1)
    assert _failures(one_row_batches) == _failures(whole)
    assert one_row_batches["entities"] == whole["entities"]


def test_parallel_parts_gathered_equal_one_whole_validation(tmp_path):
    staging = make_run(tmp_path, duplicate_student=True)
    whole = validate_unified(staging)
    staging.clear("validation")
    first = validate_unified(staging, entities=["student", "school"])
    assert set(first["entities"]) == {"student", "school"} and first["blocking_failures"] == 1
    assert not (staging.root / "validation/unified/summary.json").exists()  # a part never writes the run's summary
    validate_unified(staging, entities=[e for e in whole["entities"] if e not in ("student", "school")])
    assert gather_results(staging) == whole
    assert staging.read_json("validation/unified/summary.json") == whole
    with pytest.raises(ConfigurationError, match="no entity pupil"):
        validate_unified(staging, entities=["pupil"])


def test_ssn_typed_into_a_text_field_is_blocking(tmp_path):
    summary = validate_unified(make_run(tmp_path, ssn_in_state_id=True))
    assert _failures(summary)[("student", "tier2_ssn", "state_id")] == ("blocking", 1)


def test_an_extra_column_fails_the_tier1_column_check(tmp_path):
    import pyarrow as pa

    staging = make_run(tmp_path)
    path = staging.list("unified/student/")[0]
    table = staging.read_arrow(path)
    staging.write_arrow(path, table.append_column("birth_city", pa.array(["x"] * table.num_rows, pa.string())))
    summary = validate_unified(staging)
    assert _failures(summary)[("student", "tier1_columns_absent", None)][0] == "blocking"


def test_no_personal_value_in_results_profile_or_data_docs(tmp_path):
    staging = make_run(tmp_path, duplicate_student=True, ssn_in_state_id=True)
    profile_staged(staging)
    validate_unified(staging)
    index = build_data_docs(staging)
    assert index == f"{staging.uri}/report/data_docs/index.html"
    texts = written_text(staging.root)
    checked = {path: text for path, text in texts.items() if path.startswith(("validation/", "report/"))}
    assert any(path.startswith("report/data_docs/validations/") for path in checked)
    assert any(path.startswith("validation/profile/") for path in checked)
    leaks = [(path, value) for path, text in checked.items() for value in PERSONAL_VALUES if value in text]
    assert leaks == []


def test_sanitize_result_strips_every_value_carrier():
    raw = {"success": False, "results": [{
        "success": False,
        "expectation_config": {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "city"}, "meta": {}},
        "result": {"element_count": 4, "unexpected_count": 1, "unexpected_percent": 25.0,
                   "partial_unexpected_list": ["Zyxwvut"], "partial_unexpected_counts": [{"value": "Zyxwvut"}],
                   "partial_unexpected_index_list": [3], "unexpected_list": ["Zyxwvut"], "unexpected_index_list": [3],
                   "details": {"value_counts": ["Zyxwvut"]}, "observed_value": "Zyxwvut"},
        "meta": {}, "exception_info": {"m": {"raised_exception": True,
                                             "exception_message": "(sqlite3.OperationalError) near 'Zyxwvut'",
                                             "exception_traceback": "Traceback ... Zyxwvut"}}}],
        "meta": {"batch_markers": {"pandas_data_fingerprint": "abc", "ge_load_time": "t"}}}
    clean = sanitize_result(raw)
    assert "Zyxwvut" not in str(clean) and "abc" not in str(clean)
    assert clean["results"][0]["result"] == {"element_count": 4, "unexpected_count": 1, "unexpected_percent": 25.0}
    assert clean["results"][0]["exception_info"]["raised_exception"] is True
    assert "OperationalError" in clean["results"][0]["exception_info"]["exception_message"]


def test_profile_counts_rows_nulls_and_distinct_values(tmp_path):
    staging = make_run(tmp_path)
    summary = profile_staged(staging)
    assert summary["tables"]["sim.SIM_STUDENT"] == {"rows": 3, "manifest_rows": 3, "rows_match": True, "columns": 2}
    assert summary["tables"]["sim.SIM_ENROLLMENT"]["rows_match"] is False  # the manifest says rows, none staged
    profile = staging.read_json("validation/profile/sim.SIM_STUDENT.json")
    assert profile["columns"]["LAST_NM"] == {"null_share": pytest.approx(1 / 3, abs=1e-6), "distinct": 2}
    assert profile["columns"]["STUDENT_ID"] == {"null_share": 0.0, "distinct": 3}


def test_validate_target_on_sqlite_finds_what_pandas_finds(tmp_path):
    staging = make_run(tmp_path / "staging")
    unified = validate_unified(staging)
    url = candidate_target(load_target(staging, f"sqlite:///{tmp_path / 'target.sqlite'}")).url  # loaded aside
    summary = validate_target(url, None, staging)
    assert summary["success"] is True
    assert _failures(summary) == _failures(unified), "the SQL rules and their pandas twins agree"
    assert summary["entities"]["student_school_association"]["rows"] == 2

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE student SET sex_descriptor = 'Martian' WHERE student_unique_id = 90817264"))
        connection.execute(text("UPDATE gradebook_entry SET section_id = 999 WHERE gradebook_entry_identifier = 9001"))
    engine.dispose()
    broken = validate_target(url, None, staging)
    assert broken["success"] is False
    failures = _failures(broken)
    assert failures[("student", "code_set", "sex_descriptor")] == ("blocking", 1)
    assert failures[("gradebook_entry", "foreign_key", "section_id")] == ("blocking", 1)
    texts = written_text(staging.root / "validation" / "target")
    assert [(p, v) for p, t in texts.items() for v in PERSONAL_VALUES if v in t] == []


@pytest.mark.postgres
def test_validate_target_on_postgresql_runs_in_the_run_schema(tmp_path, pg_url):
    staging = make_run(tmp_path / "staging")
    unified = validate_unified(staging)
    run_schema = candidate_target(load_target(staging, pg_url)).schema
    summary = validate_target(pg_url, run_schema, staging)
    assert summary["success"] is True
    assert _failures(summary) == _failures(unified)
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {run_schema}.student SET state_id = :ssn WHERE student_unique_id = 90817263"),
                           {"ssn": "078-05-1120"})
        connection.execute(text(f"DELETE FROM {run_schema}.gradebook_entry WHERE gradebook_entry_identifier = 9002"))
    engine.dispose()
    broken = validate_target(pg_url, run_schema, staging)
    assert _failures(broken)[("student", "tier2_ssn", "state_id")] == ("blocking", 1)
    assert ("gradebook_entry", "date_logic", "due_date") not in _failures(broken)  # the late entry is gone
    assert broken["entities"]["gradebook_entry"]["rows"] == 1
    texts = written_text(staging.root / "validation" / "target")
    assert [(p, v) for p, t in texts.items() for v in PERSONAL_VALUES if v in t] == []
