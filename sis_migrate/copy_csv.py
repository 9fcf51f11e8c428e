"""Rows as CSV text for PostgreSQL COPY and MariaDB LOAD DATA, written by pyarrow's CSV writer.

Input: one Arrow array per column, all of one length. Output: UTF-8 CSV lines, no header. Both
the synthetic writers and the load stage send their rows this way.

``pyarrow.csv.write_csv`` (C++, no Python loop per value) with quoting style ``needed``, which
quotes every string value by its type, whatever it holds, and no number, date or boolean; a NULL
is written as the bare word ``NULL``. So text is always distinct from NULL: the empty string is
``""`` and the text ``NULL`` is ``"NULL"``; inner quotes are doubled, and commas, pipes and line
breaks stay inside quotes. Dates print ``YYYY-MM-DD``, timestamps ``YYYY-MM-DD HH:MM:SS`` (with
the fraction of a sub-second unit), booleans ``true``/``false``, decimals their digits.

PostgreSQL reads it with ``COPY ... (FORMAT csv, NULL 'NULL')``, MariaDB with ``LOAD DATA`` and
:data:`MARIADB_FIELDS`, where an unquoted ``NULL`` is NULL and a quoted one is text. MariaDB reads
``true`` as 0 into a TINYINT: its writer sends booleans as 1/0.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pa_csv

NULL_TOKEN = "NULL"
MARIADB_FIELDS = "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n'"
_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed", null_string=NULL_TOKEN)


def csv_bytes(arrays: list[pa.Array]) -> bytes:
    """The rows as UTF-8 CSV lines (no header)."""
    if not arrays or len(arrays[0]) == 0:
        return b""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))]), sink,
                     _WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()
