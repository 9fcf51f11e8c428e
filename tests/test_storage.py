"""The storage layer: one behaviour on a folder and on S3 (moto's server over HTTP), and every failure
raised as the project's error naming the bucket or path, quickly."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

from sis_migrate import storage
from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.storage import MissingFile, Store

FAST = 3.0  # seconds: a missing bucket is answered at once, never retried


def _layout(store: Store) -> None:
    for path in ("a.json", "timings/validate.batch-1.json", "timings/validate.json", "timings/load.json",
                 "unified/school/part-00000.parquet", "unified/student/part-00000.parquet"):
        store.write_bytes(path, path.encode())


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path) -> Store:
    if request.param == "folder":
        return Store(str(tmp_path / "store"))
    return Store(f"s3://{request.getfixturevalue('s3_bucket')}/some/prefix")


def test_read_write_list_delete_behave_alike(store):
    assert store.list() == [] and store.subfolders() == []
    _layout(store)
    assert store.read_bytes("timings/load.json") == b"timings/load.json"
    assert store.read_bytes("timings/load.json", first_bytes=7) == b"timings"
    store.write_bytes("empty.txt", b"")
    assert store.read_bytes("empty.txt", first_bytes=7) == b"" == store.read_bytes("empty.txt")
    store.delete_files(["empty.txt"])
    assert store.list() == ["a.json", "timings/load.json", "timings/validate.batch-1.json", "timings/validate.json",
                            "unified/school/part-00000.parquet", "unified/student/part-00000.parquet"]
    assert store.list("timings/validate.") == ["timings/validate.batch-1.json", "timings/validate.json"]
    assert store.list("unified/s", recursive=False) == []  # the files are a folder further down
    assert store.list("", recursive=False) == ["a.json"]
    assert store.subfolders() == ["timings", "unified"]
    assert store.exists("a.json") and not store.exists("a.jso") and not store.exists("timings")
    assert store.exists()

    store.delete("timings/validate.")
    assert store.list("timings/") == ["timings/load.json"]
    store.delete("timings/load.json")
    assert store.list("timings/") == [] and store.subfolders() == ["unified"]  # an empty folder is nothing, as on S3
    store.write_bytes("timings/load.json", b"{}")  # a folder above the prefix stays for whoever writes there
    store.delete("unified/")
    assert store.list() == ["a.json", "timings/load.json"]
    assert store.subfolders() == ["timings"]  # an emptied folder goes too, as a prefix does on S3
    store.delete_files(["a.json", "never-written.json"])
    assert store.list() == ["timings/load.json"]
    store.delete()
    assert store.list() == []


def test_a_folder_write_is_renamed_into_place_and_an_in_progress_file_is_not_listed(tmp_path):
    store = Store(str(tmp_path))
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.json.partial").write_bytes(b"half")
    store.write_bytes("report/report.json", b"{}")
    assert store.list() == ["report/report.json"]
    assert not (tmp_path / "report" / "report.json.partial").exists()  # the write went aside, then renamed
    local = tmp_path / "local.txt"
    local.write_bytes(b"x" * 3_000_000)
    store.write_file("copied/local.txt", local)
    assert store.read_bytes("copied/local.txt") == local.read_bytes()


def test_every_put_asks_for_server_side_encryption(s3_bucket, tmp_path, monkeypatch, s3_call_spy):
    asked = []
    monkeypatch.setattr(storage, "s3_client", s3_call_spy("PutObject", "ServerSideEncryption", asked))
    store = Store(f"s3://{s3_bucket}")
    store.write_bytes("a.txt", b"a")
    (tmp_path / "b.txt").write_bytes(b"b")
    store.write_file("b.txt", tmp_path / "b.txt")
    assert asked == ["AES256", "AES256"]


@contextmanager
def _returns_within(seconds: float):
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"took {elapsed:.1f}s"


@pytest.mark.parametrize("action", ["read", "write", "list", "delete", "look for"])
def test_a_missing_bucket_is_a_quick_source_error_naming_the_bucket(s3_bucket, action):
    store = Store("s3://sis-no-such-bucket/staging")
    calls = {"read": lambda: store.read_bytes("a.json"), "write": lambda: store.write_bytes("a.json", b"{}"),
             "list": lambda: store.list(), "delete": lambda: store.delete(), "look for": lambda: store.exists("a")}
    with _returns_within(FAST), pytest.raises(SourceError) as caught:
        calls[action]()
    assert "sis-no-such-bucket" in str(caught.value) and "does not exist" in str(caught.value)
    assert f"could not {action} s3://sis-no-such-bucket/staging" in str(caught.value)
    assert not store.exists()  # the location itself: simply not there


def test_a_missing_key_is_a_missing_file_naming_it(s3_bucket):
    with pytest.raises(MissingFile, match=f"s3://{s3_bucket}/staging/manifest.json"):
        Store(f"s3://{s3_bucket}/staging").read_bytes("manifest.json")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("action", ["read", "write", "list", "delete"])
def test_an_endpoint_that_is_not_listening_is_a_source_error_within_the_time_out(monkeypatch, action):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = Store("s3://unreachable/staging")
    calls = {"read": lambda: store.read_bytes("a.json"), "write": lambda: store.write_bytes("a.json", b"{}"),
             "list": lambda: store.list(), "delete": lambda: store.delete()}
    # every attempt may take the connect time-out; botocore's backoff between attempts stays under 2^n seconds
    budget = storage.S3_TOTAL_ATTEMPTS * storage.S3_CONNECT_TIMEOUT + 2 ** storage.S3_TOTAL_ATTEMPTS
    with _returns_within(budget), pytest.raises(SourceError) as caught:
        calls[action]()
    message = str(caught.value)
    assert "s3://unreachable/staging" in message and "EndpointConnectionError" in message and "\n" not in message


def test_an_s3_location_without_a_bucket_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="needs a bucket"):
        Store("s3:///staging")


def test_reading_a_missing_file_in_a_folder_is_a_missing_file_naming_the_path(tmp_path):
    with pytest.raises(MissingFile) as caught:
        Store(str(tmp_path)).read_bytes("run/manifest.json")
    assert str(tmp_path / "run" / "manifest.json") in str(caught.value)
    assert isinstance(caught.value, ConfigurationError)


@contextmanager
def _unwritable(folder):
    """A folder this process may not write: mode 0500, or immutable when running as root (who ignores modes)."""
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root and chattr +i is not available: no folder is unwritable")
        try:
            yield folder
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)


def test_writing_into_an_unwritable_folder_is_a_configuration_error_naming_the_path(tmp_path):
    with _unwritable(tmp_path / "locked") as folder:
        with pytest.raises(ConfigurationError) as caught:
            Store(str(folder)).write_bytes("report/report.json", b"{}")
        assert str(folder / "report" / "report.json") in str(caught.value)
        assert "access" in str(caught.value)
        with pytest.raises(ConfigurationError, match=str(folder)):
            Store(str(folder)).write_bytes("report.json", b"{}")
        assert list(folder.iterdir()) == []  # no half-written file left behind


def test_a_file_where_a_folder_should_be_is_a_configuration_error(tmp_path):
    (tmp_path / "staging").write_bytes(b"not a folder")
    with pytest.raises(ConfigurationError, match="correct the location"):
        Store(str(tmp_path / "staging")).write_bytes("a.json", b"{}")
