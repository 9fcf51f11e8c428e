"""Run the project's DAGs through Airflow itself, with a metadata database in the work folder.

``AIRFLOW_HOME`` defaults to ``work/airflow`` so a fresh clone needs nothing set by hand. The
environment must be in place before Airflow is first imported, which is why the CLI calls
:func:`prepare` before it imports anything of Airflow's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sis_migrate.errors import ConfigurationError
from sis_migrate.locations import PROJECT_ROOT, work_dir

DAGS_FOLDER = PROJECT_ROOT / "dags"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or work_dir() / "airflow")


def prepare() -> Path:
    """Set Airflow's environment for this project and migrate its metadata DB once."""
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    stamp = home / ".db-migrated"
    if not stamp.exists():
        airflow = Path(sys.executable).with_name("airflow")
        done = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise ConfigurationError(f"`airflow db migrate` failed in {home}:\n{tail}")
        stamp.touch()
    return home


def run_dag(dag_id: str, conf: dict, mark_success_pattern: str | None = None):
    """Run one DAG run through ``dag.test()`` and return the finished DagRun."""
    prepare()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise ConfigurationError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise ConfigurationError(f"no DAG {dag_id!r} in {DAGS_FOLDER}")
    from sis_migrate.locks import DAG_PROCESS_ENV

    os.environ[DAG_PROCESS_ENV] = str(os.getpid())  # this process runs the whole DAG run (see locks)
    kwargs = {"run_conf": conf}
    if mark_success_pattern:
        kwargs["mark_success_pattern"] = mark_success_pattern
    return dag.test(**kwargs)
