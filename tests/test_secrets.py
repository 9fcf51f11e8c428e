"""No secret at rest in clear: passwords reach a run through Airflow connections or the environment,
never DAG-run params; a rehearsal given passworded locations leaves no password (nor the hash key) in
Airflow's metadata database, any log, or any artifact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from sis_migrate.airflow_env import airflow_home, run_dag
from sis_migrate.commands.rehearse import params_without_secrets
from sis_migrate.errors import ConfigurationError
from sis_migrate.locations import LegacyLocations
from sis_migrate.run_config import RunConfig, resolve_source
from synthetic.generator import District, SynthSpec
from synthetic.writers import write_district

PASSWORD = "Pw-canary-7Qx93zK"
HASH_KEY = "HashKey-canary-4Lm20"


def test_a_password_in_a_run_parameter_is_refused_without_showing_it():
    for name in ("sim", "gradebook", "cim", "target"):
        with pytest.raises(ConfigurationError, match=f"the {name} parameter holds a password") as refused:
            RunConfig.from_params({name: f"postgresql+psycopg://reader:{PASSWORD}@db.example/x"})
        assert PASSWORD not in str(refused.value)
    with pytest.raises(ConfigurationError, match="the hash key is a secret and never a run parameter"):
        RunConfig.from_params({"hash_key": HASH_KEY})
    assert "hash_key" not in RunConfig().as_params()
    assert RunConfig.from_params({"target": "postgresql+psycopg://reader@db.example/x"}).target  # no password: fine


def test_the_cli_hands_a_password_to_the_dag_run_through_its_environment(monkeypatch):
    url = f"postgresql+psycopg://reader:{PASSWORD}@db.example/x"
    monkeypatch.delenv("SIS_MIGRATE_URL_TARGET", raising=False)
    params = params_without_secrets(RunConfig(target=url, sim="sqlite:///sim.sqlite"))
    assert params["target"] == "env:SIS_MIGRATE_URL_TARGET" and params["sim"] == "sqlite:///sim.sqlite"
    assert PASSWORD not in repr(params) and os.environ["SIS_MIGRATE_URL_TARGET"] == url
    assert resolve_source(params["target"]) == url
    with pytest.raises(ConfigurationError, match=r"the environment variable SIS_NOT_SET .* is not set"):
        resolve_source("env:SIS_NOT_SET")


def _with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def _files_holding(root: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {secret[:6]}..." for secret in secrets if secret.encode() in data]
    return found


@pytest.mark.slow
@pytest.mark.postgres
def test_a_rehearsal_with_passworded_locations_leaves_no_password_anywhere(
        tmp_path, airflow_db, pg_url_factory, monkeypatch, capfd):
    # trust authentication on the test server accepts any password: the run carries one all the same
    sim_url, target_url = _with_password(pg_url_factory()), _with_password(pg_url_factory())
    legacy_dir = tmp_path / "legacy"
    embedded = LegacyLocations.embedded_default(legacy_dir)
    write_district(District(SynthSpec(students=40, seed=4)).chunks(),
                   LegacyLocations(sim=sim_url, gradebook=embedded.gradebook, cim=embedded.cim, verify=embedded.verify))
    monkeypatch.setenv("SIS_MIGRATE_HASH_KEY", HASH_KEY)
    monkeypatch.setenv("SIS_TEST_SIM_URL", sim_url)  # the environment
    airflow_uri = target_url.replace("postgresql+psycopg://", "postgres://")
    monkeypatch.setenv("AIRFLOW_CONN_SIS_SECRET_TARGET", airflow_uri)  # an Airflow connection (secrets backend)
    staging = tmp_path / "staging"
    cfg = RunConfig(run_label="secret", sim="env:SIS_TEST_SIM_URL", target="sis_secret_target",
                    legacy_dir=str(legacy_dir), staging=str(staging))
    dag_run = run_dag("sis_rehearsal", cfg.as_params())
    assert str(dag_run.state).endswith("success")
    secrets = [PASSWORD, HASH_KEY]
    output = capfd.readouterr()
    assert [s for s in secrets if s in output.out or s in output.err] == []
    home = airflow_home()
    assert (home / "airflow.db").is_file()
    assert _files_holding(home, secrets) == []  # the metadata database (dag_run.conf, XCom, logs) and log files
    assert _files_holding(staging, secrets) == []  # every artifact: staging, reports, Data Docs, worklist
    assert _files_holding(tmp_path / "work", secrets) == [] if (tmp_path / "work").exists() else True
    target = create_engine(target_url)
    with target.connect() as conn:
        for schema in ("rehearsal_secret", "sis_migrate_locks"):
            for name in inspect(target).get_table_names(schema=schema):
                dumped = repr(conn.execute(text(f'SELECT * FROM "{schema}"."{name}"')).fetchall())
                assert [s for s in secrets if s in dumped] == [], f"{schema}.{name}"
    target.dispose()
    # the search finds what is there: the hash key was used, and a planted password would be found
    (staging / "planted.txt").write_text(f"x {PASSWORD} y")
    assert _files_holding(staging, secrets) == [f"{staging / 'planted.txt'}: {PASSWORD[:6]}..."]
