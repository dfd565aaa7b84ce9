"""The result of a fit: data, not behaviour. Reports read it; nothing here estimates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from acsi_sem.json_output import json_text
from acsi_sem.model.spec import ModelSpec
from acsi_sem.resample import BootstrapResult
from acsi_sem.statistics.quality import MeasurementQuality

if TYPE_CHECKING:
    from acsi_sem.estimators.bollen_stine import BollenStine
    from acsi_sem.statistics.score_test import ScoreTest
    from acsi_sem.survey.prepare import PreparedData


class Deferred:
    """A field value an estimator computes only when first read (and then once).

    An estimator passes ``Deferred(function, *args)`` for a table that is costly and often
    never looked at (effects with delta-method SEs, the quality tables, ...);
    :class:`FitResult` calls it on first access and keeps the value, so every read returns
    the same object the eager code would have built. The function and its arguments are
    the estimator's: the result only stores and calls them.
    """

    __slots__ = ("_args", "_done", "_function", "_lock", "_value")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._function, self._args = function, args
        self._value, self._done = None, False
        self._lock = threading.Lock()  # threads reading a field first at once compute it once

    def value(self) -> Any:
        """The function's value, computed on the first call (shared by copies of the
        result that hold this object)."""
        with self._lock:
            if not self._done:
                self._value, self._done = self._function(*self._args), True
                self._function, self._args = None, ()  # drop the inputs once used
        return self._value


_PENDING = "_deferred"


@dataclass(frozen=True)
class FitResult:
    """Estimates, fit and diagnostics of one model fitted to one data set.

    Attributes:
        spec: the model specification (parameter table without estimates).
        model_name: the model's name (shipped name or file stem).
        title: the model's title from its file header.
        estimator: e.g. ``"ML"``.
        data_source: the data file, or ``<DataFrame>``.
        n_obs: respondents used in estimation.
        n_total: respondents in the data before listwise deletion.
        parameters: one row per parameter, lavaan's columns ``lhs, op, rhs, label, est, se,
            z, pvalue, ci_lower, ci_upper, std_lv, std_all``.
        fit_indices: ``npar, chisq, df, pvalue, ..., gfi, agfi`` as lavaan's fitMeasures.
        r2: R-squared of every endogenous variable (indicators and latent variables).
        effects: direct, indirect and total effects with delta-method standard errors.
        converged: whether the optimiser reached a point with zero gradient.
        warnings: improper solutions, non-convergence, missing standard errors.
        notes: remarks that are not problems (listwise deletion, fallbacks).
        implied_cov: (p, p) model-implied covariance of the observed variables.
        sample_cov: (p, p) sample covariance (divisor N).
        vcov: (q, q) covariance matrix of the free parameters, if it could be computed.
        outer_weights: PLS only: ``latent, indicator, weight`` (standardized) and
            ``unstandardized`` (item metric, summing to 1 per block).
        scores: PLS only: (n, L) standardized construct scores.
        index: 0-100 index of each construct (with a declared answer scale: PLS, or ML/MLR
            from factor-score weights).
        index_by_group: indices per group (rows) with each group's size ``n``.
        index_weights: CB-SEM's item weights of the index (latent, indicator, weight; each
            construct's sum to 1); PLS's are in ``outer_weights``.
        quality: measurement quality tables and flags.
        bootstrap: the bootstrap draws and intervals, if a bootstrap was run.
        missing: how missing answers were handled: ``method`` (listwise or fiml),
            ``missing_per_item``, ``complete_cases`` and ``patterns`` of the rows used.
        groups: multi-group CB-SEM only: the grouping ``column``, the group ``labels`` in
            order, ``n_obs`` per group and the classes held ``equal``. ``parameters`` and
            ``effects`` then have a ``group`` column, and ``r2``, ``implied_cov`` and
            ``sample_cov`` a first index level ``group``.
        sampling_weights: the sampling weights used: ``column``, ``n``, ``sum``, ``min``,
            ``max`` and Kish's ``effective_n``; None when every respondent counts once.
        model_fit: PLS only: SRMR, d_ULS and d_G (rows) of the ``saturated`` and the
            ``estimated`` model (columns); see :mod:`acsi_sem.statistics.pls_fit`.
        constraints: CB-SEM with ``==``/``<``/``>`` constraints: ``lhs, op, rhs``, both
            sides' values at the estimates and whether each ``binding``; see
            :mod:`acsi_sem.numerics.constrained`.
        score_test: lavaan's ``lavTestScore()``: the score tests of releasing the equality
            constraints (shared labels, ``group_equal``, ``==``), all at once (``total``) and
            one at a time (``univariate``); ML/MLR fits of complete data without a mean
            structure of their own, or with groups, and without inequalities; see
            :mod:`acsi_sem.statistics.score_test`.
        bollen_stine: the Bollen-Stine bootstrap of the chi-square (its draws and p-value,
            also ``fit_indices["bollen_stine_pvalue"]``), when asked for.
        data: the checked data the fit used (CB-SEM from answers, not from a big file's
            moments), for statistics computed afterwards from the answers themselves
            (modification indices with groups, FIML or modelled means).

    Any field may be given as a :class:`Deferred`: it is computed on first access and
    cached, and reads the same as if it had been given as a value (pickles and copies hold
    the values). Checks whose findings are warnings are never deferred: ``warnings`` is
    complete when the fit returns.
    """

    spec: ModelSpec
    model_name: str
    title: str
    estimator: str
    data_source: str
    n_obs: int
    n_total: int
    parameters: pd.DataFrame
    fit_indices: pd.Series
    r2: pd.Series
    effects: pd.DataFrame
    converged: bool
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    implied_cov: pd.DataFrame
    sample_cov: pd.DataFrame
    vcov: pd.DataFrame | None = field(default=None, repr=False)
    outer_weights: pd.DataFrame | None = field(default=None, repr=False)
    scores: pd.DataFrame | None = field(default=None, repr=False)
    index: pd.Series | None = None
    index_by_group: pd.DataFrame | None = field(default=None, repr=False)
    index_weights: pd.DataFrame | None = field(default=None, repr=False)
    quality: MeasurementQuality | None = field(default=None, repr=False)
    bootstrap: BootstrapResult | None = field(default=None, repr=False)
    missing: dict | None = field(default=None, repr=False)
    groups: dict | None = field(default=None, repr=False)
    sampling_weights: dict | None = field(default=None, repr=False)
    model_fit: pd.DataFrame | None = field(default=None, repr=False)
    constraints: pd.DataFrame | None = field(default=None, repr=False)
    score_test: ScoreTest | None = field(default=None, repr=False)
    bollen_stine: BollenStine | None = field(default=None, repr=False)
    data: PreparedData | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Deferred values wait outside the instance dict, so that the first read falls
        # through to __getattr__, which computes and stores them: later reads are plain.
        pending = {name: value for name, value in self.__dict__.items()
                   if isinstance(value, Deferred)}
        for name in pending:
            del self.__dict__[name]
        if pending:
            self.__dict__[_PENDING] = pending

    def __getattr__(self, name: str) -> Any:
        pending = self.__dict__.get(_PENDING, {})
        deferred = pending.get(name)
        if deferred is None:
            if name in self.__dict__:  # computed by another thread meanwhile
                return self.__dict__[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = deferred.value()
        object.__setattr__(self, name, value)  # frozen: set once, as the eager value was
        pending.pop(name, None)  # another thread may have got here first
        return value

    def __getstate__(self) -> dict:
        # A pickle or copy holds values, not the estimator's functions.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def improper(self) -> bool:
        """Whether any check found an improper solution."""
        return any(w.startswith("improper solution") for w in self.warnings)

    def modification_indices(self, minimum: float = 0.0, *, sort: bool = True
                             ) -> pd.DataFrame:
        """lavaan's ``modindices()``: the score test (``mi``, chi-square with 1 df) and the
        expected parameter change (``epc``, ``sepc_lv``, ``sepc_all``, ``sepc_nox``) of each
        loading, covariance or regression between constructs the model leaves out.

        Args:
            minimum: keep the rows with ``mi`` at least this (lavaan's ``minimum.value``).
            sort: largest ``mi`` first (lavaan's ``sort. = TRUE``); else lavaan's row order.

        Raises:
            AcsiSemError: not an ML or MLR fit.
        """
        from acsi_sem.statistics.modification import result_modification_indices

        table = result_modification_indices(self)
        table = table[table["mi"] >= minimum]
        if sort:
            table = table.sort_values("mi", ascending=False, kind="stable")
        return table.reset_index(drop=True)

    def added_parameters_test(self, add: str) -> ScoreTest:
        """lavaan's ``lavTestScore(fit, add = ..., epc = TRUE)``: the score tests of adding
        the parameters written in ``add`` (lavaan syntax, e.g. ``"visual =~ x9; x7 ~~ x8"``;
        in every group), all at once (``total``) and each alone (``univariate``, with its
        EPC), and every parameter's expected change when all are added (``epc``); see
        :mod:`acsi_sem.statistics.score_added`.

        Raises:
            ModelSyntaxError: ``add`` is not lavaan syntax or names an unknown variable.
            AcsiSemError: not an ML or MLR fit, or a parameter the model already has free.
        """
        from acsi_sem.statistics.score_added import added_parameters_test

        return added_parameters_test(self, add)

    def standardized_solution(self, kind: str = "std_all") -> pd.DataFrame:
        """lavaan's ``standardizedSolution()``: each row's standardized value (``est_std``)
        with its delta-method ``se``, ``z``, ``pvalue`` and 95% interval, from the fit's
        covariance of the estimates (robust under MLR; the bootstrap's with bootstrap=N,
        as lavaan 0.6 computes it). ``kind``: ``"std_all"`` or ``"std_lv"``.

        Raises:
            AcsiSemError: an unknown ``kind``, a PLS or WLSMV fit, or no covariance of the
                estimates.
        """
        from acsi_sem.statistics.standardized_se import standardized_solution

        return standardized_solution(self, kind)

    def mediation(self) -> pd.DataFrame:
        """Every specific indirect effect, each cause-outcome pair's total indirect, direct
        and total effect, with the bootstrap's intervals and Zhao, Lynch and Chen's (2010)
        type (complementary, competitive, indirect-only, direct-only, no effect); see
        :mod:`acsi_sem.statistics.mediation`. Needs a fit with ``bootstrap=N``."""
        from acsi_sem.statistics.mediation import mediation_table

        return mediation_table(self)

    def moderation(self) -> pd.DataFrame:
        """Each interaction term's effect (the path of the product of the standardized
        constructs) with its f², and the simple slopes of the independent construct at the
        moderator's mean and one SD either side, with the bootstrap's intervals when the fit
        has one; see :mod:`acsi_sem.statistics.moderation`."""
        from acsi_sem.statistics.moderation import moderation_table

        return moderation_table(self)

    def plot_simple_slopes(self, term: str | None = None):
        """The simple-slopes plot of an interaction term (default: the first) as a
        matplotlib Figure: the outcome against the independent construct (both in SD
        units) at the moderator's mean and one SD either side."""
        from acsi_sem.report.plots import simple_slopes_figure

        return simple_slopes_figure(self, term)

    def to_table(self, kind: str = "estimates", *, style: str = "apa",
                 language: str | None = None) -> pd.DataFrame:
        """A table for a paper as text cells, APA 7 style (three decimals, no leading zero
        where a value cannot exceed 1, ``< .001``, stars); its title and note are in
        ``.attrs["title"]`` and ``.attrs["note"]``.

        Args:
            kind: one of ``estimates``, ``fit``, ``measurement``, ``fornell_larcker``,
                ``htmt``, ``index``, ``mediation`` (with the table in the document; see
                :meth:`write_tables`), ``invariance``.
            style: ``"apa"``, the only style so far.
            language: ``"en"`` or ``"zh"``; default Chinese when the model file declares
                Chinese labels (the CCSI).

        Raises:
            AcsiSemError: an unknown kind, style or language, or a table the fit lacks.
        """
        from acsi_sem.report.paper_tables import paper_frame

        return paper_frame(self.to_dict(), kind, style=style, language=language)

    def write_tables(self, path: str | Path, *, file_format: str | None = None,
                     kinds: tuple[str, ...] | None = None, language: str | None = None,
                     diagram: bool = True, mediation: bool = False) -> Path:
        """Write the paper's tables (default: every one the fit has) to ``path`` as
        Markdown, LaTeX (booktabs), Excel or Word, the format from ``file_format`` or the
        suffix (.md, .tex, .xlsx, .docx); a Word document also gets the path diagram
        (300 dpi PNG, 160 mm wide) unless ``diagram=False``. ``mediation=True`` adds the
        mediation table (needs a bootstrap). The file appears only once complete.
        """
        from acsi_sem.report.paper_tables import paper_tables
        from acsi_sem.report.table_files import table_format, write_tables

        file_format = table_format(path, file_format)
        document = self.to_dict()
        if mediation:
            from acsi_sem.report.json_document import table_records

            document["mediation"] = table_records(self.mediation())
        tables = paper_tables(document, kinds, language=language)
        figures = (self.paper_figures() if diagram and file_format == "docx"
                   else ())
        return write_tables(tables, path, file_format, figures=figures)

    def paper_figures(self) -> tuple:
        """The figures for a Word document of the paper's tables: the path diagram
        (:meth:`plot`) as a 300 dpi PNG with its caption, as a tuple of ``PaperFigure``."""
        from io import BytesIO

        import matplotlib.pyplot as plt

        from acsi_sem.report.table_files import PaperFigure

        figure = self.plot()
        image = BytesIO()
        figure.savefig(image, format="png", dpi=300, bbox_inches="tight")
        plt.close(figure)
        caption = f"Path diagram ({self.title}): standardized estimates"
        return (PaperFigure(caption, image.getvalue()),)

    def summary(self):
        """A lavaan-style text summary; ``print(result.summary())``."""
        from acsi_sem.report.summary import Summary

        return Summary(self)

    def to_dict(self) -> dict:
        """The JSON document of the command line's ``--json`` as a Python dict."""
        from acsi_sem.report.json_document import result_document

        return result_document(self)

    def to_json(self, path: str | Path | None = None) -> str:
        """The JSON document as text; also written to ``path`` if given."""
        text = json_text(self.to_dict())
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def plot(self, *, indicators: bool = True, labels: dict[str, str] | None = None,
             title: str | None = None, group: str | None = None,
             layout: str | dict | None = None, style: str = "default",
             width: str | float | None = None):
        """The path diagram as a matplotlib Figure (standardized estimates, stars, R²).

        ``indicators=False`` draws the constructs only; ``labels`` maps construct names to
        the names shown (default: the model file's ``# labels:``); ``group`` picks the group
        of a multi-group fit (default: the first); ``layout`` is ``"auto"``, ``"causal"`` or
        ``{construct: Position}`` (default: the model file's ``# layout:``, else auto);
        ``style="journal"`` draws black and white, serif, without fills; ``width="page"``
        (175 mm), ``"column"`` (85 mm) or millimetres sizes it for print. Save it with
        ``result.plot().savefig("model.svg")`` (or .png, .pdf).
        """
        from acsi_sem.report.diagram import draw_diagram

        return draw_diagram(self, indicators=indicators, labels=labels, title=title,
                            group=group, layout=layout, style=style, width=width)

    def _repr_html_(self) -> str:
        from acsi_sem.report.summary import summary_html

        return summary_html(self)


# A field's default stays a class attribute, which would answer for a deferred value before
# __getattr__ is asked; __init__ keeps its own copy of the defaults.
for _field in fields(FitResult):
    if _field.name in vars(FitResult):
        delattr(FitResult, _field.name)
del _field


def replace_result(result: FitResult, **changes: Any) -> FitResult:
    """:func:`dataclasses.replace` that leaves the fields not yet computed deferred (the
    dataclasses function reads, and so computes, every field)."""
    values = {f.name: result.__dict__[f.name] for f in fields(result)
              if f.name in result.__dict__}
    values.update(result.__dict__.get(_PENDING, {}))
    values.update(changes)
    return FitResult(**values)
