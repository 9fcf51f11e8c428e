"""Whole rehearsals through Airflow (``dag.test()``): the embedded default and the realistic path.

Each checks what the migration promises: every legacy row accounted for per table (and per
school, which the reconcile task itself enforces), no tier-1 column in any staged or target
schema, no canary value anywhere in staging or the target, and a rerun gives identical contents.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, inspect, text

from sis_migrate.airflow_env import run_dag
from sis_migrate.locations import LegacyLocations
from sis_migrate.mapping import default_deny_list
from sis_migrate.run_config import RunConfig
from sis_migrate.stages.load import PUBLICATION_TABLE, Target
from sis_migrate.stages.publish import published_staging
from sis_migrate.stages.report.migration_report import planted_mismatches
from sis_migrate.stages.validate import VALIDATION_TASKS
from sis_migrate.storage import Staging
from synthetic.generator import District, SynthSpec
from synthetic.writers import write_district

pytestmark = pytest.mark.slow


def _synthesize(locations: LegacyLocations, students: int, seed: int) -> dict:
    district = District(SynthSpec(students=students, seed=seed))
    write_district(district.chunks(), locations, replace=True)
    return district.manifest()


def _rehearse(cfg: RunConfig) -> None:
    dag_run = run_dag("sis_rehearsal", cfg.as_params())
    assert str(dag_run.state).endswith("success"), f"DAG run ended {dag_run.state}"


def _canaries(manifest: dict) -> list[str]:
    canary = manifest["canary"]
    values = [canary["marker"]]
    for planted in canary.get("values", {}).values():
        if isinstance(planted, list):
            values += [str(v) for v in planted]
    return values


def _is_text(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type)


def _staged_leaks(staging: Staging, canaries: list[str]) -> list[str]:
    """Canary values found in any staged file: Parquet string columns in one regex pass each, other files as text."""
    import re

    import pyarrow.compute as pc

    any_canary = "|".join(re.escape(canary) for canary in canaries)
    found = []
    for path in staging.list():
        if path.endswith(".parquet"):
            table = staging.read_arrow(path)
            found += [f"{path}:{name}" for name in table.column_names
                      if _is_text(table.schema.field(name).type)
                      and pc.any(pc.match_substring_regex(table.column(name), any_canary)).as_py()]
        else:
            content = staging.read_bytes(path).decode("utf-8", errors="replace")
            found += [path for canary in canaries if canary in content]
    return found


def _target_leaks(target: Target, marker: str) -> list[str]:
    """Text columns of the target holding the canary marker or any SSN-shaped value (searched in the database)."""
    engine = target.engine()
    prefix = f'"{target.schema}".' if target.schema else ""
    if target.dialect == "postgresql":
        predicate = ("({c} LIKE :marker OR {c} ~ '[0-9]{{3}}-[0-9]{{2}}-[0-9]{{4}}' "
                     "OR {c} ~ '^[[:space:]]*[0-9]{{9}}[[:space:]]*$')")
    else:
        predicate = ("({c} LIKE :marker OR {c} GLOB '*[0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9]*' "
                     "OR trim({c}) GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]')")
    found = []
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names(schema=target.schema):
            for column in inspect(engine).get_columns(name, schema=target.schema):
                if not any(kind in str(column["type"]).upper() for kind in ("CHAR", "TEXT")):
                    continue
                where = predicate.format(c=f'"{column["name"]}"')
                query = text(f'SELECT count(*) FROM {prefix}"{name}" WHERE {where}')
                if conn.execute(query, {"marker": f"%{marker}%"}).scalar_one():
                    found.append(f"{name}.{column['name']}")
    engine.dispose()
    return found


def _data_tables(engine, target: Target) -> list[str]:
    """The target's tables but the publication marker, which names the attempt and so differs per run."""
    return [name for name in inspect(engine).get_table_names(schema=target.schema) if name != PUBLICATION_TABLE]


def _target_fingerprint(target: Target) -> dict[str, str]:
    """Per target table, a digest of its rows in a stable order, computed inside PostgreSQL."""
    engine = target.engine()
    fingerprint = {}
    with engine.connect() as conn:
        for name in _data_tables(engine, target):
            fingerprint[name] = conn.execute(text(
                f'SELECT count(*) || \':\' || coalesce(md5(string_agg(t::text, \'|\' ORDER BY t::text)), \'\') '
                f'FROM "{target.schema}"."{name}" t')).scalar_one()
    engine.dispose()
    return fingerprint


def _personal_values_in_reports(staging: Staging) -> list[str]:
    """The district's student, guardian and teacher emails and full names, found in any report,
    data doc or validation result (the restricted worklist aside, which holds legacy keys only)."""
    import re

    people = set()
    for table, first, last, email in (("sim/SIM_STUDENT", "FIRST_NM", "LAST_NM", "EMAIL_ADDR"),
                                      ("sim/SIM_GUARDIAN", "FIRST_NM", "LAST_NM", "EMAIL_ADDR"),
                                      ("gradebook/Teacher", "FirstName", "LastName", "Email")):
        for frame in staging.read_parts(f"extract/{table}/", [first, last, email]):
            people.update(frame[email].dropna().str.strip().str.lower())
            people.update((frame[first].str.strip() + " " + frame[last].str.strip()).dropna())
    assert people
    found = []
    for path in staging.list("report/") + staging.list("validation/"):
        if "/restricted/" in path or path.endswith(".parquet"):
            continue
        content = staging.read_bytes(path).decode("utf-8", errors="replace")
        emails = {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", content)}
        names = set(re.findall(r"\b(?=([^\W\d_][\w'-]* [^\W\d_][\w'-]*))", content))  # overlapping pairs
        found += [f"{path}: a personal value" for _ in (emails | names) & people]
    return found


def _target_dump(target: Target) -> dict[str, list[tuple]]:
    engine = target.engine()
    prefix = f'"{target.schema}".' if target.schema else ""
    dump = {}
    with engine.connect() as conn:
        for name in _data_tables(engine, target):
            rows = conn.execute(text(f'SELECT * FROM {prefix}"{name}"')).fetchall()
            dump[name] = sorted(tuple(map(str, row)) for row in rows)
    engine.dispose()
    return dump


def _check_promises(cfg: RunConfig, manifest: dict) -> None:
    staging = published_staging(cfg.staging_location(), cfg.run_id)  # the attempt the target was published from
    target = Target(cfg.target_url(), cfg.run_id)
    # every legacy row: extracted = the generator's rows, and = loaded + merged + quarantined in the target
    reconcile = staging.read_json("reconcile.json")
    assert reconcile["balanced"] is True and reconcile["mismatches"] == []
    run_manifest = staging.read_json("manifest.json")
    for name, rows in manifest["rows"].items():
        assert run_manifest["tables"][name]["rows"] == rows, name
        accounted = reconcile["tables"][name]
        assert accounted["loaded"] + accounted["merged"] + accounted["quarantined"] == rows, name
    # no tier-1 column anywhere: staged Parquet schemas and target tables
    denied = {entry.column for entry in default_deny_list().denied}
    for path in staging.list():
        if path.endswith(".parquet"):
            assert not denied & set(pq.read_schema(staging_path(staging, path)).names), path
    engine = target.engine()
    for name in inspect(engine).get_table_names(schema=target.schema):
        columns = {c["name"] for c in inspect(engine).get_columns(name, schema=target.schema)}
        assert not denied & columns, name
    engine.dispose()
    # no canary value in any staged file or target table
    canaries = _canaries(manifest)
    assert len(canaries) > 1
    assert _staged_leaks(staging, canaries) == []
    assert _target_leaks(target, manifest["canary"]["marker"]) == []
    assert _personal_values_in_reports(staging) == []
    # the migration report shows every planted anomaly class under its reason with the planted count
    assert planted_mismatches(staging.read_json("report/report.json"), manifest) == []
    assert "report/data_docs/index.html" in staging.list("report/data_docs/")
    # every mapped task instance leaves its own timing (seconds per stage add them up)
    assert len(staging.list("timings/validate.")) == VALIDATION_TASKS
    assert len(staging.list("timings/extract.")) == len(manifest["rows"])


def staging_path(staging: Staging, path: str):
    import io

    return io.BytesIO(staging.read_bytes(path))


def test_embedded_default_rehearsal_accounts_for_every_row_and_reruns_identically(tmp_path, airflow_db):
    legacy_dir = tmp_path / "legacy"
    manifest = _synthesize(LegacyLocations.embedded_default(legacy_dir), students=200, seed=11)
    cfg = RunConfig(run_label="tiny-embedded", legacy_dir=str(legacy_dir), staging=str(tmp_path / "staging"),
                    target=f"sqlite:///{tmp_path / 'target.sqlite'}")
    _rehearse(cfg)
    _check_promises(cfg, manifest)
    first = _target_dump(Target(cfg.target_url(), cfg.run_id))
    _rehearse(cfg)
    _check_promises(cfg, manifest)
    assert _target_dump(Target(cfg.target_url(), cfg.run_id)) == first


@pytest.mark.postgres
@pytest.mark.mariadb
def test_realistic_path_postgres_mariadb_and_s3(tmp_path, airflow_db, pg_url_factory, mariadb_url, s3_bucket):
    locations = LegacyLocations(sim=pg_url_factory(), gradebook=mariadb_url, cim=pg_url_factory(),
                                verify=f"s3://{s3_bucket}/verify")
    manifest = _synthesize(locations, students=5000, seed=5)
    cfg = RunConfig(run_label="small-realistic", sim=locations.sim, gradebook=locations.gradebook,
                    cim=locations.cim, verify=locations.verify, staging=f"s3://{s3_bucket}/staging",
                    target=pg_url_factory(), chunk_rows=100_000)
    _rehearse(cfg)
    _check_promises(cfg, manifest)
    first = _target_fingerprint(Target(cfg.target_url(), cfg.run_id))
    _rehearse(cfg)
    assert _target_fingerprint(Target(cfg.target_url(), cfg.run_id)) == first
    target_engine = create_engine(cfg.target_url())
    assert "rehearsal_small_realistic" in inspect(target_engine).get_schema_names()
    target_engine.dispose()


def test_the_leak_searches_find_what_is_there(tmp_path):
    """The searches above prove nothing unless they find a planted value: plant some and look."""
    import pandas as pd

    staging = Staging(str(tmp_path / "staging"), "leak")
    staging.write_frame("unified/student/x.parquet", pd.DataFrame({"note": ["fine", "ref QZTEST42 here"]}))
    staging.write_json("report/report.json", {"x": "912-34-5678"})
    assert _staged_leaks(staging, ["QZTEST42", "912-34-5678"]) == [
        "report/report.json", "unified/student/x.parquet:note"]
    target = Target(f"sqlite:///{tmp_path / 't.sqlite'}", "leak")
    engine = create_engine(target.url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE contact (a VARCHAR(20), b VARCHAR(20), c VARCHAR(20), d INTEGER)"))
        conn.execute(text("INSERT INTO contact VALUES ('x QZTEST42', ' 912345678 ', 'ok', 1), "
                          "('ok', 'ok', 'n 912-34-5678', 912345678)"))
    engine.dispose()
    assert _target_leaks(target, "QZTEST42") == ["contact.a", "contact.b", "contact.c"]


def test_the_personal_value_search_finds_a_name_or_email_in_a_report(tmp_path):
    import pandas as pd

    staging = Staging(str(tmp_path / "staging"), "leak")
    for table, names in (("sim/SIM_STUDENT", ("FIRST_NM", "LAST_NM", "EMAIL_ADDR")),
                         ("sim/SIM_GUARDIAN", ("FIRST_NM", "LAST_NM", "EMAIL_ADDR")),
                         ("gradebook/Teacher", ("FirstName", "LastName", "Email"))):
        staging.write_frame(f"extract/{table}/part-00000.parquet",
                            pd.DataFrame({names[0]: [" Ana"], names[1]: ["Nowak "], names[2]: ["Ana.N@Example.org"]}))
    staging.write_bytes("report/report.html", b"<p>42 rows</p>")
    assert _personal_values_in_reports(staging) == []
    staging.write_bytes("report/report.html", b"<p>the student Ana Nowak left</p>")
    staging.write_bytes("validation/unified/student.json", b'{"x": "mail ana.n@example.org"}')
    staging.write_bytes("report/restricted/steward_worklist.csv", b"Ana Nowak")  # restricted: not a report
    assert sorted(_personal_values_in_reports(staging)) == [
        "report/report.html: a personal value", "validation/unified/student.json: a personal value"]
