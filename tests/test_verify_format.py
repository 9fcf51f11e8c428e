"""Verify's export format: writer and reader against each other and against the documented bytes."""

from __future__ import annotations

from datetime import date

import boto3
import numpy as np
import pandas as pd
import pytest

from sis_migrate import legacy, storage
from sis_migrate.errors import ConfigurationError, RowDataError, SourceError
from sis_migrate.sources import verify as verify_format
from sis_migrate.sources.verify import (
    ExportFile,
    list_exports,
    newest_exports,
    read_export,
    read_header,
    read_verify_file,
    write_verify_file,
)

RESIDENCY = legacy.table("verify", "verify_residency")
CONSENT = legacy.table("verify", "verify_consent")


def residency_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "stu_key": pd.Series(["S10000001", "10000002", "S10000003", "S10000004"], dtype=object),
        "addr": pd.Series(["12 Oak St|Chicago|IL|60601", 'Apt "B"|Cicero|IL|60804', None, "Line\r\nbreak|X|IL|1"],
                          dtype=object),
        "proof_type": pd.Series(["UTIL", "LEASE", "", "DL"], dtype=object),
        "proof_doc_no": pd.Series(["A1", None, "C3", "D4"], dtype=object),
        "proof_country": pd.Series(["US", "MX", None, "PL"], dtype=object),
        "verified_on": pd.Series(np.array(["2018-09-04", "2018-10-01", "NaT", "9999-12-31"], dtype="datetime64[s]")),
        "expires_on": pd.Series(np.array(["2019-06-30", "NaT", "2019-06-30", "2019-06-30"], dtype="datetime64[s]")),
    })


def consent_frame(guardian_last: list[str | None]) -> pd.DataFrame:
    rows = len(guardian_last)
    text = pd.Series(["x"] * rows, dtype=object)
    days = pd.Series(np.array(["2018-09-10"] * rows, dtype="datetime64[s]"))
    return pd.DataFrame({
        "consent_id": pd.Series([f"C{i}" for i in range(rows)], dtype=object), "stu_key": text,
        "guardian_last": pd.Series(guardian_last, dtype=object), "guardian_first": text, "consent_type": text,
        "activity": text, "school_yr": text, "parent_signed_on": days, "principal_signed_on": days,
        "parent_copy_ind": text, "revoked_on": pd.Series(np.array(["NaT"] * rows, dtype="datetime64[s]")),
    })


def test_round_trip_keeps_pipes_quotes_line_breaks_accents_and_nulls():
    frame = residency_frame()
    frame.loc[0, "proof_doc_no"] = "Zoë Núñez-O'Hara"
    back = read_verify_file(write_verify_file(frame, RESIDENCY), RESIDENCY)

    assert list(back.columns) == list(RESIDENCY.column_names)
    assert back["addr"].tolist() == ["12 Oak St|Chicago|IL|60601", 'Apt "B"|Cicero|IL|60804', None,
                                     "Line\r\nbreak|X|IL|1"]
    assert back["proof_doc_no"].tolist() == ["Zoë Núñez-O'Hara", None, "C3", "D4"]
    assert back["proof_type"].tolist() == ["UTIL", "LEASE", None, "DL"]  # '' and NULL are one thing in Verify
    assert back["verified_on"].tolist() == ["20180904", "20181001", None, "99991231"]
    assert back["expires_on"].tolist() == ["20190630", None, "20190630", "20190630"]


def test_bytes_are_latin1_crlf_pipe_delimited_with_quoted_fields():
    frame = residency_frame()
    frame.loc[1, "proof_doc_no"] = "café"
    data = write_verify_file(frame, RESIDENCY)

    header, first, second = data.split(b"\r\n")[:3]
    assert header == b"stu_key|addr|proof_type|proof_doc_no|proof_country|verified_on|expires_on"
    assert first == b'S10000001|"12 Oak St|Chicago|IL|60601"|UTIL|A1|US|20180904|20190630'
    assert second == b'10000002|"Apt ""B""|Cicero|IL|60804"|LEASE|caf\xe9|MX|20181001|'
    assert b"caf\xe9" in data and "café".encode() not in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.endswith(b"\r\n")
    assert data.replace(b"\r\n", b"").count(b"\n") == 0  # no bare LF line end


def test_reader_decodes_only_as_latin1():
    header = "|".join(RESIDENCY.column_names).encode("latin-1")
    utf8_row = "S1|caf\u00e9|||||".encode()  # what a UTF-8 writer would have produced
    back = read_verify_file(header + b"\r\n" + utf8_row + b"\r\n", RESIDENCY)
    assert back.loc[0, "addr"] == "caf\u00c3\u00a9"  # the bytes, read as Latin-1, never re-guessed


def test_a_character_outside_latin1_names_table_column_and_row_but_not_the_value():
    frame = consent_frame(["Smith", "Nguy\u1ec5n", "Lee"])
    with pytest.raises(RowDataError) as caught:
        write_verify_file(frame, CONSENT)
    error = caught.value
    assert (error.system, error.table, error.column) == ("verify", "verify_consent", "guardian_last")
    assert error.row == "frame row 1"  # its position, never its key (consent_id C1)
    assert "Nguy" not in str(error) and "C1" not in str(error)


def test_header_that_differs_from_the_data_dictionary_is_a_configuration_error():
    data = write_verify_file(residency_frame(), RESIDENCY).replace(b"proof_country|", b"proof_cntry|", 1)
    with pytest.raises(ConfigurationError) as caught:
        read_verify_file(data, RESIDENCY, source="verify_residency_20190329.txt")
    message = str(caught.value)
    assert "verify_residency" in message
    assert "proof_cntry" in message and "proof_country" in message


def test_header_in_another_order_is_a_configuration_error():
    names = list(RESIDENCY.column_names)
    names[0], names[1] = names[1], names[0]
    data = ("|".join(names) + "\r\n").encode("latin-1")
    with pytest.raises(ConfigurationError, match="order"):
        read_verify_file(data, RESIDENCY)


def test_a_row_with_the_wrong_field_count_names_table_and_line():
    data = write_verify_file(residency_frame(), RESIDENCY) + b"S9|only|three\r\n"
    with pytest.raises(RowDataError) as caught:
        read_verify_file(data, RESIDENCY)
    assert caught.value.table == "verify_residency"
    assert caught.value.row == "line 7"  # header, four rows (one spans two lines), then the bad one
    assert "S9" not in str(caught.value)


def test_malformed_quoting_names_table_and_physical_line_never_the_value():
    data = write_verify_file(residency_frame(), RESIDENCY) + b'S9|"12 Oak"St|X|Y|Z|20180904|20190630\r\n'
    with pytest.raises(RowDataError, match="malformed quoting") as caught:
        read_verify_file(data, RESIDENCY)
    assert caught.value.row == "line 7"  # the record before it spans two lines: lines, not records, are counted
    assert "Oak" not in str(caught.value) and "S9" not in str(caught.value)


def test_columns_keeps_only_the_named_columns_in_that_order():
    data = write_verify_file(residency_frame(), RESIDENCY)
    back = read_verify_file(data, RESIDENCY, columns=["verified_on", "stu_key"])
    assert list(back.columns) == ["verified_on", "stu_key"]
    assert back["stu_key"].tolist() == ["S10000001", "10000002", "S10000003", "S10000004"]
    with pytest.raises(ConfigurationError, match="not_a_column"):
        read_verify_file(data, RESIDENCY, columns=["not_a_column"])


def test_chunks_append_to_one_file_with_one_header():
    frame = residency_frame()
    data = write_verify_file(frame.iloc[:2], RESIDENCY) + write_verify_file(frame.iloc[2:], RESIDENCY,
                                                                            include_header=False)
    assert data == write_verify_file(frame, RESIDENCY)


def _write_exports(put) -> None:
    frame = residency_frame()
    put("verify_residency_20190328.txt", write_verify_file(frame.iloc[:1], RESIDENCY))
    put("verify_residency_20190329.txt", write_verify_file(frame, RESIDENCY))
    put("verify_consent_20190329.txt", write_verify_file(consent_frame(["Smith"]), CONSENT))
    put("verify_consent_20191399.txt", b"not a calendar day")
    put("README.txt", b"not an export")


def test_folder_exports_are_listed_newest_last_and_read(tmp_path):
    _write_exports(lambda name, data: (tmp_path / name).write_bytes(data))
    exports = list_exports(str(tmp_path))

    assert sorted(exports) == ["verify_consent", "verify_residency"]
    assert [f.day for f in exports["verify_residency"]] == [date(2019, 3, 28), date(2019, 3, 29)]
    newest = newest_exports(str(tmp_path))["verify_residency"]
    assert newest.name == "verify_residency_20190329.txt"
    assert len(read_verify_file(read_export(newest), RESIDENCY)) == 4
    assert read_header(newest) == list(RESIDENCY.column_names)


def test_a_missing_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        list_exports(str(tmp_path / "nowhere"))


def test_s3_exports_are_listed_across_pages_and_read(s3_bucket, monkeypatch):
    client = boto3.client("s3")
    _write_exports(lambda name, data: client.put_object(Bucket=s3_bucket, Key=f"exports/nightly/{name}", Body=data))
    client.put_object(Bucket=s3_bucket, Key="exports/nightly/older/verify_consent_20200101.txt", Body=b"nested")
    monkeypatch.setattr(storage, "S3_PAGE_SIZE", 2)  # five objects: three pages

    location = f"s3://{s3_bucket}/exports/nightly"
    exports = list_exports(location)
    assert [f.name for f in exports["verify_residency"]] == ["verify_residency_20190328.txt",
                                                            "verify_residency_20190329.txt"]
    assert [f.name for f in exports["verify_consent"]] == ["verify_consent_20190329.txt"]
    newest = newest_exports(location)["verify_residency"]
    assert newest.uri == f"s3://{s3_bucket}/exports/nightly/verify_residency_20190329.txt"
    assert read_verify_file(read_export(newest), RESIDENCY)["proof_type"].tolist() == ["UTIL", "LEASE", None, "DL"]
    assert read_header(newest) == list(RESIDENCY.column_names)


def test_read_header_reads_only_the_first_line_of_a_large_s3_object(s3_bucket, monkeypatch, s3_call_spy):
    client = boto3.client("s3")
    ranges = []
    monkeypatch.setattr(storage, "s3_client", s3_call_spy("GetObject", "Range", ranges))
    frame = pd.concat([residency_frame()] * 5000, ignore_index=True)
    data = write_verify_file(frame, RESIDENCY)
    assert len(data) > 4 * verify_format.HEADER_PROBE_BYTES
    client.put_object(Bucket=s3_bucket, Key="verify_residency_20190329.txt", Body=data)
    export = ExportFile(f"s3://{s3_bucket}", "verify_residency", date(2019, 3, 29), "verify_residency_20190329.txt")
    assert read_header(export) == list(RESIDENCY.column_names)
    assert ranges == [f"bytes=0-{verify_format.HEADER_PROBE_BYTES - 1}"]


def test_an_unreachable_bucket_is_one_line_source_error(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(SourceError) as caught:
        list_exports("s3://no-such-server/prefix")
    assert "s3://no-such-server/prefix" in str(caught.value)
    assert "\n" not in str(caught.value)
