"""The options of :func:`acsi_sem.fit` that reach the estimators."""

from __future__ import annotations

from dataclasses import dataclass

from acsi_sem.errors import AcsiSemError

ESTIMATORS = ("ml", "mlr", "wlsmv", "gls", "uls", "dwls", "wls", "ulsm", "ulsmv", "wlsm", "pls",
              "plsc")
INTERVALS = ("percentile", "bca")
MODERATION_METHODS = ("two_stage", "product_indicator", "orthogonal")
HIGHER_ORDER_METHODS = ("two_stage", "repeated_indicators")


@dataclass(frozen=True)
class FitOptions:
    """Estimation settings.

    Attributes:
        estimator: ``"ml"`` (CB-SEM), ``"mlr"`` (CB-SEM with robust standard errors and
            a scaled test), ``"wlsmv"`` (CB-SEM for ordered items), ``"gls"``, ``"uls"``,
            ``"dwls"`` or ``"wls"`` (least-squares CB-SEM of continuous answers, see
            :mod:`acsi_sem.numerics.wls`), ``"ulsm"``, ``"ulsmv"``, ``"wlsm"`` (ULS or DWLS
            with robust standard errors and a scaled test, lavaan's names), ``"pls"`` (PLS
            path modelling) or ``"plsc"`` (consistent PLS).
        scheme: PLS inner weighting scheme: ``"path"``, ``"factorial"`` or ``"centroid"``.
        tolerance: PLS stops when the summed absolute change of the outer weights is below it.
        max_iterations: PLS iteration limit.
        bootstrap: number of bootstrap replicates (0: none).
        seed: seed of the bootstrap's random generator.
        ci: which bootstrap interval fills ``ci_lower``/``ci_upper``.
        scale: answer scale ``(lowest, highest)`` for the 0-100 index.
        progress: show a progress bar during the bootstrap.
        group_equal: CB-SEM with groups: parameter classes held equal across groups.
        moderation: PLS with interaction terms: how each term's construct is measured
            (:data:`MODERATION_METHODS`; see :mod:`acsi_sem.estimators.pls_moderation`).
        higher_order: PLS with higher-order constructs: :data:`HIGHER_ORDER_METHODS` (see
            :mod:`acsi_sem.estimators.pls_higher_order`).
        bollen_stine: CB-SEM (ML/MLR): replicates of the Bollen-Stine bootstrap of the
            chi-square test (0: none; see :mod:`acsi_sem.estimators.bollen_stine`).
        ordered: WLSMV: the ordered items; the model's other items are continuous.
            ``None``: every item is ordered.
        fixed_x: the least-squares estimators: hold the observed covariates' moments at the
            sample's (lavaan's ``fixed.x = TRUE``, ML's rule) rather than estimate them
            (``False``); ``None``: lavaan's default, random for these estimators.
    """

    estimator: str = "ml"
    scheme: str = "path"
    tolerance: float = 1e-7
    max_iterations: int = 300
    bootstrap: int = 0
    seed: int | None = None
    ci: str = "percentile"
    scale: tuple[float, float] | None = None
    progress: bool = False
    group_equal: tuple[str, ...] = ()
    moderation: str = "two_stage"
    higher_order: str = "two_stage"
    bollen_stine: int = 0
    ordered: tuple[str, ...] | None = None
    fixed_x: bool | None = None

    def __post_init__(self) -> None:
        from acsi_sem.numerics.pls import SCHEMES
        from acsi_sem.numerics.wls import ROBUST_LEAST_SQUARES, WLS_ESTIMATORS

        checks = [("estimator", self.estimator, ESTIMATORS), ("scheme", self.scheme, SCHEMES),
                  ("ci", self.ci, INTERVALS), ("moderation", self.moderation,
                                                MODERATION_METHODS),
                  ("higher_order", self.higher_order, HIGHER_ORDER_METHODS)]
        for name, value, allowed in checks:
            if value not in allowed:
                raise AcsiSemError(f"unknown {name} {value!r}; choose one of "
                                   f"{', '.join(allowed)}")
        if self.bootstrap < 0 or self.bootstrap == 1:
            raise AcsiSemError(f"bootstrap needs at least 2 replicates, not {self.bootstrap}")
        if self.bollen_stine < 0 or self.bollen_stine == 1:
            raise AcsiSemError(f"the Bollen-Stine bootstrap needs at least 2 replicates, not "
                               f"{self.bollen_stine}")
        if self.bollen_stine and self.estimator not in ("ml", "mlr"):
            raise AcsiSemError(f"the Bollen-Stine bootstrap tests an ML fit's chi-square; "
                               f"estimator {self.estimator!r} has none (use 'ml' or 'mlr')")
        if self.group_equal and self.is_pls:
            raise AcsiSemError("group_equal constrains a multi-group CB-SEM model; PLS "
                               "reports the index per group instead (drop group_equal)")
        if self.fixed_x is not None and self.estimator not in (*WLS_ESTIMATORS,
                                                               *ROBUST_LEAST_SQUARES):
            raise AcsiSemError(f"fixed_x chooses how the least-squares estimators (gls, uls, "
                               f"dwls, wls, ulsm, ulsmv, wlsm) treat observed covariates; "
                               f"estimator {self.estimator!r} holds them fixed (lavaan's "
                               f"fixed.x = TRUE) or has none: leave fixed_x out")
        if not self.tolerance > 0 or self.max_iterations < 1:
            raise AcsiSemError(f"the PLS tolerance must be positive and the iteration limit at "
                               f"least 1, not {self.tolerance} and {self.max_iterations}")

    @property
    def is_pls(self) -> bool:
        """Whether a PLS estimator was asked for."""
        return self.estimator in ("pls", "plsc")
