"""``./bin/test`` installs Chromium quietly: apt's hundreds of lines stay out of the output
unless the install fails, and then all of them are shown (issue #20, item 14)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

FAKE_APT = """#!/usr/bin/env bash
# Talks as much as the real one: dpkg ignores -qq.
for i in $(seq 1 250); do echo "Selecting previously unselected package lib$i."; done
for i in $(seq 1 250); do echo "Setting up lib$i (1.0) ..."; done
if [ "${FAKE_APT_FAILS:-}" = 1 ] && [ "$1" != update ]; then
  echo "E: Unable to locate package chromium" >&2
  exit 100
fi
"""


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """bin/test in a checkout whose tools do nothing, with an apt-get that talks."""
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "test", tmp_path / "bin" / "test")
    for tool in ("python", "ruff", "lint-imports", "mypy"):
        _executable(tmp_path / ".venv" / "bin" / tool, "#!/bin/sh\nexit 0\n")
    _executable(tmp_path / "fakebin" / "apt-get", FAKE_APT)
    _executable(tmp_path / "fakebin" / "sudo", '#!/bin/sh\nexec "$@"\n')
    return tmp_path


def _run(checkout: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(checkout / "bin" / "test")],
        env={
            **os.environ,
            "PATH": f"{checkout / 'fakebin'}:{os.environ['PATH']}",
            "CHROMIUM_PATH": str(checkout / "no-chromium-here"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_successful_install_prints_a_line_not_hundreds(checkout):
    result = _run(checkout)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Setting up" not in output and "Selecting previously" not in output
    assert len(output.splitlines()) < 10, output


def test_a_failed_install_shows_apt_and_stops(checkout):
    result = _run(checkout, FAKE_APT_FAILS="1")
    assert result.returncode != 0
    assert "E: Unable to locate package chromium" in result.stderr
    assert "installing chromium with apt-get failed" in result.stderr
