"""Model checks shared by the covariance-based estimators (ML, MLR, WLSMV, groups)."""

from __future__ import annotations

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.spec import ModelSpec


def check_no_composites(spec: ModelSpec) -> None:
    """Refuse formative ``<~`` blocks, which only PLS estimates."""
    composites = spec.table[spec.table["op"] == "<~"]
    if len(composites):
        row = composites.iloc[0]
        raise ModelSyntaxError(f"'{row['lhs']} <~ ...' is a formative (composite) block, which "
                               "only PLS estimates; use estimator 'pls' or write '=~'",
                               source=spec.source, line=int(row["line"]) or None)


def check_mean_structure(spec: ModelSpec) -> None:
    """Only saturated mean structures are estimated: free observed intercepts, latent
    means fixed at 0."""
    intercepts = spec.table["op"].to_numpy() == "~1"
    if not intercepts.any():
        return
    rows = spec.table[intercepts]
    latent = rows["lhs"].isin(spec.latent)
    bad = rows[(latent & (rows["free"] > 0)) | (~latent & (rows["free"] == 0))
               | (latent & (rows["ustart"].fillna(0) != 0))]
    if len(bad):
        row = bad.iloc[0]
        what = "a free latent mean" if row["lhs"] in spec.latent else "a fixed intercept"
        raise ModelSyntaxError(f"'{row['lhs']} ~ 1' makes {what}; the ML estimator handles "
                               "only free observed intercepts with latent means fixed at 0",
                               source=spec.source, line=int(row["line"]) or None)


def check_no_constraints(spec: ModelSpec, estimator: str) -> None:
    """Refuse ``==``/``<``/``>`` constraints where ``estimator`` does not impose them."""
    if spec.constraints:
        first = spec.constraints[0]
        raise ModelSyntaxError(f"the constraint '{first}' is imposed by the ML and MLR "
                               f"estimators (with or without groups and FIML), not by "
                               f"{estimator}; drop it or choose estimator 'ml'",
                               source=spec.source, line=first.line or None)
