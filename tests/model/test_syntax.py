"""The lavaan-syntax parser: every supported construct and errors with line and column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.spec import parse_model
from acsi_sem.model.syntax import parse_statements


def rows(text: str) -> list[tuple]:
    return [(s.lhs, s.op, s.rhs, s.fixed, s.free_forced, s.label, s.start)
            for s in parse_statements(text)]


def test_operators_modifiers_and_comments() -> None:
    text = """
    # a comment line
    f =~ x1 + 0.8*x2 + NA*x3 + a*x4 ! lavaan's other comment
    y ~ b*f + start(0.3)*x5; y ~ 1
    x1 ~~ label("c")*x2
    ind := a*b
    """
    assert rows(text) == [
        ("f", "=~", "x1", None, False, "", None),
        ("f", "=~", "x2", 0.8, False, "", None),
        ("f", "=~", "x3", None, True, "", None),
        ("f", "=~", "x4", None, False, "a", None),
        ("y", "~", "f", None, False, "b", None),
        ("y", "~", "x5", None, False, "", 0.3),
        ("y", "~1", "", None, False, "", None),
        ("x1", "~~", "x2", None, False, "c", None),
        ("ind", ":=", "a*b", None, False, "", None),
    ]


def test_statement_continues_after_trailing_plus_and_leading_plus() -> None:
    text = "f =~ x1 +\n  x2\n  + x3\ng =~ x4 + x5 + x6"
    assert [r[2] for r in rows(text) if r[0] == "f"] == ["x1", "x2", "x3"]


def test_negative_fixed_values_and_several_left_names() -> None:
    assert rows("y ~ -0.5*x")[0][3] == -0.5
    assert [r[0] for r in rows("y1 + y2 ~ x")] == ["y1", "y2"]


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("f =~ x1 + x2\ny ~ f +\n", 2, 7, "ends with '+'"),
    ("f =~ x1 + x2\ny = f", 2, 3, "unexpected character '='"),
    ("f =~ x1 + x2\ny f", 2, 1, "no operator"),
    ("f =~ x1 + x2\ny ~ f $ x", 2, 7, "unexpected character"),
    ("f =~ x1 + + x2", 1, 11, "missing around '+'"),
    ("f =~ 2 x1", 1, 6, "expected '*'"),
    ("f =~ x1 + x2\nf =~ x1", 2, 6, "specified twice"),
    ("f =~ x1 + x2\nx1 == x2", 2, 1, "x1, x2, which no parameter is labelled"),
    ("f =~ x1 + a*x2\na <= 2", 2, 3, "'<=' constraints are not supported"),
    ("f =~ x1 + a*x2\na ==", 2, 3, "nothing on the right of '=='"),
    ("f =~ x1 + a*x2\n1 == 2", 2, 1, "names no parameter"),
    ("f =~ x1 + a*x2\nf =~ a == 2", 2, 3, "'=~' and '=='"),
    ("f =~ x1 + a*x2\nd := a * q", 2, 1, "which no parameter is labelled"),
    ("f =~ x1 + a*x2\nd := __import__('os')", 2, 6, "may use only labels"),
    ("f =~ x1 + f2*x2\nf2 =~ x3", 1, 11, "also a variable name"),
    ("", None, None, "empty"),
])
def test_errors_name_line_and_column(text: str, line: int | None, column: int | None,
                                     words: str) -> None:
    with pytest.raises(ModelSyntaxError) as caught:
        parse_model(text, source="my.lav")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert words in str(error)
    assert str(error).startswith("my.lav")


NAME = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME, min_size=2, max_size=6, unique=True),
       st.sampled_from([" ", "  ", "\t"]), st.floats(-5, 5, allow_nan=False))
def test_any_measurement_model_round_trips(names: list[str], space: str, value: float) -> None:
    latent, *indicators = ["lv_" + names[0], *names[1:]]
    terms = [f"{value!r}*{indicators[0]}", *indicators[1:]]
    text = f"{latent}{space}=~{space}" + f"{space}+{space}".join(terms)
    parsed = parse_statements(text)
    assert [s.rhs for s in parsed] == indicators
    assert parsed[0].fixed == pytest.approx(value)
    assert all(s.lhs == latent and s.op == "=~" for s in parsed)


def test_constraints_keep_both_sides_and_their_line() -> None:
    spec = parse_model("f =~ x1 + a*x2 + b*x3\na ==\n  b\nb + 2*a < 3\nd := a*b\nd > 0.1")
    assert [(c.lhs, c.op, c.rhs, c.line) for c in spec.constraints] == [
        ("a", "==", "b", 2), ("b+2*a", "<", "3", 4), ("d", ">", "0.1", 6)]
    # The constraints are not parameters: the table holds only the model's rows.
    assert not spec.table["op"].isin(["==", "<", ">"]).any()


def test_group_value_vectors_hold_one_entry_per_group() -> None:
    spec = parse_model('f =~ x1 + c(a1, a2)*x2 + c(1, NA)*x3 + c("p", 0.5)*x4')
    values = {key[2]: [(v.fixed, v.free_forced, v.label) for v in entries]
              for key, (entries, _) in spec.group_values.items()}
    assert values == {"x2": [(None, False, "a1"), (None, False, "a2")],
                      "x3": [(1.0, False, ""), (None, True, "")],
                      "x4": [(None, False, "p"), (0.5, False, "")]}
    with pytest.raises(ModelSyntaxError, match="each entry is a number, NA or a label"):
        parse_model("f =~ x1 + c(a + b, 2)*x2")
