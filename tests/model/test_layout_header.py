"""The ``# layout:`` header of a model file: positions, sides, named layouts, and clear
errors naming the file and line."""

from __future__ import annotations

import pytest

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.modelfile import LAYOUTS, Position, load_model_file, models_dir

MODEL = """# title: a small model
# layout: {layout}
#
F1 =~ a1 + a2 + a3
F2 =~ b1 + b2 + b3
F3 =~ c1 + c2 + c3
F2 ~ F1
F3 ~ F1 + F2
"""


def model_file(tmp_path, layout: str):
    path = tmp_path / "small.lav"
    path.write_text(MODEL.format(layout=layout), encoding="utf-8")
    return load_model_file(path)


def test_positions_and_sides_are_read(tmp_path) -> None:
    layout = model_file(tmp_path, "F1 0 0 left, F2 1 1.5, F3 2 0 Below").layout
    assert layout == {"F1": Position(0.0, 0.0, "left"), "F2": Position(1.0, 1.5, None),
                      "F3": Position(2.0, 0.0, "below")}


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_named_layout_stands_for_itself(tmp_path, name) -> None:
    assert model_file(tmp_path, name.upper()).layout == name


def test_a_file_without_a_layout_declares_none(tmp_path) -> None:
    path = tmp_path / "plain.lav"
    path.write_text("F1 =~ a1 + a2 + a3\n", encoding="utf-8")
    assert load_model_file(path).layout is None


@pytest.mark.parametrize(("layout", "message"), [
    ("F1 0 0, F2 1 1, F4 2 0", "names F4, not constructs of the model"),
    ("F1 0 0, F2 1 1", "does not place F3"),
    ("F1 0 0, F2 1 1, F3 2 0, F1 3 3", "places F1 more than once"),
    ("F1 0 zero, F2 1 1, F3 2 0", "cannot read the layout entry 'F1 0 zero'"),
    ("F1 0 0 sideways, F2 1 1, F3 2 0", "cannot read the layout entry 'F1 0 0 sideways'"),
    ("auto, F1 0 0", "a named layout stands alone"),
    ("F1 0 0, F2 0 0, F3 2 0", "puts two constructs at the same place"),
    ("F1 0 nan, F2 1 1, F3 2 0", "has a place that is not a finite number"),
])
def test_a_bad_layout_names_the_file_and_line(tmp_path, layout, message) -> None:
    with pytest.raises(ModelSyntaxError, match=message) as error:
        _ = model_file(tmp_path, layout).layout
    assert error.value.line == 2
    assert error.value.source.endswith("small.lav")


@pytest.mark.parametrize("name", ["acsi", "ecsi", "ccsi", "ccsi6"])
def test_every_shipped_model_declares_a_complete_layout(name) -> None:
    model = load_model_file(name)
    layout = model.layout
    assert isinstance(layout, dict)
    assert set(layout) == set(model.spec.latent)
    assert all(place.side is not None for place in layout.values())
    assert len({(place.column, place.row) for place in layout.values()}) == len(layout)
    assert (models_dir() / f"{name}.lav").is_file()
