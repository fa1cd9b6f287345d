"""The finance workbook: one sheet per table, numbers stored as numbers with formats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from demandsim.report.inputs import ReportInputs
from demandsim.results_store import spreadsheet_safe

MONEY_FORMAT = '"£"#,##0'
SHARE_FORMAT = "0%"
DATE_FORMAT = "yyyy-mm-dd"


def write_workbook(inputs: ReportInputs, path: Path) -> None:
    """One sheet per table; money, shares and dates carry number formats."""
    sheets = {
        "Budget by year": inputs.budget,
        "Cost percentiles": inputs.percentiles,
        "Costs by year and run": inputs.fy_costs,
        "Monthly costs": inputs.monthly_costs,
        "Staffing": inputs.staffing,
        "Headline": inputs.headline,
    }
    if inputs.differences_shown is not None:
        sheets["Paired differences"] = inputs.differences_shown
    write_sheets(sheets, path)


def write_sheets(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = spreadsheet_safe(frame)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for idx, column in enumerate(frame.columns, start=1):
                letter = sheet.cell(row=1, column=idx).column_letter
                sheet.column_dimensions[letter].width = max(12, len(str(column)) + 2)
                fmt = _format_for(str(column), frame[column])
                if fmt:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell.number_format = fmt
            sheet.freeze_panes = "B2"


def _format_for(column: str, values: pd.Series) -> str | None:
    if column.endswith("_gbp"):
        return MONEY_FORMAT
    if column.endswith(("_share", "_chance", "share_mean")):
        return SHARE_FORMAT
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATE_FORMAT
    if pd.api.types.is_float_dtype(values):
        return "#,##0.0"
    return None
