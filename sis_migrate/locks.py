"""One run per label at a time: a lock in the target and one in staging, naming who holds them.

Input: the run configuration and the holder (this DAG run). Output: the locks taken, or
:class:`RunLocked` naming the holder (DAG run, attempt, host, pid, since; never a secret).

Where the locks are:

- PostgreSQL target: a row per label in ``sis_migrate_locks.run_lock``. A DAG run's tasks are
  separate processes (and connections), so no session lock can span the run: the row records the
  holder, and ``pg_advisory_xact_lock`` on the label serialises every read-decide-write of it.
- SQLite target: a lock file beside it, ``<target>.lock``; staging: ``<staging>/<run id>/lock.json``.
  Both are written with :meth:`~sis_migrate.storage.Store.compare_and_put` (a ``flock``-guarded
  swap on a folder, a conditional put on S3), so of two runs that read the same lock one wins.
  An empty lock file is a free lock.

A holder is the same run when it names the same Airflow DAG run (a retried or later task of it).
Another run's lock is stale, and is taken over, when Airflow reports that DAG run ended (success
or failed), or when the process that ran the whole DAG run (``dag.test()``, the CLI) is gone from
this host. Otherwise the new run is refused at once. The check task takes the locks; the publish
task releases them as its last step; a failed run's locks go stale with its DAG run.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from sis_migrate.errors import ConfigurationError, SourceError

LOCK_SCHEMA = "sis_migrate_locks"
STAGING_LOCK = "lock.json"
DAG_PROCESS_ENV = "SIS_MIGRATE_DAG_PROCESS"  # set by airflow_env.run_dag: the pid running the whole DAG run
ENDED_STATES = {"success", "failed"}


class RunLocked(ConfigurationError):
    """Another run of the same label holds its lock: wait for it, or start the run under another label."""


@dataclass(frozen=True)
class Holder:
    label: str
    dag_id: str
    dag_run: str
    attempt: str
    host: str
    pid: int
    process_runs_dag: bool  # the pid lives as long as the DAG run (dag.test); else it is one task's process
    since: str

    @classmethod
    def current(cls, label: str, dag_id: str, dag_run: str, attempt: str) -> Holder:
        return cls(label=label, dag_id=dag_id, dag_run=dag_run, attempt=attempt, host=socket.gethostname(),
                   pid=os.getpid(), process_runs_dag=os.environ.get(DAG_PROCESS_ENV) == str(os.getpid()),
                   since=datetime.now(UTC).isoformat(timespec="seconds"))

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes | str | None) -> Holder | None:
        if not data:
            return None
        try:
            return cls(**json.loads(data))
        except (TypeError, ValueError):
            return None  # a lock nobody can read names nobody: it is taken over

    def same_run(self, other: Holder) -> bool:
        return (self.dag_id, self.dag_run) == (other.dag_id, other.dag_run)

    def describe(self) -> str:
        return (f"DAG run {self.dag_run} of {self.dag_id} (attempt {self.attempt}) on host {self.host}, "
                f"pid {self.pid}, since {self.since}")


def holder_for(cfg) -> Holder:
    """This run as a lock holder: its DAG run, or (stages called outside Airflow) this process, which is then
    the whole run: its lock is stale once the process is gone."""
    holder = Holder.current(cfg.run_id, cfg.dag_id or "(no DAG)", cfg.dag_run or f"process-{os.getpid()}",
                            cfg.attempt)
    return holder if cfg.dag_run else replace(holder, process_runs_dag=True)


def is_stale(holder: Holder) -> bool:
    """The holder's run is over: Airflow says its DAG run ended, or the process running it is gone."""
    state = _dag_run_state(holder)
    if state in ENDED_STATES:
        return True
    return holder.process_runs_dag and holder.host == socket.gethostname() and not _alive(holder.pid)


def _dag_run_state(holder: Holder) -> str | None:
    """The DAG run's state as Airflow knows it, asked from inside a task; None outside one or if unknown."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        return str(RuntimeTaskInstance.get_dagrun_state(holder.dag_id, holder.dag_run)).rsplit(".", 1)[-1].lower()
    except Exception:  # noqa: BLE001 - not in a task, or the run is unknown: the pid decides
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refuse(where: str, holder: Holder) -> RunLocked:
    return RunLocked(f"run label {holder.label} is in use: {where} is locked by {holder.describe()}; "
                     "a second run of the same label is refused. Wait for it to end (or mark that DAG run "
                     "failed in Airflow), or use another run label")


# --- one lock file (SQLite target, staging) -------------------------------------------------------

def _take_file(store, relpath: str, mine: Holder, where: str) -> None:
    current = store.read_optional(relpath)
    holder = Holder.decode(current)
    if holder is not None and not holder.same_run(mine) and not is_stale(holder):
        raise _refuse(where, holder)
    if not store.compare_and_put(relpath, mine.encode(), expected=current):
        raise _refuse(where, Holder.decode(store.read_optional(relpath)) or mine)


def _release_file(store, relpath: str, mine: Holder) -> None:
    current = store.read_optional(relpath)
    holder = Holder.decode(current)
    if holder is not None and holder.same_run(mine):
        store.compare_and_put(relpath, b"", expected=current)


def _sqlite_lock(target):
    from sis_migrate.storage import Store

    path = target.published().sqlite_path
    return Store(str(path.parent)), f"{path.name}.lock"


# --- the PostgreSQL lock row ------------------------------------------------------------------------

def _pg_lock(url: str, label: str, decide) -> None:
    """Run ``decide(conn, holder_or_None)`` with the label's row read under its advisory lock."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    from sis_migrate.locations import redact_url

    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                         {"key": f"sis_migrate:{label}"})
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {LOCK_SCHEMA}"))
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {LOCK_SCHEMA}.run_lock "
                              "(label text PRIMARY KEY, holder text NOT NULL)"))
            found = conn.execute(text(f"SELECT holder FROM {LOCK_SCHEMA}.run_lock WHERE label = :label"),
                                 {"label": label}).scalar()
            decide(conn, Holder.decode(found))
    except DBAPIError as err:
        raise SourceError(f"the run lock of {label} in the target {redact_url(url)} could not be read or written "
                          f"({type(err).__name__}); retry when the target answers") from err
    finally:
        engine.dispose()


def _take_pg(url: str, mine: Holder, where: str) -> None:
    from sqlalchemy import text

    def decide(conn, holder):
        if holder is not None and not holder.same_run(mine) and not is_stale(holder):
            raise _refuse(where, holder)
        conn.execute(text(f"INSERT INTO {LOCK_SCHEMA}.run_lock (label, holder) VALUES (:label, :holder) "
                          "ON CONFLICT (label) DO UPDATE SET holder = EXCLUDED.holder"),
                     {"label": mine.label, "holder": mine.encode().decode()})

    _pg_lock(url, mine.label, decide)


def _release_pg(url: str, mine: Holder) -> None:
    from sqlalchemy import text

    def decide(conn, holder):
        if holder is not None and holder.same_run(mine):
            conn.execute(text(f"DELETE FROM {LOCK_SCHEMA}.run_lock WHERE label = :label"), {"label": mine.label})

    _pg_lock(url, mine.label, decide)


# --- the run's locks ----------------------------------------------------------------------------------

def acquire(cfg, mine: Holder) -> None:
    """Take the target's lock, then staging's; refused (and nothing kept) if another live run holds either."""
    from sis_migrate.stages.load import Target

    target = Target(cfg.target_url(), cfg.run_id)
    if target.dialect == "postgresql":
        _take_pg(target.url, mine, f"the target {target.describe()}")
    else:
        store, relpath = _sqlite_lock(target)
        _take_file(store, relpath, mine, f"the target {target.describe()}")
    staging = cfg.staging_area().run_store
    try:
        _take_file(staging, STAGING_LOCK, mine, f"staging {staging.uri()}")
    except BaseException:
        release_target(cfg, mine)
        raise


def release_target(cfg, mine: Holder) -> None:
    from sis_migrate.stages.load import Target

    target = Target(cfg.target_url(), cfg.run_id)
    if target.dialect == "postgresql":
        _release_pg(target.url, mine)
    else:
        _release_file(*_sqlite_lock(target), mine)


def release(cfg, mine: Holder) -> None:
    """Give up both locks if this run holds them (a lock another run took over is left alone)."""
    _release_file(cfg.staging_area().run_store, STAGING_LOCK, mine)
    release_target(cfg, mine)


def holder_of(cfg) -> Holder | None:
    """Who holds the run label's staging lock (for messages and tests)."""
    return Holder.decode(cfg.staging_area().run_store.read_optional(STAGING_LOCK))
