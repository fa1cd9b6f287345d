"""Command-line input checks: every option is refused up front, in one form, with exit code 2.

Covers: the parameter types of the options (seeds, replication and job counts, output folders
that can be created), the ``--allow-outside-paths`` flag, and the command group that turns the
library's input errors (:class:`~demandsim.scenario_files.ScenarioError`,
:class:`~demandsim.calibration.inputs.InputError`) into one message and exit code 2, never a
traceback. An interrupt (Ctrl-C) at any moment, start-up included, is one line and exit code 130
(see :mod:`demandsim.entry`).

Every message has the form ``SOURCE: KEY: what was expected; got WHAT WAS FOUND``; the source is
the option (``--out``), the file, or ``--set``. See docs/bad-input.md.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

import click

#: exit code for bad input (as click uses for usage errors)
BAD_INPUT = 2
#: exit code after an interrupt (128 + SIGINT, as shells report it)
INTERRUPTED = 130
#: the largest seed (numpy seeds are non-negative integers; this keeps SEED + N in 64 bits)
MAX_SEED = 2**63 - 1
#: most replications of one batch per scenario or design point
MAX_REPLICATIONS = 100_000
#: most local worker processes
MAX_JOBS = 1024
#: most design points of a sweep (the product of the numbers of --vary values)
MAX_DESIGN_POINTS = 10_000
#: most predictive sample paths of demand written by calibrate
MAX_SAMPLES = 10_000


class BadInput(click.ClickException):
    """A bad input: its message says where, what was expected and what was found; exit code 2."""

    exit_code = BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class Interrupted(click.ClickException):
    """Ctrl-C: one line, exit code 130 (anything half-written has been removed on the way out,
    or, for a batch, what it finished is kept to resume and the message says so)."""

    exit_code = INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)

    def show(self, file=None) -> None:
        click.echo(f"\ndemandsim: {self.format_message()}", err=True, file=file)


class Main(click.Group):
    """The ``demandsim`` group: input errors escaping a command become :class:`BadInput`, an
    interrupt becomes :class:`Interrupted`."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValueError as exc:
            if _input_error(exc):
                raise BadInput(str(exc)) from None
            raise
        except KeyboardInterrupt:
            raise Interrupted() from None


def _input_error(exc: Exception) -> bool:
    """A ScenarioError or InputError, found without importing the calibration (and pandas)."""
    classes = []
    for module, name in (("demandsim.scenario_files", "ScenarioError"),
                         ("demandsim.calibration.inputs", "InputError")):  # fmt: skip
        loaded = sys.modules.get(module)
        if loaded is not None:
            classes.append(getattr(loaded, name))
    return isinstance(exc, tuple(classes))


class OutputFolder(click.ParamType):
    """A folder that is, or can be made: refused at once if a file is in the way, a parent is
    not a folder, or the place is not writable (so no work is done before the write fails)."""

    name = "folder"

    def __init__(self, holds_runs: bool = False) -> None:
        #: results folders are made inside it (``serve --out-root``): it must take new folders
        self.holds_runs = holds_runs

    def convert(self, value, param, ctx):
        if value is None:
            return None
        text = str(value)
        option = param.opts[0] if param is not None and param.opts else "--out"
        if not text.strip() or "\0" in text:
            self.fail(f"expected a folder name; got {text!r}", param, ctx)
        problem = folder_problem(Path(text))
        if problem is None and self.holds_runs:
            problem = folder_problem(Path(text) / "run")
        if problem:
            what = "a writable folder" if self.holds_runs else "a folder that can be created"
            raise click.BadParameter(
                f"expected {what}; got {text!r}: {problem}",
                ctx=ctx,
                param_hint=option,
            )
        return text


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a writable folder, or None.

    Results are assembled in a sibling of the folder, so its parent (or the nearest one that
    exists) must take a new folder: that is tried, with a probe folder removed at once."""
    if path.exists() and not path.is_dir():
        return "it exists and is not a folder"
    parent = path.absolute().parent
    while not parent.exists():
        if parent == parent.parent:
            return "none of its parent folders exists"
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    try:
        probe = tempfile.mkdtemp(prefix=".demandsim-probe-", dir=parent)
    except OSError as exc:
        return f"a folder cannot be made in {parent} ({exc.strerror})"
    os.rmdir(probe)
    return None


def remember_allow_outside(ctx: click.Context, param, value: bool) -> bool:
    ctx.meta["demandsim.allow_outside_paths"] = bool(value)
    return value


def allow_outside_paths_option(command):
    return click.option(
        "--allow-outside-paths",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=remember_allow_outside,
        help="Let extends, calibration and *_file keys name files outside the scenario's "
        "folder (by default only that folder and the built-in scenarios).",
    )(command)


def allow_outside_paths() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().meta.get("demandsim.allow_outside_paths")) or bool(
        ctx and ctx.meta.get("demandsim.allow_outside_paths")
    )


def check_years(ctx: click.Context, param, value: float | None) -> float | None:
    """``--years``: a finite number (its range is the scenario's: see limits.max_years)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"expected a finite number of years; got {value}", ctx, param)
    return value


def check_varies(ctx: click.Context, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """``--vary``: each parses, and the design has at most :data:`MAX_DESIGN_POINTS` points."""
    from demandsim.batch.sweep import parse_vary
    from demandsim.scenario_files import ScenarioError

    points = 1
    for text in values:
        try:
            points *= max(1, len(parse_vary(text).values))
        except ScenarioError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    if points > MAX_DESIGN_POINTS:
        raise click.BadParameter(
            f"expected at most {MAX_DESIGN_POINTS:,} design points (every combination of the "
            f"values); got {points:,}",
            ctx,
            param,
        )
    return values
