"""The installed program runs from any folder: everything it needs ships inside the package.

CI installs demandsim non-editable (a wheel built from the checkout) into a fresh virtual
environment, so this test runs the installed ``demandsim`` command from a temporary folder
outside the checkout. With an editable install (a developer's) it is skipped, unless ``CI`` is
set, where it fails: CI must test the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("elsewhere")
    found = run([sys.executable, "-c", "import demandsim; print(demandsim.__file__)"], where)
    assert found.returncode == 0, found.stderr
    location = Path(found.stdout.strip()).resolve()
    if location.is_relative_to(CHECKOUT / "demandsim"):
        if os.environ.get("CI"):
            pytest.fail(f"CI must install demandsim non-editable; it imports from {location}")
        pytest.skip("demandsim is installed editable (from the checkout): no wheel to test")
    return where


def test_installed_run_and_calibrate_work_from_another_folder(installed):
    ran = run([str(BIN / "demandsim"), "run", "--years", "0.1", "--out", "r"], installed)
    assert ran.returncode == 0, ran.stderr
    assert "Results written to r/" in ran.stdout
    assert (installed / "r" / "report.html").exists()
    manifest = json.loads((installed / "r" / "manifest.json").read_text())
    assert manifest["kind"] == "run"
    fitted = run(
        [str(BIN / "demandsim"), "calibrate", "--la", "Leeds", "--year", "2021", "--out", "leeds"],
        installed,
    )
    assert fitted.returncode == 0, fitted.stderr
    again = run(
        [str(BIN / "demandsim"), "run", "leeds/scenario.toml", "--years", "0.1", "--out", "l"],
        installed,
    )
    assert again.returncode == 0, again.stderr
