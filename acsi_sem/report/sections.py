"""An extra section of the HTML report: a heading, a paragraph, tables and figures.

The loyalty instruments and the prediction analyses build these; :func:`acsi_sem.report.html.
write_report` renders them after the model's own sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ReportSection:
    """One section of the report.

    Attributes:
        key: a stable identifier (e.g. ``nps``, ``kano``, ``prediction``) for anchors and
            file names.
        title: the heading.
        text: one paragraph on what the section shows and how to read it.
        tables: named DataFrames, in display order.
        figures: named matplotlib figures, in display order.
    """

    key: str
    title: str
    text: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)


