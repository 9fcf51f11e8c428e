"""Benchmark: generate a district and write it (a) into the embedded default and (b) into servers.

    .venv/bin/python bench/synth.py --students 36000            # a tenth of the district
    .venv/bin/python bench/synth.py --preset district --target servers

Target ``embedded``: SQLite files and a Verify folder in a temporary directory. Target
``servers``: SIM and CIM into two fresh PostgreSQL databases, Gradebook into a fresh MariaDB
database, Verify into a temporary folder; the databases are created here and dropped afterwards.
Each target runs in its own child process so its peak memory (``ru_maxrss``) is its own.
Prints per table rows, seconds spent writing and rows/s, then generation and total time.
Goal: the district (360,000 students) in under 10 minutes on 2 cores.

Measured 2026-11-24 on the shared 2-core box (load average about 3.5 from other work):
- 36,000 students, 16.8M rows: embedded 44s (generation 5s, writing 39s, 425k rows/s), peak 546 MB;
  servers 110s (writing 103s, 163k rows/s; MariaDB's Score and ClassAttendance are 86s of it), peak 484 MB.
- district, embedded, niced: 168M rows in 685s (generation 75s, SQLite writing 606s, 277k rows/s),
  peak 1.7 GB; 414s of user CPU, so about 7.5 minutes on two otherwise idle cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sis_migrate.locations import LegacyLocations  # noqa: E402
from synthetic.presets import PRESETS  # noqa: E402

PG_ADMIN_URL = os.environ.get("SIS_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
MARIADB_ADMIN_URL = os.environ.get("SIS_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


class TimedChunks:
    """Wraps the generator's chunks and adds up the time spent producing them."""

    def __init__(self, chunks: Iterator):
        self._chunks = chunks
        self.seconds = 0.0

    def __iter__(self):
        while True:
            started = time.perf_counter()
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.seconds += time.perf_counter() - started
                return
            self.seconds += time.perf_counter() - started
            yield chunk


def run_target(target: str, students: int, seed: int) -> None:
    import sqlalchemy as sa

    from synthetic.generator import District, SynthSpec
    from synthetic.writers import DistrictWriter

    with tempfile.TemporaryDirectory(prefix="bench-synth-") as folder:
        databases: list[tuple[str, str]] = []
        if target == "embedded":
            locations = LegacyLocations.embedded_default(Path(folder) / "legacy")
        else:
            sim, cim = _create_database(PG_ADMIN_URL, databases), _create_database(PG_ADMIN_URL, databases)
            gradebook = _create_database(MARIADB_ADMIN_URL, databases)
            locations = LegacyLocations(sim=sim, gradebook=gradebook, cim=cim, verify=str(Path(folder) / "verify"))
        try:
            started = time.perf_counter()
            chunks = TimedChunks(iter(District(SynthSpec(students=students, seed=seed)).chunks()))
            writer = DistrictWriter(locations)
            try:
                writer.open(replace=False)
                for chunk in chunks:
                    writer.write(chunk)
                writer.finish()
            finally:
                writer.close()
            total = time.perf_counter() - started
        finally:
            for admin_url, name in databases:
                admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{force}"))
                admin.dispose()

    print(f"\n== target {target}: {students:,} students, seed {seed}")
    print(f"{'table':<40} {'rows':>12} {'write s':>9} {'rows/s':>12}")
    for label, stats in writer.stats.items():
        rate = stats.rows / stats.write_seconds if stats.write_seconds else 0.0
        print(f"{label:<40} {stats.rows:>12,} {stats.write_seconds:>9.1f} {rate:>12,.0f}")
    rows = sum(stats.rows for stats in writer.stats.values())
    written = sum(stats.write_seconds for stats in writer.stats.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'all tables':<40} {rows:>12,} {written:>9.1f} {rows / written if written else 0:>12,.0f}")
    print(f"generation {chunks.seconds:.1f}s, writing {written:.1f}s, total {total:.1f}s "
          f"({rows / total:,.0f} rows/s end to end), peak memory {peak_mb:,.0f} MB")


def _create_database(admin_url: str, created: list[tuple[str, str]]) -> str:
    import sqlalchemy as sa

    name = f"sis_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    created.append((admin_url, name))
    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=list(PRESETS), default="district", help="size (default: district)")
    parser.add_argument("--students", type=int, default=None, help="students, overriding the preset")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--target", choices=["embedded", "servers", "both"], default="both",
                        help="where to write (default: both, each in its own process)")
    args = parser.parse_args()
    students = args.students or PRESETS[args.preset]
    if args.target != "both":
        run_target(args.target, students, args.seed)
        return 0
    for target in ("embedded", "servers"):
        command = [sys.executable, __file__, "--students", str(students), "--seed", str(args.seed), "--target", target]
        if subprocess.run(command, check=False).returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
