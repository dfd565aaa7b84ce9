"""Paper tables written as Markdown, LaTeX (booktabs), Excel or Word files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.paper_tables import PaperTable
from acsi_sem.survey.files import write_atomically

FORMATS = ("md", "latex", "xlsx", "docx")
LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                 "^": r"\^{}", "−": "$-$", "←": r"$\leftarrow$",
                 "→": r"$\rightarrow$", "β": r"$\beta$", "χ²": r"$\chi^2$", "α": r"$\alpha$",
                 "ρA": r"$\rho_A$", "ρC": r"$\rho_C$", "Δ": r"$\Delta$", "<": r"$<$"}


SUFFIX_FORMATS = {".md": "md", ".tex": "latex", ".xlsx": "xlsx", ".docx": "docx"}


@dataclass(frozen=True)
class PaperFigure:
    """A figure for the Word document: its caption and a PNG image (bytes)."""

    caption: str
    png: bytes


def table_format(path: str | Path, file_format: str | None = None) -> str:
    """``file_format``, checked, or the format of the file's suffix (.md, .tex, .xlsx,
    .docx)."""
    if file_format is None:
        suffix = Path(path).suffix.lower()
        if suffix not in SUFFIX_FORMATS:
            raise AcsiSemError(f"{path}: cannot tell the table format from the suffix "
                               f"{suffix or '(none)'}; name one of {', '.join(FORMATS)}")
        return SUFFIX_FORMATS[suffix]
    if file_format not in FORMATS:
        raise AcsiSemError(f"unknown table format {file_format!r}; choose from "
                           f"{', '.join(FORMATS)}")
    return file_format


def write_tables(tables: list[PaperTable], path: str | Path, file_format: str | None = None,
                 *, figures: tuple[PaperFigure, ...] = ()) -> Path:
    """Write ``tables`` to ``path`` as ``file_format`` (one of :data:`FORMATS`; default:
    from the suffix), with ``figures`` after them in a Word document; the file appears only
    once complete.

    Raises:
        AcsiSemError: an unknown format, no table, figures for a format other than Word,
            or a folder that does not exist.
    """
    file_format = table_format(path, file_format)
    if not tables:
        raise AcsiSemError("no table to write")
    if figures and file_format != "docx":
        raise AcsiSemError("figures are placed only in Word documents (docx)")
    content = (_word(tables, figures) if file_format == "docx"
               else {"md": _markdown, "latex": _latex, "xlsx": _excel}[file_format](tables))
    path = Path(path)
    write_atomically(path, content)
    return path


def _markdown(tables: list[PaperTable]) -> str:
    parts = []
    for number, table in enumerate(tables, 1):
        header = "| " + " | ".join(table.frame.columns) + " |"
        rule = "|" + "|".join("---" for _ in table.frame.columns) + "|"
        rows = ["| " + " | ".join(map(str, row)) + " |"
                for row in table.frame.itertuples(index=False)]
        parts.append(f"**{table.caption_word} {number}**\n\n*{table.title}*\n\n" + "\n".join(
            [header, rule, *rows]) + f"\n\n*{table.note_word}* {table.note}\n")
    return "\n".join(parts)


def latex_text(text: str) -> str:
    """``text`` with LaTeX's special characters and the tables' symbols escaped."""
    for plain, escaped in LATEX_SPECIAL.items():
        text = text.replace(plain, escaped)
    return text


def _latex(tables: list[PaperTable]) -> str:
    parts = [r"% needs \usepackage{booktabs}; Chinese tables also \usepackage{xeCJK} (XeLaTeX)"]
    for table in tables:
        columns = "l" * 2 + "r" * (len(table.frame.columns) - 2)
        head = " & ".join(latex_text(str(c)) for c in table.frame.columns) + r" \\"
        rows = [" & ".join(latex_text(str(v)) for v in row) + r" \\"
                for row in table.frame.itertuples(index=False)]
        parts.append("\n".join([
            r"\begin{table}[htbp]", r"\centering", rf"\caption{{{latex_text(table.title)}}}",
            rf"\begin{{tabular}}{{{columns}}}", r"\toprule", head, r"\midrule", *rows,
            r"\bottomrule", r"\end{tabular}", r"\par\smallskip",
            rf"{{\footnotesize\textit{{{table.note_word}}} {latex_text(table.note)}}}",
            r"\end{table}"]))
    return "\n\n".join(parts) + "\n"


def _excel(tables: list[PaperTable]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for number, table in enumerate(tables, 1):
        sheet = book.create_sheet(f"Table {number} {table.kind}"[:31])
        sheet.append([f"{table.caption_word} {number}"])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet["A2"].font = Font(italic=True)
        sheet.append(list(table.frame.columns))
        for row in table.frame.itertuples(index=False):
            sheet.append(list(row))
        sheet.append([f"{table.note_word} {table.note}"])
    stream = BytesIO()
    book.save(stream)
    return stream.getvalue()


def _word(tables: list[PaperTable], figures: tuple[PaperFigure, ...]) -> bytes:
    from io import BytesIO

    try:
        import docx
    except ImportError as error:
        raise AcsiSemError("Word tables need python-docx (pip install python-docx)") from error
    document = docx.Document()
    for number, table in enumerate(tables, 1):
        document.add_paragraph().add_run(f"{table.caption_word} {number}").bold = True
        document.add_paragraph().add_run(table.title).italic = True
        grid = document.add_table(rows=1, cols=len(table.frame.columns))
        for cell, name in zip(grid.rows[0].cells, table.frame.columns, strict=True):
            cell.paragraphs[0].add_run(str(name)).bold = True
        for row in table.frame.itertuples(index=False):
            for cell, value in zip(grid.add_row().cells, row, strict=True):
                cell.text = str(value)
        _apa_rules(grid)
        note = document.add_paragraph()
        note.add_run(f"{table.note_word} ").italic = True
        note.add_run(table.note)
    for number, figure in enumerate(figures, 1):
        document.add_paragraph().add_run(f"Figure {number}").bold = True
        document.add_paragraph().add_run(figure.caption).italic = True
        document.add_picture(BytesIO(figure.png), width=docx.shared.Mm(160))
    stream = BytesIO()
    document.save(stream)
    return stream.getvalue()


def _apa_rules(grid) -> None:
    """APA's three horizontal rules: above the table, under the headings, under the
    table; no vertical lines."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def border(parent, edge: str) -> None:
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "8")  # eighths of a point: a 1 pt rule
        line.set(qn("w:color"), "000000")
        parent.append(line)

    table_borders = OxmlElement("w:tblBorders")
    for edge in ("top", "bottom"):
        border(table_borders, edge)
    properties = grid._tbl.tblPr
    look = properties.find(qn("w:tblLook"))  # the schema puts the borders before it
    if look is None:
        properties.append(table_borders)
    else:
        look.addprevious(table_borders)
    for cell in grid.rows[0].cells:
        cell_borders = OxmlElement("w:tcBorders")
        border(cell_borders, "bottom")
        cell._tc.get_or_add_tcPr().append(cell_borders)
