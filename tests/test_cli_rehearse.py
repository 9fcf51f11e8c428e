"""``sis-migrate rehearse`` stops before any row is read when a legacy system grew a column."""

import sqlite3

import pytest

from sis_migrate.cli import main
from sis_migrate.locations import LegacyLocations
from sis_migrate.storage import Staging
from synthetic.generator import District, SynthSpec
from synthetic.writers import write_district


@pytest.mark.slow
def test_an_unclassified_column_stops_the_rehearsal_before_any_row_is_read(tmp_path, airflow_db, capsys):
    legacy_dir = tmp_path / "legacy"
    write_district(District(SynthSpec(students=60, seed=3)).chunks(), LegacyLocations.embedded_default(legacy_dir))
    with sqlite3.connect(legacy_dir / "sim.sqlite") as conn:
        conn.execute('ALTER TABLE "SIM_STUDENT" ADD COLUMN "RELIGION_CD" VARCHAR(4)')
    staging = tmp_path / "staging"
    status = main(["rehearse", "--run-label", "grown", "--legacy-dir", str(legacy_dir), "--staging", str(staging),
                   "--target", f"sqlite:///{tmp_path / 'target.sqlite'}"])
    assert status == 2  # a configuration error: the mappings must follow the source
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("sis-migrate rehearse: configuration error: rehearsal run grown: task check_mappings "
                                "failed: ConfigurationError: the closed world does not hold (1 problem(s))")
    assert lines[-2].strip().startswith("sim.SIM_STUDENT.RELIGION_CD: column is not mapped")
    assert Staging(str(staging), "grown").list("extract/") == []
    assert not (tmp_path / "target.sqlite").exists()


def test_rehearse_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["rehearse", "--help"])
    text = capsys.readouterr().out
    for option in ("--run-label", "--school-year", "--sim", "--gradebook", "--cim", "--verify", "--target",
                   "--staging", "--legacy-dir", "--chunk-rows"):
        assert option in text
