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
`report` (Data Docs, migration report, restricted steward worklist, summary).

Sources are SQLAlchemy URLs or Airflow connection ids; empty means the embedded default
(SQLite files and a Verify folder under `work/legacy`). Re-running a run label replaces its own
results. XCom carries counts and staged paths only, never row values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

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
    @task(retries=0)
    def check_mappings(params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("check_mappings", params)

    @task(map_index_template="{{ table['system'] }}.{{ table['table'] }}")
    def extract(table: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("extract", params, table)

    @task
    def stage(extracted: list[dict], params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("stage", params, list(extracted))

    @task
    def transform_core(staged: dict, params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("transform_core", params, staged)

    @task(map_index_template="{{ table['table'] }}")
    def transform_facts(table: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("transform_facts", params, table)

    @task
    def derive(facts: list[dict], params=None) -> list[dict]:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("derive", params, list(facts))

    @task(map_index_template="{{ batch['entities'][0] }} ...")
    def validate(batch: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("validate", params, batch)

    @task(retries=0)
    def gather_validation(parts: list[dict], params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("gather_validation", params, list(parts))

    @task
    def load(validated: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("load", params, validated)

    @task(retries=0)
    def reconcile(loaded: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("reconcile", params, loaded)

    @task(retries=0)
    def validate_target(reconciled: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("validate_target", params, reconciled)

    @task
    def report(validated: dict, params=None) -> dict:
        from sis_migrate.airflow_adapter import run_stage

        return run_stage("report", params, validated)

    staged = stage(extract.expand(table=check_mappings()))
    facts = transform_facts.expand(table=transform_core(staged))
    checked = gather_validation(validate.expand(batch=derive(facts)))
    report(validate_target(reconcile(load(checked))))


sis_rehearsal()
