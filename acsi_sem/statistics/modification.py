"""Modification indices: lavaan's ``modindices()`` for ML and MLR fits, with groups, FIML
and modelled means.

Each parameter the model leaves out (a cross-loading, a residual covariance, a regression
between constructs, a fixed intercept or latent mean) gets the score test of freeing it
alone (Sörbom 1989):

    MI = N g^2 / V,   EPC = g / V,   V = I_cc - I_cf I_ff^-1 I_fc

with ``g`` the unit score (gradient of the log-likelihood over N) of the candidate ``c`` at
the estimates and ``I`` the expected unit information of ML. Both are sums over blocks, a
block being a group's missing-data pattern (one pattern of complete data) weighted by its
share ``n / N`` of the respondents, with that block's answered items' ``Sigma``, ``mu``,
sample covariance ``S`` (divisor n) and mean residual ``r = ybar - mu``:

    g_a  = tr(Sigma^-1 (S + r r' - Sigma) Sigma^-1 dSigma/da) / 2 + dmu/da' Sigma^-1 r
    I_ab = tr(Sigma^-1 dSigma/da Sigma^-1 dSigma/db) / 2 + dmu/da' Sigma^-1 dmu/db

(lavaan's default ``information = "expected"``, whatever the fit's own information: under
MLR the indices are ML's; under FIML the patterns' expected information, lavaan's
``h1.information = "structured"``). With groups every candidate is one per group, and
parameters held equal across groups are not candidates (:mod:`.score_test` releases
those). Candidates whose ``V`` is zero up to rounding (they are not identified beside the
model's parameters, e.g. a path the reverse of one the model has) are left out, as lavaan
leaves them out. The standardized EPCs scale the EPC as lavaan's standardized solution
scales the parameter: ``sepc.lv`` by the latent variables' standard deviations,
``sepc.all`` by every variable's (residual variances for covariances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.groups import group_view
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.constrained import binding_basis, constrained_inverse, constraint_system
from acsi_sem.numerics.fiml import MissingPatterns

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
TOLERANCE = np.finfo(float).eps ** (1 / 3)  # lavaan's bound on V


@dataclass(frozen=True)
class Candidate:
    """A parameter the model leaves out: its row and its RAM cell (``A`` for ``=~`` and
    ``~``, ``S`` for ``~~``, ``m`` for ``~1``, whose ``col`` is unused)."""

    lhs: str
    op: str
    rhs: str
    matrix: str
    row: int
    col: int


@dataclass(frozen=True)
class Block:
    """One group's share of the score tests.

    Attributes:
        spec: the group's specification, free indices local to it.
        ram: its RAM form (means placed when the model has a mean structure).
        theta: (q_g,) its estimates; index: (q_g,) their positions in the (Q,) vector.
        patterns: its answers grouped by missing-data pattern (one pattern if complete).
        group: its label, or None for a single-group model.
    """

    spec: ModelSpec
    ram: RamModel
    theta: np.ndarray
    index: np.ndarray
    patterns: MissingPatterns
    group: str | None = None


def modification_indices(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                         sample_cov: np.ndarray, n_obs: int,
                         basis: np.ndarray | None = None) -> pd.DataFrame:
    """lavaan's ``modindices(fit, sort. = FALSE)`` columns (dots as underscores) of a
    single-group model of complete data without a mean structure.

    Args:
        spec: the fitted specification (fixed.x values filled in).
        ram: its RAM form; theta: (q,) the ML estimates.
        sample_cov: (p, p) sample covariance with divisor N; n_obs: N.
        basis: (q, q - r) the directions the model's binding constraints leave free
            (:func:`~acsi_sem.numerics.constrained.binding_basis`), or None: the candidate's
            variance then accounts for the parameters only along those directions.

    Returns:
        One row per identified candidate in lavaan's order (loadings, covariances,
        regressions).
    """
    # The saturated means: the residual r is zero and no parameter moves mu.
    patterns = _complete_patterns(n_obs, sample_cov, ram.implied_mean(theta))
    block = Block(spec, ram, theta, np.arange(len(theta)), patterns)
    return block_modification_indices([block], len(theta), basis)


def block_modification_indices(blocks: list[Block], n_free: int,
                               basis: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`modification_indices` over the blocks (groups) of a model with ``n_free``
    (Q) distinct free parameters; ``basis`` (Q, Q - r) as there. With groups, a ``group``
    column follows ``rhs``."""
    n_obs = sum(block.patterns.n_obs for block in blocks)
    candidates = [candidate_parameters(block.spec, block.ram) for block in blocks]
    score, information = candidate_score_and_information(blocks, candidates, n_free)
    variance = np.diag(candidate_variance(information, n_free, basis))
    frames, start = [], 0
    for block, chosen in zip(blocks, candidates, strict=True):
        cells = slice(start, start + len(chosen))
        frames.append(_block_frame(block, chosen, score[n_free:][cells], variance[cells],
                                   n_obs))
        start += len(chosen)
    frame = pd.concat(frames, ignore_index=True)
    return frame[[*COLUMNS[:3], "group", *COLUMNS[3:]]] if blocks[0].group else frame[COLUMNS]


def candidate_score_and_information(blocks: list[Block], candidates: list[list[Candidate]],
                                    n_free: int) -> tuple[np.ndarray, np.ndarray]:
    """The unit score (Q + K,) and expected unit information (Q + K, Q + K) of the Q free
    parameters then each block's candidates (K in all, block after block), at the
    estimates with the candidates at 0."""
    n_obs = sum(block.patterns.n_obs for block in blocks)
    size = n_free + sum(len(chosen) for chosen in candidates)
    score, information = np.zeros(size), np.zeros((size, size))
    offset = n_free
    for block, chosen in zip(blocks, candidates, strict=True):
        part_score, part_information = _block_terms(block, chosen, n_obs)
        index = np.concatenate([block.index, offset + np.arange(len(chosen))])
        np.add.at(score, index, part_score)
        information[np.ix_(index, index)] += part_information
        offset += len(chosen)
    return score, information


def candidate_variance(information: np.ndarray, n_free: int,
                       basis: np.ndarray | None = None) -> np.ndarray:
    """(K, K) ``I_cc - I_cf I_ff^-1 I_fc``: the candidates' information beyond what the Q
    free parameters (along ``basis`` under constraints) account for."""
    inverse = constrained_inverse(information[:n_free, :n_free], basis)
    cross = information[n_free:, :n_free]
    return information[n_free:, n_free:] - cross @ inverse @ cross.T


def _block_frame(block: Block, candidates: list[Candidate], score: np.ndarray,
                 variance: np.ndarray, n_obs: int) -> pd.DataFrame:
    """The rows of one block's identified candidates, from their scores and variances."""
    keep = variance >= TOLERANCE
    epc = score[keep] / variance[keep]
    chosen = [c for c, k in zip(candidates, keep, strict=True) if k]
    sepc_lv, sepc_all, sepc_nox = _standardized(block.spec, block.ram, block.theta, chosen,
                                                epc)
    return pd.DataFrame({"lhs": [c.lhs for c in chosen], "op": [c.op for c in chosen],
                         "rhs": [c.rhs for c in chosen], "group": block.group,
                         "mi": n_obs * score[keep] ** 2 / variance[keep], "epc": epc,
                         "sepc_lv": sepc_lv, "sepc_all": sepc_all, "sepc_nox": sepc_nox})


def expected_score_and_information(blocks: list[Block], n_free: int
                                   ) -> tuple[np.ndarray, np.ndarray]:
    """The unit score (Q,) and expected unit information (Q, Q) of the ``n_free`` (Q)
    parameters, summed over the blocks' missing-data patterns: lavaan's ``gradient.logl``
    and ``information.expected`` (under FIML with ``h1.information = "structured"``)."""
    return candidate_score_and_information(blocks, [[] for _ in blocks], n_free)


def _block_terms(block: Block, candidates: list[Candidate], n_obs: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The unit score (q_g + k,) and expected information (q_g + k, q_g + k) of the block's
    free parameters then its k candidates, each pattern weighted by its count over N."""
    ram, theta = block.ram, block.theta
    sigma, mu = ram.implied_covariance(theta), ram.implied_mean(theta)
    cand_sigma, cand_mu = _candidate_derivatives(ram, theta, candidates)
    d_sigma = np.concatenate([ram.sigma_derivatives(theta), cand_sigma])
    d_mu = np.concatenate([ram.mean_derivatives(theta), cand_mu])
    info_sigma, info_mu = _without_covariate_moments(block, d_sigma, d_mu)
    size = len(d_sigma)
    score, info = np.zeros(size), np.zeros((size, size))
    patterns = block.patterns
    for mask, count, mean, scatter in zip(patterns.answered, patterns.counts, patterns.means,
                                          patterns.scatter, strict=True):
        cells = np.ix_(mask, mask)
        inverse = np.linalg.inv(sigma[cells])
        residual = mean - mu[mask]
        weighted = inverse @ d_sigma[:, mask][:, :, mask]              # (q + k, pm, pm)
        moments = inverse @ (scatter + np.outer(residual, residual) - sigma[cells])
        score += count / n_obs * (0.5 * np.einsum("ij,aji->a", moments, weighted)
                                  + d_mu[:, mask] @ inverse @ residual)
        info_weighted = inverse @ info_sigma[:, mask][:, :, mask]
        info += count / n_obs * (0.5 * np.einsum("aij,bji->ab", info_weighted, info_weighted)
                                 + info_mu[:, mask] @ inverse @ info_mu[:, mask].T)
    return score, info


def _without_covariate_moments(block: Block, d_sigma: np.ndarray, d_mu: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray]:
    """The derivatives (q + k, p, p) and (q + k, p) with the fixed.x covariates' own
    moments (their covariances among themselves and their means) zeroed: lavaan's expected
    h1 information has no rows for them (lav_mvnorm's zero_x_idx), which matters for the
    candidates that move a covariate's moments (``ageyr ~ visual``, ``ageyr ~~ ageyr``)."""
    covariates = [i for i, name in enumerate(block.ram.variables[:block.ram.n_observed])
                  if name in block.spec.exogenous_covariates]
    if not covariates:
        return d_sigma, d_mu
    info_sigma, info_mu = d_sigma.copy(), d_mu.copy()
    rows, cols = np.ix_(covariates, covariates)
    info_sigma[:, rows, cols] = 0.0
    info_mu[:, covariates] = 0.0
    return info_sigma, info_mu


def result_modification_indices(result: FitResult) -> pd.DataFrame:
    """:func:`block_modification_indices` of a fitted ML or MLR result, in lavaan's row
    order (groups one after another).

    Raises:
        AcsiSemError: not an ML or MLR fit; or one that needs its data (groups, FIML,
            modelled means) but holds none, or has sampling weights there.
    """
    blocks, theta, basis = result_blocks(result, "modification indices")
    return block_modification_indices(blocks, len(theta), basis)


def result_blocks(result: FitResult, what: str
                  ) -> tuple[list[Block], np.ndarray, np.ndarray | None]:
    """A fitted ML or MLR result's blocks (one per group), its (Q,) free estimates and the
    (Q, Q - r) directions its binding constraints leave free (None without constraints),
    for the score tests named ``what`` in the errors.

    Raises:
        AcsiSemError: not an ML or MLR fit; or one that needs its data (groups, FIML,
            modelled means) but holds none, or has sampling weights there.
    """
    if result.estimator not in ("ML", "MLR"):
        raise AcsiSemError(
            f"{what} are available for ML and MLR fits (this fit: estimator "
            f"{result.estimator}); refit with estimator='ml'")
    theta = free_estimates(result)
    basis = _basis(result, theta)
    fiml = result.missing is not None and result.missing.get("method") == "fiml"
    if not (result.groups is not None or fiml or result.spec.has_modelled_means):
        return [_sample_block(result, theta)], theta, basis
    data = result.data
    if data is not None and data.weights is not None:
        raise AcsiSemError(f"{what} of a fit with sampling weights and groups, FIML or "
                           "modelled means are not available yet (a single-group complete-"
                           "data weighted fit has them); lavaan's modindices() has them")
    if data is None:
        raise AcsiSemError(f"{what} of a fit with groups, FIML or modelled means need the "
                           "fit's own data, which this result no longer holds (e.g. one "
                           "read back from JSON); refit with acsi_sem.fit")
    return _blocks(result, theta), theta, basis


def _sample_block(result: FitResult, theta: np.ndarray) -> Block:
    """The complete-data single-group block from the result's sample covariance alone
    (saturated means: the mean residual is zero and no parameter moves mu)."""
    spec = result.spec
    ram = build_ram(spec)
    theta = theta[: ram.n_free]
    patterns = _complete_patterns(result.n_obs, result.sample_cov.to_numpy(),
                                  ram.implied_mean(theta))
    return Block(spec, ram, theta, np.arange(len(theta)), patterns)


def free_estimates(result: FitResult) -> np.ndarray:
    """(Q,) the free estimates, from ``result.parameters`` (rows as in ``result.spec``)."""
    table = result.spec.table
    free = table["free"].to_numpy()
    keys = list(zip(table["lhs"], table["op"], table["rhs"], strict=True))
    parameters = result.parameters
    if result.groups is not None:
        labels = result.groups["labels"]
        keys = [(*key, labels[g - 1]) for key, g in zip(keys, table["group"], strict=True)]
        estimates = dict(zip(zip(parameters["lhs"], parameters["op"], parameters["rhs"],
                                 parameters["group"], strict=True), parameters["est"],
                             strict=True))
    else:
        estimates = dict(zip(zip(parameters["lhs"], parameters["op"], parameters["rhs"],
                                 strict=True), parameters["est"], strict=True))
    theta = np.zeros(int(free.max()))
    for key, index in zip(keys, free, strict=True):
        if index > 0:
            theta[index - 1] = estimates[key]
    return theta


def _basis(result: FitResult, theta: np.ndarray) -> np.ndarray | None:
    system = constraint_system(result.spec)
    return None if system is None else binding_basis(
        system, theta, result.constraints["binding"].to_numpy())


def _blocks(result: FitResult, theta: np.ndarray) -> list[Block]:
    """One block per group (one for a single group), its data from ``result.data``."""
    spec, data = result.spec, result.data
    items = data.frame.to_numpy(dtype=float)
    if result.groups is None:
        ram = build_ram(spec, means=spec.has_intercepts)
        return [Block(spec, ram, theta[: ram.n_free], np.arange(ram.n_free),
                      MissingPatterns.from_items(items))]
    blocks = []
    for g, label in enumerate(result.groups["labels"], start=1):
        view = group_view(spec, g, label)
        inside = data.groups.to_numpy() == label
        blocks.append(Block(view.spec, build_ram(view.spec, means=True),
                            theta[view.global_index], view.global_index,
                            MissingPatterns.from_items(items[inside]), label))
    return blocks


def _complete_patterns(n_obs: int, covariance: np.ndarray, means: np.ndarray
                       ) -> MissingPatterns:
    """Complete data as one pattern: every item answered by all ``n_obs``."""
    p = len(means)
    return MissingPatterns(np.ones((1, p), dtype=bool), np.array([n_obs]), (means,),
                           (covariance,), (np.arange(n_obs),))


def candidate_parameters(spec: ModelSpec, ram: RamModel) -> list[Candidate]:
    """Every parameter the model fixes or leaves out, in lavaan's order: lavaan frees the
    model's fixed parameters and adds those of its full model (lav_partable_full with
    fixed.x): loadings of the observed variables that are neither covariates nor regressed,
    covariances (observed pairs, latent pairs, variances included), regressions among the
    variables of the model's regressions (not of an indicator on a factor) and, when
    ``ram`` places the means, intercepts and latent means. Those not identified once freed
    (a marker loading, a regression equivalent to a covariance) are left out later by their
    zero variance.

    Unlike lavaan, the fixed.x covariates' own moments (their variances, covariances,
    regressions on each other and means) are not candidates: held at their sample values,
    their score is zero, and lavaan lists them with indices of 1e-30 (rounding)."""
    table = spec.table
    free = set(zip(*(table.loc[table["free"] > 0, column] for column in ("lhs", "op", "rhs")),
                   strict=True))
    free |= {(rhs, "~~", lhs) for lhs, op, rhs in free if op == "~~"}
    covariates = set(spec.exogenous_covariates)
    observed = [name for name in spec.observed if name not in covariates]
    latent = list(spec.latent)
    regressed = _regression_variables(table)
    indicators = {ov for block in spec.indicators.values() for ov in block}
    isolated = {name for name in observed if name not in indicators | set(regressed)}
    fixed = [row for row in zip(table["lhs"], table["op"], table["rhs"], strict=True)
             if row[1] in ("=~", "~", "~~", "~1") and row not in free]
    loadings = [(lv, "=~", ov) for lv in latent for ov in observed if ov not in regressed]
    covariances = [(names[j], "~~", names[i]) for names in (observed, latent)
                   for j in range(len(names)) for i in range(j, len(names))
                   if i == j or not {names[i], names[j]} & isolated]
    regressions = [(lhs, "~", rhs) for lhs in regressed for rhs in regressed
                   if lhs != rhs and not (lhs in indicators and rhs in latent)]
    means = ([(name, "~1", "") for name in [*observed, *latent]]
             if len(ram.m_rows) else [])
    rows = dict.fromkeys([*fixed, *loadings, *covariances, *regressions, *means])
    position = {name: i for i, name in enumerate(ram.variables)}
    return [candidate_row(row, position) for row in rows
            if row not in free and not (row[0] in covariates and row[2] in covariates | {""})]


def _regression_variables(table: pd.DataFrame) -> list[str]:
    """The variables of the model's regressions, outcomes first (lavaan's eqs.y, eqs.x)."""
    rows = table[table["op"] == "~"]
    return list(dict.fromkeys([*rows["lhs"], *rows["rhs"]]))


def candidate_row(row: tuple[str, str, str], position: dict[str, int]) -> Candidate:
    """The :class:`Candidate` of the parameter ``(lhs, op, rhs)``, its cells placed by
    ``position`` (each variable's index in the RAM matrices)."""
    lhs, op, rhs = row
    if op == "~1":
        return Candidate(lhs, op, rhs, "m", position[lhs], -1)
    if op == "=~":  # the indicator rhs depends on the factor lhs
        return Candidate(lhs, op, rhs, "A", position[rhs], position[lhs])
    return Candidate(lhs, op, rhs, "A" if op == "~" else "S", position[lhs], position[rhs])


def _candidate_derivatives(ram: RamModel, theta: np.ndarray, candidates: list[Candidate]
                           ) -> tuple[np.ndarray, np.ndarray]:
    """(k, p, p) dSigma/dc and (k, p) dmu/dc of each candidate cell at ``theta``."""
    p = ram.n_observed
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    c_matrix = b_matrix @ s_matrix @ b_matrix.T
    full_mean = ram.full_mean(theta)
    d_sigma = np.zeros((len(candidates), p, p))
    d_mu = np.zeros((len(candidates), p))
    for k, candidate in enumerate(candidates):
        i, j = candidate.row, candidate.col
        if candidate.matrix == "A":  # dC = B E_ij C + (B E_ij C)', d(B m) = B E_ij B m
            part = np.outer(b_matrix[:p, i], c_matrix[j, :p])
            d_mu[k] = b_matrix[:p, i] * full_mean[j]
        elif candidate.matrix == "S":  # dC = B (E_ij + E_ji) B'
            part = np.outer(b_matrix[:p, i], b_matrix[:p, j])
        else:  # d(B m) = B e_i
            part = np.zeros((p, p))
            d_mu[k] = b_matrix[:p, i]
        d_sigma[k] = part + part.T
    return d_sigma, d_mu


def _standardized(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                  candidates: list[Candidate], epc: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EPCs scaled as lavaan's std.lv, std.all and std.nox scale the parameter; std.nox
    leaves a path's fixed.x predictor in its own units (lavaan 0.6.14's
    lav_standardize_all_nox)."""
    _, s_matrix = ram.matrices(theta)
    total_sd = np.sqrt(np.clip(np.diag(ram.full_covariance(theta)), 0, None))
    residual_sd = np.sqrt(np.clip(np.diag(s_matrix), 0, None))
    is_latent = np.array([name in spec.latent for name in ram.variables])
    is_covariate = np.array([name in spec.exogenous_covariates for name in ram.variables])
    lv_sd = np.where(is_latent, total_sd, 1.0)
    sepc_lv, sepc_all, sepc_nox = np.empty(len(epc)), np.empty(len(epc)), np.empty(len(epc))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (candidate, value) in enumerate(zip(candidates, epc, strict=True)):
            i, j = candidate.row, candidate.col
            if candidate.matrix == "A":  # effect of j on i
                sepc_lv[k] = value * lv_sd[j] / lv_sd[i]
                sepc_all[k] = value * total_sd[j] / total_sd[i]
                sepc_nox[k] = sepc_all[k] / total_sd[j] if is_covariate[j] else sepc_all[k]
                continue
            if candidate.matrix == "S":
                scale = residual_sd[i] * residual_sd[j]
                sepc_lv[k] = value / scale if is_latent[i] else value
                sepc_all[k] = value / scale if scale > 0 else np.nan
            else:  # a mean: by the variable's total standard deviation
                sepc_lv[k] = value / lv_sd[i]
                sepc_all[k] = value / total_sd[i]
            sepc_nox[k] = sepc_all[k]
    return sepc_lv, sepc_all, sepc_nox
