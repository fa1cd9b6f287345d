"""Benchmark the explorer: from pressing Run to the headline on the page, for N replications
(default 20) of the built-in county over Y years (default 2), against the base on the same seeds.

Two runs, as a planner would make them: agency fill days 26 -> 3 (the first run: the base is
simulated too), then 26 -> 5 (the base's replications are kept from the first run, so only the
edited scenario runs). With Chromium and chromedriver it drives the real page (type the values,
click Run, wait for the headline); without them (or with --no-browser) it submits to the run
queue and builds the results view as the page would. For each run it reports wall time split
into queue to last replication stored, summaries, and drawing the page, the CPU time of this
process and its workers over the same span, and when the report and workbook (built after the
headline) were ready. Not a test: run it by hand.

    python benchmarks/bench_serve.py                  # 20 replications, 2 years
    python benchmarks/bench_serve.py -n 5 --years 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from demandsim.batch.replicate import available_cores
from demandsim.scenario_files import load_scenario
from demandsim.serve.levers import edited_scenario, form_values
from demandsim.serve.server import Explorer

FILL = "workforce.agency.fill_days"
EDITS = ("3", "5")  # fill days of the first and second run


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the run's worker processes)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Page:
    """The explorer's page in headless Chromium."""

    def __init__(self, explorer: Explorer) -> None:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as seen
        from selenium.webdriver.support.ui import WebDriverWait

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or ""
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(
            options=options, service=webdriver.ChromeService(shutil.which("chromedriver"))
        )
        self.by, self.seen = By, seen
        self.wait = WebDriverWait(self.driver, 600)
        self.driver.get(explorer.url)
        self.wait.until(seen.presence_of_element_located((By.ID, "run")))

    def type(self, element, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(text)

    def run(self, run_id: int, n: int, years: float, fill: str) -> float:
        by, find = self.by, self.driver.find_element
        for key, text in ((FILL, fill), ("years", f"{years:g}")):
            self.type(find(by.XPATH, f"//tr[td/code[text()='{key}']]//input"), text)
        self.type(find(by.ID, "replications"), str(n))
        started = time.monotonic()
        find(by.ID, "run").click()
        shown = (by.CSS_SELECTOR, f"#headline[data-run='{run_id}'] li")
        self.wait.until(self.seen.presence_of_element_located(shown))
        return time.monotonic() - started

    def close(self) -> None:
        self.driver.quit()


def without_browser(explorer: Explorer, run_id: int, n: int, years: float, fill: str) -> float:
    from demandsim.serve.app import results_view

    baseline = load_scenario()
    started = time.monotonic()
    base, edited, changes = edited_scenario(
        baseline, {**form_values(baseline), FILL: fill, "years": f"{years:g}"}
    )
    run = explorer.runs.submit(base, edited, changes, n)
    run = explorer.runs.wait(run.id, 3600)
    results_view(run)
    run.shown.set()  # as the page does: the report and workbook start now
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--replications", type=int, default=20)
    parser.add_argument("--years", type=float, default=2)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    browser = not args.no_browser and shutil.which("chromium") and shutil.which("chromedriver")
    print(f"{args.replications} replications x 2 scenarios x {args.years:g} years of the "
          f"built-in county on {available_cores()} cores, "
          f"{'in headless Chromium' if browser else 'without a browser'}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        explorer = Explorer(Path(tmp), port=0).start()
        page = Page(explorer) if browser else None
        try:
            for run_id, fill in enumerate(EDITS, start=1):
                cpu = cpu_seconds()
                if page is not None:
                    seconds = page.run(run_id, args.replications, args.years, fill)
                else:
                    seconds = without_browser(explorer, run_id, args.replications, args.years, fill)
                cpu = cpu_seconds() - cpu
                run = explorer.runs.wait(run_id, 3600, report=True)
                manifest = json.loads((run.folder / "manifest.json").read_text())
                simulated = manifest["replications_this_session"]
                print(f"run {run_id}: fill days 26 -> {fill}, "
                      f"{'the base simulated too' if run_id == 1 else 'the base kept from run 1'}")  # fmt: skip
                print(f"  Run pressed to headline shown:  {seconds:6.1f} s wall, {cpu:6.1f} s CPU "
                      f"(this process and its workers)")  # fmt: skip
                print(f"  queue to last replication:      {run.simulated - run.submitted:6.1f} s"
                      f" ({simulated} simulated)")  # fmt: skip
                print(f"  summaries and tables:           {run.finished - run.simulated:6.1f} s")
                print(f"  reading the folder and drawing: {seconds - run.seconds:6.1f} s")
                print(f"  report and workbook ready:      {run.reported - run.submitted:6.1f} s"
                      " after Run (built after the headline)")  # fmt: skip
        finally:
            if page is not None:
                page.close()
            explorer.stop()


if __name__ == "__main__":
    main()
