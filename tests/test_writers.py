"""Legacy DDL and the district writers against SQLite, PostgreSQL, MariaDB, a folder and S3 (moto).

Frames are built here from the legacy catalog with the generator's dtypes (docs/CONTRACTS.md)
and awkward values (quotes, commas, pipes, line breaks, accents, empty strings, NULLs, the
9999-12-31 sentinel), so the writers are tested independently of the generator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from sis_migrate import legacy, storage
from sis_migrate.errors import ConfigurationError, RowDataError, SourceError
from sis_migrate.legacy import RELATIONAL_SYSTEMS, System
from sis_migrate.locations import LegacyLocations, sqlite_url
from sis_migrate.sources.verify import list_exports, read_export, read_verify_file
from synthetic.ddl import system_metadata
from synthetic.writers import write_district

AWKWARD_TEXT = ["plain", 'O\'Brien, "Jr"', "a|b", "line1\r\nline2", "Zoë Núñez", "", None, "back\\slash", "NULL"]
EXPORT_DAY = date(2019, 3, 29)


@dataclass
class Chunk:
    table: legacy.Table
    frame: pd.DataFrame
    export_day: date | None = None


def sample_frame(table: legacy.Table, rows: int, start: int = 0) -> pd.DataFrame:
    """Rows for any catalog table in the generator's dtypes, cycling through awkward values."""
    index = np.arange(start, start + rows)
    data = {}
    for column in table.columns:
        base = column.base_type
        if base in ("DATE", "YYYYMMDD", "TIMESTAMP", "DATETIME"):
            first = np.datetime64("2018-09-04T07:30:05" if base in ("TIMESTAMP", "DATETIME") else "2018-09-04", "s")
            series = pd.Series(first + (index * 86400).astype("timedelta64[s]"), dtype="datetime64[s]")
            series[index % 7 == 3] = pd.NaT
            series[index % 11 == 5] = np.datetime64("9999-12-31", "s")
        elif base in ("INT", "INTEGER", "SMALLINT") or (base == "NUMERIC" and len(column.type_args) == 1):
            series = pd.Series(pd.array(index + 1, dtype="Int64"))
            series[index % 5 == 4] = pd.NA
        elif base in ("NUMERIC", "DECIMAL"):
            series = pd.Series((index % 9) + 0.5, dtype="float64")  # exact at every scale of the catalog
            series[index % 6 == 2] = np.nan
        elif base in ("BIT", "BOOLEAN"):
            series = pd.Series(pd.array(index % 2 == 0, dtype="boolean"))
            series[index % 5 == 1] = pd.NA
        else:
            width = column.type_args[0] if column.type_args else 200
            values = [AWKWARD_TEXT[i % len(AWKWARD_TEXT)] for i in index]
            series = pd.Series([v if v is None else v[:width] for v in values], dtype=object)
        data[column.name] = series
    return pd.DataFrame(data, columns=list(table.column_names))


def sample_chunks(rows: int = 12, tables=None):
    """Two chunks per table, interleaved across tables as the generator may interleave them."""
    tables = tables or list(legacy.TABLES.values())
    for start in (0, rows):
        for table in tables:
            day = EXPORT_DAY if table.system is System.VERIFY else None
            yield Chunk(table, sample_frame(table, rows, start), day)


def embedded(tmp_path: Path) -> LegacyLocations:
    return LegacyLocations.embedded_default(tmp_path / "legacy")


# --- DDL -------------------------------------------------------------------------------------------

def _expected_family(column: legacy.Column, dialect: str):
    """(SQLAlchemy type class the reflected type must be, attributes it must carry)."""
    base, args = column.base_type, column.type_args
    if base == "CHAR":
        return sa.CHAR, {"length": args[0]}
    if base == "VARCHAR":
        return sa.String, {"length": args[0]}
    if base in ("NUMERIC", "DECIMAL"):
        return sa.Numeric, {"precision": args[0], "scale": (args + (0,))[1]}
    if base in ("INT", "INTEGER"):
        return sa.Integer, {}
    if base == "SMALLINT":
        return sa.SmallInteger, {}
    if base == "DATE":
        return sa.Date, {}
    if base in ("TIMESTAMP", "DATETIME"):
        return sa.DateTime, {}
    if base == "BIT" and dialect == "mysql":
        return mysql.BIT, {"length": 1}
    if base in ("BIT", "BOOLEAN") and dialect == "mysql":
        return mysql.TINYINT, {"display_width": 1}  # MariaDB's BOOLEAN is TINYINT(1)
    return sa.Boolean, {}


def _check_catalog_reflected(engine: sa.Engine) -> None:
    dialect = engine.dialect.name
    inspector = sa.inspect(engine)
    for system in RELATIONAL_SYSTEMS:
        for table in legacy.tables_of(system):
            reflected = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
            assert list(reflected) == list(table.column_names), table.name
            for column in table.columns:
                family, attributes = _expected_family(column, dialect)
                found = reflected[column.name]
                assert isinstance(found, family), (table.name, column.name, found)
                for attribute, value in attributes.items():
                    assert getattr(found, attribute) == value, (table.name, column.name, attribute, found)


def _create_all_systems(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    for system in RELATIONAL_SYSTEMS:
        system_metadata(system).create_all(engine)
    return engine


def test_every_table_and_column_exists_with_its_type_in_sqlite(tmp_path):
    engine = _create_all_systems(sqlite_url(tmp_path / "all.sqlite"))
    _check_catalog_reflected(engine)
    engine.dispose()


@pytest.mark.postgres
def test_every_table_and_column_exists_with_its_type_and_case_in_postgresql(pg_url):
    engine = _create_all_systems(pg_url)
    _check_catalog_reflected(engine)
    with engine.connect() as conn:  # PascalCase and UPPER_SNAKE survived: they were quoted, not folded
        names = set(conn.execute(sa.text("SELECT table_name FROM information_schema.tables")).scalars())
    assert {"Teacher", "ClassAttendance", "SIM_STUDENT", "cim_course"} <= names
    assert "teacher" not in names
    engine.dispose()


@pytest.mark.mariadb
def test_every_table_and_column_exists_with_its_type_in_mariadb(mariadb_url):
    engine = _create_all_systems(mariadb_url)
    _check_catalog_reflected(engine)
    engine.dispose()


def test_verify_has_no_sql_tables():
    with pytest.raises(ValueError, match="files"):
        system_metadata(System.VERIFY)


# --- what comes back is what was written -------------------------------------------------------------

def _expected_value(value, column: legacy.Column):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if column.base_type == "DATE" else value.to_pydatetime()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    return value


def _read_value(value, column: legacy.Column):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if column.base_type in ("BIT", "BOOLEAN"):
        return bool(value)
    if column.base_type == "CHAR":
        return value.rstrip(" ")  # CHAR(n) pads on the way out
    if isinstance(value, datetime) and column.base_type == "DATE":
        return value.date()
    if isinstance(value, str) and column.base_type in ("TIMESTAMP", "DATETIME"):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and column.base_type == "DATE":
        return date.fromisoformat(value)
    return value


def _rows_written(table: legacy.Table, rows: int) -> list[tuple]:
    frame = pd.concat([sample_frame(table, rows, 0), sample_frame(table, rows, rows)], ignore_index=True)
    expected = []
    for row in frame.astype(object).itertuples(index=False, name=None):
        values = [_expected_value(value, column) for value, column in zip(row, table.columns, strict=True)]
        expected.append(tuple(_read_value(value, column) if isinstance(value, str) else value
                              for value, column in zip(values, table.columns, strict=True)))
    return sorted(expected, key=repr)


def _check_round_trip(locations: LegacyLocations, rows: int) -> None:
    """Every relational table holds exactly the rows written; every Verify file reads back."""
    for system in RELATIONAL_SYSTEMS:
        engine = sa.create_engine(locations.url(system))
        metadata = system_metadata(system)
        for table in legacy.tables_of(system):
            with engine.connect() as conn:
                stored = conn.execute(sa.select(metadata.tables[table.name])).all()
            found = sorted((tuple(_read_value(value, column) for value, column in zip(row, table.columns, strict=True))
                            for row in stored), key=repr)
            assert found == _rows_written(table, rows), (system, table.name)
        engine.dispose()
    exports = list_exports(locations.verify)
    for table in legacy.tables_of(System.VERIFY):
        assert [export.day for export in exports[table.name]] == [EXPORT_DAY]
        back = read_verify_file(read_export(exports[table.name][0]), table)
        frame = pd.concat([sample_frame(table, rows, 0), sample_frame(table, rows, rows)], ignore_index=True)
        text_columns = [c.name for c in table.columns if c.base_type == "TEXT"]
        assert back[text_columns].values.tolist() == frame[text_columns].replace({"": None}).values.tolist()


def test_district_into_the_embedded_default_reads_back_exactly(tmp_path):
    locations = embedded(tmp_path)
    rows = write_district(sample_chunks(12), locations)
    assert rows == {f"{t.system.value}.{t.name}": 24 for t in legacy.TABLES.values()}
    _check_round_trip(locations, 12)


@pytest.mark.postgres
@pytest.mark.mariadb
def test_district_into_postgresql_mariadb_and_a_folder_reads_back_exactly(tmp_path, pg_url_factory, mariadb_url):
    sim_cim = pg_url_factory()
    locations = LegacyLocations(sim=sim_cim, gradebook=mariadb_url, cim=sim_cim, verify=str(tmp_path / "verify"))
    rows = write_district(sample_chunks(12), locations)
    assert sum(rows.values()) == 24 * len(legacy.TABLES)
    _check_round_trip(locations, 12)


def test_every_relational_table_is_created_even_without_rows(tmp_path):
    locations = embedded(tmp_path)
    only_students = [c for c in sample_chunks(3) if c.table.name == "SIM_STUDENT"]
    assert write_district(only_students, locations) == {"sim.SIM_STUDENT": 6}
    for system in RELATIONAL_SYSTEMS:
        names = sa.inspect(sa.create_engine(locations.url(system))).get_table_names()
        assert sorted(names) == sorted(t.name for t in legacy.tables_of(system))


def test_a_verify_table_in_several_chunks_and_days_makes_one_file_per_day(tmp_path):
    table = legacy.table("verify", "verify_consent")
    older = date(2019, 3, 28)
    chunks = [Chunk(table, sample_frame(table, 5, 0), older), Chunk(table, sample_frame(table, 7, 0), EXPORT_DAY),
              Chunk(table, sample_frame(table, 7, 7), EXPORT_DAY)]
    write_district(chunks, embedded(tmp_path))
    folder = tmp_path / "legacy" / "verify"
    assert sorted(p.name for p in folder.iterdir()) == ["verify_consent_20190328.txt", "verify_consent_20190329.txt"]
    newest = (folder / "verify_consent_20190329.txt").read_bytes()
    assert newest.count(b"consent_id|stu_key") == 1
    assert len(read_verify_file(newest, table)) == 14


def test_a_non_empty_target_stops_before_writing_and_replace_overwrites(tmp_path):
    locations = embedded(tmp_path)
    write_district(sample_chunks(4), locations)
    with pytest.raises(ConfigurationError) as caught:
        write_district(sample_chunks(6), locations)
    message = str(caught.value)
    assert "--replace" in message
    assert locations.sim in message and locations.verify in message
    _check_round_trip(locations, 4)  # untouched

    write_district(sample_chunks(6), locations, replace=True)
    _check_round_trip(locations, 6)


@pytest.mark.postgres
def test_a_non_empty_server_names_the_location_without_its_password(tmp_path, pg_url):
    with_password = sa.engine.make_url(pg_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    locations = LegacyLocations(sim=with_password, gradebook=sqlite_url(tmp_path / "gb.sqlite"),
                                cim=sqlite_url(tmp_path / "cim.sqlite"), verify=str(tmp_path / "verify"))
    write_district(sample_chunks(3), locations)
    with pytest.raises(ConfigurationError) as caught:
        write_district(sample_chunks(3), locations)
    assert "s3cret-pw" not in str(caught.value)
    assert "***" in str(caught.value) and "SIM_SCHOOL" in str(caught.value)
    assert write_district(sample_chunks(5), locations, replace=True)["sim.SIM_STUDENT"] == 10


def test_an_unreachable_server_is_a_one_line_source_error(tmp_path):
    locations = LegacyLocations.from_options(tmp_path / "legacy", sim="postgresql+psycopg://root:pw@127.0.0.1:9/sim")
    with pytest.raises(SourceError) as caught:
        write_district(sample_chunks(2), locations)
    assert "127.0.0.1:9" in str(caught.value) and "pw@" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_value_outside_latin1_in_a_verify_chunk_is_a_row_data_error(tmp_path):
    table = legacy.table("verify", "verify_enrollment_check")
    frame = sample_frame(table, 4)
    frame.loc[2, "notes"] = "\u6e05 unencodable"
    with pytest.raises(RowDataError) as caught:
        write_district([Chunk(table, frame, EXPORT_DAY)], embedded(tmp_path))
    assert caught.value.column == "notes" and "unencodable" not in str(caught.value)
    assert caught.value.row == "frame row 2"  # its position in the chunk, never its key


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_identical_input_gives_byte_identical_files_sqlite_included(tmp_path):
    write_district(sample_chunks(10), embedded(tmp_path / "a"))
    write_district(sample_chunks(10), embedded(tmp_path / "b"))
    first, second = _digests(tmp_path / "a" / "legacy"), _digests(tmp_path / "b" / "legacy")
    assert sorted(first) == ["cim.sqlite", "gradebook.sqlite", "sim.sqlite", "verify/verify_consent_20190329.txt",
                             "verify/verify_enrollment_check_20190329.txt", "verify/verify_residency_20190329.txt"]
    assert first == second
    write_district(sample_chunks(10), embedded(tmp_path / "a"), replace=True)  # a replaced file is fresh again
    assert _digests(tmp_path / "a" / "legacy") == second
    write_district(sample_chunks(11), embedded(tmp_path / "c"))
    assert _digests(tmp_path / "c" / "legacy")["sim.sqlite"] != first["sim.sqlite"]


def test_verify_to_s3_asks_for_server_side_encryption_on_every_put(tmp_path, s3_bucket, monkeypatch, s3_call_spy):
    asked = []
    monkeypatch.setattr(storage, "s3_client", s3_call_spy("PutObject", "ServerSideEncryption", asked))
    locations = LegacyLocations.from_options(tmp_path / "legacy", verify=f"s3://{s3_bucket}/verify/nightly")
    write_district(sample_chunks(8), locations)

    client = boto3.client("s3")
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == [f"verify/nightly/{t.name}_20190329.txt" for t in sorted(legacy.tables_of("verify"),
                                                                           key=lambda t: t.name)]
    assert asked == ["AES256"] * 3
    for key in keys:
        assert client.head_object(Bucket=s3_bucket, Key=key)["ServerSideEncryption"] == "AES256"
    _check_round_trip(locations, 8)

    with pytest.raises(ConfigurationError, match="--replace"):
        write_district(sample_chunks(8), locations)
    write_district(sample_chunks(5), locations, replace=True)
    _check_round_trip(locations, 5)
    assert asked == ["AES256"] * 6


def test_an_unreachable_bucket_is_a_one_line_source_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    locations = LegacyLocations.from_options(tmp_path / "legacy", verify="s3://unreachable/verify")
    with pytest.raises(SourceError, match="s3://unreachable/verify"):
        write_district(sample_chunks(2), locations)


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_value_the_server_refuses_is_a_row_data_error_without_the_value(tmp_path, pg_url, mariadb_url):
    teacher = legacy.table("gradebook", "Teacher")
    frame = sample_frame(teacher, 4)
    frame.loc[2, "EmployeeNumber"] = "E-TOO-LONG-123"  # VARCHAR(9)
    for url in (pg_url, mariadb_url):
        locations = LegacyLocations.from_options(tmp_path / url.split(":")[0], gradebook=url)
        with pytest.raises(RowDataError) as caught:
            write_district([Chunk(teacher, frame)], locations)
        assert (caught.value.table, caught.value.column) == ("Teacher", "EmployeeNumber")
        assert caught.value.row == "chunk line 3"
        assert "TOO-LONG" not in str(caught.value)
