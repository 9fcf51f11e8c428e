"""The per-system mapping files, the crosswalks and the deny-list: strict loaders and the closed world.

Mapping files (``mappings/<system>.yaml``) are target-keyed: for each legacy table, the unified
entities it feeds and, for each field, the legacy column(s) it comes from and the named transform
or crosswalk that turns them. Columns the new system does not need are ``ignored`` with a reason.
Tier-1 columns are only in ``mappings/deny_list.yaml`` and are never read.

Everything is checked when loaded, against the legacy catalog (:mod:`sis_migrate.legacy`), the
unified schema and the field-transform registry; a problem is a :class:`ConfigurationError` naming
the file and the line. :func:`check_closed_world` then proves every legacy column has exactly one
fate (mapped, ignored or denied), against the catalog or against the columns a live source has.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from pydantic import Field, field_validator, model_validator

from sis_migrate import legacy
from sis_migrate.config_yaml import Source, StrictModel
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.schema import CROSSWALK_DIR, MAPPINGS_DIR, SCHEMA_FILE, UnifiedSchema, load_schema
from transforms.crosswalk import CodeRow, Crosswalk
from transforms.errors import CodeSetError
from transforms.reasons import REASONS, Disposition

DENY_LIST_FILE = "deny_list.yaml"
DEFAULT_TRANSFORM = "copy"
CROSSWALK_HEADER = ("legacy_code", "code_value", "description")
ORDINAL_COLUMN = "ordinal"  # optional fourth column: the place of each code value in an ordered code set
DenyCategory = Literal["citizenship_immigration", "birth_place", "us_entry", "ssn", "identity_document",
                       "health_text", "staff_free_text", "not_needed"]
DENY_CATEGORIES: tuple[str, ...] = get_args(DenyCategory)


def mapping_file(system: System | str) -> str:
    return f"{System(system).value}.yaml"


def field_transform_names() -> frozenset[str]:
    """The transform names a mapping may use: the keys of ``transforms.fields.FIELD_TRANSFORMS``."""
    from transforms.fields import FIELD_TRANSFORMS

    return frozenset(FIELD_TRANSFORMS)


# --- models ------------------------------------------------------------------------------------

class FieldSource(StrictModel):
    """Where one target field comes from: one legacy column, through a transform, a crosswalk, or a
    transform and then a crosswalk (the transform prepares the code the crosswalk maps)."""

    from_: str = Field(alias="from", min_length=1)
    transform: str | None = None
    crosswalk: str | None = None
    unknown_code_reason: str | None = None  # with a crosswalk: the quarantine reason of a code outside it

    @field_validator("from_", mode="before")
    @classmethod
    def _one_column(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            raise ValueError("'from' names one legacy column: the transform stage maps one column per field")
        return value

    @model_validator(mode="after")
    def _reason_with_crosswalk(self) -> FieldSource:
        if self.unknown_code_reason and not self.crosswalk:
            raise ValueError("'unknown_code_reason' goes with a crosswalk")
        if self.unknown_code_reason and (
                REASONS.get(self.unknown_code_reason) is None
                or REASONS[self.unknown_code_reason].disposition is not Disposition.QUARANTINE):
            raise ValueError(f"'unknown_code_reason' {self.unknown_code_reason!r} is not a quarantine reason "
                             "of transforms/reasons.py")
        return self

    @property
    def column(self) -> str:
        return self.from_

    @property
    def transform_name(self) -> str | None:
        """The field transform: ``copy`` unless named; before a crosswalk only if named."""
        if self.crosswalk:
            return self.transform
        return self.transform or DEFAULT_TRANSFORM


class MappedField(NamedTuple):
    """One target field of a table's mapping, with its entity and name (``entity.field`` in the wide frame)."""

    entity: str
    field: str
    source: FieldSource

    @property
    def column(self) -> str:
        return f"{self.entity}.{self.field}"


class SchoolVia(StrictModel):
    """A row's school found through another table: ``via`` a school lookup, by a field of this row."""

    via: str  # the lookup, named by its entity (section, gradebook_entry)
    key: str  # entity.field of this table holding the lookup's key


class TableMapping(StrictModel):
    """One legacy table: what it feeds, how it is processed, whose school its rows belong to, its rules."""

    process: Literal["whole", "parts"] = "whole"  # whole: one pass, in dependency order; parts: part by part
    school: str | SchoolVia | None = None  # entity.field naming the row's school, or a lookup; None: no school
    school_lookup: str | None = None  # entity.field whose key later tables look the row's school up by
    rules: tuple[str, ...] = ()  # named table rules (sis_migrate/stages/unify/table_rules.py), in order
    targets: dict[str, dict[str, FieldSource]] = Field(min_length=1)  # entity -> field -> source
    ignored: dict[str, str] = {}  # column -> one-line reason

    @property
    def fields(self) -> tuple[MappedField, ...]:
        return tuple(MappedField(entity, name, source)
                     for entity, fields in self.targets.items() for name, source in fields.items())

    @property
    def field_columns(self) -> frozenset[str]:
        """Every ``entity.field`` this table maps."""
        return frozenset(f.column for f in self.fields)

    @property
    def mapped_columns(self) -> tuple[str, ...]:
        """Every legacy column some target field reads, in first-use order, each once."""
        return tuple(dict.fromkeys(f.source.column for f in self.fields))

    def targets_of(self, column: str) -> list[str]:
        """``entity.field`` names the column feeds."""
        return [f.column for f in self.fields if f.source.column == column]

    @property
    def lookup_name(self) -> str | None:
        """The name later tables use for this table's school lookup: its entity."""
        return self.school_lookup.split(".", 1)[0] if self.school_lookup else None


class SystemMapping(StrictModel):
    system: System
    tables: dict[str, TableMapping] = Field(min_length=1)


class DenyEntry(StrictModel):
    system: System
    table: str
    column: str
    category: DenyCategory
    reason: str = Field(min_length=10)


class DenyList(StrictModel):
    denied: tuple[DenyEntry, ...]

    def columns_of(self, system: System | str, table: str) -> dict[str, DenyEntry]:
        return {entry.column: entry for entry in self.denied
                if entry.system is System(system) and entry.table == table}


@dataclass(frozen=True)
class Mappings:
    """The whole mapping configuration: schema, one mapping per system, crosswalks."""

    schema: UnifiedSchema
    systems: dict[System, SystemMapping]
    crosswalks: dict[str, Crosswalk]

    def table(self, system: System | str, table: str) -> TableMapping | None:
        system_mapping = self.systems.get(System(system))
        return system_mapping.tables.get(table) if system_mapping else None

    def mapped_tables(self) -> list[tuple[legacy.Table, TableMapping]]:
        """Every mapped legacy table with its mapping, in catalog order."""
        return [(table, mapping) for table in legacy.TABLES.values()
                if (mapping := self.table(table.system, table.name)) is not None]

    def needs(self, table: legacy.Table, mapping: TableMapping) -> set[str]:
        """What a table needs from the tables before it: parent entities, school lookups, rule state."""
        from sis_migrate.stages.unify.table_rules import RULES

        own = set(mapping.targets)
        needed = {f"entity:{fk.entity}" for entity in mapping.targets
                  for fk in self.schema.entity(entity).foreign_keys if fk.entity not in own}
        if isinstance(mapping.school, SchoolVia):
            needed.add(f"school_of:{mapping.school.via}")
        needed.update(f"state:{name}" for rule in mapping.rules for name in RULES[rule].needs)
        return needed

    def provides(self, mapping: TableMapping) -> set[str]:
        """What a table leaves for the tables after it."""
        from sis_migrate.stages.unify.table_rules import RULES

        provided = {f"entity:{entity}" for entity in mapping.targets}
        if mapping.lookup_name:
            provided.add(f"school_of:{mapping.lookup_name}")
        provided.update(f"state:{name}" for rule in mapping.rules for name in RULES[rule].provides)
        return provided

    def processing_order(self) -> list[tuple[legacy.Table, TableMapping]]:
        """The whole tables in dependency order (catalog order where free), then the part-by-part tables.

        A whole table runs after every table it needs; a part-by-part table runs in parallel with
        the others after all whole tables, so it may need only what whole tables provide.
        """
        whole = [(t, m) for t, m in self.mapped_tables() if m.process == "whole"]
        parts = [(t, m) for t, m in self.mapped_tables() if m.process == "parts"]
        available: set[str] = set()
        ordered: list[tuple[legacy.Table, TableMapping]] = []
        pending = list(whole)
        while pending:
            ready = next(((t, m) for t, m in pending if self.needs(t, m) <= available | self.provides(m)), None)
            if ready is None:
                stuck = ", ".join(f"{t.qualified} (needs {', '.join(sorted(self.needs(t, m) - available))})"
                                  for t, m in pending)
                raise ConfigurationError(f"the whole-table mappings need each other in a cycle or need what no "
                                         f"table provides: {stuck}")
            pending.remove(ready)
            ordered.append(ready)
            available |= self.provides(ready[1])
        for table, mapping in parts:
            missing = self.needs(table, mapping) - available - self.provides(mapping)
            if missing:
                raise ConfigurationError(f"{table.qualified} is processed in parts but needs "
                                         f"{', '.join(sorted(missing))}, which no whole table provides")
        return ordered + parts


# --- loaders -----------------------------------------------------------------------------------

def load_crosswalk(path: Path | str, namespace: str) -> Crosswalk:
    """One crosswalk CSV: header ``legacy_code,code_value,description[,ordinal]``, no legacy code twice."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
    except OSError as err:
        raise ConfigurationError(f"{path}: crosswalk cannot be read ({err.strerror})") from err
    except (csv.Error, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: crosswalk is not UTF-8 CSV ({type(err).__name__})") from err
    if not lines or tuple(lines[0]) not in (CROSSWALK_HEADER, (*CROSSWALK_HEADER, ORDINAL_COLUMN)):
        raise ConfigurationError(f"{path}:1: crosswalk header must be {','.join(CROSSWALK_HEADER)}"
                                 f"[,{ORDINAL_COLUMN}]")
    width = len(lines[0])
    rows, first_line = [], {}
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if len(line) != width:
            raise ConfigurationError(f"{path}:{number}: expected {width} fields, found {len(line)}")
        legacy_code, code_value, description, *ordinal = (part.strip() for part in line)
        if legacy_code in first_line:
            raise ConfigurationError(f"{path}:{number}: legacy code {legacy_code!r} is already on line "
                                     f"{first_line[legacy_code]}")
        if not code_value:
            raise ConfigurationError(f"{path}:{number}: code_value is empty")
        if ordinal and not re.fullmatch(r"-?\d+", ordinal[0]):
            raise ConfigurationError(f"{path}:{number}: {ORDINAL_COLUMN} must be a whole number")
        first_line[legacy_code] = number
        rows.append(CodeRow(legacy_code, code_value, description, int(ordinal[0]) if ordinal else None))
    try:
        return Crosswalk(name=path.stem, namespace=namespace, rows=tuple(rows))
    except CodeSetError as err:
        raise ConfigurationError(f"{path}: {err}") from err


def load_crosswalks(schema: UnifiedSchema, crosswalk_dir: Path | str) -> dict[str, Crosswalk]:
    """Every code set the schema declares, each from ``<crosswalk_dir>/<name>.csv``."""
    crosswalk_dir = Path(crosswalk_dir)
    crosswalks = {}
    for name, namespace in schema.descriptors.items():
        path = crosswalk_dir / f"{name}.csv"
        if not path.is_file():
            raise ConfigurationError(f"{path}: crosswalk file for code set {name!r} does not exist")
        crosswalks[name] = load_crosswalk(path, namespace)
    return crosswalks


def load_system_mapping(path: Path | str, schema: UnifiedSchema, crosswalk_dir: Path | str,
                        transforms: frozenset[str] | None = None) -> SystemMapping:
    """One system's mapping file, checked against the catalog, the schema, transforms and crosswalks."""
    source = Source.read(path)
    mapping = source.validate(SystemMapping)
    _check_system_mapping(mapping, source, schema, Path(crosswalk_dir),
                          transforms if transforms is not None else field_transform_names())
    return mapping


def _check_system_mapping(mapping: SystemMapping, source: Source, schema: UnifiedSchema, crosswalk_dir: Path,
                          transforms: frozenset[str]) -> None:
    catalog = {table.name: table for table in legacy.tables_of(mapping.system)}
    for table_name, table_mapping in mapping.tables.items():
        at = ("tables", table_name)
        if table_name not in catalog:
            raise source.error(at, f"the legacy catalog has no table {mapping.system.value}.{table_name}")
        known_columns = catalog[table_name].column_names
        for entity_name, fields in table_mapping.targets.items():
            entity_at = (*at, "targets", entity_name)
            if entity_name not in schema.entities:
                raise source.error(entity_at, f"unknown target entity {entity_name!r}")
            entity = schema.entities[entity_name]
            if entity.origin != "mapped":
                raise source.error(entity_at, f"entity {entity_name!r} is {entity.origin}, not fed by a mapping")
            for field_name, field_source in fields.items():
                field_at = (*entity_at, field_name)
                if field_name not in entity.field_names:
                    raise source.error(field_at, f"unknown field {entity_name}.{field_name}")
                if field_source.column not in known_columns:
                    raise source.error((*field_at, "from"), f"the legacy catalog has no column "
                                                            f"{mapping.system.value}.{table_name}.{field_source.column}")
                _check_field_conversion(field_source, entity.field(field_name).descriptor, field_at, source,
                                        schema, crosswalk_dir, transforms)
            missing = [name for name in entity.required_fields if name not in fields]
            if missing:
                raise source.error(entity_at, f"required field(s) of {entity_name} not mapped: {', '.join(missing)}")
        for column, reason in table_mapping.ignored.items():
            if column not in known_columns:
                raise source.error((*at, "ignored", column), f"the legacy catalog has no column "
                                                             f"{mapping.system.value}.{table_name}.{column}")
            if not reason or not reason.strip():
                raise source.error((*at, "ignored", column), "an ignored column needs a one-line reason")
        unmapped_keys = [key for key in catalog[table_name].key if key not in table_mapping.mapped_columns]
        if unmapped_keys:
            raise source.error(at, f"key column(s) {', '.join(unmapped_keys)} must be mapped: "
                                   "quarantine and lineage name rows by them")
        _check_table_steps(table_mapping, at, source)


def _check_table_steps(table_mapping: TableMapping, at: tuple, source: Source) -> None:
    """The table's school, school lookup and rules name fields it maps and rules that exist."""
    from sis_migrate.stages.unify.table_rules import RULES

    mapped = table_mapping.field_columns
    school = table_mapping.school
    if isinstance(school, str) and school not in mapped:
        raise source.error((*at, "school"), f"{school} is not a field this table maps")
    if isinstance(school, SchoolVia) and school.key not in mapped:
        raise source.error((*at, "school", "key"), f"{school.key} is not a field this table maps")
    if table_mapping.school_lookup and table_mapping.school_lookup not in mapped:
        raise source.error((*at, "school_lookup"), f"{table_mapping.school_lookup} is not a field this table maps")
    if table_mapping.school_lookup and table_mapping.school is None:
        raise source.error((*at, "school_lookup"), "a school lookup needs the table's own 'school'")
    for index, name in enumerate(table_mapping.rules):
        rule = RULES.get(name)
        if rule is None:
            raise source.error((*at, "rules", index), f"unknown table rule {name!r}; known: {', '.join(sorted(RULES))}")
        unmapped = [column for column in rule.reads if column not in mapped]
        if unmapped:
            raise source.error((*at, "rules", index), f"rule {name} reads {', '.join(unmapped)}, "
                                                      "which this table does not map")
        if rule.needs_whole_table and table_mapping.process != "whole":
            raise source.error((*at, "rules", index), f"rule {name} needs the whole table: process: whole")


def _check_field_conversion(field_source: FieldSource, descriptor: str | None, at: tuple, source: Source,
                            schema: UnifiedSchema, crosswalk_dir: Path, transforms: frozenset[str]) -> None:
    if field_source.transform and field_source.transform not in transforms:
        raise source.error((*at, "transform"), f"unknown transform {field_source.transform!r}; "
                                               f"known: {', '.join(sorted(transforms))}")
    if field_source.crosswalk:
        name = field_source.crosswalk
        if name not in schema.descriptors:
            raise source.error((*at, "crosswalk"), f"unknown crosswalk {name!r} (not declared in {SCHEMA_FILE})")
        if not (crosswalk_dir / f"{name}.csv").is_file():
            raise source.error((*at, "crosswalk"), f"crosswalk file {crosswalk_dir / (name + '.csv')} does not exist")
        if descriptor != name:
            expected = f"the {descriptor!r} code set" if descriptor else "no code set (it is not a descriptor)"
            raise source.error((*at, "crosswalk"), f"the field holds {expected}, not {name!r}")
        return
    if descriptor:
        raise source.error(at, f"the field holds a {descriptor!r} code: map it with crosswalk: {descriptor}")


def load_mappings(mappings_dir: Path | str | None = None) -> Mappings:
    """The schema, every system's mapping and every crosswalk under ``mappings_dir`` (default: the project's)."""
    base = Path(mappings_dir) if mappings_dir else MAPPINGS_DIR
    schema = load_schema(base / SCHEMA_FILE)
    crosswalk_dir = base / CROSSWALK_DIR
    crosswalks = load_crosswalks(schema, crosswalk_dir)
    transforms = field_transform_names()
    systems = {}
    for system in System:
        path = base / mapping_file(system)
        system_mapping = load_system_mapping(path, schema, crosswalk_dir, transforms)
        if system_mapping.system is not system:
            raise ConfigurationError(f"{path}:{Source.read(path).line_of(('system',))}: the file is for "
                                     f"{system.value}, but says system: {system_mapping.system.value}")
        systems[system] = system_mapping
    fed = {entity for mapping in systems.values() for table in mapping.tables.values() for entity in table.targets}
    unfed = [name for name, entity in schema.entities.items() if entity.origin == "mapped" and name not in fed]
    if unfed:
        raise ConfigurationError(f"{base / SCHEMA_FILE}: no mapping feeds the entities {', '.join(unfed)}")
    mappings = Mappings(schema=schema, systems=systems, crosswalks=crosswalks)
    mappings.processing_order()  # a cycle, or a part-by-part table needing another, is refused now
    return mappings


def load_deny_list(path: Path | str | None = None) -> DenyList:
    """The deny-list, each entry checked against the catalog; an entry listed twice is an error."""
    source = Source.read(Path(path) if path else MAPPINGS_DIR / DENY_LIST_FILE)
    deny_list = source.validate(DenyList)
    seen: set[tuple[System, str, str]] = set()
    for index, entry in enumerate(deny_list.denied):
        at = ("denied", index)
        try:
            table = legacy.table(entry.system, entry.table)
        except KeyError as err:
            raise source.error(at, f"the legacy catalog has no table {entry.system.value}.{entry.table}") from err
        if entry.column not in table.column_names:
            where = f"{entry.system.value}.{entry.table}.{entry.column}"
            raise source.error(at, f"the legacy catalog has no column {where}")
        if entry.column in table.key:
            raise source.error(at, f"{entry.column} is a key column of {entry.table}; a key cannot be denied")
        if (entry.system, entry.table, entry.column) in seen:
            raise source.error(at, f"{entry.system.value}.{entry.table}.{entry.column} is listed twice")
        seen.add((entry.system, entry.table, entry.column))
    return deny_list


@cache
def default_mappings() -> Mappings:
    return load_mappings()


@cache
def default_deny_list() -> DenyList:
    return load_deny_list()


# --- closed world ------------------------------------------------------------------------------

ProblemKind = Literal["unclassified", "classified_twice", "missing_from_source", "table_missing"]


@dataclass(frozen=True)
class Problem:
    """One break of the closed world, naming system, table and column (never a value)."""

    system: str
    table: str
    column: str | None
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        where = f"{self.system}.{self.table}" + (f".{self.column}" if self.column else "")
        return f"{where}: {self.detail}"


def fates(mappings: Mappings, deny_list: DenyList, system: System | str, table: str) -> dict[str, list[str]]:
    """Column -> every fate it is given (``mapped``, ``ignored``, ``denied``); one is the rule."""
    result: dict[str, list[str]] = {}
    table_mapping = mappings.table(system, table)
    if table_mapping:
        for column in table_mapping.mapped_columns:
            result.setdefault(column, []).append("mapped")
        for column in table_mapping.ignored:
            result.setdefault(column, []).append("ignored")
    for column in deny_list.columns_of(system, table):
        result.setdefault(column, []).append("denied")
    return result


def catalog_columns() -> dict[tuple[System, str], list[str]]:
    """The columns of every legacy table as the catalog declares them."""
    return {(table.system, table.name): list(table.column_names) for table in legacy.TABLES.values()}


def check_closed_world(mappings: Mappings, deny_list: DenyList,
                       live_columns: dict[tuple[System | str, str], list[str]] | None = None) -> list[Problem]:
    """Every column of every legacy table must be exactly one of mapped, ignored or denied.

    ``live_columns`` are the columns the sources really have, by (system, table); the catalog's
    when not given. A table absent from it is reported once as missing. Problems come in
    catalog order: unclassified, classified twice, classified but missing from the source.
    """
    live = {(System(system), table): list(columns)
            for (system, table), columns in (live_columns or catalog_columns()).items()}
    problems = []
    for table in legacy.TABLES.values():
        system = table.system.value
        table_fates = fates(mappings, deny_list, table.system, table.name)
        if (table.system, table.name) not in live:
            problems.append(Problem(system, table.name, None, "table_missing",
                                    "the source has no such table (or no export of it)"))
            continue
        columns = live[(table.system, table.name)]
        for column in columns:
            given = table_fates.get(column, [])
            if not given:
                problems.append(Problem(system, table.name, column, "unclassified",
                                        "column is not mapped, ignored or denied: classify it before any row is read"))
            elif len(given) > 1:
                counted = ", ".join(f"{fate} x{count}" if count > 1 else fate
                                    for fate, count in Counter(given).items())
                problems.append(Problem(system, table.name, column, "classified_twice",
                                        f"column is classified more than once ({counted})"))
        present = set(columns)
        for column, given in table_fates.items():
            if column not in present:
                problems.append(Problem(system, table.name, column, "missing_from_source",
                                        f"column is {'/'.join(given)} but the source does not have it"))
    return problems
