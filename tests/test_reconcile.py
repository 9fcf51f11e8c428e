"""Reconcile on a hand-made run loaded by the load stage, on SQLite and on PostgreSQL (and from S3 staging).

Every legacy row accounted for, per table and school; and per entity and school, the target's
rows and natural-key checksum equal to the unified Parquet's, computed by the same SQL in the
target and in DuckDB. A changed key, a deleted row and an extra row are each caught, named by
entity and school, with counts and never a key or a value.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from unified_sample import PERSONAL_VALUES, SCHOOLS, load_target, make_run

from sis_migrate import legacy
from sis_migrate.errors import DataError, ReconciliationError
from sis_migrate.stages.load import candidate_target
from sis_migrate.stages.reconcile import _read_only_engine, reconcile

SAMPLE_ENTITIES = 9  # the entities the sample has rows of (unified_sample.entity_rows)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.sqlite'}"
    return request.getfixturevalue("pg_url")


def _loaded(location, url: str):
    return load_target(make_run(location, every_legacy_table=True), url)


def _change(cfg, statement: str, **bind) -> None:
    """Change the loaded target behind the pipeline's back, as a faulty load or a stray writer would."""
    target = candidate_target(cfg)
    engine = create_engine(target.url)
    prefix = f"{target.schema}." if target.schema else ""
    with engine.begin() as connection:
        connection.execute(text(statement.format(prefix=prefix)), bind)
    engine.dispose()


def test_the_loaded_sample_reconciles(tmp_path, target_url):
    cfg = _loaded(tmp_path / "staging", target_url)
    assert reconcile(cfg, {}) == {"balanced": True, "tables": len(legacy.TABLES), "rows_in": 7,
                                  "entities_reconciled": SAMPLE_ENTITIES}
    written = cfg.staging_area().read_json("reconcile.json")
    assert (written["balanced"], written["mismatches"], written["unreconciled_entities"]) == (True, [], [])
    assert written["tables"]["sim.SIM_ENROLLMENT"] == {"rows_in": 4, "loaded": 2, "merged": 0, "quarantined": 2}
    assert written["tables"]["sim.SIM_STUDENT"] == {"rows_in": 3, "loaded": 2, "merged": 1, "quarantined": 0}
    enrollments = written["entities"]["student_school_association"]
    assert enrollments["by_school"] == {school: {"unified": 1, "target": 1, "checksum_match": True}
                                        for school in SCHOOLS}
    assert (enrollments["rows_unified"], enrollments["rows_target"], enrollments["schools_mismatched"]) == (2, 2, [])
    # an entity with no school field of its own is grouped by the school of the legacy row
    assert written["entities"]["student"]["by_school"] == {"(none)": {"unified": 2, "target": 2,
                                                                      "checksum_match": True}}


CHANGES = {
    "changed key": (
        "UPDATE {prefix}student_school_association SET entry_date = '2018-09-05' WHERE school_id = :school",
        {"school": SCHOOLS[0]},
        [f"student_school_association school {SCHOOLS[0]}: 1 rows on both sides, but not the same natural keys "
         "(their checksums differ)"]),
    "deleted row": (
        "DELETE FROM {prefix}student_school_association WHERE school_id = :school",
        {"school": SCHOOLS[1]},
        ["sim.SIM_ENROLLMENT: 4 rows in, 3 accounted for (loaded 1 + merged 0 + quarantined 2; difference +1)",
         f"sim.SIM_ENROLLMENT school {SCHOOLS[1]}: 2 rows in, 1 accounted for (difference +1)",
         f"student_school_association school {SCHOOLS[1]}: 1 rows in the unified data, 0 in the target "
         "(difference -1)"]),
    "extra row": (
        "INSERT INTO {prefix}gradebook_entry (gradebook_entry_identifier, section_id, title, max_points, "
        "_source_table, _source_key, _source_school) VALUES (9003, 501, 'Extra', 1.0, 'sim.SIM_X', 'KEY=9', :school)",
        {"school": SCHOOLS[0]},
        [f"gradebook_entry school {SCHOOLS[0]}: 0 rows in the unified data, 1 in the target (difference +1)"]),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_target_that_differs_from_the_unified_data_fails_naming_entity_and_school(tmp_path, target_url, change):
    cfg = _loaded(tmp_path / "staging", target_url)
    statement, bind, expected = CHANGES[change]
    _change(cfg, statement, **bind)
    with pytest.raises(ReconciliationError) as raised:
        reconcile(cfg, {})
    assert isinstance(raised.value, DataError)
    written = cfg.staging_area().read_json("reconcile.json")
    assert written["balanced"] is False and written["mismatches"] == expected
    entity = expected[-1].split(" ", 1)[0]
    assert written["unreconciled_entities"] == [entity]
    message = str(raised.value)
    assert all(line in message for line in expected)
    values = (*PERSONAL_VALUES, "2018-09-05", "2018-09-04", "9003", "Extra")  # keys and values of the sample
    assert [value for value in values if value in message] == []


def test_the_target_is_read_only_while_reconciling(tmp_path, target_url):
    from sqlalchemy.exc import DBAPIError

    cfg = _loaded(tmp_path / "staging", target_url)
    target = candidate_target(cfg)
    engine = _read_only_engine(target)
    prefix = f"{target.schema}." if target.schema else ""
    with pytest.raises(DBAPIError, match="read-only|readonly"), engine.begin() as connection:
        connection.execute(text(f"DELETE FROM {prefix}gradebook_entry"))
    engine.dispose()


def test_s3_staging_is_read_through_staging_and_reconciles(s3_bucket, tmp_path):
    cfg = _loaded(f"s3://{s3_bucket}/rehearsals", f"sqlite:///{tmp_path / 'target.sqlite'}")
    assert reconcile(cfg, {})["balanced"] is True
    written = cfg.staging_area().read_json("reconcile.json")
    assert written["entities"]["gradebook_entry"]["by_school"] == {"(none)": {"unified": 2, "target": 2,
                                                                              "checksum_match": True}}
    _change(cfg, "DELETE FROM gradebook_entry WHERE gradebook_entry_identifier = 9002")
    with pytest.raises(ReconciliationError, match=r"gradebook_entry school \(none\): 2 rows in the unified data, "
                                                  r"1 in the target \(difference -1\)"):
        reconcile(cfg, {})
