"""Extract: only mapped columns, tier-2 values emptied before staging, a bad value named by a hash of its row key."""

import sqlite3

import pandas as pd
import pytest

from sis_migrate.errors import DEFAULT_HASH_KEY, RowDataError
from sis_migrate.legacy import System, table
from sis_migrate.mapping import default_deny_list
from sis_migrate.sources.verify import write_verify_file
from sis_migrate.stages.extract import extract_relational, extract_verify
from sis_migrate.storage import Staging
from synthetic.ddl import system_metadata
from transforms.privacy import keyed_hash


def _sim_file(tmp_path, rows):
    path = tmp_path / "sim.sqlite"
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    system_metadata(System.SIM).create_all(engine)
    engine.dispose()
    columns = table("sim", "SIM_STUDENT").column_names
    with sqlite3.connect(path) as conn:
        for row in rows:
            values = [row.get(name) for name in columns]
            conn.execute(f'INSERT INTO "SIM_STUDENT" VALUES ({", ".join("?" for _ in columns)})', values)
    return f"sqlite:///{path}"


def _student(student_id, **values):
    return {"STUDENT_ID": student_id, "LAST_NM": "Nowak", "FIRST_NM": "Ana", "BIRTH_DT": "2008-05-01",
            "SSN": "912-34-5678", "MEDICAL_NOTES": "asthma", "BIRTH_CITY": "Chicago", **values}


def test_denied_columns_never_leave_and_ssn_shaped_values_are_emptied(tmp_path):
    url = _sim_file(tmp_path, [_student(10000001, STATE_ID="912-34-5678"), _student(10000002, STATE_ID="912345678"),
                               _student(10000003, STATE_ID="1234567890")])
    staging = Staging(str(tmp_path / "staging"), "run")
    result = extract_relational(url, System.SIM, "SIM_STUDENT", staging)
    assert result.rows == 3 and result.scrubbed == {"STATE_ID": 2}
    frame = staging.read_frame(result.files[0]["path"])
    denied = {e.column for e in default_deny_list().columns_of("sim", "SIM_STUDENT").values()}
    assert denied and not denied & set(frame.columns)
    assert frame["STATE_ID"].isna().tolist() == [True, True, False]
    assert frame["STATE_ID"].iloc[2] == "1234567890"
    assert frame["BIRTH_DT"].astype(str).tolist() == ["2008-05-01"] * 3


def test_a_value_that_is_not_its_type_names_system_table_column_and_a_hash_of_the_row_key(tmp_path):
    url = _sim_file(tmp_path, [_student(10000001), _student(10000002, BIRTH_DT="2008-02-30")])
    with pytest.raises(RowDataError) as raised:
        extract_relational(url, System.SIM, "SIM_STUDENT", Staging(str(tmp_path / "staging"), "run"))
    hashed = keyed_hash(pd.Series(["STUDENT_ID=10000002"]), DEFAULT_HASH_KEY).iloc[0]
    assert str(raised.value) == f"sim.SIM_STUDENT.BIRTH_DT at row key#{hashed}: not a valid DATE"
    assert "10000002" not in str(raised.value)  # the student number is an identifier: never in a message


@pytest.mark.postgres
@pytest.mark.mariadb
@pytest.mark.parametrize("server", ["pg_url", "mariadb_url"])
def test_extract_connections_cannot_write(server, request):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from sis_migrate.sources.sql import read_only_engine

    engine = read_only_engine(request.getfixturevalue(server))
    try:
        with pytest.raises(DBAPIError, match="(?i)read.only"):
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE written_by_extract (i INT)"))
    finally:
        engine.dispose()


def test_verify_reads_the_newest_export_in_chunks_keeping_only_mapped_fields_and_scrubbing_tier_2(tmp_path):
    residency = table("verify", "verify_residency")
    frame = pd.DataFrame({
        "stu_key": ["S1", "S2", "S3", "S4", "S5"], "addr": ["1 Oak St|Chicago", "x", None, "y", "z"],
        "proof_type": ["UTIL"] * 5, "proof_doc_no": ["A1"] * 5, "proof_country": ["US"] * 5,
        "verified_on": ["20180904"] * 5, "expires_on": ["20190630", "912-34-5678", None, "", "20190630"],
    }, dtype=object)
    exports = tmp_path / "verify"
    exports.mkdir()
    (exports / "verify_residency_20190328.txt").write_bytes(write_verify_file(frame.iloc[:1], residency))
    (exports / "verify_residency_20190329.txt").write_bytes(write_verify_file(frame, residency))
    staging = Staging(str(tmp_path / "staging"), "run")

    result = extract_verify(str(exports), "verify_residency", staging, chunk_rows=2)
    assert (result.rows, result.source_file, result.scrubbed) == (5, "verify_residency_20190329.txt",
                                                                   {"expires_on": 1})
    assert [f["path"] for f in result.files] == [f"extract/verify/verify_residency/part-0000{i}.parquet"
                                                 for i in range(3)]
    staged = pd.concat([staging.read_frame(f["path"]) for f in result.files], ignore_index=True)
    assert list(staged.columns) == result.columns == ["stu_key", "verified_on", "expires_on"]
    assert staged["expires_on"].tolist()[:1] == ["20190630"] and staged["expires_on"].isna().tolist() == [
        False, True, True, True, False]  # the SSN-shaped value, NULL and '' (one thing in Verify) are all empty


def test_an_empty_table_stages_one_empty_typed_part(tmp_path):
    url = _sim_file(tmp_path, [])
    staging = Staging(str(tmp_path / "staging"), "run")
    result = extract_relational(url, System.SIM, "SIM_STUDENT", staging)
    assert result.rows == 0 and len(result.files) == 1
    part = staging.read_arrow(result.files[0]["path"])
    assert part.num_rows == 0 and str(part.schema.field("BIRTH_DT").type) == "date32[day]"
