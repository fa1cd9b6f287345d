"""What a fresh process has imported after some command-line calls: the check that a command's
--help and its input errors answer without loading the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys


def heavy_modules_loaded(calls: list[tuple[list[str], int]], modules: tuple[str, ...]) -> list[str]:
    """Run each ``(args, expected exit code)`` through the CLI in a new process; returns which of
    ``modules`` were imported (an unexpected exit code fails the subprocess)."""
    lines = [
        "import json, sys",
        "from click.testing import CliRunner",
        "from demandsim.cli import main",
    ]
    for args, code in calls:
        lines.append(f"result = CliRunner().invoke(main, {args!r})")
        lines.append(f"assert result.exit_code == {code}, result.output")
    lines.append(f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))")
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)
