"""The scenario explorer: a Dash app over the levers, the run queue and the results folders.

Covers: the page (start from a built-in scenario, a scenario file, a results folder or a council
of the published tables; change its levers; run a comparison against it; watch or cancel the
queue), and what a finished run shows, all read back from its results folder with
:func:`~demandsim.report.inputs.load_inputs`, so the page shows what report.html shows: the
headline in words, monthly unallocated cases by team, staff in post against posts and children in
need, on a plan and in care, with 10th-90th percentile bands, cost by
financial year against budget, and the paired differences with their 95% intervals.

Assumptions: Dash serves its own JavaScript and Plotly's from the installed packages
(``serve_locally``), so the page needs nothing from the internet; the page polls the queue once
a second, so a long run never blocks a request. The headline, differences and charts are read
from the stored tables as soon as they are written; the report and workbook are built after, and
their links appear when they are ready.
"""

from __future__ import annotations

import time
from pathlib import Path

import flask
import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from demandsim.cli_checks import MAX_REPLICATIONS, MAX_SEED
from demandsim.headline import money
from demandsim.measures import SERVICE, is_money, is_share, label, team_label
from demandsim.report.inputs import ReportInputs, load_inputs
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, load_scenario
from demandsim.serve.levers import REQUEST_ON, edited_scenario, form_values, levers
from demandsim.serve.runs import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    READY,
    RUNNING,
    Run,
    RunQueue,
)
from demandsim.serve.sources import (
    COUNCIL,
    Councils,
    Preparing,
    council_choices,
    published_years,
    results_scenarios,
    scenario_files,
)

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


def unallocated_figure(inputs: ReportInputs) -> dict:
    """Monthly unallocated cases by team: the median month and its 10th-90th percentile band
    across replications, one panel per team (sharing the months), both scenarios.

    A plain figure dictionary: Plotly's figure objects check every property as it is set, which
    took seconds for this chart, and the page draws the same thing from the dictionary."""
    rows = inputs.monthly[inputs.monthly["measure"] == "unallocated_cases"]
    teams = [t for t in dict.fromkeys(rows["team"]) if t != SERVICE] + [SERVICE]
    teams = [t for t in teams if t in set(rows["team"])]
    return band_figure(inputs, [(team_label(t), "unallocated_cases", t) for t in teams], "cases")


def band_figure(inputs: ReportInputs, panels: list[tuple[str, str, str]], unit: str) -> dict:
    """Monthly median and 10th-90th percentile band of replications, both scenarios, one panel
    per ``(title, measure, team)`` (sharing the months); a ``staff_in_post`` panel also shows
    each scenario's posts in that team (the service: every staffed team) as a dashed line.
    A plain figure dictionary, as :func:`unallocated_figure`."""
    monthly = inputs.monthly
    gap = 0.04
    tall = (1 - gap * (len(panels) - 1)) / len(panels)
    data: list[dict] = []
    layout: dict = {
        "height": 170 * len(panels) + 80,
        "margin": {"t": 40, "b": 30, "l": 60, "r": 10},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        "annotations": [],
    }
    for i, (title, measure, team) in enumerate(panels, start=1):
        axis = "" if i == 1 else str(i)
        top = 1 - (i - 1) * (tall + gap)
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "showticklabels": i == len(panels),
                                  **({"matches": "x"} if i > 1 else {})}  # fmt: skip
        layout[f"yaxis{axis}"] = {"anchor": f"x{axis}", "domain": [max(0.0, top - tall), top],
                                  "rangemode": "tozero",
                                  "title": {"text": unit, "font": {"size": 10}}}  # fmt: skip
        layout["annotations"].append({"text": title, "showarrow": False,
                                      "x": 0.5, "xref": "paper", "xanchor": "center",
                                      "y": top, "yref": "paper", "yanchor": "bottom"})  # fmt: skip
        rows = monthly[(monthly["measure"] == measure) & (monthly["team"] == team)]
        for j, key in enumerate(inputs.scenarios):
            part = rows[rows["scenario"] == key]
            colour = COLOURS[j % len(COLOURS)]
            months = [str(m)[:10] for m in part["month"]]
            panel = {"xaxis": f"x{axis}", "yaxis": f"y{axis}", "legendgroup": key}
            data.append({
                "type": "scatter", "x": months + months[::-1],
                "y": [*part[BAND[1]], *part[BAND[0]][::-1]], "fill": "toself",
                "fillcolor": colour, "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip",
                "showlegend": False, **panel,
            })  # fmt: skip
            data.append({"type": "scatter", "x": months, "y": list(part["p50"]),
                         "name": f"{key} (median, band P10-P90)", "line": {"color": colour},
                         "showlegend": i == 1, **panel})  # fmt: skip
            scenario = inputs.resolved.get(key)
            if measure == "staff_in_post" and scenario is not None and months:
                posts = _posts(scenario, team)
                data.append({"type": "scatter", "x": [months[0], months[-1]],
                             "y": [posts, posts], "mode": "lines", "name": f"{key}: posts",
                             "line": {"color": colour, "dash": "dash", "width": 1},
                             "showlegend": i == 1, **panel})  # fmt: skip
    return {"data": data, "layout": layout}


def _posts(scenario: Scenario, team: str) -> float:
    staffed = {n: t for n, t in scenario.teams.items() if not t.is_service}
    if team == SERVICE:
        return float(sum(t.posts for t in staffed.values()))
    return float(staffed[team].posts) if team in staffed else 0.0


def staffing_figure(inputs: ReportInputs) -> dict:
    """Staff in post (permanent and agency) against posts, each staffed team and the service."""
    first = next(iter(inputs.resolved.values()), None)
    teams = [n for n, t in first.teams.items() if not t.is_service] if first else []
    present = set(inputs.monthly["team"])
    panels = [(team_label(t), "staff_in_post", t) for t in [*teams, SERVICE] if t in present]
    return band_figure(inputs, panels, "staff")


#: the children charts: measure and title
CHILDREN = (
    ("children_in_need", "Children in need"),
    ("child_protection", "Children on a child protection plan"),
    ("children_in_care", "Children in care"),
)


def children_figure(inputs: ReportInputs) -> dict:
    """Children in need, on a child protection plan and in care, across the service."""
    return band_figure(inputs, [(title, m, SERVICE) for m, title in CHILDREN], "children")


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
    """As the printed tables show it: pounds, shares and chances in percentage points, others
    to one decimal."""
    if is_money(measure):
        return money(value)
    return f"{100 * value if is_share(measure) else value:,.1f}"


def difference_table(inputs: ReportInputs) -> html.Table | None:
    """The paired differences the report shows (service-wide headline KPIs over the forecast
    and cost by financial year), each with its 95% interval; raw numbers in data attributes."""
    shown = inputs.differences_shown
    if shown is None or shown.empty:
        return None
    scenario = next(iter(inputs.resolved.values()))
    head = html.Tr([html.Th(h) for h in ("", "measure", "period", "difference (mean)",
                                         "95% CI low", "95% CI high")])  # fmt: skip
    body = []
    for row in shown.itertuples(index=False):
        cells = [html.Td(f"{row.scenario} - {row.reference}"),
                 html.Td(label(row.measure, scenario) + (" (%)" if is_share(row.measure) else "")),
                 html.Td(row.period)]  # fmt: skip
        for stat in ("mean", "ci_low", "ci_high"):
            value = float(getattr(row, stat))
            cells.append(html.Td(_number(row.measure, value), className="num",
                                 **{"data-stat": stat, "data-value": repr(value)}))  # fmt: skip
        body.append(html.Tr(cells, **{"data-measure": row.measure, "data-period": row.period}))
    return html.Table([head, *body], id="differences")


def results_view(run: Run) -> list:
    """What a finished run shows, read from its results folder (the downloads are beside it,
    in :func:`downloads`, as the report and workbook come after)."""
    inputs = load_inputs(run.folder)
    table = difference_table(inputs)
    return [
        html.H2(f"Run {run.id}: {run.edited.name} against {run.base.name}"),
        html.P("Changes: " + (", ".join(run.changes) or "none"), className="muted"),
        html.H3("In brief"),
        html.Ul(
            [html.Li(line) for line in inputs.brief], id="headline", **{"data-run": str(run.id)}
        ),
        html.H3("Differences from the base (95% intervals on the same seeds)"),
        table if table is not None else html.P("No differences stored."),
        html.H3("Unallocated cases by team, by month"),
        dcc.Graph(figure=unallocated_figure(inputs), id="unallocated-chart"),
        html.H3("Staff in post against posts, by month"),
        dcc.Graph(figure=staffing_figure(inputs), id="staffing-chart"),
        html.H3("Children in need, on a plan and in care, by month"),
        dcc.Graph(figure=children_figure(inputs), id="children-chart"),
        html.H3("Cost by financial year against budget"),
        dcc.Graph(figure=cost_figure(inputs), id="cost-chart"),
    ]


def downloads(run: Run) -> html.P:
    """Links to a done run's files: the edited scenario at once, the report and workbook once
    they are built (until then, a line saying they are being built)."""
    scenario = html.A("edited scenario (.toml)", href=f"/runs/{run.id}/scenario.toml")
    folder = html.Span(f"  results folder: {run.folder}", className="muted")
    if run.report == READY:
        report = [
            html.A("report.html", href=f"/runs/{run.id}/report.html", target="_blank"),
            " | ",
            html.A("costs_and_staffing.xlsx", href=f"/runs/{run.id}/costs_and_staffing.xlsx"),
        ]
    elif run.report == FAILED:
        report = [html.Span(f"report and workbook failed: {run.report_error}", className="error")]
    else:
        report = [html.Span("report.html and costs_and_staffing.xlsx: being built...",
                            className="muted")]  # fmt: skip
    return html.P([*report, " | ", scenario, folder], **{"data-report": run.report})


def _status(run: Run) -> str | html.Span:
    if run.state == DONE:
        status = f"done in {run.seconds:.0f} s"
    elif run.state == FAILED:
        status = html.Span(run.error, className="error")
    elif run.state == QUEUED:
        status = "queued"
    elif run.state == CANCELLED:
        status = f"cancelled; {run.done} of {run.total} replications kept in {run.folder.name}"
    else:
        status = f"{run.done} of {run.total} replications"
    return status


def _run_row(run: Run) -> html.Tr:
    """A run's row. Redrawn only when the run's state changes (so a Cancel press never lands on
    a row being replaced); its progress and status are updated in place in between."""
    cancel = (
        html.Button("Cancel", id={"type": "cancel", "run": run.id}, n_clicks=0)
        if run.state in (QUEUED, RUNNING)
        else ""
    )
    return html.Tr(
        [html.Td(str(run.id)), html.Td(run.edited.name),
         html.Td(", ".join(run.changes) or "no changes", className="muted"),
         html.Td(html.Progress(id={"type": "progress", "run": run.id}, value=str(run.done),
                               max=str(max(run.total, 1)))),
         html.Td(_status(run), id={"type": "status", "run": run.id}), html.Td(cancel)],
        id=f"run-{run.id}", **{"data-state": run.state},
    )  # fmt: skip


def _preparing(state: Preparing) -> html.Div:
    """A council being calibrated from the published tables (or why it could not be)."""
    if state.error:
        return html.Div(html.Pre(state.error, className="error", id="start-error"))
    seconds = time.monotonic() - state.started
    return html.Div(
        [html.P(f"Building the scenario for {state.what} from the DfE published tables, as "
                f"demandsim calibrate --la does ({seconds:.0f} s; it takes a few seconds)..."),
         html.Progress()],
        id="preparing",
    )  # fmt: skip


def make_app(runs: RunQueue, councils: Councils, scenarios_dir: Path | None = None) -> Dash:
    """The explorer as a Dash app (its Flask server is ``app.server``)."""
    files = scenario_files(scenarios_dir)
    loaded: dict[str, Scenario] = {}  # form key -> its scenario

    def start(source: str, year: int | None) -> tuple[str, Scenario | Preparing]:
        """The form's key for a starting point, and its scenario (or its calibration's state)."""
        key = f"{source}@{year or 'latest'}" if source.startswith(COUNCIL) else source
        if key not in loaded:
            if source.startswith(COUNCIL):
                found = councils.get(source.removeprefix(COUNCIL), year)
                if isinstance(found, Preparing):
                    return key, found
                loaded[key] = found
            else:
                loaded[key] = load_scenario(source)
        return key, loaded[key]

    first = next(iter(files.values()))
    _, scenario = start(first, None)
    app = Dash(__name__, title="demandsim explorer", serve_locally=True, update_title=None)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")

    def layout() -> html.Div:  # a function: the results folders are listed afresh on each visit
        sources = {**files, **results_scenarios(runs.out_root), **council_choices()}
        years = [{"label": "latest it reported", "value": 0}] + [
            {"label": str(y), "value": y} for y in published_years()
        ]
        return html.Div([
            html.H1("demandsim: scenario explorer"),
            html.P("Change the levers, run, and compare against the scenario you started from. "
                   "Every run is a results folder with its report and workbook.",
                   className="muted"),
            html.Table([html.Tr([
                html.Td("Start from"),
                html.Td(dcc.Dropdown(
                    id="base", options=[{"label": k, "value": v} for k, v in sources.items()],
                    value=first, clearable=False, searchable=True, style={"width": "40em"})),
            ]), html.Tr([
                html.Td("Councils: published tables of the year ending 31 March"),
                html.Td(dcc.Dropdown(id="year", options=years, value=0, clearable=False,
                                     style={"width": "14em"})),
            ])]),
            html.Div(id="form", children=lever_form(scenario)),
            dcc.Store(id="form-for", data=first),
            html.Table([html.Tr([
                html.Td("Replications"),
                html.Td(dcc.Input(id="replications", type="text", value="20")),
                html.Td("First seed"), html.Td(dcc.Input(id="seed", type="text", value="0")),
                html.Td(html.Button("Run", id="run", n_clicks=0)),
            ])]),
            html.Div(id="message"),
            html.H2("Runs"),
            html.Table(id="runs"),
            dcc.Interval(id="tick", interval=1000),
            dcc.Store(id="runs-drawn"),
            dcc.Store(id="shown-run"),
            dcc.Store(id="shown-report"),
            html.Div(id="downloads"),
            html.Div(id="results"),
        ])  # fmt: skip

    app.layout = layout

    @app.callback(
        Output("form", "children"),
        Output("form-for", "data"),
        Input("base", "value"),
        Input("year", "value"),
        Input("tick", "n_intervals"),
        State("form-for", "data"),
        prevent_initial_call=True,
    )
    def _form(source: str, year: int, _n, shown: str | None):
        key = f"{source}@{year or 'latest'}" if source.startswith(COUNCIL) else source
        asked = {"base.value", "year.value"} & set(ctx.triggered_prop_ids)
        if key == shown or (not asked and shown == FAILED):
            return no_update, no_update  # the form is this one's, or shows why it cannot be
        # otherwise a tick finishes what the pick started: the page drops the answer to the
        # pick if a tick was sent while it was on its way, and would never show the form
        try:
            key, found = start(source, year)
        except ScenarioError as exc:  # shown until another starting point is picked
            return html.Pre(str(exc), className="error", id="start-error"), FAILED
        if isinstance(found, Preparing):
            return _preparing(found), FAILED if found.error else None
        return lever_form(found), key

    @app.callback(
        Output("message", "children"),
        Input("run", "n_clicks"),
        State("form-for", "data"),
        State({"type": "lever", "key": ALL}, "value"),
        State({"type": "lever", "key": ALL}, "id"),
        State("replications", "value"),
        State("seed", "value"),
        prevent_initial_call=True,
    )
    def _run(_clicks, key, values, ids, replications, seed):
        try:
            if key not in loaded:
                raise ScenarioError("Start from: the scenario is not ready yet; wait for its form")
            n = _whole(replications, "Replications", 1, MAX_REPLICATIONS)
            first_seed = _whole(seed, "First seed", 0, MAX_SEED)
            form = {ident["key"]: value for ident, value in zip(ids, values, strict=True)}
            base, edited, changes = edited_scenario(loaded[key], form)
        except ScenarioError as exc:
            return html.Pre(str(exc), className="error", id="form-error")
        run = runs.submit(base, edited, changes, n, first_seed)
        return html.P(f"Run {run.id} queued: {n} replications of each scenario.", id="queued")

    @app.callback(
        Output("message", "children", allow_duplicate=True),
        Input({"type": "cancel", "run": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _cancel(_clicks):
        if not ctx.triggered_id or not ctx.triggered[0]["value"]:
            return no_update  # a button drawn afresh, not pressed
        run_id = ctx.triggered_id["run"]
        if not runs.cancel(run_id):
            return html.P(f"Run {run_id} had finished its replications.", id="cancelled")
        return html.P(f"Run {run_id} cancelled.", id="cancelled")

    @app.callback(
        Output("runs", "children"),
        Output("runs-drawn", "data"),
        Output("shown-run", "data"),
        Output("downloads", "children"),
        Output("shown-report", "data"),
        Input("tick", "n_intervals"),
        State("shown-run", "data"),
        State("shown-report", "data"),
        State("runs-drawn", "data"),
    )
    def _tick(_n, shown, shown_report, drawn):
        all_runs = runs.runs()
        head = html.Tr([html.Th(h) for h in ("run", "scenario", "changes", "progress", "", "")])
        latest = max((r for r in all_runs if r.state == DONE), default=None, key=lambda r: r.id)
        report = None if latest is None else [latest.id, latest.report]
        states = [[r.id, r.state] for r in all_runs]
        return (
            no_update if states == drawn else [head, *[_run_row(r) for r in reversed(all_runs)]],
            no_update if states == drawn else states,
            no_update if latest is None or latest.id == shown else latest.id,
            no_update if report == shown_report else downloads(latest),
            no_update if report == shown_report else report,
        )

    @app.callback(
        Output({"type": "status", "run": ALL}, "children"),
        Output({"type": "progress", "run": ALL}, "value"),
        Output({"type": "progress", "run": ALL}, "max"),
        Input("tick", "n_intervals"),
        State({"type": "status", "run": ALL}, "id"),
    )
    def _progress(_n, ids):
        shown = [runs.get(i["run"]) for i in ids]
        if any(r is None for r in shown):
            return no_update, no_update, no_update
        return (
            [_status(r) for r in shown],
            [str(r.done) for r in shown],
            [str(max(r.total, 1)) for r in shown],
        )

    @app.callback(Output("results", "children"), Input("shown-run", "data"))
    def _results(run_id):
        run = runs.get(run_id) if run_id else None
        if run is None:
            return []
        view = results_view(run)
        run.shown.set()  # the report and workbook may start now
        return view

    @app.server.route("/runs/<int:run_id>/<name>")
    def _download(run_id: int, name: str):
        run = runs.get(run_id)
        if run is None or run.state != DONE:
            flask.abort(404)
        if name == "scenario.toml":
            return flask.send_file(run.edited_toml.resolve(), as_attachment=True,
                                   download_name=f"{run.edited.name}.toml")  # fmt: skip
        if name not in ("report.html", "costs_and_staffing.xlsx"):
            flask.abort(404)
        if run.report != READY:
            return f"{name} of run {run.id} is being built; try again in a few seconds", 503
        return flask.send_file((run.folder / name).resolve(), as_attachment=name.endswith("x"))

    return app


def _whole(text: str | None, what: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ScenarioError(f"{what}: expected a whole number; got {text!r}") from None
    if not low <= value <= high:
        raise ScenarioError(f"{what}: expected {low} to {high:,}; got {value}")
    return value
