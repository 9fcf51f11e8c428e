import pandas as pd

from transforms.scrub import scrub_ssn


def test_ssn_shapes_are_emptied_and_counted_per_column():
    frame = pd.DataFrame({
        "STATE_ID": ["123-45-6789", " 123456789 ", "1234567890", "ID 123-45-6789", None, "12345678", "A23456789"],
        "OTHER": ["123456789", "x", "x", "x", "x", "x", "x"],
    })
    scrubbed, counts = scrub_ssn(frame, ["STATE_ID"])
    assert counts == {"STATE_ID": 3}
    assert [pd.isna(value) for value in scrubbed["STATE_ID"]] == [True, True, False, True, True, False, False]
    assert scrubbed["OTHER"].tolist() == frame["OTHER"].tolist()
    assert frame["STATE_ID"].iloc[0] == "123-45-6789", "the input frame is not modified"


def test_dash_shape_needs_word_boundaries():
    scrubbed, counts = scrub_ssn(pd.DataFrame({"c": ["1123-45-67890", "123-45-6789x"]}), ["c"])
    assert counts == {"c": 0}
    assert scrubbed["c"].tolist() == ["1123-45-67890", "123-45-6789x"]


def test_columns_without_hits_count_zero():
    _, counts = scrub_ssn(pd.DataFrame({"a": ["1"], "b": ["2"]}), ["a", "b"])
    assert counts == {"a": 0, "b": 0}
