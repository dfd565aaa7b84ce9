"""Interaction terms in PLS path modelling.

Each term ``A:B`` of a regression becomes a construct of its own, measured by items built
from A's and B's, as seminr's ``interaction_term()`` builds them:

* ``two_stage`` (the default; Chin, Marcolin & Newsted 2003; Hair et al. 2022, ch. 7): a
  first PLS run of the model without its interaction paths gives construct scores, and the
  term is measured by one item, the product of A's and B's standardized scores;
* ``product_indicator`` (Henseler & Chin 2010): every product of one of A's standardized
  items with one of B's (A's item varying slowest);
* ``orthogonal`` (Little, Bovaird & Widaman 2006): those products, each replaced by its
  residual from an OLS regression (with intercept) on A's and B's raw items.

The items are built from the data in hand, so a bootstrap builds them anew in every
resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls_higher_order import first_stage_scores
from acsi_sem.model.spec import ModelSpec, number_free_parameters
from acsi_sem.numerics.pls import PlsLayout, pls_layout


@dataclass(frozen=True)
class ModeratedModel:
    """A model with interaction terms, ready for PLS.

    Attributes:
        spec: the model with a construct for each term, measured by its built items.
        main_effects: the user's constructs and their blocks without the interaction paths
            (the two-stage approach's first stage).
        layout: the PLS layout of ``main_effects``; its indicators are the data's items.
        method: one of :data:`acsi_sem.estimators.options.MODERATION_METHODS`.
    """

    spec: ModelSpec
    main_effects: PlsLayout
    method: str

    @property
    def raw_indicators(self) -> tuple[str, ...]:
        """The survey items, in the order :meth:`items` expects them."""
        return self.main_effects.indicators

    @property
    def terms(self) -> tuple[str, ...]:
        """The interaction constructs' names (``"A:B"``)."""
        return tuple(dict.fromkeys(i.term for i in self.spec.interactions))

    @property
    def note(self) -> str:
        """What the result's reader must know about the estimation."""
        return (f"interaction terms ({', '.join(self.terms)}) measured by the "
                f"{self.method.replace('_', '-')} approach; they have no 0-100 index")

    def items(self, raw: np.ndarray, options: FitOptions) -> np.ndarray:
        """(n, p + q): the raw items (n, p) in :attr:`raw_indicators` order, then each
        term's built items."""
        scores = (first_stage_scores(raw, self.main_effects, options)
                  if self.method == "two_stage" else None)
        position = {name: j for j, name in enumerate(self.main_effects.latent)}
        built = [raw]
        # A term in two regressions is one construct: build its items once.
        unique = {i.term: i for i in self.spec.interactions}
        for interaction in unique.values():
            first, second = position[interaction.independent], position[interaction.moderator]
            if scores is not None:
                built.append((scores[:, first] * scores[:, second])[:, None])
                continue
            products = _item_products(raw, self.main_effects.blocks[first],
                                      self.main_effects.blocks[second])
            if self.method == "orthogonal":
                block = np.concatenate([self.main_effects.blocks[first],
                                        self.main_effects.blocks[second]])
                products = _residuals(products, raw[:, block])
            built.append(products)
        return np.column_stack(built)


def moderated_model(spec: ModelSpec, options: FitOptions) -> ModeratedModel:
    """The PLS form of a model with interaction terms (``spec.interactions`` not empty),
    built by ``options.moderation``.

    Raises:
        AcsiSemError: consistent PLS (not available with interaction terms).
    """
    if options.estimator != "pls":
        raise AcsiSemError("interaction terms are estimated by PLS (estimator 'pls'); "
                           "consistent PLS of a moderated model is not available")
    method = options.moderation
    table = spec.table
    is_term = table["rhs"].isin([i.term for i in spec.interactions]) & (table["op"] == "~")
    main_effects = spec.with_table(table[~is_term].reset_index(drop=True))
    layout = pls_layout(main_effects)
    items = {i.term: _item_names(i.term, spec.indicators[i.independent],
                                 spec.indicators[i.moderator], method)
             for i in spec.interactions}
    return ModeratedModel(_with_term_constructs(spec, items), layout, method)


def _item_names(term: str, first: list[str], second: list[str], method: str) -> list[str]:
    if method == "two_stage":
        return [term.replace(":", "*")]  # one item: the product of the two scores
    return [f"{a}:{b}" for a in first for b in second]


def _with_term_constructs(spec: ModelSpec, items: dict[str, list[str]]) -> ModelSpec:
    """``spec`` with a measurement row ``term =~ item`` for each built item, after the
    user's measurement rows."""
    table = spec.table.drop(columns=["id"])
    rows = pd.DataFrame([{"lhs": term, "op": "=~", "rhs": item, "user": 0, "free": 1,
                          "ustart": np.nan, "exo": 0, "label": "", "start": np.nan, "line": 0}
                         for term, names in items.items() for item in names])
    last = int(np.flatnonzero(table["op"].isin(["=~", "<~"]).to_numpy()).max()) + 1
    table = pd.concat([table.iloc[:last], rows, table.iloc[last:]], ignore_index=True)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["free"] = number_free_parameters(table)
    built = tuple(name for names in items.values() for name in names)
    return ModelSpec(table=table, latent=(*spec.latent, *items), observed=(*spec.observed,
                                                                          *built),
                     source=spec.source)


def _standardized(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)


def _item_products(raw: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(n, a * b) products of standardized items, the first block's item varying slowest."""
    a, b = _standardized(raw[:, first]), _standardized(raw[:, second])
    return (a[:, :, None] * b[:, None, :]).reshape(len(raw), -1)


def _residuals(products: np.ndarray, predictors: np.ndarray) -> np.ndarray:
    """Residuals of each product column on the predictors (n, k) and an intercept."""
    design = np.column_stack([np.ones(len(predictors)), predictors])
    coefficients, *_ = np.linalg.lstsq(design, products, rcond=None)
    return products - design @ coefficients
