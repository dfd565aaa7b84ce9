"""Bad study input gets an error naming the file, column, row or company; nothing is
written on failure."""

from __future__ import annotations

import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from tests.studies.test_aggregate import MEANS, PLACE, SINGLE_ITEMS


@pytest.fixture()
def survey() -> pd.DataFrame:
    rows = [{"company": c, "wave": w, "industry": PLACE[c][0], "sector": PLACE[c][1],
             "q": q, "s": MEANS[c, w] + step}
            for (c, w) in MEANS for step, q in zip((-1, 0, 1), (3, 5, 4), strict=True)]
    return pd.DataFrame(rows)


def run(survey, **options):
    settings = dict(scale=(1, 10), company="company", industry="industry", wave="wave")
    settings.update(options)
    return acsi_sem.study(SINGLE_ITEMS, survey, **settings)


def revenue(tmp_path, rows: list[dict], name: str = "revenue.csv") -> str:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


FULL = [{"company": c, "revenue": r} for c, r in (("A", 1), ("B", 2), ("C", 3), ("D", 4))]


@pytest.mark.parametrize(("rows", "message"), [
    (FULL[:3], "company D is in the survey but not in the revenue file"),
    ([*FULL, {"company": "E", "revenue": 5}], "company E is in the revenue file but not in "
                                             "the survey"),
    ([*FULL[:3], {"company": "D", "revenue": -4}], "column revenue: row 4 is negative"),
    ([*FULL[:3], {"company": "D", "revenue": None}], "column revenue: row 4 has no value"),
    ([*FULL, {"company": "A", "revenue": 9}], "company A is listed more than once"),
    ([{"company": "A"}], "needs the column\\(s\\) revenue"),
])
def test_revenue_file_mistakes_are_named(tmp_path, survey, rows, message) -> None:
    with pytest.raises(DataError, match=message):
        run(survey, revenue=revenue(tmp_path, rows))


def test_revenue_waves_must_match_the_survey(tmp_path, survey) -> None:
    rows = [{"company": c, "wave": w, "revenue": 1} for c, w in MEANS if (c, w) != ("B", "2")]
    with pytest.raises(DataError, match="company B is surveyed in wave 2 but has no revenue"):
        run(survey, revenue=revenue(tmp_path, rows))
    extra = [*rows, {"company": "B", "wave": "2", "revenue": 1},
             {"company": "B", "wave": "3", "revenue": 1}]
    with pytest.raises(DataError, match="company B has a revenue for wave 3 but is not "
                                        "surveyed in that wave"):
        run(survey, revenue=revenue(tmp_path, extra))


def test_hierarchy_must_agree_between_files(tmp_path, survey) -> None:
    rows = [{**row, "industry": PLACE[row["company"]][0]} for row in FULL]
    rows[1]["industry"] = "Y"
    with pytest.raises(DataError, match="company B is in industry Y here but in X in the "
                                        "survey"):
        run(survey, revenue=revenue(tmp_path, rows))
    shares = [{**row, "sector": PLACE[row["company"]][1], "gdp_share": 0.5} for row in FULL]
    shares[0]["gdp_share"] = 0.7
    with pytest.raises(DataError, match="gdp_share differs within sector S1 in wave 1"):
        run(survey, sector="sector", revenue=revenue(tmp_path, shares))


def test_hierarchy_can_come_from_the_revenue_file(tmp_path, survey) -> None:
    rows = [{**row, "industry": PLACE[row["company"]][0], "sector": PLACE[row["company"]][1]}
            for row in FULL]
    result = run(survey.drop(columns=["industry", "sector"]), industry=None,
                 revenue=revenue(tmp_path, rows))
    sectors = result.indices.loc[result.indices["level"] == "sector", "unit"]
    assert set(sectors) == {"S1", "S2"}


def test_survey_design_mistakes_are_named(survey) -> None:
    with pytest.raises(DataError, match="no column 'year'"):
        run(survey, wave="year")
    broken = survey.copy()
    broken.loc[4, "wave"] = None
    with pytest.raises(DataError, match="column wave: row 5 has no value"):
        run(broken)
    moved = survey.copy()
    moved.loc[0, "industry"] = "Y"
    with pytest.raises(DataError, match="company A appears in several industry values"):
        run(moved)
    lonely = survey[~((survey["company"] == "D") & (survey["wave"] == "2"))].copy()
    lonely = pd.concat([lonely, survey[(survey["company"] == "D")
                                       & (survey["wave"] == "2")].iloc[:1]])
    with pytest.raises(DataError, match="company D in wave 2 has 1 respondent"):
        run(lonely)
    with pytest.raises(AcsiSemError, match="one column plays two parts"):
        run(survey, wave="company")
    with pytest.raises(AcsiSemError, match="weights_by='industry' needs industries"):
        run(survey, industry=None, weights_by="industry")
    with pytest.raises(AcsiSemError, match="needs the column naming each respondent's company"):
        acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10))
    with pytest.raises(AcsiSemError, match="declare the answer scale"):
        acsi_sem.study(SINGLE_ITEMS, survey, company="company")


def test_design_file_mistakes_are_named(tmp_path, survey) -> None:
    path = tmp_path / "study.toml"
    path.write_text('company = "company"\nwaves = "wave"\n')
    with pytest.raises(DataError, match="unknown key\\(s\\) waves"):
        acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10), design=path)
    path.write_text('company = "company\n')
    with pytest.raises(DataError, match="not a TOML study design"):
        acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10), design=path)


def test_a_design_file_sets_data_columns_and_revenue(tmp_path, survey) -> None:
    survey.to_csv(tmp_path / "survey.csv", index=False)
    revenue(tmp_path, FULL, "money.csv")
    path = tmp_path / "study.toml"
    path.write_text('data = "survey.csv"\nrevenue = "money.csv"\ncompany = "company"\n'
                    'industry = "industry"\nwave = "wave"\n')
    result = acsi_sem.study(SINGLE_ITEMS, scale=(1, 10), design=path)
    direct = run(survey, revenue=str(tmp_path / "money.csv"))
    pd.testing.assert_frame_equal(result.indices, direct.indices)


def test_the_command_writes_nothing_on_failure(tmp_path, survey, capsys) -> None:
    data = tmp_path / "survey.csv"
    survey.to_csv(data, index=False)
    model = tmp_path / "model.lav"
    model.write_text("# scale: 1-10\n" + SINGLE_ITEMS)
    target = tmp_path / "study.json"
    target.write_text("old")
    bad = revenue(tmp_path, FULL[:3])
    code = main(["study", str(model), "--data", str(data), "--company", "company",
                 "--revenue", bad, "--json", str(target)])
    assert code == 2
    assert "company D is in the survey but not in the revenue file" in capsys.readouterr().err
    assert target.read_text() == "old"
