"""Customer lifetime value against sums written out by hand, and the retention claim."""

from __future__ import annotations

import math

import pytest

from acsi_sem.errors import AcsiSemError
from acsi_sem.loyalty import customer_lifetime_value, retention_effect, retention_table


def test_three_periods_by_hand() -> None:
    # 100 * (0.8/1.1 + 0.8^2/1.1^2 + 0.8^3/1.1^3) = 72.727 + 52.893 + 38.467
    value = customer_lifetime_value(100, 0.8, 0.1, periods=3)
    assert value == pytest.approx(72.72727 + 52.89256 + 38.46731, abs=1e-4)
    assert customer_lifetime_value(100, 0.8, 0.1, periods=1, acquisition_cost=50) == \
        pytest.approx(100 * 0.8 / 1.1 - 50)


def test_no_horizon_is_the_limit_of_long_ones() -> None:
    assert customer_lifetime_value(100, 0.8, 0.1) == pytest.approx(80 / 0.3)
    assert customer_lifetime_value(100, 0.8, 0.1, periods=400) == pytest.approx(
        customer_lifetime_value(100, 0.8, 0.1), rel=1e-12)
    assert customer_lifetime_value(100, 0.5, 0.0) == pytest.approx(100.0)  # 50 + 25 + ...


def test_five_points_of_retention() -> None:
    effect = retention_effect(100, 0.80, 0.10)
    assert effect["clv"] == pytest.approx(800 / 3) and effect["clv_after"] == pytest.approx(340)
    assert effect["percent_change"] == pytest.approx(27.5)
    table = retention_table(1, [0.80, 0.90], 0.10)
    assert table["percent_change"].tolist() == pytest.approx([27.5, (0.95 / 0.15) / 4.5 * 100
                                                               - 100])
    zero = retention_effect(100, 0.5, 0.0, acquisition_cost=100)
    assert zero["clv"] == pytest.approx(0) and math.isnan(zero["percent_change"])


@pytest.mark.parametrize(("arguments", "message"), [
    ((100, 1.0, 0.1), "below 1"), ((100, -0.1, 0.1), "at least 0"),
    ((100, 0.8, -0.1), "must not be negative")])
def test_impossible_rates_are_refused(arguments, message) -> None:
    with pytest.raises(AcsiSemError, match=message):
        customer_lifetime_value(*arguments)
    with pytest.raises(AcsiSemError, match="at least one period"):
        customer_lifetime_value(100, 0.8, 0.1, periods=0)


def test_an_increase_past_full_retention_is_refused() -> None:
    with pytest.raises(AcsiSemError, match="below 1"):
        retention_effect(100, 0.97, 0.1)


def test_clv_command_prints_writes_json_and_draws(capsys, tmp_path) -> None:
    import json

    from acsi_sem.cli.main import main

    target = tmp_path / "clv.json"
    code = main(["clv", "--margin", "100", "--retention", "0.8,0.9", "--discount", "0.1",
                 "--periods", "3", "--acquisition-cost", "10", "--json", str(target),
                 "--plot", str(tmp_path)])
    assert code == 0 and "horizon 3 periods" in capsys.readouterr().out
    rows = json.loads(target.read_text())["clv"]
    assert rows[0]["clv"] == pytest.approx(customer_lifetime_value(100, 0.8, 0.1, periods=3)
                                           - 10)
    assert rows[1]["retention_after"] == pytest.approx(0.95)
    assert (tmp_path / "clv.png").stat().st_size > 0


def test_clv_command_names_a_bad_rate_list(capsys) -> None:
    from acsi_sem.cli.main import main

    assert main(["clv", "--margin", "1", "--retention", "0.8,x", "--discount", "0"]) != 0
    assert "--retention 0.8,x" in capsys.readouterr().err
