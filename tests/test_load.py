"""Load: fresh target per run, dependency order, foreign keys enforced, a rerun replaces."""

import pyarrow as pa
import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, inspect, text

from sis_migrate.errors import ConfigurationError
from sis_migrate.stages.load import Target, load_tables, publish_target, published_attempt, schema_name


def _metadata() -> MetaData:
    metadata = MetaData()
    Table("school", metadata, Column("school_id", String(6), primary_key=True), Column("name", String(80)))
    Table("student_school", metadata,
          Column("student_id", Integer, primary_key=True),
          Column("school_id", String(6), ForeignKey("school.school_id"), nullable=False))
    return metadata


def _parts(schools, links):
    return {
        # given child first on purpose: load order comes from the foreign keys, not from this dict
        "student_school": [pa.table({"student_id": [s for s, _ in links], "school_id": [k for _, k in links]})],
        "school": [pa.table({"school_id": schools, "name": [f"School {s}" for s in schools]})],
    }


def _count(target: Target, table: str) -> int:
    engine = target.engine()
    with engine.connect() as conn:
        qualified = f'"{target.schema}".{table}' if target.schema else table
        return conn.execute(text(f"SELECT count(*) FROM {qualified}")).scalar_one()


def _check_target(target: Target) -> None:
    loaded = load_tables(target, _metadata(), _parts(["000101", "000102"], [(1, "000101"), (2, "000102")]))
    assert loaded == {"school": 2, "student_school": 2}
    assert _count(target.as_candidate(), "student_school") == 2  # loaded aside, not yet visible
    assert published_attempt(target) is None
    assert publish_target(target, "attempt-1") is True
    assert _count(target, "student_school") == 2 and published_attempt(target) == "attempt-1"
    assert publish_target(target, "attempt-1") is False  # a publish retried after its swap does nothing
    # the same run again replaces its own results instead of adding to them, once published
    load_tables(target, _metadata(), _parts(["000101"], [(1, "000101"), (3, "000101")]))
    assert _count(target, "school") == 2  # the previous publication stays visible until the swap
    publish_target(target, "attempt-2")
    assert _count(target, "school") == 1
    assert _count(target, "student_school") == 2
    # a child row whose parent is missing is refused, and the previous complete load stays
    with pytest.raises(ConfigurationError, match="student_school"):
        load_tables(target, _metadata(), _parts(["000101"], [(1, "000999")]))
    assert _count(target, "student_school") == 2 and published_attempt(target) == "attempt-2"
    with pytest.raises(ConfigurationError, match="no candidate"):
        publish_target(target, "attempt-3")


def test_sqlite_target(tmp_path):
    _check_target(Target(f"sqlite:///{tmp_path / 'target.sqlite'}", "run-1"))


@pytest.mark.postgres
def test_postgres_target_gets_its_own_schema(pg_url):
    target = Target(pg_url, "Run-1")
    assert target.schema == schema_name("Run-1") == "rehearsal_run_1"
    _check_target(target)
    engine = create_engine(pg_url)
    schemas = inspect(engine).get_schema_names()
    engine.dispose()
    assert "rehearsal_run_1" in schemas and "rehearsal_run_1__loading" not in schemas
