"""Every kind of bad input gives an error naming file, row and column; nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.calibration.inputs import InputError, read_folder
from demandsim.cli import main

GOOD_EPISODES = """case_id,stage,start_date,end_date,next_stage
A1,assessment,2024-01-02,2024-02-01,cin
A1,cin,2024-02-01,,
A2,CLA,05/03/2024,20/03/2024,return_home
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_folder(folder)
    return caught.value.problems


def test_good_episodes_are_read_and_stage_names_mapped(tmp_path):
    data = read_folder(write(tmp_path, "case_episodes.csv", GOOD_EPISODES))
    assert data.episodes["stage"].tolist() == ["assessment", "cin", "cic"]
    assert data.episodes["end_date"].isna().tolist() == [False, True, False]
    assert str(data.episodes["start_date"].iloc[2].date()) == "2024-03-05"  # DD/MM/YYYY


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("case_episodes.csv", "case_id,stage,start_date,end_date\nA,cin,2024-01-01,\n",
         "case_episodes.csv: column 'next_stage' is missing"),
        ("case_episodes.csv", GOOD_EPISODES.replace("2024-02-01,cin", "2024-13-45,cin"),
         "case_episodes.csv: row 2, column 'end_date': unparseable date"),
        ("case_episodes.csv", GOOD_EPISODES.replace("2024-02-01,cin", "2023-12-01,cin"),
         "case_episodes.csv: row 2, column 'end_date': end_date is before start_date"),
        ("case_episodes.csv", GOOD_EPISODES + "A2,CLA,05/03/2024,,\n",
         "case_episodes.csv: row 5, column 'case_id': duplicate id"),
        ("case_episodes.csv", GOOD_EPISODES.replace("assessment", "triage"),
         "case_episodes.csv: row 2, column 'stage': unknown name; expected one of"),
        ("case_episodes.csv", GOOD_EPISODES.replace("2024-02-01,cin\n", "2024-02-01,\n"),
         "case_episodes.csv: row 2, column 'next_stage': a closed episode"),
        ("demand.csv", "date,contacts,referrals\n2024-01,100,30\n2024-02,-5,3\n",
         "demand.csv: row 3, column 'contacts': expected a non-negative number"),
        ("demand.csv", "date,contacts,referrals\n2024-01,100,130\n",
         "demand.csv: row 2, column 'referrals': more referrals than contacts"),
        ("staff_spells.csv",
         "worker_id,team,contract,start_date,end_date,fte\nW1,cin,temp,2020-01-01,,1\n",
         "staff_spells.csv: row 2, column 'contract': unknown name"),
        ("vacancies.csv",
         "vacancy_id,team,opened_date,filled_date,filled_by\nV1,cin,,2020-01-01,agency\n",
         "vacancies.csv: row 2, column 'opened_date': a date is required"),
        ("ssda903/episodes.csv", "CHILD,DECOM,PLACE,DEC,REC\n1,2020-01-01,U1,2019-01-01,E11\n",
         "ssda903/episodes.csv: row 2, column 'DEC': DEC is before DECOM"),
    ],
)  # fmt: skip
def test_each_bad_input_names_file_row_and_column(tmp_path, name, text, expected):
    found = problems(write(tmp_path, name, text))
    assert any(expected in p for p in found), found


def test_problems_from_every_file_are_reported_together(tmp_path):
    write(tmp_path, "demand.csv", "date,contacts,referrals\nsoon,1,1\n")
    write(tmp_path, "vacancies.csv", "vacancy_id,team\nV1,cin\n")
    found = problems(tmp_path)
    assert any("demand.csv: row 2, column 'date'" in p for p in found)
    assert any("vacancies.csv: column 'opened_date' is missing" in p for p in found)


def test_an_empty_folder_says_what_it_expected(tmp_path):
    assert "holds none of the calibration inputs" in problems(tmp_path)[0]


def test_snapshot_files_must_agree_on_the_date(tmp_path):
    write(tmp_path, "snapshot_cases.csv",
          "snapshot_date,case_id,stage,start_date,allocated\n2025-03-31,A,cin,2025-01-01,yes\n")  # fmt: skip
    write(tmp_path, "snapshot_staff.csv",
          "snapshot_date,worker_id,team,contract\n2025-03-30,W,cin,permanent\n")  # fmt: skip
    assert any("disagree on snapshot_date" in p for p in problems(tmp_path))


def test_calibrate_writes_nothing_when_an_input_is_bad(tmp_path):
    demo = Path(__file__).resolve().parents[1] / "calibration" / "demo"
    data = tmp_path / "data"
    shutil.copytree(demo, data)
    lines = (data / "vacancies.csv").read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[2], "31/31/2020")
    (data / "vacancies.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["calibrate", str(data), "--out", str(out)])
    assert result.exit_code != 0
    assert "vacancies.csv: row 6, column 'opened_date': unparseable date" in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))
