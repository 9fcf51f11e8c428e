"""Per-stage progress lines with counts and rates, for long work in a terminal or an Airflow log.

Lines carry names of systems, tables and stages and counts only, never a row value. They go to
the ``sis_migrate.progress`` logger at INFO: the CLI shows them on stderr, Airflow in the task log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Printer = Callable[[str], None]

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """Counts rows for one stage and prints a line at most every ``every`` seconds, and at the end."""

    stage: str
    total: int | None = None
    every: float = 2.0
    printer: Printer = log.info
    rows: int = 0
    _started: float = field(default_factory=time.perf_counter)
    _last_print: float = 0.0

    def add(self, rows: int, detail: str = "") -> None:
        self.rows += rows
        now = time.perf_counter()
        if now - self._last_print >= self.every:
            self._last_print = now
            self.printer(self._line(detail))

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._started

    def done(self, detail: str = "") -> float:
        self.printer(self._line(detail, finished=True))
        return self.seconds

    def _line(self, detail: str, finished: bool = False) -> str:
        seconds = self.seconds
        rate = self.rows / seconds if seconds > 0 else 0.0
        of_total = f"/{self.total:,}" if self.total else ""
        state = "done" if finished else "..."
        suffix = f" {detail}" if detail else ""
        return f"[{self.stage}] {state} {self.rows:,}{of_total} rows in {seconds:.1f}s ({rate:,.0f} rows/s){suffix}"
