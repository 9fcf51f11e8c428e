"""
### SIS migration rehearsal

Runs the whole migration of the four legacy systems (SIM, Gradebook, CIM, Verify) into a scratch
target, and tells the migration team what happened to every legacy row.

`check_mappings` (closed world: every legacy column mapped, ignored or denied, before any row is
read) → `extract` (one mapped task per legacy table; SQL names only mapped columns; chunked) →
`stage` (run manifest: rows, columns, SHA-256 per file, hash of mappings and expectations; a
value-free profile of each source) → `transform_core` and `transform_facts` (unified schema,
quarantine with reasons, merges with survivor keys) → `derive` → `validate` (Great Expectations,
one mapped task and context per batch of entities) → `gather_validation` (a blocking failure
stops the run before anything loads) → `load` (fresh schema or SQLite file per run) →
`reconcile` (rows in = loaded + merged + quarantined, per table and per school; rows and key
checksums per entity and school, the same SQL in the target and over the unified data) →
`validate_target` (the suites inside the target) →
`report` (Data Docs, migration report, restricted steward worklist, summary) →
`publish` (the loaded target swapped in and the reports pointed at, together, last).

Every task writes under the run's own attempt folder in staging and loads a candidate target
beside the published one: until `publish`, the label's previous target and reports stay visible
and unchanged, and a failed run leaves them as they were. The run label is locked (in the target
and in staging) from `check_mappings` to `publish`: a second run of the same label is refused.
Each task has an execution timeout suited to its size, so a hung source or target fails the run.

Sources and target are Airflow connection ids, `env:<VARIABLE>` or SQLAlchemy URLs without a
password (a password in a param would sit in clear in `dag_run.conf`); empty means the embedded
default (SQLite files and a Verify folder under `work/legacy`). Re-running a run label replaces
its own results. XCom carries counts and staged paths only, never row values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

# Execution timeouts, by the size of the work: a hung source, staging or target fails the task
# (and, once its retries are spent, the run) instead of holding the run forever.
MINUTES = {"check_mappings": 10, "extract": 120, "stage": 30, "transform_core": 120, "transform_facts": 120,
           "derive": 60, "validate": 60, "gather_validation": 10, "load": 180, "reconcile": 60,
           "validate_target": 60, "report": 60, "publish": 15}


def timeout(task_id: str) -> timedelta:
    return timedelta(minutes=MINUTES[task_id])


PARAMS = {
    "run_label": Param("rehearsal", type="string", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$",
                       description="Names the run: its staging folder and target schema. Reusing it replaces them."),
    "school_year": Param("2018-2019", type="string", pattern=r"^\d{4}-\d{4}$",
                         description="The current school year of the migration."),
    "sim": Param("", type="string", description="SIM: SQLAlchemy URL or Airflow connection id ('' = embedded)."),
    "gradebook": Param("", type="string", description="Gradebook: SQLAlchemy URL or connection id."),
    "cim": Param("", type="string", description="CIM: SQLAlchemy URL or connection id."),
    "verify": Param("", type="string", description="Verify exports: a folder or s3://bucket/prefix."),
    "target": Param("", type="string", description="Target: PostgreSQL URL/connection id, or '' for SQLite."),
    "staging": Param("", type="string", description="Staging: a folder or s3://bucket/prefix."),
    "legacy_dir": Param("", type="string", description="Folder of the embedded default legacy district."),
    "chunk_rows": Param(200_000, type="integer", minimum=1000, description="Rows per extract chunk."),
}


@dag(
    dag_id="sis_rehearsal",
    start_date=datetime(2019, 1, 1),
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["sis-migration", "rehearsal"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=15)},
    params=PARAMS,
    doc_md=__doc__,
)
def sis_rehearsal():
    @task(execution_timeout=timeout("check_mappings"), retries=0)
    def check_mappings(params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("check_mappings", params)

    @task(execution_timeout=timeout("extract"), map_index_template="{{ table['system'] }}.{{ table['table'] }}")
    def extract(table: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("extract", params, table)

    @task(execution_timeout=timeout("stage"))
    def stage(extracted: list[dict], params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("stage", params, list(extracted))

    @task(execution_timeout=timeout("transform_core"))
    def transform_core(staged: dict, params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("transform_core", params, staged)

    @task(execution_timeout=timeout("transform_facts"), map_index_template="{{ table['table'] }}")
    def transform_facts(table: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("transform_facts", params, table)

    @task(execution_timeout=timeout("derive"))
    def derive(facts: list[dict], params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("derive", params, list(facts))

    @task(execution_timeout=timeout("validate"), map_index_template="{{ batch['entities'][0] }} ...")
    def validate(batch: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("validate", params, batch)

    @task(execution_timeout=timeout("gather_validation"), retries=0)
    def gather_validation(parts: list[dict], params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("gather_validation", params, list(parts))

    @task(execution_timeout=timeout("load"))
    def load(validated: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("load", params, validated)

    @task(execution_timeout=timeout("reconcile"), retries=0)
    def reconcile(loaded: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("reconcile", params, loaded)

    @task(execution_timeout=timeout("validate_target"), retries=0)
    def validate_target(reconciled: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("validate_target", params, reconciled)

    @task(execution_timeout=timeout("report"))
    def report(validated: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("report", params, validated)

    @task(execution_timeout=timeout("publish"))
    def publish(validated: dict, reported: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("publish", params, validated, reported)

    staged = stage(extract.expand(table=check_mappings()))
    facts = transform_facts.expand(table=transform_core(staged))
    checked = gather_validation(validate.expand(batch=derive(facts)))
    validated = validate_target(reconcile(load(checked)))
    publish(validated, report(validated))


sis_rehearsal()
