"""Text exports as Excel writes them in other locales: UTF-16, GBK, UTF-8 with a byte-order
mark, decimal commas between semicolons or tabs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.survey.moments import read_moments
from acsi_sem.survey.prepare import read_table
from acsi_sem.survey.text_files import file_encoding, text_format
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    """mobi's first 60 rows with a Chinese company column and half-point answers."""
    frame = pd.read_csv(ROOT / "data" / "mobi.csv").head(60).astype(float) + 0.5
    frame.insert(0, "公司", ["华为", "小米", "Müller"] * 20)
    return frame


@pytest.mark.parametrize(("encoding", "separator", "expected"), [
    ("utf-16", "\t", "utf-16"), ("utf-16", ",", "utf-16"), ("utf-8-sig", ",", "utf-8-sig"),
    ("utf-8", ";", "utf-8"), ("gb18030", ",", "gb18030")])
def test_encodings_are_detected_and_read(tmp_path, survey, encoding, separator,
                                         expected) -> None:
    frame = survey if encoding != "gb18030" else survey.assign(公司="华为")  # GBK has no ü
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False, encoding=encoding, sep=separator)
    assert text_format(path).encoding == expected
    read = read_table(path)
    assert list(read.columns) == list(frame.columns)
    assert read["公司"].tolist() == frame["公司"].tolist()
    np.testing.assert_array_equal(read.iloc[:, 1:].to_numpy(), frame.iloc[:, 1:].to_numpy())


@pytest.mark.parametrize("separator", [";", "\t"])
def test_decimal_commas_are_read_as_numbers(tmp_path, survey, separator) -> None:
    path = tmp_path / ("survey.tsv" if separator == "\t" else "survey.csv")
    survey.to_csv(path, index=False, sep=separator, decimal=",")
    assert "7,5" in path.read_text()
    assert text_format(path, "\t" if separator == "\t" else None).decimal == ","
    read = read_table(path)
    np.testing.assert_array_equal(read.iloc[:, 1:].to_numpy(), survey.iloc[:, 1:].to_numpy())


def test_points_and_commas_keep_their_meaning(tmp_path, survey) -> None:
    """Semicolons with decimal points, and text fields with commas, are not decimal commas."""
    points = tmp_path / "points.csv"
    survey.to_csv(points, index=False, sep=";")
    assert text_format(points).decimal == "."
    labelled = tmp_path / "labels.csv"
    survey.assign(note="a,b").iloc[:, 1:].astype({"CUEX1": int}).to_csv(labelled, sep=";",
                                                                        index=False)
    assert read_table(labelled)["note"].iloc[0] == "a,b"


def test_chunked_reading_uses_the_same_format(tmp_path, survey) -> None:
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False, sep=";", decimal=",", encoding="utf-16")
    items = ("CUSA1", "CUSA2", "CUSA3")
    moments = read_moments(path, items, chunksize=25, scale=None, min_rows=3)
    np.testing.assert_allclose(moments.means, survey[list(items)].mean().to_numpy())


def test_an_encoding_is_chosen_for_any_bytes() -> None:
    assert file_encoding("Müller".encode("cp1252")) == "cp1252"
    assert file_encoding("华为".encode("gbk")) == "gb18030"
    # A sample cut inside a character is still UTF-8.
    assert file_encoding("华为".encode()[:-1]) == "utf-8"
