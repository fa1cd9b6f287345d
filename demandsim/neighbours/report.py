"""The outputs of ``demandsim neighbours``: the terminal table, the charts, the HTML page, the
workbook and the results folder. Every one reads the tidy table of
:func:`demandsim.neighbours.table.comparison` and the measure registry
(:data:`demandsim.neighbours.table.MEASURES`); nothing here computes a figure of its own.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from demandsim import __version__
from demandsim.neighbours.table import (
    COUNCIL,
    MEASURES,
    MEDIAN,
    NATIONAL,
    NEIGHBOUR,
    NOT_AVAILABLE,
    PERCENT,
    Council,
    comparison,
    summary,
)
from demandsim.report.charts import png
from demandsim.report.html import _img, page
from demandsim.report.workbook import WHOLE_FORMAT, Sheet, write_sheets
from demandsim.results_store import atomic_dir, write_json

TABLE_CSV = "neighbours.csv"
TABLE_PARQUET = "neighbours.parquet"
REPORT_HTML = "neighbours.html"
WORKBOOK = "neighbours.xlsx"
CHARTS = "charts"
MANIFEST = "manifest.json"
#: percentages are stored in the workbook as fractions and shown with this format
PERCENT_FORMAT = "0.0%"
COUNCIL_COLOUR = "#c0392b"
MISSING_TEXT = "-"


def shown(value: float, unit: str) -> str:
    """A value as the terminal and the page show it: one decimal, ``-`` when missing."""
    if value is None or pd.isna(value):
        return MISSING_TEXT
    return f"{value:,.1f}%" if unit == PERCENT else f"{value:,.1f}"


def rank_text(rank, of) -> str:
    return MISSING_TEXT if pd.isna(rank) else f"{int(rank)} of {int(of)}"


def headline(table: pd.DataFrame, place: Council, year: int) -> pd.DataFrame:
    """The year's comparison with the text people read (the terminal and the page)."""
    rows = summary(table, year)
    return pd.DataFrame(
        {
            "Measure": rows["label"] + " (" + rows["unit"] + ")",
            place.name: [shown(v, u) for v, u in zip(rows["council"], rows["unit"], strict=True)],
            "Neighbours' median": [
                shown(v, u) for v, u in zip(rows["neighbours_median"], rows["unit"], strict=True)
            ],
            "England": [shown(v, u) for v, u in zip(rows["england"], rows["unit"], strict=True)],
            "Rank": [rank_text(r, o) for r, o in zip(rows["rank"], rows["of"], strict=True)],
            f"Last 3 years ({place.name})": rows["trend"],
        }
    )


def text(table: pd.DataFrame, place: Council, year: int) -> str:
    """The compact terminal table for ``year``, with what a ``-`` means."""
    frame = headline(table, place, year)
    columns = list(frame.columns)
    widths = [max(len(c), *(len(str(v)) for v in frame[c])) for c in columns]
    align = [str.ljust, *([str.rjust] * 4), str.ljust]

    def line(cells) -> str:
        return "  ".join(
            a(str(c), w) for a, c, w in zip(align, cells, widths, strict=True)
        ).rstrip()

    out = [
        f"{place.name} (old_la_code {place.code}) against its {len(place.neighbours)} "
        f"statistical neighbours and England, year ending 31 March {year}",
        f"(workforce: census at 30 September {year - 1})",
        "",
        line(columns),
        line("-" * w for w in widths),
        *(line(row) for row in frame.itertuples(index=False)),
        "",
        "Rank: 1 = the highest value among the council and its neighbours with a figure.",
    ]
    own = summary(table, year)
    missing = own.loc[own["council"].isna()]
    if len(missing):
        out.append("- = missing in the DfE tables (never estimated):")
        out.extend(f"  {r.label}: {r.status}" for r in missing.itertuples())
    return "\n".join(out)


def chart(table: pd.DataFrame, key: str, place: Council) -> Figure:
    """One measure over the years: the council highlighted, each neighbour a thin grey line,
    their median dotted, England dashed. Missing years are gaps, not joined over."""
    measure = MEASURES[key]
    rows = table.loc[table["measure"] == key]
    fig = Figure(figsize=(7, 3.4))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.15)  # fixed: fast and alike
    ax = fig.add_subplot()
    for code in place.neighbours:
        one = rows.loc[rows["area_code"] == code]
        ax.plot(one["year"], one["value"], color="#9a9a9a", lw=0.8, marker=".", ms=2,
                label="each statistical neighbour" if code == place.neighbours[0] else None)  # fmt: skip
    styles = {
        MEDIAN: dict(color="#555", lw=1.6, ls=":", label="neighbours' median"),
        NATIONAL: dict(color="black", lw=1.6, ls="--", label="England"),
        COUNCIL: dict(color=COUNCIL_COLOUR, lw=2.6, marker="o", ms=4, label=place.name),
    }
    for role, style in styles.items():
        one = rows.loc[rows["role"] == role]
        ax.plot(one["year"], one["value"], **style)
    ax.set_title(f"{measure.label} ({measure.unit})", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year ending 31 March" + (" (workforce: census the September before)"
                                            if measure.group == "Workforce" else ""))  # fmt: skip
    ax.set_ylabel(measure.unit)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", ncols=2)
    return fig


def figures(table: pd.DataFrame, place: Council) -> dict[str, Figure]:
    return {key: chart(table, key, place) for key in MEASURES}


def _spans(years: list[int]) -> str:
    """2013, 2014, 2015, 2019 -> '2013-2015, 2019'."""
    out, start = [], None
    for i, year in enumerate(years):
        start = year if start is None else start
        if i + 1 == len(years) or years[i + 1] != year + 1:
            out.append(str(year) if start == year else f"{start}-{year}")
            start = None
    return ", ".join(out)


def missing(table: pd.DataFrame, key: str) -> tuple[list[int], pd.DataFrame]:
    """The years the table holds any figure of ``key``, and within them the missing figures of
    the council, its neighbours and England by area and reason: Area, Years (spans), Reason."""
    rows = table.loc[(table["measure"] == key) & table["role"].isin([COUNCIL, NEIGHBOUR, NATIONAL])]
    held = sorted(int(y) for y in rows.dropna(subset="value")["year"].unique())
    rows = rows.loc[rows["value"].isna() & rows["year"].isin(held)]
    out = pd.DataFrame(
        [
            {"Area": area, "Years": _spans(sorted(group["year"])), "Reason": status}
            for (area, status), group in rows.groupby(["area", "status"], sort=False)
        ],
        columns=["Area", "Years", "Reason"],
    )
    return held, out


def missing_note(table: pd.DataFrame, key: str) -> str:
    """What of the chart is missing and why; the years the table holds are said once."""
    held, rows = missing(table, key)
    covers = ""
    if held and (held[0] > table["year"].min() or held[-1] < table["year"].max()):
        covers = f"The table holds {_spans(held)} only. "
    if rows.empty:
        return f"<p class='note'>{covers}</p>" if covers else ""
    items = [
        f"{html.escape(r.Area)} {r.Years} ({html.escape(r.Reason)})" for r in rows.itertuples()
    ]
    return f"<p class='note'>{covers}Missing in the tables, left as gaps: {'; '.join(items)}.</p>"


def missing_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """Every measure's missing figures (inside the years its table holds), with the reason."""
    parts = []
    for key, measure in MEASURES.items():
        held, rows = missing(table, key)
        rows.insert(0, "Measure", measure.label)
        rows.insert(1, "Table holds", _spans(held))
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def notes_frame() -> pd.DataFrame:
    """Each measure with its label, unit, source table and column, and how it is computed."""
    return pd.DataFrame(
        [
            {"Measure": m.label, "Unit": m.unit, "Key": m.key, "Group": m.group,
             "Source and computation": m.how()}
            for m in MEASURES.values()
        ]
    )  # fmt: skip


NOTES = [
    "Years are years ending 31 March (2021 = April 2020 to March 2021). Workforce figures for a "
    "year are the Children's social work workforce census at 30 September inside it (year 2021 = "
    "September 2020); they are taken as published (FTE rates). The latest census in the table "
    "(September 2025, inside the year ending March 2026) is beyond the children in need tables "
    "and not shown.",
    "Rates per 10,000 children divide by the ONS mid-year estimate of children aged 0-17 of the "
    "June inside the year (the DfE's own convention: its looked-after rates use the same "
    "population), and multiply by 10,000. Shares divide two columns of the same table and year.",
    "Statistical neighbours: the ten councils listed for the council in sn_model_2025_wide.csv "
    "(the DfE's 2025 statistical neighbour model). Their median is over those with a figure in "
    "the year; the rank is among the council and its neighbours with a figure (1 = highest, "
    "ties share the better rank). A high rank is neither good nor bad in itself.",
    "Missing figures: a figure the DfE suppressed or did not publish (c, x, z, low, u) or a year "
    "a table does not cover (children looked after are from 2021; councils created since 2019 "
    "from their first year) is left missing, with the reason in the status column. Nothing is "
    "estimated and no neighbour stands in.",
    "Source: the DfE's Children in need, Children looked after in England and Children's social "
    "work workforce releases (2025), as shipped in demandsim/data/dfe (see its README); Open "
    "Government Licence v3.0.",
]


def _html_table(frame: pd.DataFrame) -> str:
    return "<div class='table-wrap'>" + frame.to_html(index=False, border=0, na_rep="-") + "</div>"


def render_html(table: pd.DataFrame, place: Council, year: int, images: dict[str, bytes],
                manifest: dict) -> str:  # fmt: skip
    """The self-contained page: the year's table, one chart per measure, the neighbours, notes."""
    head = headline(table, place, year)
    head["Rank"] = head["Rank"].str.replace(" ", "\u00a0")  # "11 of 11" on one line
    sections = [
        ("summary", f"Year ending 31 March {year}",
         f"<p>{html.escape(place.name)} against its statistical neighbours' median and England. "
         "Rank: 1 = highest among the council and its neighbours with a figure; "
         "- = missing in the DfE tables.</p>" + _html_table(head)),
    ]  # fmt: skip
    for group in dict.fromkeys(m.group for m in MEASURES.values()):
        body = []
        for key, measure in MEASURES.items():
            if measure.group != group:
                continue
            alt = f"{measure.label} ({measure.unit}) over the years: {place.name}, each "
            alt += "statistical neighbour, their median and England"
            body.append(f"<h3 id='chart-{key}'>{html.escape(measure.label)} "
                        f"({html.escape(measure.unit)})</h3>" + _img(images[key], alt)
                        + missing_note(table, key))  # fmt: skip
        sections.append((f"charts-{group.lower()}", f"{group}: over the years", "\n".join(body)))
    near = pd.DataFrame(
        {
            "Council": [place.names[c] for c in place.neighbours],
            "Order in the model": range(1, len(place.neighbours) + 1),
            "old_la_code": place.neighbours,
            "Similarity (DfE model)": [place.closeness.get(c, "") for c in place.neighbours],
        }
    )
    sections.append(("neighbours", "The statistical neighbours", _html_table(near)))
    lacking = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}.</li>" for k, v in NOT_AVAILABLE.items()
    )
    sections.append(
        ("notes", "Notes: where each measure comes from",
         "<ul>" + "".join(
             f"<li><b>{html.escape(m.label)}</b> ({html.escape(m.unit)}): {html.escape(m.how())}"
             "</li>" for m in MEASURES.values()) + "</ul>"
         + "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in NOTES) + "</ul>"
         + f"<p>Not available from the shipped tables:</p><ul>{lacking}</ul>")
    )  # fmt: skip
    sections.append(
        ("provenance", "Provenance",
         "<pre>" + html.escape("\n".join(f"{k}: {v}" for k, v in manifest.items())) + "</pre>")
    )  # fmt: skip
    title = f"{place.name} and its statistical neighbours, {year}"
    return page(title, sections)


def _excel_value(value: float, unit: str) -> float:
    return value / 100 if unit == PERCENT else value


def workbook_sheets(table: pd.DataFrame, place: Council, year: int) -> dict[str, Sheet]:
    """Notes; the year's summary (measures down, council / median / England / rank across);
    each measure's years across for every area (the tidy table is neighbours.csv). Percentages
    are fractions shown as percentages."""
    rows = summary(table, year)
    units = rows["unit"]
    year_sheet = pd.DataFrame(
        {
            "Measure": rows["label"],
            "Unit": units,
            place.name: [_excel_value(v, u) for v, u in zip(rows["council"], units, strict=True)],
            "Neighbours' median": [
                _excel_value(v, u) for v, u in zip(rows["neighbours_median"], units, strict=True)
            ],
            "England": [_excel_value(v, u) for v, u in zip(rows["england"], units, strict=True)],
            "Rank (1 = highest)": rows["rank"].astype(float),
            "Ranked out of": rows["of"].astype(float),
            "Last 3 years": rows["trend"],
            f"{place.name}: status": rows["status"],
        }
    )
    wide = table.assign(
        value=[_excel_value(v, u) for v, u in zip(table["value"], table["unit"], strict=True)]
    )
    keys = ["measure", "role", "area"]
    wide = wide.pivot(index=keys, columns="year", values="value")
    wide = wide.reindex(pd.MultiIndex.from_frame(table[keys].drop_duplicates()))
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index()
    wide.insert(1, "Measure", wide["measure"].map(lambda k: MEASURES[k].label))
    wide.insert(2, "Unit", wide["measure"].map(lambda k: MEASURES[k].unit))
    wide = wide.drop(columns="measure").rename(columns={"role": "Role", "area": "Area"})
    notes = notes_frame().drop(columns=["Key"])
    general = pd.DataFrame(
        {
            "Measure": [f"Note {i}" for i in range(1, len(NOTES) + 1)],
            "Source and computation": NOTES,
        }
    )
    lacking = pd.DataFrame(
        {
            "Measure": list(NOT_AVAILABLE),
            "Source and computation": [f"Not available: {v}" for v in NOT_AVAILABLE.values()],
        }
    )
    notes = pd.concat([notes, general, lacking], ignore_index=True)
    by_unit = {PERCENT: PERCENT_FORMAT}  # the other units: one decimal, as numbers are
    # the values take their row's unit (percentages) or one decimal; ranks are whole
    year_formats = {"Rank (1 = highest)": WHOLE_FORMAT, "Ranked out of": WHOLE_FORMAT}
    return {
        "Notes": Sheet(f"{place.name} (old_la_code {place.code}) and its statistical neighbours: "
                       "where each measure comes from", notes.fillna(""), label_columns=1),
        f"Year {year}": Sheet(
            f"Year ending 31 March {year}: the council, its neighbours' median and England "
            "(empty = missing in the DfE tables)", year_sheet, formats=year_formats,
            by_unit=[place.name, "Neighbours' median", "England"], label_columns=2,
            unit_formats=by_unit),
        "By year": Sheet(
            "Every measure for every area, years ending 31 March across (empty = missing in the "
            "DfE tables)", wide, by_unit=[c for c in wide.columns if c.isdigit()],
            label_columns=4, unit_formats=by_unit),
        "Missing": Sheet(
            "Figures missing in the DfE tables (suppressed or not published), by measure, area "
            "and reason: left empty, never estimated", missing_sheet(table), label_columns=2),
    }  # fmt: skip


def write_workbook(table: pd.DataFrame, place: Council, year: int, path: Path) -> None:
    write_sheets(workbook_sheets(table, place, year), path)


def write_results(place: Council, year: int, out: Path, overwrite: bool = False,
                  command: str = "") -> tuple[Path, pd.DataFrame]:  # fmt: skip
    """Write the results folder (whole or not at all; ``--overwrite`` replaces only a folder
    with this command's manifest.json) and return it with the tidy table."""
    started = dt.datetime.now(dt.UTC)
    with atomic_dir(out, overwrite=overwrite, marker=MANIFEST) as tmp:
        table = comparison(place)
        table.to_csv(tmp / TABLE_CSV, index=False)
        table.to_parquet(tmp / TABLE_PARQUET, index=False)
        (tmp / CHARTS).mkdir()
        images = {}
        for key, fig in figures(table, place).items():
            images[key] = png(fig)
            (tmp / CHARTS / f"{key}.png").write_bytes(images[key])
        manifest = {
            "kind": "neighbours",
            "demandsim_version": __version__,
            "command": command,
            "council": place.name,
            "old_la_code": place.code,
            "year": year,
            "neighbours": list(place.neighbours),
            "tables": "demandsim/data/dfe (DfE 2025 releases, see its README)",
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (tmp / REPORT_HTML).write_text(
            render_html(table, place, year, images, manifest), encoding="utf-8"
        )
        write_workbook(table, place, year, tmp / WORKBOOK)
        write_json(manifest, tmp / MANIFEST)
    return Path(out), table
