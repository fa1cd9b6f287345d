"""The ``demandsim serve`` command: start the explorer and open it in the browser."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import click

from demandsim.cli_checks import MAX_JOBS, OutputFolder


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8050,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--out-root",
    type=OutputFolder(holds_runs=True),
    default="reports/output",
    show_default=True,
    help="Folder the runs' results folders go in.",
)
@click.option(
    "--scenarios",
    "scenarios_dir",
    type=click.Path(file_okay=False),
    default="scenarios",
    show_default=True,
    help="Folder of scenario files offered as starting points (with the built-ins).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, MAX_JOBS),
    default=None,
    help="Worker processes per run (default: every core).",
)
@click.option(
    "--no-browser",
    "browser",
    is_flag=True,
    default=True,
    flag_value=False,
    help="Do not open a browser window.",
)
def serve(host: str, port: int, out_root: str, scenarios_dir: str, jobs: int | None,
          browser: bool) -> None:  # fmt: skip
    """Explore scenarios in the browser: change staffing, agency and demand levers, run
    replications in the background, and see the headline, backlog, costs and differences."""
    from demandsim.serve.server import Explorer

    try:
        explorer = Explorer(Path(out_root), Path(scenarios_dir), host, port, jobs)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"demandsim explorer at {explorer.url} (Ctrl-C to stop); results in {out_root}/")
    if browser:
        webbrowser.open(explorer.url)
    try:
        explorer.serve_forever()  # until Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        explorer.stop()  # the run in hand is cancelled and its workers ended
    click.echo("stopped")
