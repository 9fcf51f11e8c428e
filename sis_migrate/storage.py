"""The staging area of one run: a local folder or an S3 prefix, laid out as ``<staging>/<run id>/``.

Everything a run stages (extracted Parquet, unified Parquet, quarantine, reports, the run
manifest) goes through this class, so the two places behave alike. On S3 every put asks for
server-side encryption: staged data holds personal records, and "the bucket encrypts by default"
is a setting someone can change, while our request is not.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import is_s3, split_s3

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SERVER_SIDE_ENCRYPTION = "AES256"


@dataclass(frozen=True)
class StagedFile:
    path: str  # relative to the run's root
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Staging:
    """One run's staging root. ``location`` is a folder path or ``s3://bucket/prefix``."""

    def __init__(self, location: str, run_id: str):
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ConfigurationError(f"a run id must be a plain name, got {run_id!r}")
        self.location = str(location)
        self.run_id = run_id
        if is_s3(self.location):
            self.bucket, prefix = split_s3(self.location)
            self.prefix = f"{prefix}/{run_id}" if prefix else run_id
        else:
            self.root = Path(self.location).expanduser().resolve() / run_id

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if is_s3(self.location) else str(self.root)

    def _client(self):
        import boto3

        return boto3.client("s3")

    # --- bytes ------------------------------------------------------------------------------
    def write_bytes(self, relpath: str, data: bytes) -> StagedFile:
        if is_s3(self.location):
            try:
                self._client().put_object(
                    Bucket=self.bucket, Key=f"{self.prefix}/{relpath}", Body=data,
                    ServerSideEncryption=SERVER_SIDE_ENCRYPTION)
            except Exception as err:  # noqa: BLE001 - botocore raises many kinds; all mean "not written"
                raise SourceError(f"could not write s3://{self.bucket}/{self.prefix}/{relpath}: "
                                  f"{type(err).__name__}") from err
        else:
            path = self.root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".partial")
            tmp.write_bytes(data)
            tmp.replace(path)  # a retried task never sees a half-written file
        return StagedFile(relpath, len(data), hashlib.sha256(data).hexdigest())

    def read_bytes(self, relpath: str) -> bytes:
        if is_s3(self.location):
            try:
                response = self._client().get_object(Bucket=self.bucket, Key=f"{self.prefix}/{relpath}")
            except Exception as err:  # noqa: BLE001
                raise SourceError(f"could not read s3://{self.bucket}/{self.prefix}/{relpath}: "
                                  f"{type(err).__name__}") from err
            return response["Body"].read()
        return (self.root / relpath).read_bytes()

    def list(self, relprefix: str = "") -> list[str]:
        """Relative paths of the files whose path starts with ``relprefix``, sorted."""
        if is_s3(self.location):
            paginator = self._client().get_paginator("list_objects_v2")
            start = f"{self.prefix}/{relprefix}"
            keys = [obj["Key"][len(self.prefix) + 1:]
                    for page in paginator.paginate(Bucket=self.bucket, Prefix=start)
                    for obj in page.get("Contents", [])]
            return sorted(keys)
        # a prefix, as on S3: 'timings/validate.' matches 'timings/validate.batch-1.json'
        folder = self.root / relprefix if relprefix.endswith("/") or not relprefix else (self.root / relprefix).parent
        if not folder.is_dir():
            return []
        paths = (str(p.relative_to(self.root)) for p in folder.rglob("*")
                 if p.is_file() and not p.name.endswith(".partial"))
        return sorted(path for path in paths if path.startswith(relprefix))

    def clear(self, relprefix: str = "") -> None:
        """Remove what this run staged under ``relprefix`` (all of it by default): a rerun replaces."""
        if is_s3(self.location):
            client = self._client()
            keys = [f"{self.prefix}/{path}" for path in self.list(relprefix)]
            for start in range(0, len(keys), 1000):
                client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": key} for key in keys[start:start + 1000]], "Quiet": True})
        else:
            target = self.root / relprefix
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    # --- typed helpers ------------------------------------------------------------------------
    def write_json(self, relpath: str, payload: Any) -> StagedFile:
        text = json.dumps(payload, indent=2, sort_keys=True, default=str)
        return self.write_bytes(relpath, text.encode("utf-8"))

    def read_json(self, relpath: str) -> Any:
        return json.loads(self.read_bytes(relpath))

    def write_arrow(self, relpath: str, table: pa.Table) -> StagedFile:
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return self.write_bytes(relpath, sink.getvalue())

    def write_frame(self, relpath: str, frame: pd.DataFrame) -> StagedFile:
        import pyarrow as pa

        return self.write_arrow(relpath, pa.Table.from_pandas(frame, preserve_index=False))

    def read_arrow(self, relpath: str, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.read_bytes(relpath)), columns=columns)

    def read_frame(self, relpath: str, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read_arrow(relpath, columns).to_pandas()

    def read_parts(self, relprefix: str, columns: list[str] | None = None):
        """Yield the Parquet parts under ``relprefix`` one at a time (memory stays flat)."""
        for path in self.list(relprefix):
            if path.endswith(".parquet"):
                yield self.read_frame(path, columns)
