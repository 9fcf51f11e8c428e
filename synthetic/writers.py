"""Put a synthetic legacy district where each legacy system lives.

``write_district`` routes each generated chunk to its system's location (``LegacyLocations``):
SIM, Gradebook and CIM to any SQLAlchemy URL (``synthetic.writers_sql``), Verify to a folder or
S3 prefix (``synthetic.writers_verify``). Before a row is written every location is checked: a
location that already holds legacy tables or export files stops the run, naming the location,
unless ``replace`` is given, in which case those tables and files are removed first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import RELATIONAL_SYSTEMS, System
from sis_migrate.locations import LegacyLocations
from sis_migrate.progress import Printer, Progress
from synthetic.writers_sql import SqlTarget
from synthetic.writers_verify import VerifyTarget


class Chunk(Protocol):
    """What the generator yields (``synthetic.generator.TableChunk``)."""

    table: legacy.Table
    frame: pd.DataFrame
    export_day: object  # datetime.date for Verify tables, None otherwise


@dataclass
class TableStats:
    rows: int = 0
    write_seconds: float = 0.0


@dataclass
class DistrictWriter:
    """Writes chunks to the four locations; keeps per-table rows and seconds spent writing."""

    locations: LegacyLocations
    progress: Printer | None = None
    stats: dict[str, TableStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sql_targets: dict[System, SqlTarget] = {}
        self.verify_target: VerifyTarget | None = None
        self._progress: dict[str, Progress] = {}

    def open(self, replace: bool) -> None:
        """Connect to every location, check they are empty (or clear them), create the tables."""
        for system in RELATIONAL_SYSTEMS:
            self.sql_targets[system] = SqlTarget(system, self.locations.url(system))
        self.verify_target = VerifyTarget(self.locations.verify)
        found = {target.where: target.existing_tables() for target in self.sql_targets.values()}
        found[self.verify_target.where] = self.verify_target.existing_files()
        occupied = []
        for where, names in found.items():
            if names:
                kind = "export files" if where == self.verify_target.where else "legacy tables"
                shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
                occupied.append(f"{where} already holds {len(names)} {kind} ({shown})")
        if occupied and not replace:
            raise ConfigurationError(f"{'; '.join(occupied)}: pass --replace to overwrite")
        for target in self.sql_targets.values():
            if found[target.where]:
                target.clear(found[target.where])
            target.create()
        if found[self.verify_target.where]:
            self.verify_target.clear(found[self.verify_target.where])

    def write(self, chunk: Chunk) -> None:
        table = chunk.table
        label = f"{table.system.value}.{table.name}"
        if self.progress is not None and label not in self._progress:
            self._progress[label] = Progress(stage=f"synth {label}", printer=self.progress)
        started = time.perf_counter()
        if table.system is System.VERIFY:
            if chunk.export_day is None:
                raise ConfigurationError(f"{label}: a Verify chunk needs its export day")
            self.verify_target.write(table, chunk.frame, chunk.export_day)
        else:
            self.sql_targets[table.system].write(table, chunk.frame)
        stats = self.stats.setdefault(label, TableStats())
        stats.rows += len(chunk.frame)
        stats.write_seconds += time.perf_counter() - started
        if self.progress is not None:
            self._progress[label].add(len(chunk.frame))

    def finish(self) -> None:
        self.verify_target.finish()
        if self.progress is None:
            return
        # Chunks of tables interleave with generation, so the rate that means something at the end is
        # rows over the seconds spent writing that table (Progress's own clock runs from its first chunk).
        for label, stats in self.stats.items():
            rate = stats.rows / stats.write_seconds if stats.write_seconds > 0 else 0.0
            self.progress(f"[synth {label}] done {stats.rows:,} rows written in {stats.write_seconds:.1f}s "
                          f"({rate:,.0f} rows/s)")

    def close(self) -> None:
        for target in self.sql_targets.values():
            target.close()
        if self.verify_target is not None:
            self.verify_target.close()

    def rows(self) -> dict[str, int]:
        return {label: stats.rows for label, stats in self.stats.items()}


def write_district(chunks: Iterable[Chunk], locations: LegacyLocations, replace: bool = False,
                   progress: Printer | None = None) -> dict[str, int]:
    """Write every chunk to its system's location; rows written per ``"system.table"``.

    Every catalog table of the relational systems is created even when no chunk names it.
    ``progress`` receives per-table progress lines (None: silent).
    """
    writer = DistrictWriter(locations, progress)
    try:
        writer.open(replace)
        for chunk in chunks:
            writer.write(chunk)
        writer.finish()
    finally:
        writer.close()
    return writer.rows()
