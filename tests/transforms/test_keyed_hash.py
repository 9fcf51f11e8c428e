import pandas as pd
import pytest

from transforms.privacy import keyed_hash


def test_hash_is_16_hex_keyed_and_stable_across_dtypes():
    as_int = keyed_hash(pd.Series([12345678, None, 12345678], dtype="Int64"), b"key-one")
    as_text = keyed_hash(pd.Series(["12345678"]), b"key-one")
    as_float = keyed_hash(pd.Series([12345678.0]), b"key-one")
    other_key = keyed_hash(pd.Series(["12345678"]), b"key-two")
    assert as_int[0] == as_int[2] == as_text[0] == as_float[0]
    assert pd.isna(as_int[1])
    assert len(as_int[0]) == 16 and int(as_int[0], 16) >= 0
    assert other_key[0] != as_text[0]
    assert "12345678" not in as_int[0]


def test_distinct_values_hash_differently_and_index_is_kept():
    hashed = keyed_hash(pd.Series(["a", "b"], index=[5, 6]), b"k")
    assert hashed[5] != hashed[6]
    assert list(hashed.index) == [5, 6]


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError, match="non-empty key"):
        keyed_hash(pd.Series(["a"]), b"")
