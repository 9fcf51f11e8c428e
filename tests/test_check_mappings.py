"""``sis-migrate check-mappings`` against live sources: SQLite files, PostgreSQL, a Verify folder and S3."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from sis_migrate import legacy
from sis_migrate.cli import main
from sis_migrate.legacy import System

PROJECT = Path(__file__).resolve().parents[1]


def create_statement(table: legacy.Table, extra: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> str:
    """Plain SQL for a catalog table (quoted identifiers keep its case), with columns added or left out."""
    columns = [f'"{c.name}" {c.sql_type}' for c in table.columns if c.name not in drop]
    columns += [f'"{name}" VARCHAR(20)' for name in extra]
    return f'CREATE TABLE "{table.name}" ({", ".join(columns)})'


def build_legacy(base: Path, extra: dict[str, tuple[str, ...]] | None = None,
                 drop: dict[str, tuple[str, ...]] | None = None, skip: tuple[str, ...] = ()) -> Path:
    """The embedded default layout: one SQLite file per relational system and a Verify folder of headers."""
    extra, drop = extra or {}, drop or {}
    base.mkdir(parents=True, exist_ok=True)
    for system in legacy.RELATIONAL_SYSTEMS:
        with sqlite3.connect(base / f"{system.value}.sqlite") as conn:
            for table in legacy.tables_of(system):
                if table.name not in skip:
                    conn.execute(create_statement(table, extra.get(table.name, ()), drop.get(table.name, ())))
    verify = base / "verify"
    verify.mkdir(exist_ok=True)
    for table in legacy.tables_of(System.VERIFY):
        columns = [c for c in table.column_names if c not in drop.get(table.name, ())]
        write_export(verify / f"{table.name}_20190402.txt", [*columns, *extra.get(table.name, ())])
        # an older export with a column since dropped: superseded, so it must not count
        write_export(verify / f"{table.name}_20190401.txt", [*table.column_names, "old_field"])
    return base


def write_export(path: Path, header: list[str]) -> None:
    path.write_bytes(("|".join(header) + "\r\n").encode("iso-8859-1"))


def run_check(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["check-mappings", *args])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def test_passes_on_sources_shaped_like_the_catalog(tmp_path, capsys):
    base = build_legacy(tmp_path / "legacy")
    code, lines = run_check(capsys, "--legacy-dir", str(base), "--report-dir", str(tmp_path / "report"))
    assert code == 0, lines
    total = sum(len(t.columns) for t in legacy.TABLES.values())
    assert f"{len(legacy.TABLES)} tables, {total} columns" in lines[0]
    assert "17 denied" in lines[0]
    assert (tmp_path / "report" / "column_disposition.md").is_file()
    assert (tmp_path / "report" / "column_disposition.json").is_file()


def test_a_new_column_in_a_live_table_fails_naming_system_table_and_column(tmp_path, capsys):
    base = build_legacy(tmp_path / "legacy", extra={"SIM_STUDENT": ("EYE_COLOR",)})
    code, lines = run_check(capsys, "--sim", f"sqlite:///{base / 'sim.sqlite'}", "--legacy-dir", str(base))
    assert code == 2
    assert [line for line in lines if line.startswith("sim.")] == [
        "sim.SIM_STUDENT.EYE_COLOR: column is not mapped, ignored or denied: classify it before any row is read"]


def test_a_removed_column_and_a_missing_table_are_named(tmp_path, capsys):
    base = build_legacy(tmp_path / "legacy", drop={"Teacher": ("Email",), "verify_consent": ("activity",)},
                        skip=("cim_program",))
    code, lines = run_check(capsys, "--legacy-dir", str(base))
    assert code == 2
    named = {line.split(":", 1)[0] for line in lines[:-1]}  # the last line is the error's
    assert named == {"gradebook.Teacher.Email", "verify.verify_consent.activity", "cim.cim_program"}
    assert any("source does not have it" in line for line in lines if line.startswith("gradebook.Teacher.Email"))


def test_only_the_newest_verify_export_counts(tmp_path, capsys):
    base = build_legacy(tmp_path / "legacy")
    table = legacy.table("verify", "verify_residency")
    write_export(base / "verify" / "verify_residency_20190403.txt", [*table.column_names, "proof_expiry"])
    code, lines = run_check(capsys, "--legacy-dir", str(base))
    assert code == 2
    assert lines[0].startswith("verify.verify_residency.proof_expiry: column is not mapped")


def test_a_missing_sqlite_file_is_a_source_error(tmp_path, capsys):
    code, lines = run_check(capsys, "--legacy-dir", str(tmp_path / "nothing"))
    assert code == 3
    assert "does not exist" in lines[-1]


def test_the_installed_command_fails_on_a_new_column(tmp_path):
    base = build_legacy(tmp_path / "legacy", extra={"ClassAttendance": ("Reason",)})
    done = subprocess.run([str(PROJECT / ".venv" / "bin" / "sis-migrate"), "check-mappings", "--legacy-dir", str(base)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "gradebook.ClassAttendance.Reason: column is not mapped" in done.stdout


def test_catalog_only_needs_no_sources(capsys):
    code, lines = run_check(capsys, "--catalog-only", "--legacy-dir", "/nonexistent")
    assert code == 0
    assert "legacy data dictionary" in lines[0]


def test_a_broken_mapping_is_a_configuration_error(tmp_path, capsys):
    import shutil

    from sis_migrate.schema import MAPPINGS_DIR

    shutil.copytree(MAPPINGS_DIR, tmp_path / "mappings")
    path = tmp_path / "mappings" / "verify.yaml"
    path.write_text(path.read_text().replace("transform: yyyymmdd}", "transform: ymd}", 1))
    code, lines = run_check(capsys, "--catalog-only", "--mappings-dir", str(tmp_path / "mappings"))
    assert code == 2
    assert f"{path}:" in lines[-1] and "unknown transform 'ymd'" in lines[-1]


@pytest.mark.postgres
def test_postgresql_keeps_identifier_case(pg_url, tmp_path, capsys):
    from sqlalchemy import create_engine, text

    base = build_legacy(tmp_path / "legacy")
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        for table in legacy.tables_of(System.SIM):
            extra = ("Shoe_Size",) if table.name == "SIM_GUARDIAN" else ()
            conn.execute(text(create_statement(table, extra)))
    engine.dispose()
    code, lines = run_check(capsys, "--sim", pg_url, "--legacy-dir", str(base))
    assert code == 2
    assert [line.split(":", 1)[0] for line in lines[:-1]] == ["sim.SIM_GUARDIAN.Shoe_Size"]


def test_verify_exports_on_s3(s3_bucket, tmp_path, capsys):
    import boto3

    base = build_legacy(tmp_path / "legacy")
    s3 = boto3.client("s3")
    for table in legacy.tables_of(System.VERIFY):
        header = [*table.column_names, *(("fax",) if table.name == "verify_enrollment_check" else ())]
        s3.put_object(Bucket=s3_bucket, Key=f"exports/{table.name}_20190402.txt",
                      Body=("|".join(header) + "\r\n").encode("iso-8859-1"))
    code, lines = run_check(capsys, "--legacy-dir", str(base), "--verify", f"s3://{s3_bucket}/exports")
    assert code == 2
    assert lines[0].startswith("verify.verify_enrollment_check.fax: column is not mapped")
