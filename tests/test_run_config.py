"""Run configuration: params validated, Airflow connection ids resolved to SQLAlchemy URLs."""

import pytest

from sis_migrate.errors import ConfigurationError
from sis_migrate.run_config import RunConfig, resolve_source


def test_connection_ids_become_sqlalchemy_urls(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SIM_LEGACY", "postgres://reader@10.0.0.5:5432/sim")
    monkeypatch.setenv("AIRFLOW_CONN_GRADEBOOK_LEGACY", "mysql://reader@10.0.0.6:3306/gradebook")
    assert resolve_source("sim_legacy") == "postgresql+psycopg://reader@10.0.0.5:5432/sim"
    assert resolve_source("gradebook_legacy") == "mysql+pymysql://reader@10.0.0.6:3306/gradebook"
    assert resolve_source("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert resolve_source("") == ""
    with pytest.raises(ConfigurationError, match="no_such_connection"):
        resolve_source("no_such_connection")


@pytest.mark.parametrize("params, problem", [
    ({"run_label": "has space"}, "run label"),
    ({"run_label": "../escape"}, "run label"),
    ({"school_year": "2018-2020"}, "school year"),
    ({"chunk_rows": 10}, "chunk_rows"),
])
def test_bad_params_are_configuration_errors(params, problem):
    with pytest.raises(ConfigurationError, match=problem):
        RunConfig.from_params(params)


def test_the_embedded_default_fills_what_is_not_given(work_dir):
    cfg = RunConfig.from_params({"run_label": "Rehearsal-7", "sim": None})
    assert cfg.run_id == "rehearsal-7" and cfg.prior_school_year == "2017-2018"
    assert cfg.locations().sim == f"sqlite:///{work_dir / 'legacy' / 'sim.sqlite'}"
    assert cfg.target_url() == f"sqlite:///{work_dir / 'target' / 'rehearsal-7.sqlite'}"
    assert cfg.staging_location() == str(work_dir / "staging")
