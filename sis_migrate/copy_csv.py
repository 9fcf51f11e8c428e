"""Rows as CSV text for PostgreSQL COPY and MariaDB LOAD DATA, built column-wise in Arrow.

No Python loop per value: text is always quoted (inner quotes doubled) and NULL is the bare word
``NULL``, so an empty string and NULL stay distinct; dates are ``YYYY-MM-DD``, timestamps
``YYYY-MM-DD HH:MM:SS``. Both the synthetic writers and the load stage send their rows this way.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NULL_TOKEN = "NULL"


def csv_bytes(arrays: list[pa.Array]) -> bytes:
    """The rows as UTF-8 CSV lines (no header)."""
    if not arrays or len(arrays[0]) == 0:
        return b""
    tokens = []
    for array in arrays:
        if pa.types.is_large_string(array.type):  # pandas writes large_string; the join needs one kind
            array = array.cast(pa.string())
        if pa.types.is_string(array.type):
            doubled = pc.replace_substring(array, pattern='"', replacement='""')
            token = pc.binary_join_element_wise('"', doubled, '"', "")
        else:
            token = pc.cast(array, pa.string())
        tokens.append(pc.fill_null(token, NULL_TOKEN))
    lines = pc.binary_join_element_wise(*tokens, ",")
    one_list = pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines)
    return pc.binary_join(one_list, "\n")[0].as_py().encode("utf-8") + b"\n"
