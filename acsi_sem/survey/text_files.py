"""How a text survey file is written: its encoding, field separator and decimal mark.

Excel exports vary by locale: "Unicode text" is UTF-16 with a byte-order mark, Chinese
Windows writes GBK, and German, French or Chinese settings write ``7,5`` with semicolons
between the fields. :func:`text_format` reads the first part of the file and tells which.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 1 << 20  # enough lines to judge a file without reading all of it
SAMPLE_LINES = 50
# Byte-order marks, longest first (UTF-32's starts with UTF-16's).
BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                    (codecs.BOM_UTF16_BE, "utf-16"))
# Without a mark: UTF-8 if the bytes are valid UTF-8, else GB18030 (which reads GBK), else
# Windows-1252 (western European Excel), which accepts nearly any byte.
FALLBACK_ENCODINGS = ("utf-8", "gb18030", "cp1252")
# GBK writes a Chinese character as two bytes above 0x80; a lone such byte between ASCII
# bytes is a western accented letter (the "ü" of "Müller" in Windows-1252), which GB18030
# would also decode, as a wrong Chinese character.
LONE_HIGH_BYTE = re.compile(rb"(?<![\x80-\xff])[\x80-\xff](?![\x80-\xff])")
COMMA_DECIMAL = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
POINT_DECIMAL = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")


@dataclass(frozen=True)
class TextFormat:
    """The encoding, field separator and decimal mark of a text file.

    Attributes:
        encoding: a Python codec name.
        separator: the field separator.
        decimal: ``"."`` or ``","``.
    """

    encoding: str
    separator: str
    decimal: str

    def read_options(self) -> dict[str, str]:
        """Keyword arguments for :func:`pandas.read_csv`."""
        return {"encoding": self.encoding, "sep": self.separator, "decimal": self.decimal}


def text_format(path: Path, separator: str | None = None) -> TextFormat:
    """Detect the format of the text file at ``path``; ``separator`` fixes the separator
    (a .tsv file's tab) instead of guessing it."""
    with path.open("rb") as stream:
        raw = stream.read(SAMPLE_BYTES)
    encoding = file_encoding(raw)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw, final=False)
    lines = text.splitlines()[:SAMPLE_LINES]
    separator = separator or _separator("\n".join(lines))
    return TextFormat(encoding, separator, _decimal(lines, separator))


def file_encoding(raw: bytes) -> str:
    """The codec of a file that starts with the bytes ``raw``: its byte-order mark, or the
    first of :data:`FALLBACK_ENCODINGS` that decodes them."""
    for mark, name in BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            return name
    for name in FALLBACK_ENCODINGS:
        if name == "gb18030" and LONE_HIGH_BYTE.search(raw[:-1]):  # the cut may split one
            continue
        try:
            # Not final: the sample may end inside a character.
            codecs.getincrementaldecoder(name)().decode(raw, final=False)
        except UnicodeDecodeError:
            continue
        return name
    return FALLBACK_ENCODINGS[-1]


def _separator(sample: str) -> str:
    """Comma, semicolon, tab or bar; a file with one column has none and reads with commas."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _decimal(lines: list[str], separator: str) -> str:
    """``","`` where fields hold decimal commas (``7,5``) and none a decimal point; a comma
    can only be a decimal mark when it does not separate the fields."""
    if separator == ",":
        return "."
    fields = [field for row in csv.reader(lines[1:], delimiter=separator) for field in row]
    commas = any(COMMA_DECIMAL.match(field) for field in fields)
    points = any(POINT_DECIMAL.match(field) for field in fields)
    return "," if commas and not points else "."
