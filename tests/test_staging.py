"""Staging: the same behaviour in a local folder and in an S3 prefix (moto's server over HTTP)."""

import hashlib

import boto3
import pandas as pd
import pytest

from sis_migrate.errors import ConfigurationError
from sis_migrate.storage import SERVER_SIDE_ENCRYPTION, Staging


def _roundtrip(staging: Staging) -> None:
    frame = pd.DataFrame({"school_id": ["000101", "000102"], "rows": [3, 4]})
    staged = staging.write_frame("unified/school/part-00000.parquet", frame)
    assert staged.sha256 == hashlib.sha256(staging.read_bytes(staged.path)).hexdigest()
    pd.testing.assert_frame_equal(staging.read_frame(staged.path), frame)
    staging.write_json("manifest.json", {"rows": 2})
    assert staging.list() == ["manifest.json", "unified/school/part-00000.parquet"]
    assert staging.list("unified/sch") == ["unified/school/part-00000.parquet"]  # a prefix, not only a folder
    assert staging.list("unified/student") == []
    assert [len(part) for part in staging.read_parts("unified/")] == [2]
    staging.clear("unified/")
    assert staging.list() == ["manifest.json"]
    staging.clear()
    assert staging.list() == []


def test_local_folder_roundtrip(tmp_path):
    staging = Staging(str(tmp_path / "staging"), "rehearsal-1")
    _roundtrip(staging)
    assert staging.uri == str(tmp_path / "staging" / "rehearsal-1")


def test_s3_roundtrip_asks_for_encryption_on_every_put(s3_bucket):
    staging = Staging(f"s3://{s3_bucket}/staging", "rehearsal-1")
    staging.write_json("a.json", {"x": 1})
    staging.write_frame("b.parquet", pd.DataFrame({"x": [1]}))
    client = boto3.client("s3")
    for key in ("staging/rehearsal-1/a.json", "staging/rehearsal-1/b.parquet"):
        assert client.head_object(Bucket=s3_bucket, Key=key)["ServerSideEncryption"] == SERVER_SIDE_ENCRYPTION
    staging.clear()
    _roundtrip(staging)


@pytest.mark.parametrize("bad", ["", "a/b", ".hidden"])
def test_run_id_must_be_a_plain_name(tmp_path, bad):
    with pytest.raises(ConfigurationError):
        Staging(str(tmp_path), bad)
