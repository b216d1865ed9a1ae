"""`workbench doctor` reports what is installed and what each missing piece would enable (the
missing extras are seen in a core-only environment: tests/extras/test_core_install.py)."""

from __future__ import annotations

import json
from pathlib import Path

from workbench._extras import EXTRAS


def test_doctor_lists_extras_system_programs_and_files(cli, home: Path):
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    for title in ("Core", "Extras", "System programs", "Files"):
        assert title in result.stdout
    for extra in EXTRAS:
        assert extra in result.stdout
    assert "[ml-gpu]" in result.stdout  # extras' names are printed as text, not read as markup
    assert "psycopg 3." in result.stdout
    assert str(home / "workbench.db") in result.stdout


def test_doctor_json_is_one_list_of_findings(cli, home: Path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DB_URL", "postgresql+psycopg://user:hunter2@db.example/research")
    result = cli("doctor", "--json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    by_name = {f["name"]: f for f in findings}
    assert {f["section"] for f in findings} == {"core", "extra", "system", "files"}
    assert by_name["postgres"]["ok"] is True  # the dev extras are installed here
    assert "hunter2" not in result.stdout and "user:***@db.example/research" in by_name["store"]["detail"]
    assert by_name["numba"]["section"] == "core" and by_name["numba"]["ok"] is True

