"""The stages of a rehearsal, in the order they run; each a function of (run configuration, inputs).

    check     preflight of every location, the run label locked, the closed world against the live sources
    extract   one legacy table into staged Parquet parts (only mapped columns are selected)
    stage     the run manifest and a value-free profile of every staged table (validation point 1)
    unify     legacy rows to unified entities; every row kept, merged or quarantined with a reason
    derive    entities no legacy system holds as rows (daily attendance, descriptors)
    validate  Great Expectations suites on the unified data (point 2) and in the target (point 3)
    load      the unified data into a fresh candidate target, beside the published one
    reconcile rows in = loaded + merged + quarantined, and the candidate equal to the unified data
    report    Data Docs, the migration report, the steward worklist and the summary
    publish   the candidate target and the run's reports made the label's visible ones, last

Each stage reads what earlier stages staged under the run's root and returns a small JSON-able
dict (counts and staged paths, never row values): what Airflow passes on as XCom. In a DAG run
the root is ``<staging>/<run id>/attempts/<DAG run id>/``, beside ``lock.json`` and
``published.json`` (which attempt the label's visible target and reports come from); stages
called outside Airflow use ``<staging>/<run id>/``. Staging layout (relative to the run's root):

    manifest.json                                  rows, columns, SHA-256 per file, config hash
    extract/<system>/<table>/part-NNNNN.parquet    legacy rows, mapped columns only
    unified/<entity>/<system>.<table>-NNNNN.parquet
    quarantine/<system>.<table>/NNNNN.parquet      legacy key, reason, column at fault
    merge/<system>.<table>/NNNNN.parquet           legacy key, survivor key, reason
    accounting/<system>.<table>.json               rows in / loaded / merged / quarantined, per school
    state/                                         what the core transform hands to the fact transforms
    timings/<stage>.json, reconcile.json, validation/, report/

Nothing here imports Airflow: :mod:`sis_migrate.airflow_adapter` runs these for the DAGs, and the
CLI commands call them too.
"""
