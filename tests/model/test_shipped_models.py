"""The shipped model files: the two CCSI forms and what separates them."""

from __future__ import annotations

import numpy as np

import acsi_sem
from acsi_sem.model.modelfile import load_model_file


def user_statements(name: str) -> set[tuple[str, str, str]]:
    table = load_model_file(name).spec.table
    return {(row.lhs, row.op, row.rhs) for row in table[table["user"] == 1].itertuples()}


def touches_complaint(statement: tuple[str, str, str]) -> bool:
    return "Complaint" in statement or "CUSCO" in statement


def test_ccsi6_is_ccsi_without_the_complaint_construct() -> None:
    seven, six = user_statements("ccsi"), user_statements("ccsi6")
    assert six == {s for s in seven if not touches_complaint(s)}
    structural = {s for s in six if s[1] == "~"}
    assert len(structural) == 11  # the standard's eleven causal paths
    assert ("Loyalty", "~", "Satisfaction") in structural
    assert load_model_file("ccsi6").spec.latent == (
        "BrandImage", "ExpectedQuality", "PerceivedQuality", "PerceivedValue", "Satisfaction",
        "Loyalty")


def test_ccsi6_declares_chinese_labels_for_its_six_constructs() -> None:
    model = load_model_file("ccsi6")
    assert set(model.labels) == set(model.spec.latent)
    assert model.labels["Satisfaction"] == "顾客满意度"
    assert "GB/T 19038" in model.header["source"]


def test_ccsi6_fits_on_mobi_by_pls_with_every_index_on_the_0_100_scale() -> None:
    result = acsi_sem.fit("ccsi6", estimator="pls")
    assert result.n_obs == 250
    assert result.converged
    assert list(result.index.index) == list(load_model_file("ccsi6").spec.latent)
    assert result.index.between(0, 100).all()
    # Without complaints, loyalty is one regression on image and satisfaction scores.
    scores = result.scores
    design = np.column_stack([np.ones(len(scores)), scores[["BrandImage", "Satisfaction"]]])
    _, residual, *_ = np.linalg.lstsq(design, scores["Loyalty"], rcond=None)
    r2 = 1 - residual[0] / ((scores["Loyalty"] - scores["Loyalty"].mean()) ** 2).sum()
    assert abs(result.r2["Loyalty"] - r2) < 1e-10
