"""The migration report and the steward worklist, on hand-made runs (a folder and S3)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from unified_sample import FORMULA_VALUE, LEGACY_KEYS, PERSONAL_VALUES, SCHOOLS, load_target, make_run, written_text

from sis_migrate import storage
from sis_migrate.errors import ReconciliationError
from sis_migrate.stages.reconcile import reconcile
from sis_migrate.stages.report import migration_report as report
from sis_migrate.stages.validate.data_docs import build_data_docs
from sis_migrate.stages.validate.unified import validate_unified
from sis_migrate.storage import Staging


def _validated_run(location, run_id: str, **options) -> Staging:
    staging = make_run(location, run_id, **options)
    validate_unified(staging)
    return staging


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """An earlier rehearsal with more quarantines, then the current one with a blocking failure."""
    location = tmp_path_factory.mktemp("staging")
    earlier = _validated_run(location, "r0", quarantined_scale=3, seconds=5.0)
    report.write_report(earlier)
    current = _validated_run(location, "r1", duplicate_student=True)
    return earlier, current


def test_headline_tables_and_reasons_add_up_from_the_accounting(two_runs):
    _, current = two_runs
    written = report.write_report(current)
    assert written["html"] == f"{current.uri}/report/report.html"
    built = current.read_json("report/report.json")
    assert built["headline"] == written["headline"]
    head = built["headline"]
    assert (head["rows_in"], head["loaded"], head["merged"], head["quarantined"]) == (7, 4, 1, 2)
    assert head["quarantine_rate"] == pytest.approx(100 * 2 / 7, abs=1e-3)
    assert (head["blocking_failures"], head["warning_failures"], head["fixes"]) == (1, 3, 1)
    assert head["seconds"] == pytest.approx(2.5 + 5.0 + 1.25) and head["worklist_rows"] == 2
    assert {t["table"]: t["quarantined"] for t in built["tables"]} == {"sim.SIM_ENROLLMENT": 2, "sim.SIM_STUDENT": 0}
    reasons = {r["reason"]: (r["disposition"], r["count"]) for r in built["reasons"]}
    assert reasons == {"leave_before_entry": ("quarantine", 1), "invalid_grade_level": ("quarantine", 1),
                       "duplicate_student": ("merge", 1), "ssn_scrubbed": ("fix", 1)}
    assert [r["disposition"] for r in built["reasons"]] == ["quarantine", "quarantine", "merge", "fix"]
    schools = {s["school"]: s for s in built["schools"]}
    assert schools[SCHOOLS[0]]["quarantined"] == 1 and schools[SCHOOLS[0]]["rows_in"] == 2
    assert [s["quarantine_rate"] for s in built["schools"]] == sorted(
        (s["quarantine_rate"] for s in built["schools"]), reverse=True)
    assert built["validation"]["failures"][0]["severity"] == "blocking"
    entities = {e["entity"]: e["rows_unified"] for e in built["entities"]}
    assert entities["student"] == 3 and entities["gradebook_entry"] == 2
    assert built["disposition"]["totals"]["denied"] > 0
    assert {t["stage"] for t in built["timings"]} == {"extract", "transform_core", "load"}


def test_change_since_the_newest_other_rehearsal(two_runs):
    earlier, current = two_runs
    found = report.write_report(current)
    assert found["previous_run_id"] == "r0"
    change = current.read_json("report/report.json")["change"]
    assert change["headline"]["quarantined"] == {"current": 2, "previous": 6, "change": -4, "direction": "down"}
    assert change["headline"]["blocking_failures"]["direction"] == "up"
    assert change["reasons"]["leave_before_entry"]["change"] == -2
    assert change["quarantine_rate_by_table"]["sim.SIM_ENROLLMENT"]["direction"] == "down"
    explicit = report.build_report(current, previous_staging=earlier)
    assert explicit["change"]["previous_run_id"] == "r0"
    first = report.build_report(earlier, previous_staging=Staging(str(earlier.location), "never-ran"))
    assert first["change"] is None


def test_report_page_is_self_contained_and_holds_no_personal_value_or_legacy_key(two_runs):
    _, current = two_runs
    report.write_report(current)
    report.write_worklist(current)
    build_data_docs(current)
    html = (current.root / "report" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert re.findall(r"""(?:src|href)\s*=\s*["']?https?:""", html, flags=re.I) == []
    assert "<svg" in html and 'id="rows-in">7<' in html and 'id="blocking-failures">1<' in html
    texts = written_text(current.root)
    outputs = {p: t for p, t in texts.items() if p.startswith(("report/", "validation/"))}
    assert [(p, v) for p, t in outputs.items() for v in PERSONAL_VALUES if v in t] == []
    holding_keys = sorted({p for p, t in outputs.items() for key in LEGACY_KEYS if key in t})
    assert holding_keys == ["report/restricted/steward_worklist.csv"]


def test_entities_and_reconciliation_come_from_reconcile_json(tmp_path):
    from sqlalchemy import text

    from sis_migrate.stages.load import candidate_target

    staging = _validated_run(tmp_path / "staging", "r1", every_legacy_table=True)
    cfg = load_target(staging, f"sqlite:///{tmp_path / 'target.sqlite'}")
    reconcile(cfg, {})
    built = report.build_report(staging)
    assert built["reconciliation"] == {"balanced": True, "unreconciled_entities": [], "mismatches": []}
    entities = {e["entity"]: e for e in built["entities"]}
    assert entities["student_school_association"] == {"entity": "student_school_association", "rows_unified": 2,
                                                      "rows_target": 2, "checksum_match": True}
    assert "Reconciled: every legacy row" in report.render_html(built)

    engine = candidate_target(cfg).engine()  # reconcile checks what the run loaded, before it is published
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM gradebook_entry WHERE gradebook_entry_identifier = 9002"))
    engine.dispose()
    with pytest.raises(ReconciliationError):
        reconcile(cfg, {})
    built = report.build_report(staging)
    assert built["reconciliation"]["unreconciled_entities"] == ["gradebook_entry"]
    assert {e["entity"]: e["checksum_match"] for e in built["entities"]}["gradebook_entry"] is False
    page = report.render_html(built)
    assert "Not reconciled" in page and "gradebook_entry school (none): 2 rows in the unified data" in page
    assert [v for v in PERSONAL_VALUES if v in page] == []


def test_worklist_is_restricted_and_neutralises_formulas(two_runs):
    _, current = two_runs
    location = report.write_worklist(current)
    assert location == f"{current.uri}/report/restricted/steward_worklist.csv"
    text = current.read_bytes("report/restricted/steward_worklist.csv").decode("utf-8")
    first, rest = text.split("\n", 1)
    assert first.startswith("# RESTRICTED")
    rows = list(csv.DictReader(io.StringIO(rest)))
    assert [(r["legacy_table"], r["key_columns"], r["key_values"], r["reason"], r["column_at_fault"], r["school"])
            for r in rows] == [
        ("SIM_ENROLLMENT", "ENROLL_ID", "7766554", "leave_before_entry", "LEAVE_DT", SCHOOLS[0]),
        ("SIM_ENROLLMENT", "ENROLL_ID", "'" + FORMULA_VALUE, "invalid_grade_level", "GRADE_LVL_CD", SCHOOLS[1])]


def test_planted_anomalies_are_compared_with_what_the_report_shows(two_runs):
    _, current = two_runs
    built = report.build_report(current)
    truth = {"anomalies": [
        {"code": "leave_before_entry", "system": "sim", "table": "SIM_ENROLLMENT", "column": "LEAVE_DT", "count": 1},
        {"code": "duplicate_student", "system": "sim", "table": "SIM_STUDENT", "column": None, "count": 1},
        {"code": "ssn_scrubbed", "system": "sim", "table": "SIM_STUDENT", "column": "STATE_ID", "count": 1}],
        "consequences": {"invalid_grade_level": {"sim.SIM_ENROLLMENT": 1}}}
    assert report.planted_mismatches(built, truth) == []
    truth["anomalies"][0]["count"] = 3
    truth["consequences"]["depends_on_quarantined"] = {"gradebook.Score": 5}
    assert report.planted_mismatches(built, truth) == [
        "depends_on_quarantined in gradebook.Score: planted 5, reported 0",
        "leave_before_entry in sim.SIM_ENROLLMENT: planted 3, reported 1"]


@pytest.mark.parametrize("value, expected", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1+1", "'+1+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("S12345678", "S12345678"), ("", ""), (None, ""), (12, "12")])
def test_neutralise(value, expected):
    assert report.neutralise(value) == expected


def test_report_worklist_and_data_docs_on_s3(s3_bucket, tmp_path, monkeypatch, s3_call_spy):
    asked = []
    monkeypatch.setattr(storage, "s3_client", s3_call_spy("PutObject", "ServerSideEncryption", asked))
    location = f"s3://{s3_bucket}/rehearsals"
    earlier = make_run(location, "r0", quarantined_scale=2)
    report.write_report(earlier)
    current = make_run(location, "r1")
    validate_unified(current)
    written = report.write_report(current)
    assert written["previous_run_id"] == "r0" and written["headline"]["rows_in"] == 7
    assert report.write_worklist(current) == f"s3://{s3_bucket}/rehearsals/r1/report/restricted/steward_worklist.csv"
    assert build_data_docs(current) == f"s3://{s3_bucket}/rehearsals/r1/report/data_docs/index.html"
    assert "report/data_docs/index.html" in current.list("report/data_docs/")
    page = current.read_bytes("report/report.html").decode("utf-8")
    assert [v for v in PERSONAL_VALUES if v in page] == []
    # every file went through the project's client (at least one put each), and every put asked for SSE
    assert len(asked) >= len(current.list()) + len(earlier.list()) and set(asked) == {"AES256"}
