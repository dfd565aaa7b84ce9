"""Model files: the shipped catalogue and user files in the same syntax.

A model file is lavaan syntax whose leading comment block may carry ``key: value`` lines:

    # title: ACSI - American Customer Satisfaction Index
    # source: Fornell et al. (1996) ...
    # data: acsi_simulated.csv      (the default data, next to the file or shipped)
    # study: acsi_study.toml        (the default design of ``acsi-sem study``)
    # scale: 1-10                   (the answer scale, checked on the data)
    # labels: Satisfaction = 顾客满意度, Loyalty = 顾客忠诚   (names shown in diagrams)
    # kind: growth                  (lavaan's growth() defaults; see MODEL_KINDS)
    # layout: Quality 0 0 above, Value 1 1 below, ...   (diagram positions; see LAYOUTS)

A ``# layout:`` entry places each construct at ``column row`` (columns left to right, rows
top to bottom; fractions allowed) with an optional side for its indicators (``above``,
``below``, ``left``, ``right``); or it names a layout: ``auto`` (aspect near the page's) or
``causal`` (one column per causal step).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from acsi_sem.errors import ModelNotFoundError, ModelSyntaxError
from acsi_sem.model.spec import ModelSpec, parse_model

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_HEADER_KEY = re.compile(
    r"^#\s*(title|source|data|study|scale|labels|kind|layout)\s*:\s*(.*)$", re.IGNORECASE)
MODEL_KINDS = ("sem", "cfa", "growth")
LAYOUTS = ("auto", "causal")
INDICATOR_SIDES = ("above", "below", "left", "right")


class Position(NamedTuple):
    """Where a construct sits in a declared diagram layout.

    Attributes:
        column: grid column, left to right (any number; only the order and grouping count,
            the spacing follows from what is drawn).
        row: grid row, top to bottom.
        side: where its indicators go (one of INDICATOR_SIDES), or None to let the layout
            choose.
    """

    column: float
    row: float
    side: str | None = None
_SCALE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|to|\.\.)\s*(-?\d+(?:\.\d+)?)\s*$")


def read_scale(text: str) -> tuple[float, float] | None:
    """``"1-10"``, ``"1 to 10"`` or ``"0..10"`` as ``(lowest, highest)``; ``None`` if the
    text is not a scale."""
    match = _SCALE.match(text)
    return (float(match.group(1)), float(match.group(2))) if match else None


def _shipped_dir(name: str) -> Path:
    """Shipped folder ``name``: inside an installed wheel, else beside the package."""
    installed = _PACKAGE_DIR / "_shipped" / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


def models_dir() -> Path:
    """Folder of the shipped model files."""
    return _shipped_dir("models")


def data_dir() -> Path:
    """Folder of the shipped data sets."""
    return _shipped_dir("data")


@dataclass(frozen=True)
class ModelFile:
    """A model file's text and header.

    Attributes:
        name: the shipped name (``acsi``) or the file's stem.
        path: where the text came from.
        text: the lavaan syntax, header included.
    """

    name: str
    path: Path
    text: str

    @cached_property
    def header(self) -> dict[str, str]:
        """``key: value`` pairs of the leading comment block (continuation lines joined)."""
        header: dict[str, str] = {}
        key = None
        for line in self.text.splitlines():
            if not line.startswith("#"):
                break
            match = _HEADER_KEY.match(line)
            if match:
                key = match.group(1).lower()
                header[key] = match.group(2).strip()
            elif key and line.startswith("#   ") and line[1:].strip():
                header[key] += " " + line[1:].strip()
            else:
                key = None
        return header

    @property
    def title(self) -> str:
        """The model's title, or its name."""
        return self.header.get("title", self.name)

    @property
    def scale(self) -> tuple[float, float] | None:
        """The declared answer scale ``(lowest, highest)``, if any."""
        text = self.header.get("scale")
        if not text:
            return None
        scale = read_scale(text)
        if scale is None:
            raise ModelSyntaxError(f"cannot read the scale {text!r}; write e.g. '# scale: 1-10'",
                                   source=str(self.path))
        return scale

    @property
    def kind(self) -> str:
        """The declared kind of model (``# kind:``; default ``"sem"``)."""
        kind = self.header.get("kind", "sem").lower()
        if kind not in MODEL_KINDS:
            raise ModelSyntaxError(f"unknown kind {kind!r} in the header; choose one of "
                                   f"{', '.join(MODEL_KINDS)}", source=str(self.path))
        return kind

    @property
    def labels(self) -> dict[str, str]:
        """Display names from ``# labels: Name = shown, ...`` (diagrams and reports)."""
        pairs = (item.partition("=") for item in self.header.get("labels", "").split(","))
        return {name.strip(): shown.strip() for name, sep, shown in pairs
                if sep and name.strip() and shown.strip()}

    @property
    def layout(self) -> str | dict[str, Position] | None:
        """The declared diagram layout: a name from LAYOUTS, ``{construct: Position}``, or
        None when the header declares none.

        Raises:
            ModelSyntaxError: an entry is not ``Name column row [side]``, names no construct
                of the model, repeats one, or leaves a construct without a place.
        """
        text = self.header.get("layout", "").strip()
        if not text:
            return None
        if text.lower() in LAYOUTS:
            return text.lower()
        entries = [self._layout_entry(entry) for entry in text.split(",") if entry.strip()]
        positions = dict(entries)
        repeated = sorted({name for name, _ in entries if [n for n, _ in entries].count(name) > 1})
        if repeated:
            raise ModelSyntaxError(f"the layout places {', '.join(repeated)} more than once",
                                   source=str(self.path), line=self._header_line("layout"))
        places = [(place.column, place.row) for _, place in entries]
        shared = len(set(places)) < len(places)
        if shared or not all(math.isfinite(value) for place in places for value in place):
            problem = ("puts two constructs at the same place" if shared
                       else "has a place that is not a finite number")
            raise ModelSyntaxError(f"the layout {problem}; give each construct its own "
                                   "'column row'", source=str(self.path),
                                   line=self._header_line("layout"))
        structural = [*self.spec.latent, *(name for pair in self.spec.structural_paths
                                            for name in pair if name not in self.spec.latent)]
        unknown = sorted(set(positions) - set(structural))
        missing = [name for name in dict.fromkeys(structural) if name not in positions]
        if unknown or missing:
            problem = (f"names {', '.join(unknown)}, not constructs of the model" if unknown
                       else f"does not place {', '.join(missing)}")
            raise ModelSyntaxError(f"the layout {problem}; give every construct a 'column "
                                   "row' place", source=str(self.path),
                                   line=self._header_line("layout"))
        return positions

    def _layout_entry(self, entry: str) -> tuple[str, Position]:
        words = entry.split()
        side = words.pop().lower() if words and words[-1].lower() in INDICATOR_SIDES else None
        try:
            name, column, row = words
            return name, Position(float(column), float(row), side)
        except ValueError:
            pass
        if len(words) == 1 and words[0].lower() in LAYOUTS:
            message = "a named layout stands alone"
        else:
            message = (f"cannot read the layout entry {entry.strip()!r}; write 'Name column "
                       f"row [side]' with a side among {', '.join(INDICATOR_SIDES)}, or one "
                       f"of the named layouts {', '.join(LAYOUTS)}")
        raise ModelSyntaxError(message, source=str(self.path),
                               line=self._header_line("layout"))

    def _header_line(self, key: str) -> int | None:
        """The 1-based line of the header entry ``key``."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            match = _HEADER_KEY.match(line)
            if match and match.group(1).lower() == key:
                return number
        return None

    @property
    def default_data(self) -> Path | None:
        """The file named by ``# data:``, beside the model file or among the shipped data."""
        return self._beside_or_shipped(self.header.get("data"))

    @property
    def default_study(self) -> Path | None:
        """The study design named by ``# study:``, beside the model file or shipped."""
        return self._beside_or_shipped(self.header.get("study"))

    def _beside_or_shipped(self, name: str | None) -> Path | None:
        if not name:
            return None
        beside = self.path.parent / name
        return beside if beside.is_file() else data_dir() / name

    @cached_property
    def spec(self) -> ModelSpec:
        """The parsed specification."""
        return parse_model(self.text, source=str(self.path))


def shipped_models() -> list[ModelFile]:
    """Every model file shipped with the package, by name."""
    return [ModelFile(path.stem, path, path.read_text(encoding="utf-8"))
            for path in sorted(models_dir().glob("*.lav"))]


def load_model_file(name_or_path: str | Path) -> ModelFile:
    """A shipped model by name (``"acsi"``) or a model file by path.

    Raises:
        ModelNotFoundError: listing the shipped names when neither exists.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return ModelFile(candidate.stem, candidate, candidate.read_text(encoding="utf-8"))
    shipped = models_dir() / f"{name_or_path}.lav"
    if shipped.is_file():
        return ModelFile(str(name_or_path), shipped, shipped.read_text(encoding="utf-8"))
    names = ", ".join(model.name for model in shipped_models())
    raise ModelNotFoundError(f"no shipped model named {str(name_or_path)!r} and no model file "
                             f"at that path; shipped models are: {names}")
