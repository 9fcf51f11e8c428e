"""The migration finds exactly what the generator planted: the `small` district against its manifest.

Every anomaly the ground-truth manifest lists is compared with what the transform stage reported
under the same reason: the count, and for quarantines and merges the very legacy keys (and the
survivor of each merge). Fixes (sentinel dates, impossible dates, scrubbed SSNs) are counted per
column. The expected cascade of each quarantined course is checked too.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sis_migrate import legacy
from sis_migrate.locations import LegacyLocations
from sis_migrate.run_config import RunConfig
from sis_migrate.stages import check, extract, stage, unify
from sis_migrate.storage import Staging
from synthetic.generator import District, SynthSpec
from synthetic.presets import PRESETS
from synthetic.writers import write_district
from transforms.reasons import REASONS, Disposition

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("small")
    district = District(SynthSpec(students=PRESETS["small"], seed=2019))
    write_district(district.chunks(), LegacyLocations.embedded_default(base / "legacy"), replace=True)
    cfg = RunConfig(run_label="truth", legacy_dir=str(base / "legacy"), staging=str(base / "staging"),
                    target=f"sqlite:///{base / 'target.sqlite'}")
    extracted = [extract.extract(cfg, table) for table in check.check_mappings(cfg)]
    facts = unify.transform_core(cfg, stage.stage(cfg, extracted))
    for table in facts:
        unify.transform_facts(cfg, table)
    return district.manifest(), Staging(cfg.staging_location(), cfg.run_id)


def _key(values: dict, table: legacy.Table) -> tuple[str, ...]:
    return tuple(str(values[name]).strip() for name in table.key)


def _quarantined(staging: Staging, table: legacy.Table) -> Counter:
    found: Counter = Counter()
    for frame in staging.read_parts(f"quarantine/{table.system.value}.{table.name}/"):
        for row in frame.to_dict("records"):
            found[(row["_reason"], _key(row, table))] += 1
    return found


def _merged(staging: Staging, table: legacy.Table) -> dict[tuple, tuple[str, str]]:
    found = {}
    for frame in staging.read_parts(f"merge/{table.system.value}.{table.name}/"):
        for row in frame.to_dict("records"):
            values = dict(part.split("=", 1) for part in row["legacy_key"].split(","))
            found[_key(values, table)] = (row["_reason"], str(row["survivor_key"]))
    return found


def test_every_planted_anomaly_is_found_with_its_exact_keys(small_run):
    manifest, staging = small_run
    assert manifest["anomalies"], "the generator planted nothing"
    for anomaly in manifest["anomalies"]:
        table = legacy.table(anomaly["system"], anomaly["table"])
        name = f"{table.system.value}.{table.name}"
        accounting = staging.read_json(f"accounting/{name}.json")
        disposition = REASONS[anomaly["code"]].disposition
        planted_keys = [_key(k, table) for k in anomaly["keys"]]
        assert len(planted_keys) == anomaly["count"] > 0
        if disposition is Disposition.FIX:
            fixed = accounting["fixes"].get(f"{anomaly['code']}:{anomaly['column']}")
            assert fixed == anomaly["count"], anomaly["code"]
        elif disposition is Disposition.QUARANTINE:
            assert accounting["by_reason"].get(anomaly["code"]) == anomaly["count"], (name, anomaly["code"])
            found = _quarantined(staging, table)
            assert all(found[(anomaly["code"], key)] == 1 for key in planted_keys), (name, anomaly["code"])
        else:
            assert accounting["by_reason"].get(anomaly["code"]) == anomaly["count"], (name, anomaly["code"])
            found = _merged(staging, table)
            for planted in anomaly["keys"]:
                survivor = str(next(iter(planted["survivor"].values())))
                assert found[_key(planted, table)] == (anomaly["code"], survivor)


def test_nothing_is_found_that_was_not_planted(small_run):
    manifest, staging = small_run
    planted = Counter()
    for anomaly in manifest["anomalies"]:
        if REASONS[anomaly["code"]].disposition is not Disposition.FIX:
            planted[(f"{anomaly['system']}.{anomaly['table']}", anomaly["code"])] += anomaly["count"]
    for name, count in manifest["consequences"]["depends_on_quarantined"].items():
        planted[(name, "depends_on_quarantined")] += count
    found = Counter()
    for table in legacy.TABLES.values():
        accounting = staging.read_json(f"accounting/{table.system.value}.{table.name}.json")
        for code, count in accounting["by_reason"].items():
            found[(f"{table.system.value}.{table.name}", code)] += count
    assert found == planted


def test_every_table_balances_and_matches_the_generated_rows(small_run):
    manifest, staging = small_run
    for name, rows in manifest["rows"].items():
        accounting = staging.read_json(f"accounting/{name}.json")
        assert accounting["rows_in"] == rows, name
        assert accounting["loaded"] + accounting["merged"] + accounting["quarantined"] == rows, name
        assert sum(accounting["rows_in_by_school"].values()) == rows, name


def test_quarantine_names_the_legacy_column_to_fix(small_run):
    _, staging = small_run
    for table in legacy.TABLES.values():
        for frame in staging.read_parts(f"quarantine/{table.system.value}.{table.name}/"):
            columns = set(frame["_reason_column"].dropna())
            assert columns <= set(table.column_names), (table.name, columns - set(table.column_names))
