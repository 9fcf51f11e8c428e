"""Write Verify's export files into a folder or under ``s3://bucket/prefix``.

A file is one table on one export day. Chunks of a file are appended as they come (header with
the first), so a 400,000-row export never sits in memory. On S3 each file is spooled to a local
temporary file and sent with one ``put_object`` when the district is complete, always with
server-side encryption asked for (``ServerSideEncryption="AES256"``).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from sis_migrate import legacy
from sis_migrate.legacy import VERIFY_FILE_PATTERN
from sis_migrate.locations import is_s3, split_s3
from sis_migrate.sources.verify import export_file_name, list_names, s3_client, s3_source_error, write_verify_file

SERVER_SIDE_ENCRYPTION = "AES256"


class VerifyTarget:
    """Verify's exports at one location (folder or S3 prefix)."""

    def __init__(self, location: str):
        self.location = location
        self._s3 = is_s3(location)
        self._spool = Path(tempfile.mkdtemp(prefix="synth-verify-")) if self._s3 else None
        self._folder = self._spool if self._s3 else Path(location)
        self._started: set[str] = set()

    @property
    def where(self) -> str:
        return f"verify location {self.location}"

    def existing_files(self) -> list[str]:
        """Export files already at the location (a non-empty target)."""
        if not self._s3 and not Path(self.location).exists():
            return []
        return sorted(name for name in list_names(self.location) if VERIFY_FILE_PATTERN.match(name))

    def clear(self, names: list[str]) -> None:
        if not self._s3:
            for name in names:
                (Path(self.location) / name).unlink()
            return
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3(self.location)
        client = s3_client()
        try:
            for start in range(0, len(names), 1000):
                batch = [{"Key": _key(prefix, name)} for name in names[start:start + 1000]]
                client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except (BotoCoreError, ClientError) as err:
            raise s3_source_error(err, self.location) from err

    def create(self) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)

    def write(self, table: legacy.Table, frame: pd.DataFrame, day: date) -> None:
        name = export_file_name(table.name, day)
        first = name not in self._started
        self._started.add(name)
        with open(self._folder / name, "wb" if first else "ab") as out:
            out.write(write_verify_file(frame, table, include_header=first))

    def finish(self) -> None:
        """Send the spooled files to S3 (a folder target has nothing left to do)."""
        if not self._s3:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3(self.location)
        client = s3_client()
        for name in sorted(self._started):
            try:
                with open(self._folder / name, "rb") as body:
                    client.put_object(Bucket=bucket, Key=_key(prefix, name), Body=body,
                                      ServerSideEncryption=SERVER_SIDE_ENCRYPTION)
            except (BotoCoreError, ClientError) as err:
                raise s3_source_error(err, self.location) from err

    def close(self) -> None:
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)


def _key(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name
