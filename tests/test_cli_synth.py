"""``sis-migrate synth`` end to end: the generator through the writers into every kind of location."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa

from sis_migrate import legacy
from sis_migrate.cli import build_parser, main
from sis_migrate.legacy import RELATIONAL_SYSTEMS, System
from sis_migrate.sources.verify import newest_exports, read_export, read_verify_file


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _synth(*argv: str) -> int:
    return main(["synth", "--quiet", *argv])


def test_help_documents_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["synth", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    options = ["--preset", "--students", "--seed", "--sim", "--gradebook", "--cim", "--verify", "--legacy-dir",
               "--manifest", "--replace", "--quiet"]
    for option in options:
        assert option in text
    # every option's help ends with its default: one "(default: ...)" per option
    assert len(re.findall(r"\(default: [^)]*\)", text)) == len(options)
    assert "(default: tiny)" in text and "(default: 42)" in text


def test_tiny_twice_is_byte_identical_and_another_seed_differs(tmp_path, capsys):
    assert _synth("--legacy-dir", str(tmp_path / "a")) == 0
    summary = capsys.readouterr().out
    assert str(tmp_path / "a" / "manifest.json") in summary and "sim -> sqlite:///" in summary
    assert _synth("--legacy-dir", str(tmp_path / "b")) == 0
    assert _synth("--legacy-dir", str(tmp_path / "c"), "--seed", "7") == 0

    first, second, other = (_digests(tmp_path / name) for name in ("a", "b", "c"))
    assert {"sim.sqlite", "gradebook.sqlite", "cim.sqlite", "manifest.json"} <= set(first)
    assert any(name.startswith("verify/verify_consent_") for name in first)
    assert first == second
    assert first["sim.sqlite"] != other["sim.sqlite"] and first["manifest.json"] != other["manifest.json"]


def test_row_counts_in_the_embedded_default_equal_the_manifest(tmp_path):
    assert _synth("--legacy-dir", str(tmp_path / "legacy"), "--students", "60", "--seed", "3") == 0
    manifest = json.loads((tmp_path / "legacy" / "manifest.json").read_text())
    assert manifest["students"] == 60 and manifest["seed"] == 3
    _check_rows_match_manifest(manifest["rows"], {s.value: f"sqlite:///{tmp_path / 'legacy' / s.value}.sqlite"
                                                  for s in RELATIONAL_SYSTEMS}, str(tmp_path / "legacy" / "verify"))


def _check_rows_match_manifest(rows: dict[str, int], urls: dict[str, str], verify: str) -> None:
    assert set(rows) == {f"{t.system.value}.{t.name}" for t in legacy.TABLES.values()}
    for system in RELATIONAL_SYSTEMS:
        engine = sa.create_engine(urls[system.value])
        preparer = engine.dialect.identifier_preparer
        with engine.connect() as conn:
            for table in legacy.tables_of(system):
                count = conn.execute(sa.text(f"SELECT COUNT(*) FROM {preparer.quote(table.name)}")).scalar()
                assert count == rows[f"{system.value}.{table.name}"], table.name
        engine.dispose()
    newest = newest_exports(verify)
    for table in legacy.tables_of(System.VERIFY):
        frame = read_verify_file(read_export(newest[table.name]), table)
        assert len(frame) == rows[f"verify.{table.name}"], table.name


def test_a_non_empty_location_is_exit_2_until_replace(tmp_path, capsys):
    legacy_dir = str(tmp_path / "legacy")
    assert _synth("--legacy-dir", legacy_dir, "--students", "30") == 0
    capsys.readouterr()
    assert _synth("--legacy-dir", legacy_dir, "--students", "40") == 2
    error = capsys.readouterr().err
    assert "--replace" in error and "sim.sqlite" in error
    assert len(error.strip().splitlines()) == 1
    assert _synth("--legacy-dir", legacy_dir, "--students", "40", "--replace") == 0
    assert json.loads((tmp_path / "legacy" / "manifest.json").read_text())["students"] == 40


def test_an_unreachable_server_is_one_line_and_exit_3(tmp_path, capsys):
    code = _synth("--legacy-dir", str(tmp_path / "legacy"), "--sim", "postgresql+psycopg://root:pw@127.0.0.1:9/sim")
    error = capsys.readouterr().err
    assert code == 3
    assert len(error.strip().splitlines()) == 1
    assert "127.0.0.1:9" in error and "pw@" not in error


def test_a_bad_student_count_or_url_is_exit_2(tmp_path, capsys):
    assert _synth("--legacy-dir", str(tmp_path), "--students", "0") == 2
    assert _synth("--legacy-dir", str(tmp_path), "--sim", "not a url") == 2
    assert "not a SQLAlchemy URL" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.mariadb
def test_tiny_into_postgresql_mariadb_and_s3_matches_the_manifest(tmp_path, pg_url_factory, mariadb_url, s3_bucket):
    urls = {"sim": pg_url_factory(), "cim": pg_url_factory(), "gradebook": mariadb_url}
    verify = f"s3://{s3_bucket}/verify"
    manifest_path = tmp_path / "manifest.json"
    assert _synth("--sim", urls["sim"], "--cim", urls["cim"], "--gradebook", urls["gradebook"], "--verify", verify,
                  "--manifest", str(manifest_path), "--legacy-dir", str(tmp_path / "unused")) == 0
    manifest = json.loads(manifest_path.read_text())
    _check_rows_match_manifest(manifest["rows"], urls, verify)
    client = boto3.client("s3")
    for item in client.list_objects_v2(Bucket=s3_bucket)["Contents"]:
        assert client.head_object(Bucket=s3_bucket, Key=item["Key"])["ServerSideEncryption"] == "AES256"
    assert not (tmp_path / "unused").exists()  # nothing went to the embedded default
