"""Great Expectations suites generated from the unified schema, one per entity, stored as JSON.

The schema (:mod:`sis_migrate.schema`) is the one description of the target, so the suites are
derived from it rather than written by hand: natural-key uniqueness, required fields, code sets
(the code values of each descriptor's crosswalk), string lengths, foreign keys, tier-1 column
names absent (the table has exactly the schema's columns, and no schema field bears a tier-1
name), tier-2 SSN patterns absent from every free-text column, value ranges and date logic.
``expectations/<entity>.json`` holds the result; a test proves the committed files equal what
:func:`build_suites` makes, so they cannot drift from the schema.

Every expectation carries ``meta.severity``: ``blocking`` (the run must not load) or ``warning``
(reported, the run goes on), mirrored in GX's own ``severity`` (critical / warning).

Cross-entity rules (foreign keys, dates against a school year, birth date against grade level)
have no built-in GX expectation. They are stored as ``unexpected_rows_expectation`` with a
portable SQL query (``{batch}`` is GX's; ``{student}``-style placeholders name the other entity's
table and are filled in per run) and a ``meta.check`` spec that :mod:`sis_migrate.stages.validate.unified`
evaluates with pandas on the unified Parquet and GX runs in the database on the target. Queries
select a constant, never a column, so no value leaves the database even inside GX.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sis_migrate.errors import ConfigurationError
from sis_migrate.locations import PROJECT_ROOT
from sis_migrate.mapping import DenyList, Mappings, default_deny_list, default_mappings
from sis_migrate.schema import LINEAGE, Entity, UnifiedSchema

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SUITE_PREFIX = "unified."
BLOCKING, WARNING = "blocking", "warning"
GX_SEVERITY = {BLOCKING: "critical", WARNING: "warning"}

# Tier 2: the shapes transforms.scrub removes (ddd-dd-dddd inside a value, or exactly nine digits),
# written so Python, PostgreSQL and GX's SQLite REGEXP read it alike (no \b, no \d).
SSN_REGEX = r"(?:^|[^0-9A-Za-z_])[0-9]{3}-[0-9]{2}-[0-9]{4}(?:[^0-9A-Za-z_]|$)|^[ \t]*[0-9]{9}[ \t]*$"

# Value ranges the data dictionary states; (min, max), None = open. All warnings: a steward looks.
VALUE_RANGES: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("gradebook_entry", "max_points"): (0, None),
    ("student_gradebook_entry", "points_earned"): (0, None),
    ("gradebook_entry", "weight"): (0, None),
    ("grade", "numeric_grade_earned"): (0, 100),
    ("student_assessment", "percentile"): (1, 99),
    ("student_assessment", "scale_score"): (1, None),
    ("student_section_attendance_event", "minutes_late"): (0, None),
    ("discipline_action", "actual_discipline_action_length"): (0, None),
    ("course", "credits"): (0, None),
    ("local_course", "credits"): (0, None),
}

# Dates that must fall inside the school year (1 July - 30 June) named on the same row.
SAME_ROW_SCHOOL_YEAR_DATES: dict[str, str] = {
    "student_school_association": "entry_date",
    "student_school_attendance_event": "event_date",
    "student_assessment": "administration_date",
}
# Dates that must fall inside the school year of the section they belong to.
SECTION_SCHOOL_YEAR_DATES: dict[str, str] = {
    "gradebook_entry": "due_date",
    "student_section_attendance_event": "event_date",
}
# Birth date against grade level: age at entry between grade + 3 and grade + 8 (K = 0, PK = -1).
AGE_FOR_GRADE = {"entity": "student_school_association", "date": "entry_date",
                 "grade": "entry_grade_level_descriptor", "person": "student", "birth_date": "birth_date",
                 "min_offset": 3, "max_offset": 8}


def _expectation(kind: str, kwargs: dict[str, Any], severity: str, check: str, **extra_meta: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"severity": severity, "check": check, **extra_meta},
            "severity": GX_SEVERITY[severity]}


def _rows_rule(query: str, description: str, severity: str, check: str, spec: dict[str, Any]) -> dict[str, Any]:
    rule = _expectation("unexpected_rows_expectation", {"unexpected_rows_query": query}, severity, check, spec=spec)
    rule["description"] = description
    return rule


def tier1_names(deny_list: DenyList) -> list[str]:
    """Names a table must not have: every denied legacy column, as is and in snake case without a type suffix."""
    names: set[str] = set()
    for entry in deny_list.denied:
        lower = entry.column.lower()
        names.update({entry.column, lower, re.sub(r"_(cd|dt|nm|no|ind)$", "", lower)})
    return sorted(names)


def _date_outside_year(date_sql: str, year_sql: str) -> str:
    as_text = f"CAST({date_sql} AS VARCHAR(10))"
    return (f"({as_text} < substr({year_sql}, 1, 4) || '-07-01' "
            f"OR {as_text} > substr({year_sql}, 6, 4) || '-06-30')")


def _grade_case(column: str, ordinals: dict[str, int]) -> str:
    """The grade number of a grade-level code value, in SQL (the ordinals of the grade-level crosswalk)."""
    whens = " ".join(f"WHEN '{value}' THEN {number}" for value, number in sorted(ordinals.items(), key=lambda i: i[1]))
    return f"(CASE {column} {whens} END)"


def grade_ordinals(code_set: str | None) -> dict[str, int]:
    """code value -> grade number, from the ordinals of the code set's crosswalk."""
    ordinals = default_mappings().crosswalks[code_set].ordinals if code_set else {}
    if not ordinals:
        raise ConfigurationError(f"the age-for-grade rule needs a code set with ordinals, and {code_set!r} has none")
    return ordinals


def _age_sql(at: str, birth: str) -> str:
    at_text, birth_text = f"CAST({at} AS VARCHAR(10))", f"CAST({birth} AS VARCHAR(10))"
    return (f"(CAST(substr({at_text}, 1, 4) AS INTEGER) - CAST(substr({birth_text}, 1, 4) AS INTEGER)"
            f" - CASE WHEN substr({at_text}, 6, 5) < substr({birth_text}, 6, 5) THEN 1 ELSE 0 END)")


def _foreign_key_rules(name: str, entity: Entity, schema: UnifiedSchema) -> list[dict[str, Any]]:
    rules = []
    for fk in entity.foreign_keys:
        parent_key = list(schema.entity(fk.entity).natural_key)
        present = " AND ".join(f"{field} IS NOT NULL" for field in fk.fields)
        own = fk.fields[0] if len(fk.fields) == 1 else f"({', '.join(fk.fields)})"
        theirs = ", ".join(f"p.{key}" for key in parent_key)
        query = f"SELECT 1 FROM {{batch}} WHERE {present} AND {own} NOT IN (SELECT {theirs} FROM {{{fk.entity}}} p)"
        rules.append(_rows_rule(
            query, f"Every {name} row names a {fk.entity} that exists ({', '.join(fk.fields)}).", BLOCKING,
            "foreign_key", {"kind": "foreign_key", "fields": list(fk.fields), "parent": fk.entity,
                            "parent_fields": parent_key}))
    return rules


def _date_rules(name: str, entity: Entity) -> list[dict[str, Any]]:
    rules = []
    if name in SAME_ROW_SCHOOL_YEAR_DATES:
        date = SAME_ROW_SCHOOL_YEAR_DATES[name]
        query = (f"SELECT 1 FROM {{batch}} WHERE {date} IS NOT NULL AND school_year IS NOT NULL "
                 f"AND {_date_outside_year(date, 'school_year')}")
        rules.append(_rows_rule(query, f"{name}.{date} falls inside its school year (1 July - 30 June).",
                                WARNING, "date_logic",
                                {"kind": "date_in_school_year", "date": date, "school_year": "school_year"}))
    if name in SECTION_SCHOOL_YEAR_DATES:
        date = SECTION_SCHOOL_YEAR_DATES[name]
        # The parent's columns are renamed inside EXISTS so the row's own section_id is the outer
        # one: an equality the database can hash-join, not a subquery re-run for every row.
        query = (f"SELECT 1 FROM {{batch}} WHERE {date} IS NOT NULL AND EXISTS (SELECT 1 FROM "
                 f"(SELECT section_id AS parent_section_id, school_year AS parent_school_year FROM {{section}}) s "
                 f"WHERE s.parent_section_id = section_id AND {_date_outside_year(date, 's.parent_school_year')})")
        rules.append(_rows_rule(query, f"{name}.{date} falls inside the school year of its section.",
                                WARNING, "date_logic",
                                {"kind": "date_in_parent_school_year", "date": date, "fields": ["section_id"],
                                 "parent": "section", "parent_fields": ["section_id"], "school_year": "school_year"}))
    if name == AGE_FOR_GRADE["entity"]:
        rule = AGE_FOR_GRADE
        grade = _grade_case(rule["grade"], grade_ordinals(entity.field(rule["grade"]).descriptor))
        age = _age_sql(rule["date"], "st.parent_birth_date")
        query = (f"SELECT 1 FROM {{batch}} WHERE {rule['date']} IS NOT NULL AND {grade} IS NOT NULL "
                 f"AND EXISTS (SELECT 1 FROM (SELECT student_unique_id AS parent_student_unique_id, "
                 f"{rule['birth_date']} AS parent_birth_date FROM {{{rule['person']}}}) st "
                 f"WHERE st.parent_student_unique_id = student_unique_id AND st.parent_birth_date IS NOT NULL "
                 f"AND {age} NOT BETWEEN {grade} + {rule['min_offset']} AND {grade} + {rule['max_offset']})")
        rules.append(_rows_rule(
            query, f"Age at {rule['date']} is between grade + {rule['min_offset']} and grade + "
                   f"{rule['max_offset']} years (birth date against grade level).", WARNING, "date_logic",
            {"kind": "age_for_grade", **{k: v for k, v in rule.items() if k != "entity"},
             "code_set": entity.field(rule["grade"]).descriptor,
             "fields": ["student_unique_id"], "parent_fields": ["student_unique_id"]}))
    return rules


def _check_rule_targets(schema: UnifiedSchema) -> None:
    named = [*VALUE_RANGES, *SAME_ROW_SCHOOL_YEAR_DATES.items(), *SECTION_SCHOOL_YEAR_DATES.items(),
             (AGE_FOR_GRADE["entity"], AGE_FOR_GRADE["date"]), (AGE_FOR_GRADE["entity"], AGE_FOR_GRADE["grade"]),
             (AGE_FOR_GRADE["person"], AGE_FOR_GRADE["birth_date"])]
    for entity_name, field_name in named:
        if entity_name not in schema.entities or field_name not in schema.entity(entity_name).field_names:
            raise ConfigurationError(f"a validation rule names {entity_name}.{field_name}, "
                                     "which the unified schema does not have")


def entity_suite(name: str, schema: UnifiedSchema, mappings: Mappings, deny_list: DenyList) -> dict[str, Any]:
    """The suite of one entity, as the JSON-ready dict GX's ``ExpectationSuite(**suite)`` accepts."""
    entity = schema.entity(name)
    forbidden = tier1_names(deny_list)
    clashing = [field for field in entity.field_names if field in forbidden]
    if clashing:
        raise ConfigurationError(f"unified entity {name} has field(s) named like a tier-1 column: {clashing}")
    expectations = [_expectation("expect_table_columns_to_match_set",
                                 {"column_set": [*entity.field_names, *LINEAGE], "exact_match": True}, BLOCKING,
                                 "tier1_columns_absent", tier1_names=forbidden)]
    key = list(entity.natural_key)
    if len(key) == 1:
        expectations.append(_expectation("expect_column_values_to_be_unique", {"column": key[0]}, BLOCKING,
                                         "natural_key_unique"))
    else:
        expectations.append(_expectation("expect_compound_columns_to_be_unique", {"column_list": key}, BLOCKING,
                                         "natural_key_unique"))
    for field in entity.required_fields:
        expectations.append(_expectation("expect_column_values_to_not_be_null", {"column": field}, BLOCKING,
                                         "required"))
    for field, code_set in entity.descriptor_fields.items():
        code_values = list(mappings.crosswalks[code_set].code_values)
        expectations.append(_expectation("expect_column_values_to_be_in_set",
                                         {"column": field, "value_set": code_values}, BLOCKING, "code_set",
                                         code_set=code_set))
    for field in entity.fields:
        length = re.fullmatch(r"string\((\d+)\)", field.type)
        if length:
            expectations.append(_expectation("expect_column_value_lengths_to_be_between",
                                             {"column": field.name, "max_value": int(length[1])}, BLOCKING,
                                             "length"))
    for field in entity.fields:
        if field.type.startswith("string") and not field.descriptor and entity.origin != "descriptors":
            expectations.append(_expectation("expect_column_values_to_not_match_regex",
                                             {"column": field.name, "regex": SSN_REGEX}, BLOCKING, "tier2_ssn"))
    for (entity_name, field_name), (low, high) in VALUE_RANGES.items():
        if entity_name == name:
            kwargs: dict[str, Any] = {"column": field_name}
            if low is not None:
                kwargs["min_value"] = low
            if high is not None:
                kwargs["max_value"] = high
            expectations.append(_expectation("expect_column_values_to_be_between", kwargs, WARNING, "value_range"))
    expectations += _foreign_key_rules(name, entity, schema)
    expectations += _date_rules(name, entity)
    return {"name": f"{SUITE_PREFIX}{name}", "expectations": expectations,
            "meta": {"generated_by": "sis_migrate.stages.validate.suites", "entity": name, "natural_key": key}}


def build_suites(mappings: Mappings | None = None, deny_list: DenyList | None = None) -> dict[str, dict[str, Any]]:
    """Entity name -> suite, for every entity of the schema, in schema order."""
    mappings = mappings or default_mappings()
    deny_list = deny_list or default_deny_list()
    _check_rule_targets(mappings.schema)
    return {name: entity_suite(name, mappings.schema, mappings, deny_list) for name in mappings.schema.entities}


def suite_json(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def write_suites(directory: Path | str = EXPECTATIONS_DIR, mappings: Mappings | None = None,
                 deny_list: DenyList | None = None) -> list[Path]:
    """Write ``<directory>/<entity>.json`` for every entity and remove suites of entities that are gone."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    suites = build_suites(mappings, deny_list)
    written = []
    for name, suite in suites.items():
        path = directory / f"{name}.json"
        path.write_text(suite_json(suite), encoding="utf-8")
        written.append(path)
    for stale in directory.glob("*.json"):
        if stale.stem not in suites:
            stale.unlink()
    return written


def load_suites(directory: Path | str = EXPECTATIONS_DIR) -> dict[str, dict[str, Any]]:
    """The committed suites, entity name -> suite dict."""
    directory = Path(directory)
    suites = {}
    for path in sorted(directory.glob("*.json")):
        try:
            suites[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigurationError(f"{path}: suite cannot be read ({type(err).__name__})") from err
    if not suites:
        raise ConfigurationError(f"{directory}: no expectation suites "
                                 "(run python -m sis_migrate.stages.validate.suites)")
    return suites


if __name__ == "__main__":
    for written_path in write_suites():
        print(written_path.relative_to(PROJECT_ROOT))
