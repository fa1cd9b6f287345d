"""The calibration report: charts (pure functions, tidy frames in, a Figure out) and a
Markdown page that shows them beside the tables behind the fitted parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from demandsim.calibration.seasonality import REGRESSORS


def demand_figure(history: pd.DataFrame) -> Figure:
    """Contacts per period with the Prophet fit, its 80% interval and the trend."""
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    ax.fill_between(history["ds"], history["yhat_lower"], history["yhat_upper"], alpha=0.25,
                    label="fit, 80% interval")  # fmt: skip
    ax.plot(history["ds"], history["yhat"], lw=1.2, label="fit")
    ax.plot(history["ds"], history["trend"], lw=1.2, ls="--", label="trend")
    ax.plot(history["ds"], history["contacts"], ".", ms=3, color="k", label="observed")
    ax.set_ylabel("contacts per period")
    ax.set_title("Contacts: observed and fitted")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def components_figure(history: pd.DataFrame) -> Figure:
    """The multiplicative components over time: yearly seasonality and the school calendar."""
    parts = ["yearly", *REGRESSORS]
    fig = Figure(figsize=(10, 1.8 * len(parts)))
    axes = fig.subplots(len(parts), 1, sharex=True)
    for ax, name in zip(axes, parts, strict=True):
        ax.plot(history["ds"], 100 * history[name], lw=1)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel("% effect", fontsize=8)
        ax.set_title(name.replace("_", " "), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def conversion_figure(conversion: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(10, 3))
    ax = fig.subplots()
    ax.plot(conversion["month"], 100 * conversion["conversion_share"], marker=".")
    ax.set_ylabel("referrals per 100 contacts")
    ax.set_title("Contact-to-referral conversion by month")
    fig.tight_layout()
    return fig


def survival_figure(survival: pd.DataFrame) -> Figure:
    """Kaplan-Meier time in post by contract, with the fitted constant-hazard curve."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for contract, curve in survival.groupby("contract"):
        line = ax.step(curve["time"], curve["survival"], where="post", label=f"{contract} (KM)")
        ax.plot(curve["time"], curve["constant_hazard"], ls="--", color=line[0].get_color(),
                label=f"{contract} (constant hazard)")  # fmt: skip
    ax.set_xlabel("years in post")
    ax.set_ylabel("share still in post")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("Staff survival by contract")
    fig.tight_layout()
    return fig


def lead_time_figure(lead_times: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Histogram of days to fill by route, with the fitted gamma density."""
    routes = [r for r in ("permanent", "agency") if (lead_times["route"] == r).any()]
    fig = Figure(figsize=(5 * max(len(routes), 1), 3.5))
    axes = fig.subplots(1, max(len(routes), 1))
    for ax, route in zip(np.atleast_1d(axes), routes, strict=False):
        days = lead_times.loc[lead_times["route"] == route, "days"]
        ax.hist(days, bins=30, density=True, alpha=0.6)
        fit = fits.loc[fits["route"] == route] if len(fits) else fits
        if len(fit):
            mean, cv = float(fit["mean_days"].iloc[0]), float(fit["cv"].iloc[0])
            x = np.linspace(0, days.max() * 1.1, 200)
            shape = 1 / cv**2
            ax.plot(x, stats.gamma.pdf(x, shape, scale=mean / shape))
            ax.set_title(f"{route}: gamma mean {mean:.1f} days, cv {cv:.2f}", fontsize=9)
        ax.set_xlabel("days from vacancy to fill")
    fig.tight_layout()
    return fig


def durations_figure(episodes: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Completed-episode durations by stage with the censored fit's density (which also
    accounts for the open episodes, so it can sit to the right of the histogram)."""
    stages = list(fits["stage"]) if len(fits) else []
    cols = 3
    rows = max(1, -(-len(stages) // cols))
    fig = Figure(figsize=(12, 2.8 * rows))
    axes = fig.subplots(rows, cols)
    axes = np.atleast_1d(axes).ravel()
    for ax, stage in zip(axes, stages, strict=False):
        done = episodes.loc[(episodes["stage"] == stage) & episodes["observed"], "days"]
        fit = fits.loc[fits["stage"] == stage].iloc[0]
        ax.hist(done, bins=40, density=True, alpha=0.6)
        x = np.linspace(0.5, max(done.quantile(0.99), 1.0), 200)
        ax.plot(x, _density(fit["dist"], fit["mean_days"], fit["cv"], x))
        ax.set_title(
            f"{stage}: {fit['dist']} mean {fit['mean_days']:.0f}d cv {fit['cv']:.2f} "
            f"({fit['censored']} open)",
            fontsize=8,
        )
    for ax in axes[len(stages) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _density(dist: str, mean: float, cv: float, x: np.ndarray) -> np.ndarray:
    if dist == "gamma":
        shape = 1 / cv**2
        return stats.gamma.pdf(x, shape, scale=mean / shape)
    sigma = np.sqrt(np.log1p(cv**2))
    return stats.lognorm.pdf(x, sigma, scale=np.exp(np.log(mean) - sigma**2 / 2))


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A small Markdown table (no extra dependency)."""
    if frame is None or frame.empty:
        return "_(no rows)_\n"

    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


def write_report(folder: Path, title: str, notes: list[str], sections: list[tuple]) -> None:
    """``sections``: (heading, text, figure or None, table or None); figures saved as PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", "", *[f"- {n}" for n in notes], ""]
    for i, (heading, text, figure, table) in enumerate(sections):
        lines += [f"## {heading}", ""]
        if text:
            lines += [text, ""]
        if figure is not None:
            name = f"{i:02d}_{heading.lower().replace(' ', '_').replace('/', '_')}.png"
            figure.savefig(folder / name, dpi=110)
            lines += [f"![{heading}]({name})", ""]
        if table is not None:
            lines += [markdown_table(table), ""]
    (folder / "report.md").write_text("\n".join(lines))
