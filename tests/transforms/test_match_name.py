import pandas as pd

from transforms.names import match_name


def names(*values):
    return match_name(pd.Series(values, dtype=object)).tolist()


def test_case_accents_and_whitespace_do_not_matter():
    assert len(set(names("José  García", " jose garcia ", "JOSÉ\tGARCÍA", "Jose\u0301 Garci\u0301a"))) == 1
    assert names("José  García") == ["jose garcia"]


def test_apostrophes_and_hyphens_stay():
    assert names("O'Brien-Smith", "OBrien Smith") == ["o'brien-smith", "obrien smith"]


def test_compatibility_forms_and_casefold():
    assert names("Straße", "ﬁne", "Ｊｏｓｅ") == ["strasse", "fine", "jose"]


def test_null_and_blank_never_match():
    assert [pd.isna(value) for value in names(None, "   ", "")] == [True, True, True]


def test_latin1_letters_without_decomposition_stay():
    assert names("Øyvind", "Ðorðe") == ["øyvind", "ðorðe"]
