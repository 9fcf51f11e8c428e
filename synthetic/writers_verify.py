"""Write Verify's export files into a folder or under ``s3://bucket/prefix``.

A file is one table on one export day. Chunks of a file are appended as they come (header with
the first) to a local spool file, so a 400,000-row export never sits in memory; when the district
is complete each file is sent to the location through :mod:`sis_migrate.storage` in one write,
the same way to a folder (written aside, renamed into place, so no half file is ever seen) as to
S3 (one ``put_object``, server-side encryption asked for).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from sis_migrate import legacy
from sis_migrate.errors import SourceError
from sis_migrate.legacy import VERIFY_FILE_PATTERN
from sis_migrate.sources.verify import export_file_name, write_verify_file
from sis_migrate.storage import Store


class VerifyTarget:
    """Verify's exports at one location (folder or S3 prefix)."""

    def __init__(self, location: str):
        self.location = location
        self.store = Store(location)
        self._spool = Path(tempfile.mkdtemp(prefix="synth-verify-"))
        self._started: set[str] = set()

    @property
    def where(self) -> str:
        return f"verify location {self.location}"

    def existing_files(self) -> list[str]:
        """Export files already at the location (a non-empty target)."""
        return sorted(name for name in self.store.list(recursive=False) if VERIFY_FILE_PATTERN.match(name))

    def clear(self, names: list[str]) -> None:
        self.store.delete_files(names)

    def write(self, table: legacy.Table, frame: pd.DataFrame, day: date) -> None:
        name = export_file_name(table.name, day)
        first = name not in self._started
        data = write_verify_file(frame, table, include_header=first)
        try:
            with open(self._spool / name, "wb" if first else "ab") as out:
                out.write(data)
        except OSError as err:
            raise SourceError(f"could not spool {name} for the {self.where} in {self._spool}: {err.strerror}; "
                              "free space in the temporary folder (TMPDIR), then retry") from err
        self._started.add(name)

    def finish(self) -> None:
        """Send every spooled file to the location."""
        for name in sorted(self._started):
            self.store.write_file(name, self._spool / name)

    def close(self) -> None:
        shutil.rmtree(self._spool, ignore_errors=True)
