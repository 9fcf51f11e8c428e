"""Verify's nightly export files: write them (synthetic district) and read them (extract).

Input: frames to write, or a location (folder or ``s3://bucket/prefix``) to list and read.
Output: the bytes of an export file; the exports at a location by table and day; the newest
export of a table parsed to an Arrow table of text columns (:func:`read_newest_export`).

The format, as Verify's export writes it: one file per table per export day named
``<table>_<YYYYMMDD>.txt``; pipe-delimited with a header row; ISO-8859-1 (Latin-1); CRLF line ends;
dates as ``YYYYMMDD``; an empty field for NULL; a field holding a pipe, a double quote or a line
break is enclosed in double quotes with inner double quotes doubled. A newer export day supersedes
an older one for the same table.

Files live in a folder or under ``s3://bucket/prefix``, reached through :mod:`sis_migrate.storage`.
Messages name tables, columns, files and line numbers, never a field's value.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, RowDataError, SourceError
from sis_migrate.legacy import VERIFY_DELIMITER, VERIFY_ENCODING, VERIFY_FILE_PATTERN, VERIFY_LINE_END, System
from sis_migrate.storage import MissingFile, Store

_DIALECT = {
    "delimiter": VERIFY_DELIMITER,
    "quotechar": '"',
    "doublequote": True,
    "lineterminator": VERIFY_LINE_END,
}
HEADER_PROBE_BYTES = 64 * 1024  # read_header fetches this much; a header line is far shorter


# --- writing -------------------------------------------------------------------------------------

def write_verify_file(frame: pd.DataFrame, table: legacy.Table, include_header: bool = True) -> bytes:
    """The bytes of a Verify export holding ``frame`` (columns exactly the table's, in order).

    ``include_header=False`` gives the rows alone, to append a later chunk to the same file.
    Datetime columns are written ``YYYYMMDD``; every other value as its text.
    """
    if tuple(frame.columns) != table.column_names:
        raise ConfigurationError(
            f"verify.{table.name}: frame columns {list(frame.columns)} are not the table's {list(table.column_names)}")
    columns = [_text_values(frame[name]) for name in table.column_names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, **_DIALECT)
    if include_header:
        writer.writerow(table.column_names)
    writer.writerows(zip(*columns, strict=True))
    try:
        return buffer.getvalue().encode(VERIFY_ENCODING)
    except UnicodeEncodeError as err:
        column, position = _first_unencodable(table, columns)
        raise RowDataError(System.VERIFY.value, table.name, column, f"frame row {position}",
                           "holds a character outside ISO-8859-1 (Latin-1), which Verify files cannot carry") from err


def _text_values(series: pd.Series) -> list:
    """Values for the csv writer: None for NULL (written as an empty field), dates as ``YYYYMMDD``."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.to_numpy(dtype="datetime64[D]")
        iso = pa.array(np.datetime_as_string(values, unit="D"), type=pa.string(), mask=np.isnat(values))
        return pc.replace_substring(iso, pattern="-", replacement="").to_pylist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _first_unencodable(table: legacy.Table, columns: list[list]) -> tuple[str, int]:
    for name, values in zip(table.column_names, columns, strict=True):
        for position, value in enumerate(values):
            if value is not None:
                try:
                    str(value).encode(VERIFY_ENCODING)
                except UnicodeEncodeError:
                    return name, position
    raise AssertionError("an encoding error without an unencodable value")  # unreachable by construction


def export_file_name(table_name: str, day: date) -> str:
    return f"{table_name}_{day:%Y%m%d}.txt"


# --- reading -------------------------------------------------------------------------------------

def check_header(header: Sequence[str], table: legacy.Table, source: str = "") -> None:
    """Fail unless ``header`` is exactly the data dictionary's columns of ``table``, in order."""
    expected = list(table.column_names)
    if list(header) == expected:
        return
    where = f" ({source})" if source else ""
    unexpected = [name for name in header if name not in expected]
    missing = [name for name in expected if name not in header]
    if unexpected or missing:
        detail = f"unexpected columns {unexpected}, missing columns {missing}"
    else:
        detail = f"the columns are in another order: {list(header)}"
    raise ConfigurationError(
        f"verify.{table.name}{where}: the header row does not match the data dictionary: {detail}")


def read_verify_table(data: bytes, table: legacy.Table, columns: Sequence[str] | None = None,
                      source: str = "") -> pa.Table:
    """Parse one Verify export into Arrow: every column as text, an empty field as null.

    Decodes only as ISO-8859-1 (never guesses UTF-8). ``columns`` keeps only those columns: the
    others are dropped as each line is parsed and never reach the table. ``source`` (the file
    name) is added to error messages.
    """
    wanted, values = _parse(data, table, columns, source)
    return pa.Table.from_arrays([pa.array(out, pa.string()) for out in values], names=wanted)


def read_verify_file(data: bytes, table: legacy.Table, columns: Sequence[str] | None = None,
                     source: str = "") -> pd.DataFrame:
    """:func:`read_verify_table` as a frame of object columns, None for an empty field."""
    wanted, values = _parse(data, table, columns, source)
    return pd.DataFrame({name: pd.Series(out, dtype=object) for name, out in zip(wanted, values, strict=True)},
                        columns=wanted)


def _parse(data: bytes, table: legacy.Table, columns: Sequence[str] | None,
           source: str) -> tuple[list[str], list[list[str | None]]]:
    """The wanted column names and one list of values per column (None for an empty field).

    Python's csv module in strict mode, on purpose: pyarrow.csv and pandas.read_csv parse a small
    district's exports 3 to 9 and 1 to 2 times as fast, but both count records where the message
    must name the physical line (a value may hold a line break), both read a malformed ``"a"b`` as
    ``ab`` instead of failing, and pandas fills a short row with NULLs instead of reporting it.
    """
    text = data.decode(VERIFY_ENCODING)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, **_DIALECT)
    where = f" ({source})" if source else ""
    header = _next_row(reader, table, where)
    if header is None:
        raise ConfigurationError(f"verify.{table.name}{where}: the file is empty (no header row)")
    check_header(header, table, source)
    wanted = list(columns) if columns is not None else list(table.column_names)
    unknown = [name for name in wanted if name not in table.column_names]
    if unknown:
        raise ConfigurationError(f"verify.{table.name}: asked for columns the table does not have: {unknown}")
    positions = [table.column_names.index(name) for name in wanted]
    width = len(table.columns)
    values: list[list[str | None]] = [[] for _ in wanted]
    if positions:
        pick = operator.itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))
        appenders = [out.append for out in values]
        while (row := _next_row(reader, table, where)) is not None:
            if len(row) != width:
                raise RowDataError(System.VERIFY.value, table.name, "*", f"line {reader.line_num}{where}",
                                   f"{len(row)} fields where the header has {width}")
            for append, value in zip(appenders, pick(row), strict=True):
                append(value or None)
    return wanted, values


def _next_row(reader, table: legacy.Table, where: str) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as err:
        raise RowDataError(System.VERIFY.value, table.name, "*", f"line {reader.line_num}{where}",
                           f"malformed quoting ({err})") from err


# --- locations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportFile:
    """One export file: ``location`` is the folder or ``s3://bucket/prefix`` it was listed under."""

    location: str
    table: str
    day: date
    name: str

    @property
    def uri(self) -> str:
        return Store(self.location).uri(self.name)


def list_names(location: str) -> list[str]:
    """Names of the files directly in a folder or under an S3 prefix (no sub-folders)."""
    store = Store(location)
    # A folder that is not there is a mount or a path gone wrong; S3 has no folders (an absent prefix
    # is only empty) and a missing bucket fails the listing itself.
    if not store.is_s3 and not store.exists():
        raise SourceError(f"Verify export folder {location} does not exist or is not a folder; "
                          "retry when it is mounted, or correct the location")
    return store.list(recursive=False)


def list_exports(location: str) -> dict[str, list[ExportFile]]:
    """Every export file at ``location`` by table, oldest day first (newest last)."""
    exports: dict[str, list[ExportFile]] = {}
    for name in list_names(location):
        match = VERIFY_FILE_PATTERN.match(name)
        if not match:
            continue
        try:
            day = datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            continue  # eight digits that are no calendar day: not an export Verify wrote
        exports.setdefault(match["table"], []).append(ExportFile(location, match["table"], day, name))
    return {table: sorted(files, key=lambda f: f.day) for table, files in sorted(exports.items())}


def newest_exports(location: str) -> dict[str, ExportFile]:
    """The export that counts for each table: the newest day supersedes older ones."""
    return {table: files[-1] for table, files in list_exports(location).items()}


def read_export(export: ExportFile, first_bytes: int | None = None) -> bytes:
    """The bytes of a listed export (only its first ``first_bytes`` if given: a ranged GET on S3)."""
    try:
        return Store(export.location).read_bytes(export.name, first_bytes)
    except MissingFile as err:  # listed a moment ago: most likely the nightly export replacing it
        raise SourceError(f"Verify export {export.uri} was listed but is gone; retry, which lists again") from err


def read_header(export: ExportFile) -> list[str]:
    """The column names of an export from its first line only (a ranged GET on S3)."""
    first_line = read_export(export, HEADER_PROBE_BYTES).split(b"\n", 1)[0].rstrip(b"\r")
    return first_line.decode(VERIFY_ENCODING).split(VERIFY_DELIMITER) if first_line else []


def read_newest_export(location: str, table_name: str,
                       columns: Sequence[str] | None = None) -> tuple[ExportFile, pa.Table]:
    """The export that counts for ``table_name`` at ``location`` (the newest day), parsed to Arrow text."""
    exports = newest_exports(location)
    if table_name not in exports:
        raise ConfigurationError(f"verify.{table_name}: no export file <table>_<YYYYMMDD>.txt at {location}")
    export = exports[table_name]
    table = legacy.table(System.VERIFY, table_name)
    return export, read_verify_table(read_export(export), table, columns, source=export.name)
