import pandas as pd

from transforms.accounting import SURVIVOR_KEY
from transforms.identity import contacts_from_guardians, rekey, resolve_duplicates, resolve_students


def students(rows):
    frame = pd.DataFrame(rows, columns=["STUDENT_ID", "LAST_NM", "FIRST_NM", "BIRTH_DT"])
    frame["STUDENT_ID"] = frame["STUDENT_ID"].astype("Int64")
    frame["BIRTH_DT"] = pd.to_datetime(frame["BIRTH_DT"]).astype("datetime64[s]")
    return frame


def test_spelling_variants_merge_into_lowest_id(accounted):
    frame = students([
        (20000005, "García", "Ana", "2010-01-01"),
        (20000003, " garcia ", "ANA", "2010-01-01"),
        (20000009, "GARCIA", "Ana\u0301", "2010-01-01"),
        (20000004, "García", "Ana", "2010-01-02"),
    ])
    outcome = accounted(frame, resolve_students(frame))
    assert sorted(outcome.kept["STUDENT_ID"]) == [20000003, 20000004]
    assert dict(zip(outcome.merged["STUDENT_ID"], outcome.merged[SURVIVOR_KEY], strict=True)) == {
        20000005: 20000003, 20000009: 20000003}
    assert outcome.key_map.to_dict() == {20000005: 20000003, 20000009: 20000003}
    assert outcome.reason_counts() == {"duplicate_student": 2}


def test_unknown_birth_dates_never_match(accounted):
    frame = students([
        (1, "Lee", "Bo", "1900-01-01"), (2, "Lee", "Bo", "1900-01-01"),
        (3, "Lee", "Bo", None), (4, "Lee", "Bo", None),
    ])
    outcome = accounted(frame, resolve_students(frame))
    assert len(outcome.kept) == 4 and outcome.merged.empty and outcome.key_map.empty


def test_null_names_never_match_and_different_people_stay_apart(accounted):
    frame = students([(1, None, "Bo", "2010-01-01"), (2, None, "Bo", "2010-01-01"),
                      (3, "O'Neil", "Bo", "2010-01-01"), (4, "ONeil", "Bo", "2010-01-01")])
    assert len(accounted(frame, resolve_students(frame)).kept) == 4


def test_exclude_mask_keeps_rows_out_of_matching(accounted):
    frame = pd.DataFrame({"k": [1, 2, 3], "a": ["x", "x", "x"]})
    outcome = accounted(frame, resolve_duplicates(frame, "k", ["a"], "duplicate_student",
                                                  exclude_mask=[True, False, False]))
    assert outcome.kept["k"].tolist() == [1, 2]
    assert outcome.key_map.to_dict() == {3: 2}


def guardians():
    frame = pd.DataFrame([
        (101, 1, "Núñez", "Rosa", "(773) 555-0100"),
        (102, 2, "nunez", " ROSA", "773.555.0100"),
        (103, 3, "Nunez", "Rosa", "1-773-555-0100"),
        (104, 3, "Nunez", "Rosa", "(312) 555-0199"),
        (105, 1, "Nunez", "Luis", "773-555-0100"),
    ], columns=["GUARDIAN_ID", "STUDENT_ID", "LAST_NM", "FIRST_NM", "CELL_PHONE"])
    return frame.astype({"GUARDIAN_ID": "Int64", "STUDENT_ID": "Int64"})


def test_guardians_per_sibling_become_one_contact_each_row_one_association(accounted):
    frame = guardians()
    contacts, associations = contacts_from_guardians(frame)
    accounted(frame, contacts)
    assert sorted(contacts.kept["GUARDIAN_ID"]) == [101, 104, 105]
    assert contacts.reason_counts() == {"duplicate_contact": 2}
    assert len(associations) == len(frame)
    assert associations["contact_key"].tolist() == [101, 101, 101, 104, 105]
    assert associations["STUDENT_ID"].tolist() == frame["STUDENT_ID"].tolist()


def test_rekey_replaces_only_merged_keys():
    key_map = pd.Series([3, 3], index=[5, 9], dtype="Int64")
    frame = pd.DataFrame({"s": pd.array([5, 3, None, 9, 7], dtype="Int64"), "other": list("abcde")})
    rekeyed = rekey(frame, "s", key_map)
    assert rekeyed["s"].tolist() == [3, 3, pd.NA, 3, 7]
    assert rekeyed["s"].dtype == "Int64"
    assert frame["s"].tolist()[0] == 5
    assert rekey(frame, "s", None)["s"].tolist()[0] == 5
