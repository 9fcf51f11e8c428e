"""The DAG file as Airflow sees it: imports cleanly, thin, and shaped as the migration team expects."""

import subprocess
import sys

from airflow.dag_processing.dagbag import DagBag

from sis_migrate.airflow_env import DAGS_FOLDER


def test_dag_imports_without_errors_and_has_every_stage():
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    dag = bag.dags["sis_rehearsal"]
    assert {t.task_id for t in dag.tasks} == {
        "check_mappings", "extract", "stage", "transform_core", "transform_facts", "derive", "validate",
        "gather_validation", "load", "reconcile", "validate_target", "report", "publish"}
    assert dag.catchup is False and dag.schedule is None and "sis-migration" in dag.tags
    assert dag.doc_md and "closed world" in dag.doc_md
    assert dag.get_task("extract").retries == 2
    assert dag.get_task("check_mappings").retries == 0  # a configuration error is not retried
    # every task is bounded, the big ones more loosely; publish runs last, after the report and the checks
    assert all(t.execution_timeout is not None for t in dag.tasks)
    assert dag.get_task("check_mappings").execution_timeout < dag.get_task("load").execution_timeout
    assert dag.get_task("publish").upstream_task_ids == {"report", "validate_target"}
    assert "hash_key" not in dag.params
    assert set(dag.params) >= {"run_label", "sim", "gradebook", "cim", "verify", "target", "staging"}


def test_dag_file_does_no_heavy_imports_at_module_level():
    code = ("import sys, runpy, airflow.sdk; before = set(sys.modules); runpy.run_path(sys.argv[1]); "
            "heavy = [m for m in ('pandas', 'pyarrow', 'sqlalchemy', 'great_expectations', 'sis_migrate') "
            "if m in set(sys.modules) - before]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code, str(DAGS_FOLDER / "sis_rehearsal.py")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
