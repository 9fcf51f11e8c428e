"""Field transforms: one legacy column in, one target field out, named by mapping files.

Each transform is a pure, vectorised function of one ``pd.Series`` (the column of one chunk) that
returns a :class:`FieldResult`. The result keeps the input's index, so the caller can line it up
with the row keys of the chunk. A transform that *removes* a value on purpose (a sentinel date,
an impossible date as typed) says which rows it cleared and under which reason code, so the
count can be reported per column. A value a transform cannot read at all where the legacy type
promises one (a DATE column holding text, an indicator that is not Y/N) raises
:class:`FieldValueError`, which names the transform and the index labels of the rows, never the
values; the caller adds system, table, column and row key.

Text outputs use pandas' nullable ``string`` dtype (``pd.NA`` for NULL), dates and timestamps
``datetime64[s]``, integers ``Int64``, indicators ``boolean``, decimals ``float64``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from transforms.errors import FieldValueError

STRING = pd.StringDtype()
DATETIME = "datetime64[s]"
SENTINEL_DATES = (pd.Timestamp("1900-01-01"), pd.Timestamp("9999-12-31"))
SENTINEL_DATE_CLEARED = "sentinel_date_cleared"
INVALID_DATE_CLEARED = "invalid_date_cleared"


@dataclass(frozen=True)
class FieldResult:
    values: pd.Series  # the transformed values
    cleared: pd.Series | None = None  # bool mask: a value was removed by a fix (e.g. sentinel date), or None
    fix_reason: str | None = None  # the reasons.py code for `cleared` (sentinel_date_cleared, invalid_date_cleared)

    @property
    def cleared_count(self) -> int:
        return 0 if self.cleared is None else int(self.cleared.sum())


FieldTransform = Callable[[pd.Series], FieldResult]




# --- helpers ----------------------------------------------------------------------------------

def _text(series: pd.Series) -> pd.Series:
    """The column as nullable strings; integral floats print without '.0' (9755.0 -> '9755')."""
    if pd.api.types.is_float_dtype(series.dtype):
        integral = series.notna() & (series == np.floor(series))
        if bool(integral[series.notna()].all()):
            series = series.astype("Int64")
    return series.astype(STRING)


def _blank_to_na(text: pd.Series) -> pd.Series:
    return text.mask(text == "")


def _stripped(series: pd.Series) -> pd.Series:
    return _blank_to_na(_text(series).str.strip())


def _fullmatch(text: pd.Series, pattern: str) -> pd.Series:
    return text.str.fullmatch(pattern).fillna(False).astype(bool)


def _require(name: str, unreadable: pd.Series, problem: str) -> None:
    if bool(unreadable.any()):
        raise FieldValueError(name, unreadable.index[unreadable.to_numpy()], problem)


def _to_datetime(name: str, series: pd.Series) -> pd.Series:
    """DB date/datetime values or ISO text as ``datetime64[s]``; unreadable text raises."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype(DATETIME)
    present = series.notna()
    if pd.api.types.is_string_dtype(series.dtype):
        present &= series.astype(STRING).str.strip().ne("").fillna(False).astype(bool)
    # ISO8601 also reads datetime.date/datetime objects straight from a database driver
    parsed = pd.to_datetime(series.where(present), errors="coerce", format="ISO8601")
    _require(name, (parsed.isna() & present).astype(bool), "are not dates")
    return parsed.astype(DATETIME)


def _typed_dates(series: pd.Series, shape: str, date_format: str) -> FieldResult:
    """Dates as typed by people: blank is NULL (not counted); a non-date is cleared and counted.

    ``shape`` is checked first because strptime is lenient ('2019013' would read as 2019-01-03).
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return FieldResult(series.astype(DATETIME))
    text = _stripped(series)
    parsed = pd.to_datetime(text.where(_fullmatch(text, shape)), errors="coerce", format=date_format).astype(DATETIME)
    cleared = (text.notna() & parsed.isna()).astype(bool)
    return FieldResult(parsed, cleared, INVALID_DATE_CLEARED)


# --- the transforms ---------------------------------------------------------------------------

def copy(series: pd.Series) -> FieldResult:
    return FieldResult(series)


def trim(series: pd.Series) -> FieldResult:
    return FieldResult(_stripped(series))


def upper_trim(series: pd.Series) -> FieldResult:
    return FieldResult(_stripped(series).str.upper())


def name(series: pd.Series) -> FieldResult:
    """Strip and collapse inner whitespace; case and accents are kept (they are the person's)."""
    return FieldResult(_blank_to_na(_text(series).str.replace(r"\s+", " ", regex=True).str.strip()))


def email(series: pd.Series) -> FieldResult:
    return FieldResult(_stripped(series).str.lower())


def phone(series: pd.Series) -> FieldResult:
    """Ten digits; an 11-digit number with country code 1 loses it; anything else is NULL."""
    digits = _text(series).str.replace(r"\D", "", regex=True)
    national = digits.mask(_fullmatch(digits, r"1\d{10}"), digits.str.slice(1))
    return FieldResult(national.where(_fullmatch(national, r"\d{10}")))


def zip_code(series: pd.Series) -> FieldResult:
    """'60601', '60601-1234' (also typed '606011234' or '60601 1234'); anything else is NULL."""
    parts = _stripped(series).str.extract(r"^(\d{5})(?:[- ]?(\d{4}))?$")
    five, four = parts[0].astype(STRING), parts[1].astype(STRING)
    return FieldResult(five.mask(four.notna(), five + "-" + four).rename(series.name))


def student_number(series: pd.Series) -> FieldResult:
    """The SIM student number from any system's spelling: ' 0012345678', '12345678', 'S12345678', 12345678."""
    if pd.api.types.is_integer_dtype(series.dtype):
        return FieldResult(series.astype("Int64"))
    digits = _stripped(series).str.removeprefix("S").str.removeprefix("s")
    # astype on validated digits is ~10x faster than to_numeric (this runs over every Score row)
    return FieldResult(digits.where(_fullmatch(digits, r"\d{1,10}")).astype("Int64"))


def school_id(series: pd.Series) -> FieldResult:
    """The 6-digit zero-padded SIM school id from '9755', '009755', '9755   ' or 9755."""
    text = _stripped(series)
    return FieldResult(text.where(_fullmatch(text, r"\d{1,6}")).str.zfill(6))


def course_code(series: pd.Series) -> FieldResult:
    """Gradebook local course code: upper case, every whitespace removed ('eng 101 ' -> 'ENG101')."""
    return FieldResult(_blank_to_na(_text(series).str.replace(r"\s+", "", regex=True).str.upper()))


def date(series: pd.Series) -> FieldResult:
    """A calendar date; the sentinels 1900-01-01 (unknown) and 9999-12-31 (open) become NULL and are counted."""
    parsed = _to_datetime("date", series).dt.floor("D")
    sentinel = parsed.isin(SENTINEL_DATES).astype(bool)
    return FieldResult(parsed.mask(sentinel), sentinel, SENTINEL_DATE_CLEARED)


def yyyymmdd(series: pd.Series) -> FieldResult:
    """Verify export dates ('20190131'); '' is NULL; a non-date is cleared and counted."""
    return _typed_dates(series, r"\d{8}", "%Y%m%d")


def mmddyyyy(series: pd.Series) -> FieldResult:
    """Gradebook DueDate as typed ('02/28/2019'); blank is NULL; '02/30/2019' is cleared and counted."""
    return _typed_dates(series, r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y")


def timestamp(series: pd.Series) -> FieldResult:
    return FieldResult(_to_datetime("timestamp", series))


def yn_bool(series: pd.Series) -> FieldResult:
    """Y/N indicators (either case) as boolean; blank is NULL; any other value raises."""
    text = _stripped(series).str.upper()
    _require("yn_bool", (text.notna() & ~text.isin(["Y", "N"])).astype(bool), "are not Y or N")
    return FieldResult((text == "Y").astype("boolean"))


# pymysql returns a MariaDB BIT(1) as bytes, which become the characters \x01 and \x00 as text.
_BIT_TEXT = {"1": True, "true": True, "t": True, "\x01": True,
             "0": False, "false": False, "f": False, "\x00": False}


def bit_bool(series: pd.Series) -> FieldResult:
    """BIT/BOOLEAN columns (0/1, True/False, or their text) as boolean."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return FieldResult(series.astype("boolean"))
    text = _stripped(series).str.lower()
    truth = text.map(_BIT_TEXT, na_action="ignore")
    _require("bit_bool", (text.notna() & truth.isna()).astype(bool), "are not 0/1 or true/false")
    return FieldResult(truth.astype("boolean"))


def integer(series: pd.Series) -> FieldResult:
    if pd.api.types.is_integer_dtype(series.dtype):
        return FieldResult(series.astype("Int64"))
    text = _stripped(series)
    numbers = pd.to_numeric(text, errors="coerce")
    not_integral = numbers.notna() & (numbers != np.floor(numbers))
    _require("int", ((text.notna() & numbers.isna()) | not_integral).astype(bool), "are not integers")
    return FieldResult(numbers.astype("Int64"))


def decimal(series: pd.Series) -> FieldResult:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return FieldResult(series.astype("float64"))
    text = _stripped(series)
    numbers = pd.to_numeric(text, errors="coerce")
    _require("decimal", (text.notna() & numbers.isna()).astype(bool), "are not numbers")
    return FieldResult(numbers.astype("float64"))


def school_year_from_end_year(series: pd.Series) -> FieldResult:
    """Gradebook SchoolYear (the year the school year ends) as SIM's 'YYYY-YYYY': 2019 -> '2018-2019'."""
    end = integer(series).values
    start = (end - 1).astype(STRING)
    return FieldResult(start + "-" + end.astype(STRING))


_SCORE_POINTS = r"\d+(?:\.\d+)?"
SCORE_GRADED, SCORE_NOT_GRADED = "GRADED", "NOT_GRADED"


def score_points(series: pd.Series) -> FieldResult:
    """Gradebook Score as points ('87.5'; above the maximum is extra credit); a status code has no points."""
    text = _stripped(series)
    points = text.where(_fullmatch(text.fillna(""), _SCORE_POINTS))
    return FieldResult(pd.to_numeric(points).astype("float64"))


def score_status(series: pd.Series) -> FieldResult:
    """The status code of a Gradebook Score, for the submission-status crosswalk: ``GRADED`` for points,
    ``NOT_GRADED`` for a blank, else the code as typed (upper-cased), which the crosswalk maps or quarantines."""
    text = _stripped(series)
    codes = text.str.upper()
    codes = codes.mask(_fullmatch(text.fillna(""), _SCORE_POINTS), SCORE_GRADED)
    return FieldResult(codes.fillna(SCORE_NOT_GRADED).astype(STRING))


FIELD_TRANSFORMS: dict[str, FieldTransform] = {
    "copy": copy,
    "trim": trim,
    "upper_trim": upper_trim,
    "name": name,
    "email": email,
    "phone": phone,
    "zip": zip_code,
    "student_number": student_number,
    "school_id": school_id,
    "course_code": course_code,
    "date": date,
    "yyyymmdd": yyyymmdd,
    "mmddyyyy": mmddyyyy,
    "timestamp": timestamp,
    "yn_bool": yn_bool,
    "bit_bool": bit_bool,
    "int": integer,
    "decimal": decimal,
    "school_year_from_end_year": school_year_from_end_year,
    "score_points": score_points,
    "score_status": score_status,
}
