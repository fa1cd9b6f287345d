"""The ``demandsim`` command's entry point: an interrupt at any moment is one line, never a
traceback, start-up included.

Importing the command line pulls in pandas, matplotlib and the model, which takes a second or
two; a Ctrl-C meanwhile would print the import's traceback. This module imports nothing heavy
before it is ready to catch the interrupt. Exit code 130 (128 + SIGINT), as shells report it.
"""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130
MESSAGE = "demandsim: interrupted"


def main() -> None:
    # Arrow (pandas' strings, parquet) on the C library's allocator: its default pool keeps what
    # it freed, which held about 60 MiB of a batch's parent for nothing (an explicit setting wins)
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        from demandsim.cli import main as cli

        cli()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    try:
        sys.stderr.write(f"\n{MESSAGE}\n")
        sys.stderr.flush()
    except (OSError, KeyboardInterrupt):
        pass
    os._exit(INTERRUPTED)  # no atexit handlers or thread joins that could be interrupted again


if __name__ == "__main__":
    main()
