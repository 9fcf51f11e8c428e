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


def literal_match_name(text: str) -> str:
    """CONTRACTS.md read literally, one string at a time."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def test_vectorised_form_agrees_with_the_contract_read_literally():
    import numpy as np

    rng = np.random.default_rng(11)
    alphabet = list("aAzZ '-") + [chr(c) for c in range(0xA0, 0x100)] + ["\u0301", "\u2003", "\t", "\u0130", "ǅ"]
    samples = ["".join(rng.choice(alphabet, size=rng.integers(1, 12))) for _ in range(2000)]
    expected = [literal_match_name(sample) or None for sample in samples]
    got = [None if pd.isna(value) else value for value in match_name(pd.Series(samples, dtype=object))]
    assert got == expected
