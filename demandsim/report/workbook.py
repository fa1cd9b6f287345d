"""The finance workbook (``costs_and_staffing.xlsx``): the writer.

The tables come from :mod:`demandsim.report.finance` (pure functions of the stored results);
this module only lays them out. Each sheet has a caption in row 1, headings for people in row
2 (frozen, with the label columns), numbers stored as numbers with formats: pounds as
``£#,##0``, chances and shares as fractions shown as percentages (0.9 shows 90%), months as
dates. Every text cell goes through :func:`~demandsim.results_store.spreadsheet_safe`, so a
name that looks like a formula stays text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from demandsim.report import finance
from demandsim.report.inputs import ReportInputs
from demandsim.resources import builtin_scenario
from demandsim.results_store import spreadsheet_safe
from demandsim.scenario_files import load_scenario

MONEY_FORMAT = '"£"#,##0;-"£"#,##0'
SHARE_FORMAT = "0%"
#: the outlook's chances, against bounds of whole percents: 9.5% is not shown as 10%
CHANCE_FORMAT = "0.0%"
NUMBER_FORMAT = "#,##0.0"
WHOLE_FORMAT = "#,##0"
MONTH_FORMAT = "mmm yyyy"
DATE_FORMAT = "yyyy-mm-dd"
#: the format of a value in a row whose Unit column says this
UNIT_FORMATS = {finance.MONEY: MONEY_FORMAT, finance.PERCENT: SHARE_FORMAT, "days": WHOLE_FORMAT,
                "runs": WHOLE_FORMAT}  # fmt: skip
#: paired differences are often small: days and percentage points to one decimal
DIFFERENCE_FORMATS = {**UNIT_FORMATS, finance.PERCENT: "0.0%", "days": NUMBER_FORMAT}
HEADER_ROW = 2
MAX_WIDTH = 60


@dataclass
class Sheet:
    """A table to write: ``formats`` by column; ``by_unit`` columns take their row's Unit."""

    caption: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    by_unit: list[str] = field(default_factory=list)
    label_columns: int = 1  # frozen at the left with the headings
    #: the formats of the Unit column's values (default: UNIT_FORMATS)
    unit_formats: dict[str, str] | None = None


def sheets(inputs: ReportInputs) -> dict[str, Sheet]:
    """The workbook's sheets, in order."""
    scenarios = inputs.resolved
    budget = finance.budget_sheet(inputs.budget)
    team = finance.cost_by_team(inputs.summary, inputs.budget)
    types = finance.placements_by_type(inputs.summary, inputs.monthly, inputs.budget, scenarios)
    quarter = finance.cost_by_quarter(inputs.monthly, scenarios)
    staffing = finance.staffing_and_backlog(inputs.monthly, scenarios)
    headline = finance.headline_sheet(inputs.headline, scenarios)
    values = lambda frame, first: list(frame.columns[first:])  # noqa: E731
    out = {
        "Budget": Sheet(
            "Total cost by financial year against the budget (P10 / P50 / P90 across "
            "replications; variance = P50 minus budget)", budget,
            by_unit=values(budget, 3), label_columns=3,
        ),
        "Cost by team": Sheet(
            "Cost by team and financial year: means across replications (they add up to 'All "
            "teams')", team, by_unit=values(team, 4), label_columns=4,
        ),
        "Placements by type": Sheet(
            "Placements by type and financial year: average children in care and mean cost "
            "(weekly costs in the prices of the first year)", types,
            formats={"Share of children": SHARE_FORMAT, "Weekly cost": MONEY_FORMAT},
            by_unit=values(types, 6), label_columns=4,
        ),
        "Cost by quarter": Sheet(
            "Service-wide cost by financial quarter: means across replications of each "
            "month's cost, summed over the quarter", quarter,
            by_unit=values(quarter, 3), label_columns=3,
        ),
        "Staffing and backlog": Sheet(
            "Staffing and unallocated cases by team and month (percentiles across replications "
            "of each month's average)", staffing,
            formats={"Month": MONTH_FORMAT, finance.POSTS: WHOLE_FORMAT}, label_columns=3,
        ),
        "Headline": Sheet(
            "Headline measures over the whole forecast: means across replications", headline,
            formats=dict.fromkeys(finance.share_headings(inputs.headline, finance.first(scenarios)), SHARE_FORMAT),
            label_columns=2,
        ),
    }  # fmt: skip
    if inputs.differences_shown is not None:
        diffs = finance.differences_sheet(inputs.differences_shown, finance.first(scenarios))
        out["Paired differences"] = Sheet(
            "Paired differences from the reference scenario, replication by replication "
            "(shares: how often the scenario is higher or lower)", diffs,
            formats={"Share of replications higher": SHARE_FORMAT,
                     "Share of replications lower": SHARE_FORMAT},
            by_unit=values(diffs, 5)[:6], label_columns=5, unit_formats=DIFFERENCE_FORMATS,
        )  # fmt: skip
    out = {**_outlook_sheets(inputs), **out}  # an outlook's own sheets come first
    by_rep = finance.costs_by_replication_sheet(inputs.fy_costs)
    out["Cost by replication"] = Sheet(
        "Each replication's service-wide cost by financial year", by_rep,
        formats=dict.fromkeys(finance.MONEY_COLUMNS_BY_REPLICATION, MONEY_FORMAT), label_columns=3,
    )  # fmt: skip
    baseline = load_scenario(builtin_scenario("baseline"))
    notes = finance.notes_sheet(inputs.manifest, scenarios, ["Notes", *out], baseline)
    notes_sheet = Sheet(
        "About this workbook: the sheets, the statistics, and the assumptions behind the costs",
        notes, by_unit=["Value"], label_columns=2,
    )  # fmt: skip
    return {"Notes": notes_sheet, **out}


def _outlook_sheets(inputs: ReportInputs) -> dict[str, Sheet]:
    """``demandsim outlook``'s traffic-light table and act-today table (none for other runs)."""
    out: dict[str, Sheet] = {}
    if inputs.outlook is not None:
        lights = finance.outlook_sheet(inputs.outlook)
        out["Outlook"] = Sheet(
            "The early warning: the chance each team's unallocated cases pass its threshold on "
            "some day of the week (share of replications), and its light", lights,
            formats={"Week": WHOLE_FORMAT, "Week starting": DATE_FORMAT,
                     **dict.fromkeys((c for c in lights if ": chance" in c), CHANCE_FORMAT)},
            label_columns=2,
        )  # fmt: skip
    if inputs.act_today is not None:
        act = finance.act_today_sheet(inputs.act_today)
        out["Act today"] = Sheet(
            "Act today: each agency request tried on the same seeds, the worst judged week's "
            "chance, and the extra cost over the weeks ahead (the chosen row is the answer)", act,
            formats={"Agency workers asked for": WHOLE_FORMAT, "First week judged": WHOLE_FORMAT,
                     **dict.fromkeys(finance.ACT_CHANCES, CHANCE_FORMAT),
                     **dict.fromkeys(finance.ACT_MONEY, MONEY_FORMAT)},
            label_columns=3,
        )  # fmt: skip
    return out


def write_workbook(inputs: ReportInputs, path: Path) -> None:
    """Write the finance workbook of a results folder."""
    write_sheets(sheets(inputs), path)


def write_sheets(tables: dict[str, Sheet], path: Path) -> None:
    """Write the sheets row by row (openpyxl's write-only mode: no cell is kept once written)."""
    book = Workbook(write_only=True)
    try:
        for name, table in tables.items():
            _write(book.create_sheet(name), table)
        book.save(path)
    except BaseException:  # Ctrl-C or an error: no workbook, and no tracebacks after it
        _discard(book)
        raise


def _discard(book: Workbook) -> None:
    """Close the sheets' row writers while their files are open: left to the garbage collector
    they wrote to closed files and printed tracebacks after an interrupted run's one line."""
    for sheet in book.worksheets:
        try:
            sheet.close()
        except Exception:  # a sheet already closed by save(), or half written
            continue


def _write(sheet, table: Sheet) -> None:
    frame = spreadsheet_safe(table.frame).reset_index(drop=True)
    caption = spreadsheet_safe(pd.DataFrame({"c": [table.caption]}))["c"].iloc[0]
    columns = list(frame.columns)
    rows = list(_rows(frame, table))  # the widths go before the rows
    widths = [len(str(c)) for c in columns]
    for row in rows:
        for j, (value, fmt) in enumerate(row):
            widths[j] = max(widths[j], _shown_length(value, fmt))
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(10, width + 2))
    sheet.freeze_panes = f"{get_column_letter(table.label_columns + 1)}{HEADER_ROW + 1}"
    # the sheet's size, which openpyxl's writer asks for and a write-only sheet cannot tell
    last = f"{get_column_letter(max(1, len(columns)))}{HEADER_ROW + len(rows) if columns else 1}"
    sheet.calculate_dimension = lambda: f"A1:{last}"
    sheet.append([_cell(sheet, caption, font=Font(bold=True))])
    heading = Alignment(wrap_text=True, vertical="top")
    sheet.append([_cell(sheet, str(c), font=Font(bold=True), alignment=heading) for c in columns])
    for row in rows:
        sheet.append(
            [_cell(sheet, value, number_format=_shown_as(value, fmt)) for value, fmt in row]
        )


def _cell(sheet, value, number_format: str | None = None, **style):
    """A cell to append: the value as it is when it has no style (cheaper to write)."""
    if number_format is None and not style:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _shown_as(value, fmt: str | None) -> str | None:
    """The number format a cell is written with: none for text or an empty cell."""
    return None if value is None or isinstance(value, str) else fmt


def _rows(frame: pd.DataFrame, table: Sheet):
    """Each row of ``frame`` as (value, number format or None) per cell, values as openpyxl
    stores them (:func:`_cell_value`); the format only where a value has one."""
    columns = list(frame.columns)
    units = frame.get(finance.UNIT)
    by_unit = UNIT_FORMATS if table.unit_formats is None else table.unit_formats
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for column, value in zip(columns, row, strict=True):
            value = _cell_value(value)
            fmt = table.formats.get(column)
            if fmt is None and column in table.by_unit and units is not None:
                fmt = by_unit.get(units.iloc[i])
            if fmt is None and isinstance(value, float):
                fmt = NUMBER_FORMAT
            if fmt is None and isinstance(value, dt.datetime):
                fmt = DATE_FORMAT
            cells.append((value, fmt))
        yield cells


def _cell_value(value):
    """Python values openpyxl stores as numbers, dates or text; NaN as an empty cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.bool_ | bool):
        return "yes" if value else "no"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return value


def _shown_length(value, fmt: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dt.datetime):
        return 10
    if fmt == MONEY_FORMAT:
        return len(f"£{value:,.0f}")
    if fmt == SHARE_FORMAT:
        return 5
    return len(f"{value:,.1f}")
