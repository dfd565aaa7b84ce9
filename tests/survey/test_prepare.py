"""Reading survey files and rejecting data the model cannot use, naming the culprit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from acsi_sem.errors import DataError
from acsi_sem.survey.prepare import prepare_data, read_table
from tests.conftest import ROOT

MOBI = ROOT / "data" / "mobi.csv"
ITEMS = ["CUSA1", "CUSA2", "CUSA3"]


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".sav", ".dta"])
def test_every_format_reads_the_same_numbers(tmp_path, mobi: pd.DataFrame, suffix: str) -> None:
    path = tmp_path / f"survey{suffix}"
    writers = {".csv": lambda: mobi.to_csv(path, index=False),
               ".tsv": lambda: mobi.to_csv(path, sep="\t", index=False),
               ".xlsx": lambda: mobi.to_excel(path, index=False),
               ".sav": lambda: pyreadstat.write_sav(mobi, str(path)),
               ".dta": lambda: pyreadstat.write_dta(mobi, str(path))}
    writers[suffix]()
    frame = read_table(path)
    np.testing.assert_allclose(frame[mobi.columns].to_numpy(float), mobi.to_numpy(float))


def test_semicolon_separated_csv_is_sniffed(tmp_path, mobi: pd.DataFrame) -> None:
    path = tmp_path / "survey.csv"
    mobi.to_csv(path, sep=";", index=False)
    assert read_table(path).shape == mobi.shape


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such data file"), ("", "empty"), ("a,b\n", "no rows")])
def test_missing_and_empty_files(tmp_path, content: str | None, words: str) -> None:
    path = tmp_path / "survey.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=words) as caught:
        read_table(path)
    assert str(path) in str(caught.value)


def test_unknown_suffix(tmp_path) -> None:
    path = tmp_path / "survey.json"
    path.write_text("{}")
    with pytest.raises(DataError, match="cannot tell the file type"):
        read_table(path)


def test_missing_indicator_is_named_with_a_suggestion(mobi: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"CUSA4 \(did you mean CUSA3\?\)") as caught:
        prepare_data(mobi, ["CUSA1", "CUSA4"], source="mobi.csv")
    assert str(caught.value).startswith("mobi.csv")


def test_non_numeric_column_names_row_and_value(mobi: pd.DataFrame) -> None:
    frame = mobi.astype({"CUSA2": object})
    frame.loc[16, "CUSA2"] = "very good"
    with pytest.raises(DataError, match=r"column CUSA2 is not numeric: row 17 holds 'very good'"):
        prepare_data(frame, ITEMS, source="mobi.csv")


def test_numbers_stored_as_text_are_accepted(mobi: pd.DataFrame) -> None:
    frame = mobi.astype({"CUSA2": str})
    prepared = prepare_data(frame, ITEMS)
    np.testing.assert_array_equal(prepared.frame["CUSA2"], mobi["CUSA2"])


def test_constant_column(mobi: pd.DataFrame) -> None:
    frame = mobi.assign(CUSA3=5)
    with pytest.raises(DataError, match="column CUSA3 is constant"):
        prepare_data(frame, ITEMS, source="mobi.csv")


def test_out_of_scale_answer_names_column_row_and_value(mobi: pd.DataFrame) -> None:
    frame = mobi.copy()
    frame.loc[41, "CUSA1"] = 11
    with pytest.raises(DataError, match=r"column CUSA1, row 42 holds 11, outside .* 1-10"):
        prepare_data(frame, ITEMS, scale=(1, 10))


def test_too_few_rows(mobi: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="only 3 complete rows, but the model needs at least 4"):
        prepare_data(mobi.head(3), ITEMS, min_rows=4)


def test_missing_answers_are_deleted_listwise_and_reported(mobi: pd.DataFrame) -> None:
    frame = mobi.copy()
    frame.loc[[3, 7], "CUSA1"] = np.nan
    frame.loc[7, "CUSA2"] = np.nan
    prepared = prepare_data(frame, ITEMS)
    assert (prepared.n_obs, prepared.n_total) == (248, 250)
    assert prepared.missing_per_item.to_dict() == {"CUSA1": 2, "CUSA2": 1, "CUSA3": 0}
    assert "2 of 250 rows removed" in prepared.notes[0]


def test_covariance_divides_by_n(mobi: pd.DataFrame) -> None:
    prepared = prepare_data(mobi, ITEMS)
    expected = np.cov(mobi[ITEMS].to_numpy(float), rowvar=False) * (249 / 250)
    np.testing.assert_allclose(prepared.covariance, expected)


def test_one_column_and_semicolon_files_are_read_whole(tmp_path) -> None:
    single = tmp_path / "recommend.csv"
    single.write_text("RECOMMEND\n9\n10\n3\n")
    assert read_table(single).columns.tolist() == ["RECOMMEND"]
    semicolon = tmp_path / "survey.csv"
    semicolon.write_text("a;b\n1,5;2\n3;4\n")
    frame = read_table(semicolon)
    assert frame.columns.tolist() == ["a", "b"] and len(frame) == 2


def test_a_frame_with_repeated_index_labels_names_the_right_row() -> None:
    # pd.concat of two surveys repeats the index labels 0..n-1.
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 3.0], "g": ["x", "y", "x"],
                          "w": [1.0, 2.0, 3.0]})
    doubled = pd.concat([frame, frame.assign(a=[4.0, 11.0, 5.0])])
    with pytest.raises(DataError, match="column a, row 5 holds 11"):
        prepare_data(doubled, ["a", "b"], scale=(1, 10))
    prepared = prepare_data(pd.concat([frame, frame]), ["a", "b"], group="g", weights="w")
    assert prepared.groups.tolist() == ["x", "y", "x"] * 2
    assert prepared.weights.tolist() == [1.0, 2.0, 3.0] * 2
