"""Benchmark the explorer: from pressing Run to the headline on the page, for N replications
(default 20) of the built-in county over Y years (default 2), fill days 26 -> 3 against the base.

With Chromium and chromedriver it drives the real page (type the values, click Run, wait for the
headline); without them (or with --no-browser) it submits to the run queue and builds the
results view as the page would. It reports the time split into queue to last replication stored,
summaries, report and workbook, and drawing the page. Not a test: run it by hand.

    python benchmarks/bench_serve.py                  # 20 replications, 2 years
    python benchmarks/bench_serve.py -n 5 --years 1   # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from demandsim.batch.replicate import available_cores
from demandsim.scenario_files import load_scenario
from demandsim.serve.levers import edited_scenario, form_values
from demandsim.serve.server import Explorer

FILL = "workforce.agency.fill_days"


def in_browser(explorer: Explorer, n: int, years: float) -> float:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(shutil.which("chromedriver"))
    )
    try:
        driver.get(explorer.url)
        wait = WebDriverWait(driver, 600)
        wait.until(seen.presence_of_element_located((By.ID, "run")))
        for key, text in ((FILL, "3"), ("years", f"{years:g}")):
            box = driver.find_element(By.XPATH, f"//tr[td/code[text()='{key}']]//input")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(text)
        box = driver.find_element(By.ID, "replications")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(n))
        started = time.monotonic()
        driver.find_element(By.ID, "run").click()
        wait.until(seen.presence_of_element_located((By.CSS_SELECTOR, "#headline li")))
        return time.monotonic() - started
    finally:
        driver.quit()


def without_browser(explorer: Explorer, n: int, years: float) -> float:
    from demandsim.serve.app import results_view

    baseline = load_scenario()
    started = time.monotonic()
    base, edited, changes = edited_scenario(
        baseline, {**form_values(baseline), FILL: "3", "years": f"{years:g}"}
    )
    run = explorer.runs.submit(base, edited, changes, n)
    run = explorer.runs.wait(run.id, 3600)
    results_view(run)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--replications", type=int, default=20)
    parser.add_argument("--years", type=float, default=2)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    browser = not args.no_browser and shutil.which("chromium") and shutil.which("chromedriver")
    with tempfile.TemporaryDirectory() as tmp:
        explorer = Explorer(Path(tmp), port=0).start()
        try:
            measure = in_browser if browser else without_browser
            seconds = measure(explorer, args.replications, args.years)
            (run,) = explorer.runs.runs()
        finally:
            explorer.stop()
    print(f"{args.replications} replications x 2 scenarios x {args.years:g} years of the "
          f"built-in county on {available_cores()} cores, "
          f"{'in headless Chromium' if browser else 'without a browser'}")  # fmt: skip
    print(f"  Run pressed to headline shown: {seconds:6.1f} s")
    print(f"  queue to last replication:     {run.simulated - run.submitted:6.1f} s")
    print(f"  summaries, report, workbook:   {run.finished - run.simulated:6.1f} s")
    print(f"  reading the folder and drawing: {seconds - run.seconds:5.1f} s")


if __name__ == "__main__":
    main()
