"""The loyalty ladder on respondents placed by hand, and movement between two waves."""

from __future__ import annotations

import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty.ladder import RUNGS, ladder_transitions, loyalty_ladder

# One respondent per rung, read from the rules: 0 purchases; 1 purchase (loves it, still a
# purchaser); 3, lukewarm; 3, keen, quiet; 3, keen, recommends; the same with a tie.
SURVEY = pd.DataFrame({"bought": [0, 1, 3, 3, 3, 3, 2],
                       "attitude": [9, 10, 5, 8, 8, 9, 7],
                       "recommend": [10, 10, 10, 6, 9, 10, 9],
                       "panel": [1, 1, 1, 1, 0, 1, 0]},
                      index=[f"r{i}" for i in range(7)])
EXPECTED = ["prospect", "purchaser", "customer", "supporter", "advocate", "partner",
            "advocate"]


def ladder(data=SURVEY, **options):
    return loyalty_ladder(data, "bought", "attitude", "recommend", attitude_cut=7,
                          partner="panel", **options)


def test_each_rung_by_hand() -> None:
    result = ladder()
    assert result.rungs.astype(str).tolist() == EXPECTED
    assert result.table["count"].tolist() == [1, 1, 1, 1, 2, 1]
    assert result.table["share"].sum() == pytest.approx(1)
    assert result.table.index.tolist() == list(RUNGS)


def test_rules_are_parameters() -> None:
    stricter = ladder(repeat=3, recommend_cut=10)
    assert stricter.rungs.astype(str).tolist() == [
        "prospect", "purchaser", "customer", "supporter", "supporter", "partner", "purchaser"]
    untied = loyalty_ladder(SURVEY, "bought", "attitude", "recommend", attitude_cut=7)
    assert "partner" not in untied.rungs.astype(str).tolist()


def test_transitions_count_moves_between_waves() -> None:
    first = ladder().rungs
    later = first.copy()
    later["r0"], later["r5"], later["r2"] = "purchaser", "advocate", "customer"
    later = later.drop("r6")  # left the panel
    table = ladder_transitions(first, later)
    assert table.loc["prospect", "purchaser"] == 1 and table.loc["partner", "advocate"] == 1
    assert table[list(RUNGS)].to_numpy().sum() == 6
    assert table["up"].sum() == 1 and table["down"].sum() == 1 and table["same"].sum() == 4


@pytest.mark.parametrize(("column", "value", "message"), [
    ("bought", -1, "-1 is not a count"), ("bought", 1.5, "1.5 is not a count"),
    ("attitude", None, "no answer")])
def test_bad_answers_are_named(column, value, message) -> None:
    data = SURVEY.copy()
    data[column] = data[column].astype(float)
    data.loc["r3", column] = value
    with pytest.raises(DataError, match=rf"{column}, row 4: .*" if value is None
                       else message):
        ladder(data)


def test_missing_column_and_empty_waves() -> None:
    with pytest.raises(DataError, match=r"no column 'bougth'.*did you mean bought"):
        loyalty_ladder(SURVEY, "bougth", "attitude", "recommend", attitude_cut=7)
    rungs = ladder().rungs
    with pytest.raises(DataError, match="share no respondent"):
        ladder_transitions(rungs, rungs.set_axis([f"x{i}" for i in range(7)]))


def two_waves(tmp_path):
    first = SURVEY.assign(wave=1, id=range(7))
    second = first.assign(wave=2, bought=[1, 1, 3, 3, 3, 3, 0])  # r0 buys, r6 lapses
    path = tmp_path / "waves.csv"
    pd.concat([first, second]).to_csv(path, index=False)
    return path


def test_ladder_command_tables_waves_and_figure(capsys, tmp_path) -> None:
    import json

    from acsi_sem.cli.main import main

    target = tmp_path / "ladder.json"
    code = main(["ladder", "--data", str(two_waves(tmp_path)), "--purchases", "bought",
                 "--attitude", "attitude", "--attitude-cut", "7", "--recommendation",
                 "recommend", "--partner", "panel", "--wave", "wave", "--id", "id",
                 "--json", str(target), "--plot", str(tmp_path)])
    assert code == 0 and "Movement from wave 1 to 2" in capsys.readouterr().out
    document = json.loads(target.read_text())
    assert document["waves"]["1"]["advocate"]["count"] == 2
    assert document["waves"]["2"]["prospect"]["count"] == 1  # r6 lapsed, r0 bought
    moves = document["transitions"]["table"]
    assert moves["prospect"]["purchaser"] == 1 and moves["advocate"]["prospect"] == 1
    assert moves["advocate"]["down"] == 1 and moves["prospect"]["up"] == 1
    assert document["ladder"]["advocate"]["count"] == 2 + 1
    assert (tmp_path / "ladder.png").stat().st_size > 0


def test_ladder_command_needs_id_with_wave(capsys, tmp_path) -> None:
    from acsi_sem.cli.main import main

    code = main(["ladder", "--data", str(two_waves(tmp_path)), "--purchases", "bought",
                 "--attitude", "attitude", "--attitude-cut", "7", "--recommendation",
                 "recommend", "--wave", "wave"])
    assert code != 0 and "--wave and --id go together" in capsys.readouterr().err
