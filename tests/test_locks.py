"""One run per label at a time: a second holder is refused at once and told who holds the lock;
a stale lock of a dead run is taken over. On SQLite (a lock file), PostgreSQL (a row under an
advisory lock) and S3 staging (a conditional put)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from sis_migrate import locks
from sis_migrate.locks import Holder, RunLocked
from sis_migrate.run_config import RunConfig


def _holder(name: str, pid: int | None = None, runs_dag: bool = True) -> Holder:
    mine = Holder.current("shared", "sis_rehearsal", f"manual__{name}", name)
    return replace(mine, pid=pid or os.getpid(), process_runs_dag=runs_dag)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def _check_one_run_at_a_time(cfg: RunConfig) -> None:
    first = _holder("first")
    locks.acquire(cfg, first)
    locks.acquire(cfg, replace(first, since="later"))  # a later task of the same DAG run: still its lock
    with pytest.raises(RunLocked) as refused:
        locks.acquire(cfg, _holder("second"))
    message = str(refused.value)
    for part in ("run label shared is in use", "DAG run manual__first of sis_rehearsal", f"pid {os.getpid()}",
                 f"host {first.host}", "since "):
        assert part in message
    assert "\n" not in message
    assert locks.holder_of(cfg).same_run(first)  # the refused run took nothing, in staging or the target
    locks.release(cfg, first)
    second = _holder("second")
    locks.acquire(cfg, second)  # a released lock is free
    # a run whose process died (kill -9 of the CLI running dag.test) leaves a stale lock: taken over
    dead = _holder("dead", pid=_dead_pid())
    locks.release(cfg, second)
    locks.acquire(cfg, dead)
    third = _holder("third")
    locks.acquire(cfg, third)
    assert locks.holder_of(cfg).same_run(third)
    # a task process of a live DAG run under a scheduler dies between tasks: not stale by its pid alone
    between = _holder("between-tasks", pid=_dead_pid(), runs_dag=False)
    locks.release(cfg, third)
    locks.acquire(cfg, between)
    with pytest.raises(RunLocked, match="between-tasks"):
        locks.acquire(cfg, _holder("fourth"))


def test_sqlite_target_and_folder_staging(tmp_path):
    cfg = RunConfig(run_label="shared", target=f"sqlite:///{tmp_path / 'target.sqlite'}",
                    staging=str(tmp_path / "staging"))
    _check_one_run_at_a_time(cfg)
    assert (tmp_path / "target.sqlite.lock").is_file() and (tmp_path / "staging" / "shared" / "lock.json").is_file()


@pytest.mark.postgres
def test_postgresql_target_and_s3_staging(pg_url, s3_bucket):
    cfg = RunConfig(run_label="shared", target=pg_url, staging=f"s3://{s3_bucket}/staging")
    _check_one_run_at_a_time(cfg)


@pytest.mark.postgres
def test_the_target_lock_alone_refuses_a_second_run_with_other_staging(pg_url, tmp_path):
    first = RunConfig(run_label="shared", target=pg_url, staging=str(tmp_path / "a"))
    locks.acquire(first, _holder("first"))
    with pytest.raises(RunLocked, match=r"the target .* schema rehearsal_shared is locked by DAG run manual__first"):
        locks.acquire(replace(first, staging=str(tmp_path / "b")), _holder("second"))
    assert locks.holder_of(replace(first, staging=str(tmp_path / "b"))) is None  # nothing kept on refusal


def test_of_two_writers_that_read_the_same_lock_one_wins(tmp_path, s3_bucket):
    from sis_migrate.storage import Store

    for store in (Store(str(tmp_path)), Store(f"s3://{s3_bucket}/locks")):
        assert store.compare_and_put("lock.json", b"a", expected=None) is True
        assert store.compare_and_put("lock.json", b"b", expected=None) is False
        assert store.compare_and_put("lock.json", b"c", expected=b"a") is True
        assert store.compare_and_put("lock.json", b"d", expected=b"a") is False
        assert store.read_bytes("lock.json") == b"c"


@pytest.mark.slow
def test_a_second_rehearsal_of_a_label_in_use_is_refused_at_once(tmp_path, airflow_db, work_dir, capsys):
    """A live run holds the label (its process is alive): ``sis-migrate rehearse`` of the same label ends
    in its check task, naming the holder, and touches neither the holder's lock nor the target."""
    from sis_migrate.cli import main
    from sis_migrate.locations import LegacyLocations
    from synthetic.generator import District, SynthSpec
    from synthetic.writers import write_district

    legacy_dir = tmp_path / "legacy"
    write_district(District(SynthSpec(students=40, seed=2)).chunks(), LegacyLocations.embedded_default(legacy_dir))
    target, staging = tmp_path / "target.sqlite", tmp_path / "staging"
    cfg = RunConfig(run_label="busy", target=f"sqlite:///{target}", staging=str(staging), legacy_dir=str(legacy_dir))
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        holder = replace(Holder.current("busy", "sis_rehearsal", "manual__the-first-run", "first"), pid=live.pid,
                         process_runs_dag=True)
        locks.acquire(cfg, holder)
        status = main(["rehearse", "--run-label", "busy", "--target", f"sqlite:///{target}",
                       "--staging", str(staging), "--legacy-dir", str(legacy_dir)])
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert status == 2
        assert ("task check_mappings failed: RunLocked: run label busy is in use: the target "
                f"{target} is locked by DAG run manual__the-first-run of sis_rehearsal (attempt first) on host "
                f"{holder.host}, pid {live.pid}, since {holder.since}") in last
        assert locks.holder_of(cfg) == holder and not target.exists()
    finally:
        live.kill()
        live.wait()
