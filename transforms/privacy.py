"""Keyed hashes: the only form in which an identifier may appear in a report or a log line."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

HASH_HEX_LENGTH = 16


def keyed_hash(series: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each value's text, truncated to 16 hex digits; NULL stays NULL.

    Values are hashed as text, integers without a decimal part, so the student number 12345678
    hashes the same whether it came as Int64, float or '12345678'. Each distinct value is
    hashed once (identifiers repeat a lot in reports of quarantined rows).
    """
    if not key:
        raise ValueError("keyed_hash needs a non-empty key")
    values = series
    if pd.api.types.is_float_dtype(values.dtype) and bool((values.dropna() % 1 == 0).all()):
        values = values.astype("Int64")
    text = values.astype(pd.StringDtype())
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    digests = np.array([hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_HEX_LENGTH]
                        for value in uniques], dtype=object)
    hashed = pd.Series(pd.NA, index=series.index, dtype=pd.StringDtype(), name=series.name)
    present = codes >= 0
    hashed[present] = digests[codes[present]]
    return hashed
