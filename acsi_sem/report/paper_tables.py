"""Tables for a paper, in APA 7 style, from a result's JSON document.

Built from the document (``result.to_dict()`` or a ``--json`` file), so that
``acsi-sem tables RESULT.json`` gives the same tables as ``result.to_table(...)`` without
refitting. Numbers have three decimals (indices one, as the ACSI reports them); values that
cannot exceed 1 in absolute value (p-values, standardized estimates, correlations,
reliabilities, AVE, CFI, TLI, RMSEA, SRMR) lose their leading zero, as APA asks; p below
.001 is written ``< .001``; stars mark the p-values of estimates (* p < .05, ** p < .01,
*** p < .001). When the model file declares Chinese labels (the CCSI), the constructs carry
them and titles, headings and notes are in Chinese, for a thesis written in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.diagram import significance_stars

KINDS = ("estimates", "fit", "measurement", "fornell_larcker", "htmt", "index", "mediation",
         "invariance")
LANGUAGES = ("en", "zh")
STYLES = ("apa",)

WORDS = {
    "en": {"table": "Table", "note": "Note.", "estimates": "Parameter Estimates",
           "fit": "Model Fit", "measurement": "Measurement Model",
           "fornell_larcker": "Fornell-Larcker Criterion",
           "htmt": "Heterotrait-Monotrait Ratio (HTMT)", "index": "0-100 Index",
           "mediation": "Mediation Analysis", "invariance": "Measurement Invariance",
           "Part": "Part", "Path": "Path", "Construct": "Construct", "Item": "Item",
           "Loading": "Loading", "Index": "Index", "Cause": "Cause", "Outcome": "Outcome",
           "Effect": "Effect", "Type": "Type", "Model": "Model",
           "Structural paths": "Structural paths", "Loadings": "Loadings",
           "Weights": "Weights", "estimator": "estimator",
           "stars": "* p < .05. ** p < .01. *** p < .001.",
           "estimates_note": "B = unstandardized estimate; β = standardized estimate; CI with "
                             "{interval}.",
           "bootstrap": "bootstrap {method} intervals ({replicates} replicates)",
           "wald": "Wald intervals",
           "fixed": "Estimates without SE are fixed for identification.",
           "fit_note": "CFI = comparative fit index; TLI = Tucker-Lewis index; RMSEA = root "
                       "mean square error of approximation; SRMR = standardized root mean "
                       "square residual.",
           "measurement_note": "Standardized loadings; α = Cronbach's alpha; ρA = "
                               "Dijkstra-Henseler's rho_A; ρC = composite reliability; AVE = "
                               "average variance extracted.",
           "fornell_larcker_note": "Diagonal: square root of the AVE; below it: correlations "
                                   "between constructs. Discriminant validity holds where "
                                   "the diagonal exceeds its row and column.",
           "htmt_note": "Values above .85 (strict) or .90 (lenient) question discriminant "
                        "validity (Henseler et al., 2015).",
           "index_note": "{weights}, rescaled to 0-100",
           "pls_weights": "Weighted mean of each construct's items (outer weights)",
           "cb_weights": "Weighted mean of each construct's items (factor-score weights)",
           "intervals": "; bootstrap intervals.",
           "mediation_note": "Effects with bootstrap intervals; types after Zhao, Lynch and "
                             "Chen (2010).",
           "invariance_note": "Each model adds equality constraints to the one above; Δ "
                              "against the model above (chi-square difference test)."},
    "zh": {"table": "表", "note": "注:", "estimates": "参数估计", "fit": "模型拟合",
           "measurement": "测量模型", "fornell_larcker": "Fornell-Larcker 判别效度",
           "htmt": "异质-单质比率 (HTMT)", "index": "0-100 指数", "mediation": "中介效应分析",
           "invariance": "测量不变性", "Part": "类别", "Path": "路径", "Construct": "潜变量",
           "Item": "题项", "Loading": "载荷", "Index": "指数", "Cause": "自变量",
           "Outcome": "因变量", "Effect": "效应", "Type": "类型", "Model": "模型",
           "Structural paths": "结构路径", "Loadings": "因子载荷", "Weights": "权重",
           "estimator": "估计方法",
           "stars": "* p < .05. ** p < .01. *** p < .001.",
           "estimates_note": "B = 非标准化估计值; β = 标准化估计值; 置信区间为{interval}。",
           "bootstrap": "自助法 {method} 区间 ({replicates} 次)", "wald": "Wald 区间",
           "fixed": "无标准误的估计值为识别而固定。",
           "fit_note": "CFI = 比较拟合指数; TLI = Tucker-Lewis 指数; RMSEA = 近似误差均方根; "
                       "SRMR = 标准化残差均方根。",
           "measurement_note": "标准化载荷; α = Cronbach's alpha; ρA = rho_A; ρC = 组合信度; "
                               "AVE = 平均方差抽取量。",
           "fornell_larcker_note": "对角线为 AVE 的平方根, 其下为潜变量间的相关系数。",
           "htmt_note": "HTMT 大于 .85 (严格) 或 .90 (宽松) 时判别效度存疑。",
           "index_note": "{weights}, 换算为 0-100",
           "pls_weights": "各潜变量题项的加权平均 (外部权重)",
           "cb_weights": "各潜变量题项的加权平均 (因子得分权重)",
           "intervals": "; 自助法区间。", "mediation_note": "类型依 Zhao, Lynch 和 Chen (2010)。",
           "invariance_note": "每个模型在上一模型基础上增加等同约束; Δ 为与上一模型之差。"},
}


@dataclass(frozen=True)
class PaperTable:
    """One table: its ``title`` (APA's italic title line), the cells as text (``frame``),
    the note under it, and the words of the table's language (``"Table"``, ``"Note."``)."""

    kind: str
    title: str
    frame: pd.DataFrame
    note: str
    language: str = "en"

    @property
    def caption_word(self) -> str:
        """``"Table"`` in the table's language."""
        return WORDS[self.language]["table"]

    @property
    def note_word(self) -> str:
        """``"Note."`` in the table's language."""
        return WORDS[self.language]["note"]


def apa_number(value: float | None, digits: int = 3, *, bounded: bool = False) -> str:
    """``value`` with ``digits`` decimals and a true minus sign; without the leading zero
    where ``bounded`` (the value cannot exceed 1 in absolute value); "" when missing."""
    if value is None or value != value:  # None or NaN
        return ""
    text = f"{value:.{digits}f}"
    if float(text) == 0:  # -0.0004 rounds to zero, which has no sign
        text = text.lstrip("-")
    if bounded and abs(float(text)) < 1:
        text = text.replace("0.", ".", 1)
    return text.replace("-", "−")


def apa_p(value: float | None) -> str:
    """A p-value as APA writes it: ``< .001``, else three decimals without the zero."""
    if value is None or value != value:
        return ""
    return "< .001" if value < 0.001 else apa_number(value, bounded=True)


def apa_interval(lower: float | None, upper: float | None, digits: int = 3, *,
                 bounded: bool = False) -> str:
    """``[lower, upper]`` in APA numbers, or "" when either end is missing."""
    if lower is None or upper is None:
        return ""
    return (f"[{apa_number(lower, digits, bounded=bounded)}, "
            f"{apa_number(upper, digits, bounded=bounded)}]")


def check_style(style: str) -> None:
    """Raise :class:`AcsiSemError` unless ``style`` is one of :data:`STYLES`."""
    if style not in STYLES:
        raise AcsiSemError(f"unknown table style {style!r}; choose from {', '.join(STYLES)}")


def table_language(document: dict) -> str:
    """``"zh"`` when the model declares Chinese labels, else ``"en"``."""
    labels = document.get("labels") or {}
    chinese = any("\u4e00" <= character <= "\u9fff" for text in labels.values()
                  for character in text)
    return "zh" if chinese else "en"


def paper_table(document: dict, kind: str, *, language: str | None = None) -> PaperTable:
    """The ``kind`` table (one of :data:`KINDS`) of a result's JSON document, in
    ``language`` (``"en"`` or ``"zh"``; default: Chinese where the model declares Chinese
    labels).

    Raises:
        AcsiSemError: an unknown kind or language, or a table the result has nothing for.
    """
    if kind not in KINDS:
        raise AcsiSemError(f"unknown table {kind!r}; choose from {', '.join(KINDS)}")
    language = language or table_language(document)
    if language not in LANGUAGES:
        raise AcsiSemError(f"unknown table language {language!r}; choose from "
                           f"{', '.join(LANGUAGES)}")
    words = WORDS[language]
    frame, note = BUILDERS[kind](document, words, _namer(document, language))
    title = (f"{words[kind]} ({document['title']}, {words['estimator']} "
             f"{document['estimator']}, N = {document['n_obs']})")
    return PaperTable(kind, title, frame, note, language)


def paper_frame(document: dict, kind: str, *, style: str = "apa",
                language: str | None = None) -> pd.DataFrame:
    """:func:`paper_table` as a DataFrame of text cells, with its title and note in
    ``.attrs["title"]`` and ``.attrs["note"]``.

    Raises:
        AcsiSemError: an unknown style, and as :func:`paper_table`.
    """
    check_style(style)
    table = paper_table(document, kind, language=language)
    frame = table.frame.copy()
    frame.attrs.update(title=table.title, note=table.note)
    return frame


def paper_tables(document: dict, kinds: tuple[str, ...] | None = None, *,
                 language: str | None = None) -> list[PaperTable]:
    """The tables of ``kinds`` (default: every table the result has), in ``language``."""
    if kinds is not None:
        return [paper_table(document, kind, language=language) for kind in kinds]
    tables = []
    for kind in KINDS:
        try:
            tables.append(paper_table(document, kind, language=language))
        except AcsiSemError:
            continue
    return tables


def _namer(document: dict, language: str):
    labels = (document.get("labels") or {}) if language == "zh" else {}
    return lambda name: labels.get(name, name)


def _estimates(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    rows, fixed = [], False
    for op, part in (("~", "Structural paths"), ("=~", "Loadings"), ("<~", "Weights")):
        for position, row in enumerate(r for r in document["parameters"] if r["op"] == op):
            is_fixed = row["z"] is None and not row["se"]
            fixed = fixed or is_fixed
            arrow = "←" if op == "~" else "→"
            rows.append({
                words["Part"]: "" if position else words[part],
                words["Path"]: f"{name(row['lhs'])} {arrow} {name(row['rhs'])}",
                "B": apa_number(row["est"]),
                "SE": "" if is_fixed else apa_number(row["se"]),
                "95% CI": "" if is_fixed else apa_interval(row["ci_lower"], row["ci_upper"]),
                "p": apa_p(row["pvalue"]),
                "β": apa_number(row["std_all"], bounded=True)
                + significance_stars(row["pvalue"])})
    if not rows:
        raise AcsiSemError("the result has no paths or loadings to tabulate")
    interval = _interval_words(document, words)
    note = " ".join([words["estimates_note"].format(interval=interval),
                     *([words["fixed"]] if fixed else []), words["stars"]])
    return pd.DataFrame(rows), note


def _interval_words(document: dict, words: dict) -> str:
    bootstrap = document.get("bootstrap")
    if not bootstrap:
        return words["wald"]
    method = "BCa" if bootstrap.get("interval") == "bca" else bootstrap.get("interval", "")
    return words["bootstrap"].format(method=method, replicates=bootstrap["used"])


def _fit(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    fit = document["fit"]
    if not fit or fit.get("chisq") is None:
        raise AcsiSemError("the result has no chi-square fit indices (a PLS fit)")
    row = {"χ²": apa_number(fit["chisq"]), "df": f"{fit['df']:g}", "p": apa_p(fit["pvalue"]),
           "CFI": apa_number(fit["cfi"], bounded=True),
           "TLI": apa_number(fit["tli"], bounded=True),
           "RMSEA [90% CI]": (f"{apa_number(fit['rmsea'], bounded=True)} "
                              + apa_interval(fit.get("rmsea_ci_lower"),
                                             fit.get("rmsea_ci_upper"), bounded=True)).strip(),
           "SRMR": apa_number(fit.get("srmr"), bounded=True)}
    if fit.get("chisq_scaled") is not None:
        row = {"χ² (scaled)": apa_number(fit["chisq_scaled"]), **row}
    return pd.DataFrame([row]), words["fit_note"]


def _quality(document: dict, key: str) -> list:
    quality = document.get("quality") or {}
    if not quality.get(key):
        raise AcsiSemError(f"the result has no {key.replace('_', '-')} table")
    return quality[key]


def _measurement(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    reliability = {row["latent"]: row for row in _quality(document, "reliability")}
    rows, seen = [], set()
    for loading in _quality(document, "loadings"):
        latent = loading["latent"]
        first = latent not in seen
        seen.add(latent)
        values = reliability.get(latent, {}) if first else {}
        rows.append({words["Construct"]: name(latent) if first else "",
                     words["Item"]: loading["indicator"],
                     words["Loading"]: apa_number(loading["loading"], bounded=True),
                     **{column: apa_number(values.get(key), bounded=True)
                        for column, key in (("α", "alpha"), ("ρA", "rho_a"), ("ρC", "rho_c"),
                                            ("AVE", "ave"))}})
    return pd.DataFrame(rows), words["measurement_note"]


def _lower_triangle(records: list, words: dict, name, *, diagonal: bool) -> pd.DataFrame:
    """The lower triangle (with or without the diagonal) of a construct-by-construct matrix
    written as JSON records ``{"index": row name, column: value, ...}``."""
    names = [record["index"] for record in records]
    rows = []
    for position, record in enumerate(records):
        last = position + 1 if diagonal else position
        rows.append({words["Construct"]: name(record["index"]),
                     **{name(column): (apa_number(record[column], bounded=True)
                                       if index < last else "")
                        for index, column in enumerate(names)}})
    return pd.DataFrame(rows)


def _fornell_larcker(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    frame = _lower_triangle(_quality(document, "fornell_larcker"), words, name, diagonal=True)
    return frame, words["fornell_larcker_note"]


def _htmt(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    frame = _lower_triangle(_quality(document, "htmt"), words, name, diagonal=False)
    return frame.iloc[1:, :-1].reset_index(drop=True), words["htmt_note"]


def _index(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    index = document.get("index")
    if not index:
        raise AcsiSemError("the result has no 0-100 index (declare the answer scale)")
    statistics = (document.get("bootstrap") or {}).get("statistics", {})
    rows = []
    for latent, value in index.items():
        row = {words["Construct"]: name(latent), words["Index"]: apa_number(value, 1)}
        interval = statistics.get(f"index: {latent}")
        if interval is not None:
            row["95% CI"] = apa_interval(interval["ci_lower"], interval["ci_upper"], 1)
        rows.append(row)
    weights = words["cb_weights" if "index_weights" in document else "pls_weights"]
    note = (words["index_note"].format(weights=weights)
            + (words["intervals"] if statistics else "."))
    return pd.DataFrame(rows), note


def _mediation(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    records = document.get("mediation")
    if not records:
        raise AcsiSemError("the result has no mediation table (fit with --mediation and a "
                           "bootstrap)")
    rows = [{words["Cause"]: name(row["cause"]), words["Outcome"]: name(row["outcome"]),
             words["Effect"]: row["type"],
             words["Path"]: " → ".join(name(part) for part in row["path"].split(" -> ")),
             "B": apa_number(row["estimate"]), "SE": apa_number(row["se"]),
             "95% CI": apa_interval(row["ci_lower"], row["ci_upper"]),
             words["Type"]: row["mediation"]} for row in records]
    return pd.DataFrame(rows), words["mediation_note"]


def _invariance(document: dict, words: dict, name) -> tuple[pd.DataFrame, str]:
    steps = document.get("invariance")
    if not steps:
        raise AcsiSemError("the result has no invariance steps (fit with --invariance)")
    rows = [{words["Model"]: step["model"], "χ²": apa_number(step["chisq"]),
             "df": f"{step['df']:g}", "CFI": apa_number(step["cfi"], bounded=True),
             "RMSEA": apa_number(step["rmsea"], bounded=True),
             "SRMR": apa_number(step["srmr"], bounded=True),
             "Δχ²": apa_number(step["chisq_diff"]),
             "Δdf": "" if step["df_diff"] is None else f"{step['df_diff']:g}",
             "p": apa_p(step["pvalue_diff"]),
             "ΔCFI": apa_number(step["delta_cfi"], bounded=True),
             "ΔRMSEA": apa_number(step["delta_rmsea"], bounded=True)} for step in steps]
    return pd.DataFrame(rows), words["invariance_note"]


BUILDERS = {"estimates": _estimates, "fit": _fit, "measurement": _measurement,
            "fornell_larcker": _fornell_larcker, "htmt": _htmt, "index": _index,
            "mediation": _mediation, "invariance": _invariance}
