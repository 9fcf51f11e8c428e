import datetime as dt

import numpy as np
import pandas as pd
import pytest

from transforms.fields import FIELD_TRANSFORMS, FieldValueError

EXPECTED_NAMES = {
    "copy", "trim", "upper_trim", "name", "email", "phone", "zip", "student_number", "school_id", "course_code",
    "date", "yyyymmdd", "mmddyyyy", "timestamp", "yn_bool", "bit_bool", "int", "decimal",
    "school_year_from_end_year", "score_points", "score_status",
}


def run(transform: str, values, dtype=object, index=None):
    return FIELD_TRANSFORMS[transform](pd.Series(values, dtype=dtype, index=index))


def as_list(series: pd.Series) -> list:
    return [None if pd.isna(value) else value for value in series]


def test_registry_has_exactly_the_agreed_names():
    assert set(FIELD_TRANSFORMS) == EXPECTED_NAMES


def test_copy_returns_the_series_unchanged():
    series = pd.Series([" a ", None], dtype=object)
    assert FIELD_TRANSFORMS["copy"](series).values is series


@pytest.mark.parametrize("transform", sorted(EXPECTED_NAMES - {"copy"}))
def test_every_transform_keeps_the_index_and_length(transform):
    index = pd.Index([10, 20, 30])
    sample = {"date": ["2019-01-02", None, "1900-01-01"], "timestamp": ["2019-01-02 03:04:05", None, ""],
              "yyyymmdd": ["20190102", "", None], "mmddyyyy": ["01/02/2019", "", None],
              "yn_bool": ["Y", "n", None], "bit_bool": [0, 1, None], "int": ["1", None, "3"],
              "decimal": ["1.5", None, "2"], "school_year_from_end_year": [2019, None, 2018]}
    result = run(transform, sample.get(transform, [" 9755 ", None, ""]), index=index)
    assert list(result.values.index) == [10, 20, 30]
    assert result.cleared is None or list(result.cleared.index) == [10, 20, 30]


def test_trim_strips_and_blank_is_null():
    result = run("trim", ["  a b ", "   ", "", None])
    assert as_list(result.values) == ["a b", None, None, None]
    assert result.values.dtype == pd.StringDtype()


def test_upper_trim():
    assert as_list(run("upper_trim", [" m ", "f", " "]).values) == ["M", "F", None]


def test_name_collapses_whitespace_and_keeps_case_and_accents():
    values = run("name", ["  José   de la\tCruz ", "O'Brien-Smith", " ", None]).values
    assert as_list(values) == ["José de la Cruz", "O'Brien-Smith", None, None]


def test_email_is_stripped_and_lower_case():
    assert as_list(run("email", [" Ana.Lee@Example.ORG ", ""]).values) == ["ana.lee@example.org", None]


def test_phone_keeps_ten_digits_and_drops_country_code_one():
    values = run("phone", ["(773) 555-0100", "773.555.0100", "7735550100", "1-773-555-0100", "+1 (773) 555 0100",
                           "2-773-555-0100", "555-0100", "", None]).values
    assert as_list(values) == ["7735550100"] * 5 + [None] * 4
    assert isinstance(values.dtype, pd.StringDtype)


def test_zip_five_or_zip_plus_four():
    values = run("zip", ["60601", " 60601-1234 ", "606011234", "6060", "60601-12", "ABCDE", None]).values
    assert as_list(values) == ["60601", "60601-1234", "60601-1234", None, None, None, None]


def test_student_number_from_every_system_spelling():
    values = run("student_number", [" 0012345678", "12345678", "S12345678", "s12345678 ", "12345678 ",
                                    "ABC", "S", "", None, "12345678901"]).values
    assert values.dtype == "Int64"
    assert as_list(values) == [12345678] * 5 + [None] * 5


def test_student_number_from_numeric_columns():
    assert as_list(run("student_number", [12345678, None], dtype="Int64").values) == [12345678, None]
    assert as_list(run("student_number", [12345678.0, np.nan], dtype="float64").values) == [12345678, None]


def test_school_id_is_six_digits_zero_padded():
    values = run("school_id", ["9755", "009755", "9755   ", " 42", "ABC", "1234567", "", None]).values
    assert as_list(values) == ["009755", "009755", "009755", "000042", None, None, None, None]
    assert as_list(run("school_id", [9755, None], dtype="Int64").values) == ["009755", None]


def test_course_code_upper_without_any_whitespace():
    assert as_list(run("course_code", ["eng 101 ", " Ma th\t2", "  ", None]).values) == ["ENG101", "MATH2", None, None]


def test_date_clears_and_counts_both_sentinels_from_datetime64():
    series = pd.Series(pd.to_datetime(["2019-01-02", "1900-01-01", "9999-12-31", None]), dtype="datetime64[s]")
    result = FIELD_TRANSFORMS["date"](series)
    assert result.values.dtype == "datetime64[s]"
    assert as_list(result.values) == [pd.Timestamp("2019-01-02"), None, None, None]
    assert result.cleared.tolist() == [False, True, True, False]
    assert result.fix_reason == "sentinel_date_cleared"
    assert result.cleared_count == 2


def test_date_from_database_objects_and_iso_text():
    from_driver = run("date", [dt.date(2019, 1, 2), dt.datetime(9999, 12, 31), dt.date(1900, 1, 1), None])
    from_text = run("date", ["2019-01-02", "9999-12-31", "1900-01-01 00:00:00", ""])
    for result in (from_driver, from_text):
        assert as_list(result.values) == [pd.Timestamp("2019-01-02"), None, None, None]
        assert result.cleared.tolist() == [False, True, True, False]


def test_date_that_is_not_a_date_raises_naming_rows_not_values():
    with pytest.raises(FieldValueError) as caught:
        run("date", ["2019-01-02", "secret-value", None], index=[7, 8, 9])
    assert list(caught.value.labels) == [8]
    assert "secret-value" not in str(caught.value)


def test_yyyymmdd_blank_is_null_and_a_non_date_is_cleared():
    result = run("yyyymmdd", ["20190131", "20190230", "", None, "2019013"])
    assert as_list(result.values) == [pd.Timestamp("2019-01-31"), None, None, None, None]
    assert result.cleared.tolist() == [False, True, False, False, True]
    assert result.fix_reason == "invalid_date_cleared"


def test_mmddyyyy_impossible_date_cleared_blank_not_counted():
    result = run("mmddyyyy", ["02/28/2019", "02/30/2019", "13/01/2019", "", "  ", None, "02/29/2020"])
    assert as_list(result.values) == [pd.Timestamp("2019-02-28"), None, None, None, None, None,
                                      pd.Timestamp("2020-02-29")]
    assert result.cleared.tolist() == [False, True, True, False, False, False, False]
    assert result.values.dtype == "datetime64[s]"


def test_timestamp_to_seconds():
    result = run("timestamp", ["2019-01-02 03:04:05.678", None, dt.datetime(2019, 1, 2, 3, 4, 5)])
    assert result.values.dtype == "datetime64[s]"
    assert as_list(result.values) == [pd.Timestamp("2019-01-02 03:04:05"), None, pd.Timestamp("2019-01-02 03:04:05")]


def test_yn_bool_either_case_blank_is_null():
    result = run("yn_bool", ["Y", "N", "y", "n", " ", "", None])
    assert result.values.dtype == "boolean"
    assert as_list(result.values) == [True, False, True, False, None, None, None]


def test_yn_bool_other_values_raise():
    with pytest.raises(FieldValueError):
        run("yn_bool", ["Y", "U"])


def test_bit_bool_from_bits_booleans_and_text():
    assert as_list(run("bit_bool", [0, 1, True, False, None]).values) == [False, True, True, False, None]
    assert as_list(run("bit_bool", [True, None], dtype="boolean").values) == [True, None]
    assert as_list(run("bit_bool", ["1", "0", "true"]).values) == [True, False, True]
    with pytest.raises(FieldValueError):
        run("bit_bool", [2])


def test_int_and_decimal():
    assert as_list(run("int", [" 12", None, 3, "4.0"]).values) == [12, None, 3, 4]
    assert run("int", ["1"]).values.dtype == "Int64"
    with pytest.raises(FieldValueError):
        run("int", ["1.5"])
    decimals = run("decimal", ["87.5", "", None, 2])
    assert decimals.values.dtype == "float64"
    assert as_list(decimals.values) == [87.5, None, None, 2.0]


def test_school_year_from_end_year():
    assert as_list(run("school_year_from_end_year", [2019, None], dtype="Int64").values) == ["2018-2019", None]
    assert as_list(run("school_year_from_end_year", ["2019"]).values) == ["2018-2019"]


def test_database_driver_values_bytes_bits_and_decimals():
    import decimal

    assert as_list(run("bit_bool", [b"\x01", b"\x00", None]).values) == [True, False, None]
    assert as_list(run("int", [decimal.Decimal("12"), None]).values) == [12, None]
    assert as_list(run("student_number", [decimal.Decimal("12345678")]).values) == [12345678]
    assert as_list(run("decimal", [decimal.Decimal("1.25")]).values) == [1.25]


def test_arrow_backed_columns_from_staged_parquet():
    import pyarrow as pa

    def arrow(values, arrow_type):
        return pd.Series(pa.array(values, arrow_type), dtype=pd.ArrowDtype(arrow_type))

    dates = FIELD_TRANSFORMS["date"](arrow([dt.date(2019, 1, 2), dt.date(9999, 12, 31), None], pa.date32()))
    assert as_list(dates.values) == [pd.Timestamp("2019-01-02"), None, None]
    assert dates.cleared.tolist() == [False, True, False]
    stamps = FIELD_TRANSFORMS["timestamp"](arrow([dt.datetime(2019, 1, 2, 3, 4, 5), None], pa.timestamp("s")))
    assert stamps.values.dtype == "datetime64[s]"
    assert as_list(FIELD_TRANSFORMS["school_id"](arrow([9755, None], pa.int64())).values) == ["009755", None]
    assert as_list(FIELD_TRANSFORMS["bit_bool"](arrow([True, None], pa.bool_())).values) == [True, None]
    assert as_list(FIELD_TRANSFORMS["trim"](arrow([" a ", None], pa.string())).values) == ["a", None]


def test_score_points_and_status_split_a_gradebook_score():
    scores = pd.Series(["87.5", " 100 ", "EX", "m", "INC", "", None, "105.25", "A+"])
    points = FIELD_TRANSFORMS["score_points"](scores)
    status = FIELD_TRANSFORMS["score_status"](scores)
    assert points.values.iloc[[0, 1, 7]].tolist() == [87.5, 100.0, 105.25]
    assert points.values.iloc[[2, 3, 4, 5, 6, 8]].isna().all()
    assert status.values.tolist() == ["GRADED", "GRADED", "EX", "M", "INC", "NOT_GRADED", "NOT_GRADED", "GRADED", "A+"]
    assert points.cleared is None and status.cleared is None
