"""Model checks shared by the covariance-based estimators (ML, MLR, WLSMV, groups)."""

from __future__ import annotations

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.spec import ModelSpec


def check_no_composites(spec: ModelSpec) -> None:
    """Refuse formative ``<~`` blocks, which only PLS estimates."""
    composites = spec.table["op"].to_numpy() == "<~"
    if composites.any():
        row = spec.table.iloc[int(composites.argmax())]
        raise ModelSyntaxError(f"'{row['lhs']} <~ ...' is a formative (composite) block, which "
                               "only PLS estimates; use estimator 'pls' or write '=~'",
                               source=spec.source, line=int(row["line"]) or None)


def check_mean_structure(spec: ModelSpec) -> None:
    """Refuse a latent mean that the intercepts leave unidentified: free while every
    indicator's intercept is free too (the mean could move into the intercepts)."""
    if not spec.has_intercepts:
        return
    rows = spec.table[spec.table["op"] == "~1"]
    free_intercepts = set(rows.loc[(rows["free"] > 0) & ~rows["lhs"].isin(spec.latent), "lhs"])
    for _, row in rows[(rows["free"] > 0) & rows["lhs"].isin(spec.latent)].iterrows():
        indicators = spec.indicators.get(row["lhs"], [])
        if indicators and set(indicators) <= free_intercepts:
            raise ModelSyntaxError(
                f"'{row['lhs']} ~ 1' frees the mean of {row['lhs']} while every one of its "
                f"indicators has a free intercept, so the mean is not identified; fix an "
                f"intercept ({indicators[0]} ~ 0*1), hold intercepts equal across groups, "
                "or fit a growth model (kind='growth': intercepts 0, latent means free)",
                source=spec.source, line=int(row["line"]) or None)


def check_no_modelled_means(spec: ModelSpec, estimator: str) -> None:
    """Refuse free latent means and fixed intercepts where ``estimator`` saturates the
    means."""
    if spec.has_modelled_means:
        raise ModelSyntaxError(f"free latent means and fixed or labelled intercepts are "
                               f"estimated by ML and MLR, not by {estimator}; drop the "
                               "'~ 1' rows (or kind='growth', '# kind: growth', which adds "
                               "them) or choose estimator 'ml'", source=spec.source)


def check_no_constraints(spec: ModelSpec, estimator: str) -> None:
    """Refuse ``==``/``<``/``>`` constraints where ``estimator`` does not impose them."""
    if spec.constraints:
        first = spec.constraints[0]
        raise ModelSyntaxError(f"the constraint '{first}' is imposed by the ML and MLR "
                               f"estimators (with or without groups and FIML), not by "
                               f"{estimator}; drop it or choose estimator 'ml'",
                               source=spec.source, line=first.line or None)
