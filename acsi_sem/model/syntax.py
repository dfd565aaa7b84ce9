"""Parser for lavaan model syntax.

Turns model text into a list of :class:`Statement` rows (one per parameter the user wrote),
each remembering the line and column it came from. :func:`acsi_sem.model.spec.parse_model` hands
them to :func:`~acsi_sem.model.spec.build_spec`, which adds lavaan's default parameters.

Supported: ``=~`` (reflective measurement), ``<~`` (formative/composite block, PLS mode B),
``~`` (regression), ``~~`` (variance and covariance),
``~ 1`` (intercept), ``:=`` (defined parameter), constraints ``==``, ``<`` and ``>`` between
expressions of labels (``a1 == a2``, ``b1 + b2 == 1``, ``v1 > 0``), interaction terms
``A:B`` among a regression's predictors (two constructs, estimated by PLS), modifiers
``1*x`` (fixed), ``NA*x`` (free), ``a*x`` (label), ``start(0.5)*x``, ``label("a")*x``,
``c(a1, a2)*x`` and ``c(1, NA)*x`` (one entry per group),
comments with ``#`` or ``!``, several statements on a line separated by ``;`` and
statements continued on the next line after a trailing operator or ``+``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from acsi_sem.errors import ModelSyntaxError

OPERATORS = ("=~", "<~", "~~", "~", ":=")
CONSTRAINT_OPERATORS = ("==", "<", ">")
_UNSUPPORTED = {"|": "thresholds ('|')", "~*~": "scaling factors", "<=": "'<=' constraints",
                ">=": "'>=' constraints"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?::[A-Za-z_][A-Za-z0-9_.]*)*)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<op>~\*~|=~|<~|~~|:=|==|<=|>=|[~*+\-()/^,<>|])
""", re.VERBOSE)
_CONTINUES = ("+", "*", "=~", "<~", "~~", "~", ":=", "==", "<", ">", ",", "(", "-", "/", "^")
_FUNCTIONS = {"exp", "log", "sqrt", "abs"}


@dataclass(frozen=True)
class Token:
    """One lexical token with its 1-based position in the source."""

    kind: str
    text: str
    line: int
    column: int


@dataclass(frozen=True)
class Statement:
    """One parameter as the user wrote it.

    ``fixed`` holds a fixed value, ``free_forced`` marks ``NA*`` (free a parameter lavaan would
    otherwise fix), ``label`` names it for equality constraints and ``:=`` expressions. For
    ``op == ":="`` the ``rhs`` is the expression text.
    """

    lhs: str
    op: str
    rhs: str
    fixed: float | None = None
    free_forced: bool = False
    label: str = ""
    start: float | None = None
    line: int = 0
    column: int = 0
    group_values: tuple[GroupValue, ...] = ()


@dataclass(frozen=True)
class GroupValue:
    """One group's entry of a ``c(...)`` modifier: a fixed value, ``NA`` (free) or a label
    (lavaan's ``c(a1, a2)*x``, ``c(1, NA)*x``, in the groups' order)."""

    fixed: float | None = None
    free_forced: bool = False
    label: str = ""


@dataclass(frozen=True)
class _Segment:
    """A piece of one source line, after comments are removed."""

    text: str
    line: int
    column: int


def parse_statements(text: str, *, source: str = "<model>") -> list[Statement]:
    """Parse model text into user statements, one per parameter, in source order."""
    statements: list[Statement] = []
    for tokens in _logical_statements(text, source):
        statements.extend(_parse_statement(tokens, source))
    if not statements:
        raise ModelSyntaxError("the model is empty: no '=~', '~' or '~~' statement found",
                               source=source)
    return statements


def _strip_comment(line: str) -> str:
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "#!":
            return line[:index]
    return line


def _segments(text: str) -> list[_Segment]:
    segments = []
    for line_number, raw in enumerate(text.splitlines(), start=1):
        column = 1
        for piece in _strip_comment(raw).split(";"):
            if piece.strip():
                offset = len(piece) - len(piece.lstrip())
                segments.append(_Segment(piece.strip(), line_number, column + offset))
            column += len(piece) + 1
    return segments


def _tokenize(segment: _Segment, source: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(segment.text):
        match = _TOKEN.match(segment.text, position)
        if match is None:
            raise ModelSyntaxError(f"unexpected character {segment.text[position]!r}",
                                   source=source, line=segment.line,
                                   column=segment.column + position)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup or "", match.group(), segment.line,
                                segment.column + position))
        position = match.end()
    return tokens


def _logical_statements(text: str, source: str) -> list[list[Token]]:
    """Group tokens into statements, joining lines that continue the one before."""
    statements: list[list[Token]] = []
    for segment in _segments(text):
        tokens = _tokenize(segment, source)
        continues_previous = tokens and tokens[0].text in ("+", "*")
        previous_open = statements and statements[-1][-1].text in _CONTINUES
        if statements and (continues_previous or previous_open):
            statements[-1].extend(tokens)
        else:
            statements.append(tokens)
    return statements


def _parse_statement(tokens: list[Token], source: str) -> list[Statement]:
    for token in tokens:
        if token.text in _UNSUPPORTED:
            hint = ("; write '<' or '>' (lavaan's inequality operators)"
                    if token.text in ("<=", ">=") else "")
            raise ModelSyntaxError(f"{_UNSUPPORTED[token.text]} are not supported{hint}",
                                   source=source, line=token.line, column=token.column)
    comparison = next((i for i, t in enumerate(tokens) if t.text in CONSTRAINT_OPERATORS), None)
    if comparison is not None:
        return [_parse_constraint(tokens, comparison, source)]
    position = next((i for i, t in enumerate(tokens) if t.text in OPERATORS), None)
    if position is None:
        first = tokens[0]
        raise ModelSyntaxError(f"no operator in {_join(tokens)!r}; expected one of "
                               "'=~', '~', '~~' or ':='", source=source, line=first.line,
                               column=first.column)
    operator = tokens[position]
    if operator.text == ":=":
        return [_parse_definition(tokens[:position], operator, tokens[position + 1:], source)]
    _check_interactions(tokens, position, source)
    left = _parse_left(tokens[:position], operator, source)
    terms = _split_terms(tokens[position + 1:], operator, source)
    return [_parse_term(lhs, operator, term, source) for lhs in left for term in terms]


def _check_interactions(tokens: list[Token], operator: int, source: str) -> None:
    """An interaction ``A:B`` of two names may only be a predictor of a regression."""
    for position, token in enumerate(tokens):
        parts = token.text.split(":") if token.kind == "name" else []
        if len(parts) < 2:
            continue
        where = {"source": source, "line": token.line, "column": token.column}
        if position < operator or tokens[operator].text != "~":
            raise ModelSyntaxError(f"the interaction term {token.text} may appear only among "
                                   "the predictors of a regression (Y ~ A + B + A:B)", **where)
        if len(parts) > 2:
            raise ModelSyntaxError(f"{token.text} joins {len(parts)} variables; only two-way "
                                   "interactions (A:B) are supported", **where)
        if parts[0] == parts[1]:
            raise ModelSyntaxError(f"{token.text} is an interaction of {parts[0]} with itself; "
                                   "an interaction joins two different constructs", **where)


def _join(tokens: list[Token]) -> str:
    return " ".join(token.text for token in tokens)


def _parse_left(tokens: list[Token], operator: Token, source: str) -> list[str]:
    names = [t for t in tokens if t.text != "+"]
    if not names:
        raise ModelSyntaxError(f"nothing on the left of '{operator.text}'", source=source,
                               line=operator.line, column=operator.column)
    for token in names:
        if token.kind != "name":
            raise ModelSyntaxError(f"expected a variable name on the left of "
                                   f"'{operator.text}', found {token.text!r}", source=source,
                                   line=token.line, column=token.column)
    return [t.text for t in names]


def _split_terms(tokens: list[Token], operator: Token, source: str) -> list[list[Token]]:
    if not tokens:
        raise ModelSyntaxError(f"nothing on the right of '{operator.text}'", source=source,
                               line=operator.line, column=operator.column)
    terms: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if token.text == "+" and depth == 0:
            if not terms[-1]:
                raise ModelSyntaxError("a term is missing around '+'", source=source,
                                       line=token.line, column=token.column)
            terms.append([])
        else:
            terms[-1].append(token)
    if not terms[-1]:
        last = tokens[-1]
        raise ModelSyntaxError("the statement ends with '+'", source=source, line=last.line,
                               column=last.column)
    return terms


def _parse_term(lhs: str, operator: Token, term: list[Token], source: str) -> Statement:
    *modifier_tokens, variable = term
    first = term[0]
    is_intercept = variable.kind == "number" and variable.text == "1"
    if operator.text == "~" and is_intercept:
        statement = Statement(lhs, "~1", "", line=first.line, column=first.column)
        return _modified(statement, modifier_tokens, "1", source)
    if variable.kind != "name":
        raise ModelSyntaxError(f"expected a variable name, found {variable.text!r}",
                               source=source, line=variable.line, column=variable.column)
    statement = Statement(lhs, operator.text, variable.text, line=first.line,
                          column=first.column)
    return _modified(statement, modifier_tokens, variable.text, source)


def _modified(statement: Statement, modifier_tokens: list[Token], target: str,
              source: str) -> Statement:
    """``statement`` with the modifiers written before its variable (or the ``1`` of an
    intercept: ``0*1`` fixes it, ``a*1`` labels it)."""
    if not modifier_tokens:
        return statement
    if modifier_tokens[-1].text != "*":
        bad = modifier_tokens[-1]
        raise ModelSyntaxError(f"expected '*' between modifier and {target!r}",
                               source=source, line=bad.line, column=bad.column)
    return _apply_modifiers(statement, modifier_tokens[:-1], source)


def _apply_modifiers(statement: Statement, tokens: list[Token], source: str) -> Statement:
    """Read ``value*``, ``NA*``, ``label*``, ``start(v)*`` and ``label("a")*`` modifiers."""
    fields = {"fixed": statement.fixed, "free_forced": statement.free_forced,
              "label": statement.label, "start": statement.start,
              "group_values": statement.group_values}
    for modifier in _split_on(tokens, "*"):
        _read_modifier(modifier, fields, source)
    return Statement(statement.lhs, statement.op, statement.rhs, line=statement.line,
                     column=statement.column, **fields)  # type: ignore[arg-type]


def _split_on(tokens: list[Token], separator: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for token in tokens:
        if token.text == separator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _read_modifier(tokens: list[Token], fields: dict, source: str) -> None:
    if not tokens:
        raise ModelSyntaxError("empty modifier before '*'", source=source)
    first, texts = tokens[0], [t.text for t in tokens]
    number = _as_number(texts)
    if number is not None:
        fields["fixed"] = number
    elif texts == ["NA"]:
        fields["free_forced"] = True
    elif len(tokens) == 1 and first.kind == "name":
        fields["label"] = first.text
    elif len(tokens) >= 3 and texts[0] == "c" and texts[1] == "(" and texts[-1] == ")":
        fields["group_values"] = _group_values(tokens[2:-1], source)
    elif len(tokens) >= 4 and texts[0] in ("start", "label") and texts[1] == "(" \
            and texts[-1] == ")":
        argument = texts[2:-1]
        if texts[0] == "start" and _as_number(argument) is not None:
            fields["start"] = _as_number(argument)
        elif texts[0] == "label" and len(argument) == 1 and tokens[2].kind == "string":
            fields["label"] = argument[0][1:-1]
        else:
            raise ModelSyntaxError(f"cannot read {''.join(texts)!r}", source=source,
                                   line=first.line, column=first.column)
    else:
        raise ModelSyntaxError(f"cannot read modifier {''.join(texts)!r}; expected a number, "
                               "NA, a label, start(value) or label(\"name\")", source=source,
                               line=first.line, column=first.column)


def _group_values(tokens: list[Token], source: str) -> tuple[GroupValue, ...]:
    """The entries of ``c(...)``: numbers, ``NA`` and labels, separated by commas."""
    values = []
    for entry in _split_on(tokens, ","):
        texts = [t.text for t in entry]
        number = _as_number(texts)
        if number is not None:
            values.append(GroupValue(fixed=number))
        elif texts == ["NA"]:
            values.append(GroupValue(free_forced=True))
        elif len(entry) == 1 and entry[0].kind in ("name", "string"):
            values.append(GroupValue(label=entry[0].text.strip("\"'")))
        else:
            where = entry[0] if entry else tokens[0] if tokens else None
            raise ModelSyntaxError(f"cannot read {''.join(texts)!r} in c(...); each entry is "
                                   "a number, NA or a label, one per group", source=source,
                                   line=where.line if where else None,
                                   column=where.column if where else None)
    return tuple(values)


def _as_number(texts: list[str]) -> float | None:
    joined = "".join(texts)
    try:
        return float(joined)
    except ValueError:
        return None


def _parse_definition(left: list[Token], operator: Token, right: list[Token],
                      source: str) -> Statement:
    if len(left) != 1 or left[0].kind != "name":
        raise ModelSyntaxError("a defined parameter needs one name on the left of ':='",
                               source=source, line=operator.line, column=operator.column)
    if not right:
        raise ModelSyntaxError("nothing on the right of ':='", source=source,
                               line=operator.line, column=operator.column)
    expression = "".join(t.text for t in right)
    check_expression(expression, source=source, line=right[0].line, column=right[0].column)
    return Statement(left[0].text, ":=", expression, line=left[0].line,
                     column=left[0].column)


def _parse_constraint(tokens: list[Token], position: int, source: str) -> Statement:
    """``left == right``, ``left < right`` or ``left > right``: both sides arithmetic on
    labels and numbers, as lavaan writes them in its parameter table."""
    operator = tokens[position]
    where = {"source": source, "line": operator.line, "column": operator.column}
    other = next((t for t in tokens if t is not operator and t.text in
                  (*OPERATORS, *CONSTRAINT_OPERATORS)), None)
    if other is not None:
        raise ModelSyntaxError(f"'{other.text}' and '{operator.text}' in one statement; a "
                               "constraint compares two expressions of labels (a1 == a2)",
                               source=source, line=other.line, column=other.column)
    left, right = tokens[:position], tokens[position + 1:]
    if not left or not right:
        side = "left" if not left else "right"
        raise ModelSyntaxError(f"nothing on the {side} of '{operator.text}'", **where)
    sides = []
    for side in (left, right):
        expression = "".join(t.text for t in side)
        check_expression(expression, source=source, line=side[0].line, column=side[0].column)
        sides.append(expression)
    return Statement(sides[0], operator.text, sides[1], line=left[0].line,
                     column=left[0].column)


def expression_names(expression: str) -> set[str]:
    """The parameter labels an expression of a defined parameter refers to."""
    tree = ast.parse(expression.replace("^", "**"), mode="eval")
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id not in _FUNCTIONS}


def check_expression(expression: str, *, source: str, line: int, column: int) -> None:
    """Reject anything but arithmetic on labels, numbers and exp/log/sqrt/abs."""
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as error:
        raise ModelSyntaxError(f"cannot read the expression {expression!r}", source=source,
                               line=line, column=column) from error
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Call)
    for node in ast.walk(tree):
        bad_call = isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS)
        if not isinstance(node, allowed) or bad_call:
            raise ModelSyntaxError(f"the expression {expression!r} may use only labels, "
                                   "numbers, + - * / ^ and exp, log, sqrt, abs",
                                   source=source, line=line, column=column)
