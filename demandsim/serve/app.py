"""The scenario explorer: a Dash app over the levers, the run queue and the results folders.

Covers: the page (start from a scenario, change its levers, run a comparison against it, watch
the queue), and what a finished run shows, all read back from its results folder with
:func:`~demandsim.report.inputs.load_inputs`, so the page shows what report.html shows: the
headline in words, monthly unallocated cases by team with 10th-90th percentile bands, cost by
financial year against budget, and the paired differences with their 95% intervals.

Assumptions: Dash serves its own JavaScript and Plotly's from the installed packages
(``serve_locally``), so the page needs nothing from the internet; the page polls the queue once
a second, so a long run never blocks a request.
"""

from __future__ import annotations

from pathlib import Path

import flask
import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from plotly.subplots import make_subplots

from demandsim.cli_checks import MAX_REPLICATIONS, MAX_SEED
from demandsim.headline import money
from demandsim.measures import SERVICE, is_money, label, team_label
from demandsim.report.inputs import ReportInputs, load_inputs
from demandsim.resources import BUILTIN, builtin_names
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, load_scenario
from demandsim.serve.levers import REQUEST_ON, edited_scenario, form_values, levers
from demandsim.serve.runs import DONE, FAILED, QUEUED, Run, RunQueue

BAND = ("p10", "p90")
COLOURS = ("#1f4e79", "#c0504d")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 1200px; color: #222; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; }
th { border-bottom: 1px solid #999; } code { font-size: 0.8em; color: #555; }
.error { color: #a00; white-space: pre-wrap; } .muted { color: #666; font-size: 0.9em; }
.lever input, .lever select { width: 9em; } fieldset { margin-bottom: 0.8rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def scenario_sources(scenarios_dir: Path | None) -> dict[str, str]:
    """Where a run may start: label -> what :func:`load_scenario` reads (built-ins, then the
    TOML files of ``scenarios_dir``)."""
    found = {f"{name} (built-in)": BUILTIN + name for name in builtin_names()}
    if scenarios_dir is not None and scenarios_dir.is_dir():
        for path in sorted(scenarios_dir.glob("*.toml")):
            found[f"{scenarios_dir.name}/{path.name}"] = str(path.resolve())
    return found


def lever_form(scenario: Scenario) -> list:
    """The form for ``scenario``'s levers, grouped, each with its label, unit and key."""
    values = form_values(scenario)
    groups: dict[str, list] = {}
    for lever in levers(scenario):
        ident = {"type": "lever", "key": lever.key}
        if lever.choices:
            field = dcc.Dropdown(
                id=ident,
                options=[{"label": REQUEST_ON[c], "value": c} for c in lever.choices],
                value=values[lever.key],
                clearable=False,
                style={"width": "24em"},
            )
        else:
            field = dcc.Input(id=ident, type="text", value=values[lever.key], debounce=False)
        groups.setdefault(lever.group, []).append(
            html.Tr(
                [
                    html.Td(lever.label),
                    html.Td(field),
                    html.Td(lever.unit, className="muted"),
                    html.Td(html.Code(lever.key)),
                ],
                className="lever",
            )
        )
    return [html.Fieldset([html.Legend(group), html.Table(rows)]) for group, rows in groups.items()]


def unallocated_figure(inputs: ReportInputs) -> go.Figure:
    """Monthly unallocated cases by team: the median month and its 10th-90th percentile band
    across replications, one panel per team, both scenarios."""
    rows = inputs.monthly[inputs.monthly["measure"] == "unallocated_cases"]
    teams = [t for t in dict.fromkeys(rows["team"]) if t != SERVICE] + [SERVICE]
    teams = [t for t in teams if t in set(rows["team"])]
    fig = make_subplots(rows=len(teams), cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        subplot_titles=[team_label(t) for t in teams])  # fmt: skip
    for i, team in enumerate(teams, start=1):
        for j, key in enumerate(inputs.scenarios):
            part = rows[(rows["team"] == team) & (rows["scenario"] == key)]
            colour = COLOURS[j % len(COLOURS)]
            months = list(part["month"])
            fig.add_trace(go.Scatter(
                x=months + months[::-1], y=list(part[BAND[1]]) + list(part[BAND[0]])[::-1],
                fill="toself", fillcolor=colour, opacity=0.2, line={"width": 0},
                hoverinfo="skip", showlegend=False, legendgroup=key,
            ), row=i, col=1)  # fmt: skip
            fig.add_trace(go.Scatter(
                x=months, y=part["p50"], name=f"{key} (median, band P10-P90)",
                line={"color": colour}, legendgroup=key, showlegend=i == 1,
            ), row=i, col=1)  # fmt: skip
    fig.update_layout(height=180 * len(teams) + 80, margin={"t": 40, "b": 30, "l": 50, "r": 10},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})  # fmt: skip
    fig.update_yaxes(rangemode="tozero", title_text="cases", title_font={"size": 10})
    return fig


def cost_figure(inputs: ReportInputs) -> go.Figure:
    """Cost by financial year (median and 10th-90th percentile of replications) against the
    budget, for each scenario."""
    budget = inputs.budget
    fig = go.Figure()
    for j, key in enumerate(inputs.scenarios):
        part = budget[budget["scenario"] == key]
        years = [f"{y}{' (part)' if p else ''}" for y, p in zip(part["financial_year"], part["partial"], strict=True)]  # fmt: skip
        fig.add_trace(go.Bar(
            x=years, y=part["p50_gbp"], name=f"{key}: P50 cost",
            marker_color=COLOURS[j % len(COLOURS)],
            error_y={"type": "data", "symmetric": False,
                     "array": part["p90_gbp"] - part["p50_gbp"],
                     "arrayminus": part["p50_gbp"] - part["p10_gbp"]},
        ))  # fmt: skip
        if j == 0 and part["budget_gbp"].notna().any():
            fig.add_trace(go.Scatter(x=years, y=part["budget_gbp"], name="budget",
                                     mode="markers+lines", line={"color": "#333", "dash": "dash"}))  # fmt: skip
    fig.update_layout(barmode="group", height=360, yaxis_title="£ (error bars: P10 to P90)",
                      margin={"t": 30, "b": 30, "l": 60, "r": 10})  # fmt: skip
    return fig


def _number(measure: str, value: float) -> str:
    return money(value) if is_money(measure) else f"{value:,.2f}"


def difference_table(inputs: ReportInputs) -> html.Table | None:
    """The paired differences the report shows (service-wide headline KPIs over the forecast
    and cost by financial year), each with its 95% interval; raw numbers in data attributes."""
    shown = inputs.differences_shown
    if shown is None or shown.empty:
        return None
    threshold = next(iter(inputs.resolved.values())).backlog_threshold_cases
    head = html.Tr([html.Th(h) for h in ("", "measure", "period", "difference (mean)",
                                         "95% CI low", "95% CI high")])  # fmt: skip
    body = []
    for row in shown.itertuples(index=False):
        cells = [html.Td(f"{row.scenario} - {row.reference}"),
                 html.Td(label(row.measure, threshold)), html.Td(row.period)]  # fmt: skip
        for stat in ("mean", "ci_low", "ci_high"):
            value = float(getattr(row, stat))
            cells.append(html.Td(_number(row.measure, value), className="num",
                                 **{"data-stat": stat, "data-value": repr(value)}))  # fmt: skip
        body.append(html.Tr(cells, **{"data-measure": row.measure, "data-period": row.period}))
    return html.Table([head, *body], id="differences")


def results_view(run: Run) -> list:
    """What a finished run shows, read from its results folder."""
    inputs = load_inputs(run.folder)
    links = [
        html.A("report.html", href=f"/runs/{run.id}/report.html", target="_blank"),
        " | ",
        html.A("costs_and_staffing.xlsx", href=f"/runs/{run.id}/costs_and_staffing.xlsx"),
        " | ",
        html.A("edited scenario (.toml)", href=f"/runs/{run.id}/scenario.toml"),
        html.Span(f"  results folder: {run.folder}", className="muted"),
    ]
    table = difference_table(inputs)
    return [
        html.H2(f"Run {run.id}: {run.edited.name} against {run.base.name}"),
        html.P(links),
        html.P("Changes: " + (", ".join(run.changes) or "none"), className="muted"),
        html.H3("In brief"),
        html.Ul([html.Li(line) for line in inputs.brief], id="headline"),
        html.H3("Differences from the base (95% intervals on the same seeds)"),
        table if table is not None else html.P("No differences stored."),
        html.H3("Unallocated cases by team, by month"),
        dcc.Graph(figure=unallocated_figure(inputs), id="unallocated-chart"),
        html.H3("Cost by financial year against budget"),
        dcc.Graph(figure=cost_figure(inputs), id="cost-chart"),
    ]


def _run_row(run: Run) -> html.Tr:
    if run.state == DONE:
        status = f"done in {run.seconds:.0f} s"
    elif run.state == FAILED:
        status = html.Span(run.error, className="error")
    elif run.state == QUEUED:
        status = "queued"
    else:
        status = f"{run.done} of {run.total} replications"
    return html.Tr(
        [html.Td(str(run.id)), html.Td(run.edited.name),
         html.Td(", ".join(run.changes) or "no changes", className="muted"),
         html.Td(html.Progress(value=str(run.done), max=str(max(run.total, 1)))),
         html.Td(status)],
        id=f"run-{run.id}", **{"data-state": run.state},
    )  # fmt: skip


def make_app(runs: RunQueue, scenarios_dir: Path | None = None) -> Dash:
    """The explorer as a Dash app (its Flask server is ``app.server``)."""
    sources = scenario_sources(scenarios_dir)
    cache: dict[str, Scenario] = {}

    def base_of(source: str) -> Scenario:
        if source not in cache:
            cache[source] = load_scenario(source)
        return cache[source]

    first = next(iter(sources.values()))
    app = Dash(__name__, title="demandsim explorer", serve_locally=True, update_title=None)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")
    app.layout = html.Div([
        html.H1("demandsim: scenario explorer"),
        html.P("Change the levers, run, and compare against the scenario you started from. "
               "Every run is a results folder with its report and workbook.", className="muted"),
        html.Label(["Start from: ", dcc.Dropdown(
            id="base", options=[{"label": k, "value": v} for k, v in sources.items()],
            value=first, clearable=False, style={"width": "30em"})]),
        html.Div(id="form", children=lever_form(base_of(first))),
        html.Table([html.Tr([
            html.Td("Replications"), html.Td(dcc.Input(id="replications", type="text", value="20")),
            html.Td("First seed"), html.Td(dcc.Input(id="seed", type="text", value="0")),
            html.Td(html.Button("Run", id="run", n_clicks=0)),
        ])]),
        html.Div(id="message"),
        html.H2("Runs"),
        html.Table(id="runs"),
        dcc.Interval(id="tick", interval=1000),
        dcc.Store(id="shown-run"),
        html.Div(id="results"),
    ])  # fmt: skip

    @app.callback(Output("form", "children"), Input("base", "value"), prevent_initial_call=True)
    def _form(source: str):
        return lever_form(base_of(source))

    @app.callback(
        Output("message", "children"),
        Input("run", "n_clicks"),
        State("base", "value"),
        State({"type": "lever", "key": ALL}, "value"),
        State({"type": "lever", "key": ALL}, "id"),
        State("replications", "value"),
        State("seed", "value"),
        prevent_initial_call=True,
    )
    def _run(_clicks, source, values, ids, replications, seed):
        try:
            n = _whole(replications, "Replications", 1, MAX_REPLICATIONS)
            first_seed = _whole(seed, "First seed", 0, MAX_SEED)
            base = base_of(source)
            form = {ident["key"]: value for ident, value in zip(ids, values, strict=True)}
            base, edited, changes = edited_scenario(base, form)
        except ScenarioError as exc:
            return html.Pre(str(exc), className="error", id="form-error")
        run = runs.submit(base, edited, changes, n, first_seed)
        return html.P(f"Run {run.id} queued: {n} replications of each scenario.", id="queued")

    @app.callback(
        Output("runs", "children"),
        Output("shown-run", "data"),
        Input("tick", "n_intervals"),
        State("shown-run", "data"),
    )
    def _tick(_n, shown):
        all_runs = runs.runs()
        head = html.Tr([html.Th(h) for h in ("run", "scenario", "changes", "progress", "")])
        latest = max((r.id for r in all_runs if r.state == DONE), default=None)
        return [head, *[_run_row(r) for r in reversed(all_runs)]], (
            latest if latest != shown else no_update
        )

    @app.callback(Output("results", "children"), Input("shown-run", "data"))
    def _results(run_id):
        run = runs.get(run_id) if run_id else None
        return results_view(run) if run is not None else []

    files = {
        "report.html": ("report.html", False),
        "costs_and_staffing.xlsx": ("costs_and_staffing.xlsx", True),
    }

    @app.server.route("/runs/<int:run_id>/<name>")
    def _download(run_id: int, name: str):
        run = runs.get(run_id)
        if run is None or run.state != DONE:
            flask.abort(404)
        if name == "scenario.toml":
            return flask.send_file(run.edited_toml.resolve(), as_attachment=True,
                                   download_name=f"{run.edited.name}.toml")  # fmt: skip
        if name not in files:
            flask.abort(404)
        stored, attach = files[name]
        return flask.send_file((run.folder / stored).resolve(), as_attachment=attach)

    return app


def _whole(text: str | None, what: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ScenarioError(f"{what}: expected a whole number; got {text!r}") from None
    if not low <= value <= high:
        raise ScenarioError(f"{what}: expected {low} to {high:,}; got {value}")
    return value
