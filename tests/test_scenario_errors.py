"""Every kind of bad scenario input is an error that names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from demandsim.scenario_files import DEFAULT_SCENARIO, ScenarioError, load_scenario


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{DEFAULT_SCENARIO}"\nname = "bad"\n' + text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[teams.cin]\ncaseload_capp = 20\n", ["teams.cin.caseload_capp", "unknown key"]),
        ('years = "three"\n', ["years", "valid number"]),
        ("[workforce.permanent]\nturnover_per_year = -0.1\n",
         ["workforce.permanent.turnover_per_year", "greater than or equal to 0"]),
        ("[pathway.stages.front_door]\nroutes = { nfa = 0.5, mash = 0.4, early_help = 0.05 }\n",
         ["pathway.stages.front_door.routes", "must sum to 1, got 0.95"]),
        ("[pathway.stages.front_door]\nroutes = { nfa = 0.5, mash = 0.5, triage = 0.0 }\n",
         ["front_door.routes names ['triage']", "neither a stage nor an exit"]),
        ('[pathway.stages.mash]\nteam = "hub"\n', ["pathway.stages.mash.team 'hub' is not a team"]),
        ("[teams.cic]\ninitial_permanent = 40\n", ["teams.cic", "exceeds posts (34)"]),
        ('[workforce.agency]\nfill_days = { dist = "exponential", mean_days = 3, cv = 0.5 }\n',
         ["workforce.agency.fill_days", "cv is not used by the exponential distribution"]),
        ("[demand]\nmonthly_factors = [1, 1, 1]\n", ["demand.monthly_factors", "needs 12"]),
        ('[demand.monthly_contacts]\n"Sept 2014" = 1514\n', ["demand.monthly_contacts", "'YYYY-MM'"]),
        ('[workforce.agency_policy]\nrequest_on = "sometimes"\n',
         ["workforce.agency_policy.request_on", "'vacancy', 'backlog' or 'never'"]),
    ],
)  # fmt: skip
def test_bad_values_name_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_error_names_the_file_in_the_chain_that_set_the_key(tmp_path):
    base = write(tmp_path, "[teams.cin]\ncaseload_cap = 0\n", name="base.toml")
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{base.name}"\nname = "child"\n')
    with pytest.raises(ScenarioError, match=r"base\.toml: teams\.cin\.caseload_cap"):
        load_scenario(child)


def test_missing_extends_file(tmp_path):
    path = tmp_path / "orphan.toml"
    path.write_text('extends = "nowhere.toml"\n')
    with pytest.raises(
        ScenarioError,
        match=r"nowhere\.toml: scenario file not found \(named by extends in .*orphan\.toml\)",
    ):
        load_scenario(path)


def test_extends_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="extends forms a cycle"):
        load_scenario(tmp_path / "a.toml")


def test_invalid_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ScenarioError, match=r"broken\.toml: not valid TOML"):
        load_scenario(path)


def test_missing_calibration_file(tmp_path):
    path = write(tmp_path, 'calibration = "fitted/parameters.toml"\n')
    with pytest.raises(ScenarioError, match=r"parameters\.toml: parameter file not found"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("years", "--set 'years': expected KEY.PATH=VALUE"),
        ("workforce.agency.fill_dayz=3", "--set: workforce.agency.fill_dayz: unknown key"),
        (
            "workforce.agency.fill_share=1.5",
            "--set: workforce.agency.fill_share: Input should be less than or equal to 1",
        ),
    ],
)
def test_bad_set_overrides_name_the_override(override, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, [override])
    assert expected in str(err.value)


def test_a_bare_number_over_a_duration_keeps_its_shape():
    scenario = load_scenario(None, ["workforce.agency.fill_days=3"])
    fill = scenario.workforce.agency.fill_days
    assert (fill.dist, fill.mean_days, fill.cv) == ("gamma", 3.0, 0.5)


def test_scenario_is_frozen():
    scenario = load_scenario()
    with pytest.raises(Exception, match="frozen"):
        scenario.years = 10


def test_calibration_parameters_sit_between_base_and_own_keys(tmp_path):
    (tmp_path / "fitted").mkdir()
    (tmp_path / "fitted" / "parameters.toml").write_text(
        "[demand]\ncontacts_per_year = 9000\nintensity_file = 'intensity.csv'\n"
        "[workforce.agency]\nfill_days = 10\n"
    )
    (tmp_path / "fitted" / "intensity.csv").write_text("month,sample_0\n2026-04,1200\n")
    path = write(
        tmp_path, 'calibration = "fitted/parameters.toml"\n[workforce.agency]\nfill_days = 2\n'
    )
    scenario = load_scenario(path)
    assert scenario.demand.contacts_per_year == 9000  # from the parameter file
    assert scenario.workforce.agency.fill_days.mean_days == 2  # the scenario's own key wins
    assert scenario.demand.intensity_file == str(tmp_path / "fitted" / "intensity.csv")


def test_a_table_over_a_duration_replaces_it_and_round_trips(tmp_path):
    from demandsim.results_store import write_scenario_toml
    from demandsim.scenario_files import apply_overrides

    fixed = load_scenario(None, ['pathway.stages.mash.duration={ dist = "fixed", mean_days = 1 }'])
    assert fixed.pathway.stages["mash"].duration.cv is None  # the base's cv is not carried over
    again = apply_overrides(fixed, ["years=1"])  # re-validating a dumped scenario works
    assert again.pathway.stages["mash"].duration == fixed.pathway.stages["mash"].duration
    write_scenario_toml(fixed, tmp_path / "resolved.toml")
    reloaded = load_scenario(tmp_path / "resolved.toml")
    assert reloaded.model_dump(exclude={"source_dir"}) == fixed.model_dump(exclude={"source_dir"})


@pytest.mark.parametrize(
    ("years", "last_day"), [(3, "2029-03-31"), (1, "2027-03-31"), (0.5, "2026-09-30")]
)
def test_forecast_years_end_on_calendar_dates(years, last_day):
    import datetime as dt

    scenario = load_scenario(None, [f"years={years}"])
    assert scenario.end_date - dt.timedelta(days=1) == dt.date.fromisoformat(last_day)
