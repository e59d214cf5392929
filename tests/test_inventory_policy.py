"""Policy table over the demo shop, and ABC x XYZ segmentation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import opslib
import opslib.inventory as inv
from opslib.errors import DataError
from opslib.inventory.segmentation import DEFAULT_TARGETS, abc_classes, segment, xyz_classes


@pytest.fixture(scope="module")
def small_shop():
    ws = opslib.load_demo()
    return dataclasses.replace(ws, items=ws.items.iloc[::10].reset_index(drop=True))


@pytest.fixture(scope="module")
def plan95(small_shop):
    return inv.plan_policies(small_shop, "fill_rate", 0.95, 7)


def test_policy_table_has_design_columns_and_meets_target(plan95, small_shop):
    p = plan95.policies
    assert list(p.columns[: len(inv.POLICY_COLUMNS)]) == inv.POLICY_COLUMNS
    assert len(p) == len(small_shop.items) and p["sku"].is_unique
    active = p[p["policy"] != "none"]
    assert (active["policy"] == "(R,S)").all() and len(active) > 20
    # exact service after rounding: never below target without saying so
    below = active["fill_rate"] < active["service_target"] - 1e-9
    assert not below.any() or set(active.loc[below, "rounding_status"]) <= {"unreachable", "below_target"}
    assert (active["cycle_service_level"].between(0, 1)).all()
    assert np.allclose(active["inventory_value"], active["avg_on_hand"] * active["unit_cost"])
    assert (active["expected_cost"] > 0).all() and (active["lead_time_source"] == "measured").all()
    assert set(active["family"]) <= {"poisson", "negative_binomial", "gamma", "normal"}
    none = p[p["policy"] == "none"]
    assert set(none["sku"]) <= set(plan95.warnings["sku"])


def test_higher_target_never_lowers_stock(plan95, small_shop):
    p98 = inv.plan_policies(small_shop, "fill_rate", 0.98, 7).policies.set_index("sku")
    p95 = plan95.policies.set_index("sku")
    active = p95["policy"] != "none"
    assert (p98.loc[active, "order_up_to"] >= p95.loc[active, "order_up_to"] - 1e-9).all()
    assert (p98.loc[active, "fill_rate"] >= 0.98 - 1e-9).all()


def test_rq_policies_and_per_sku_targets(small_shop):
    skus = list(small_shop.items["sku"][:3])
    plan = inv.plan_policies(small_shop, "cycle_service_level", 0.9, policy="(r,Q)", targets={skus[0]: 0.99})
    p = plan.policies.set_index("sku")
    active = p[p["policy"] != "none"]
    assert (active["policy"] == "(r,Q)").all()
    assert (active["order_quantity"] % active["case_pack"] == 0).all()
    assert (active["order_quantity"] >= active["moq"]).all()
    assert p.loc[skus[0], "service_target"] == 0.99
    ok = active["rounding_status"].isin(["met", "overshoot"])
    assert (active.loc[ok, "cycle_service_level"] >= active.loc[ok, "service_target"] - 1e-9).all()


def test_plan_policies_refuses_bad_input(small_shop):
    with pytest.raises(DataError, match="percentage"):
        inv.plan_policies(small_shop, target=95)
    with pytest.raises(DataError, match="service_type"):
        inv.plan_policies(small_shop, service_type="ready")
    with pytest.raises(DataError, match="review_period_days"):
        inv.plan_policies(small_shop, review_period_days=0)


def test_demand_statistics_leave_out_stock_out_days(small_shop):
    st = inv.demand_statistics(small_shop, 365)
    assert (st["days_observed"] + st["days_censored"] <= 365).all()
    assert (st["days_censored"] > 0).any()


def test_abc_xyz_segmentation():
    cls = abc_classes([50, 30, 10, 5, 3, 2])
    assert cls.tolist() == ["A", "A", "B", "B", "C", "C"]
    assert xyz_classes([0.2, 0.7, 1.5, np.nan]).tolist() == ["X", "Y", "Z", "Z"]
    st = pd.DataFrame({"demand_mean_per_day": [10.0, 1.0, 0.1], "demand_variance_per_day": [4.0, 0.49, 0.5]},
                      index=["a", "b", "c"])
    seg = segment(st, pd.Series({"a": 10.0, "b": 20.0, "c": 1.0}))
    assert seg["cell"].tolist() == ["AX", "BY", "CZ"]
    assert seg["target"].tolist() == [DEFAULT_TARGETS["AX"], DEFAULT_TARGETS["BY"], DEFAULT_TARGETS["CZ"]]
    with pytest.raises(DataError, match="thresholds"):
        abc_classes([1, 2], thresholds=(0.9, 0.8))


def test_forecast_as_demand_source_reproduces_history_and_follows_the_forecast():
    from scipy import stats as st

    ws = opslib.load_demo()
    shop = dataclasses.replace(ws, items=ws.items.iloc[::25].reset_index(drop=True))
    hist = inv.demand_statistics(shop)
    skus = [s for s in shop.items["sku"] if s in hist.index and hist.loc[s, "demand_mean_per_day"] > 0]
    dates = pd.date_range("2030-01-01", periods=90)
    z = st.norm.ppf(0.9)

    def frame(scale):
        rows = []
        for s in skus[:-1]:  # the last SKU has no forecast: history, with a warning
            m, sd = scale * hist.loc[s, "demand_mean_per_day"], np.sqrt(hist.loc[s, "demand_variance_per_day"])
            rows.append(pd.DataFrame({"sku": s, "date": dates, "mean": m, "p10": m - z * sd, "p90": m + z * sd}))
        return pd.concat(rows, ignore_index=True)

    base = inv.plan_policies(shop, "fill_rate", 0.95, 7).policies.set_index("sku")
    same = inv.plan_policies(shop, "fill_rate", 0.95, 7, forecast=frame(1.0))
    p = same.policies.set_index("sku")
    # a flat forecast with the history's mean and spread: opslib.forecast.lead_time_demand's moments over L + R
    # (law of total variance, its own code) map back to the same daily moments, hence the same policies
    assert (p.loc[skus[:-1], "demand_source"] == "forecast").all() and p.loc[skus[-1], "demand_source"] == "history"
    np.testing.assert_allclose(p.loc[skus, "demand_mean_per_day"], hist.loc[skus, "demand_mean_per_day"], rtol=1e-9)
    np.testing.assert_allclose(p.loc[skus, "demand_variance_per_day"], hist.loc[skus, "demand_variance_per_day"],
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(p.loc[skus, "order_up_to"], base.loc[skus, "order_up_to"])
    assert skus[-1] in set(same.warnings["sku"])
    # a forecast of twice the demand: more stock for every forecast SKU, the same for the history one
    up = inv.plan_policies(shop, "fill_rate", 0.95, 7, forecast=frame(2.0)).policies.set_index("sku")
    assert (up.loc[skus[:-1], "order_up_to"] >= base.loc[skus[:-1], "order_up_to"]).all()
    assert (up.loc[skus[:-1], "order_up_to"] > base.loc[skus[:-1], "order_up_to"]).mean() > 0.8
    assert up.loc[skus[-1], "order_up_to"] == base.loc[skus[-1], "order_up_to"]
    with pytest.raises(DataError, match="forecast"):
        inv.plan_policies(shop, "fill_rate", 0.95, 7, forecast=pd.DataFrame({"sku": ["x"]}))


def test_no_sku_with_a_lead_time_gives_an_empty_table_and_says_why(small_shop):
    # regression: the empty table had no columns and plan_policies raised KeyError 'sku'
    items = small_shop.items.assign(lead_time_days=np.nan)
    ws = dataclasses.replace(small_shop, items=items, purchase_orders=None)
    for policy in ("(R,S)", "(r,Q)"):
        plan = inv.plan_policies(ws, policy=policy)
        assert len(plan.policies) == 0
        assert list(plan.policies.columns[: len(inv.POLICY_COLUMNS)]) == inv.POLICY_COLUMNS
        assert list(plan.warnings["sku"]) == list(items["sku"])
        assert plan.warnings["issue"].str.startswith("no lead time").all()
    with pytest.raises(DataError, match="no SKU with demand and a lead time"):
        inv.service_investment_curves(ws)


def test_plan_and_curves_share_the_crossing_shortfall_and_the_numbers_do_not_depend_on_it(small_shop):
    from opslib.inventory import policy

    policy._SHORTFALL_MEMO.clear()
    first = inv.plan_policies(small_shop, "fill_rate", 0.9, 7)
    n = len(policy._SHORTFALL_MEMO)
    assert n == (first.policies["policy"] != "none").sum() > 0  # one per planned SKU
    curves = inv.service_investment_curves(small_shop, 7)
    assert len(policy._SHORTFALL_MEMO) == n  # the same daily demand, lead times and review: all reused
    csl = inv.plan_policies(small_shop, "cycle_service_level", 0.9, 7)  # another target: all reused
    assert len(policy._SHORTFALL_MEMO) == n
    policy._SHORTFALL_MEMO.clear()  # computed afresh: the same numbers, bit for bit
    assert inv.plan_policies(small_shop, "fill_rate", 0.9, 7).policies.equals(first.policies)
    assert inv.service_investment_curves(small_shop, 7).equals(curves)
    policy._SHORTFALL_MEMO.clear()
    assert inv.plan_policies(small_shop, "cycle_service_level", 0.9, 7).policies.equals(csl.policies)


def test_the_cycle_simulation_is_reused_by_value_and_the_numbers_do_not_depend_on_it(small_shop, monkeypatch):
    from opslib.inventory import policy

    policy._WINDOW_MEMO.clear()
    first = inv.plan_policies(small_shop, "cycle_service_level", 0.9, 7)
    curves = inv.service_investment_curves(small_shop, 7)
    n = len(policy._WINDOW_MEMO)
    assert n > 0

    def refuse(*args, **kwargs):
        raise AssertionError("simulated again")

    monkeypatch.setattr(policy, "crossing_cycle_service_level", refuse)  # the same inputs: every SKU's reused
    again = inv.plan_policies(small_shop, "cycle_service_level", 0.9, 7)
    assert again.policies.equals(first.policies) and inv.service_investment_curves(small_shop, 7).equals(curves)
    other = inv.plan_policies(small_shop, "fill_rate", 0.8, 7)  # another target: the same simulations
    monkeypatch.undo()
    policy._WINDOW_MEMO.clear()
    policy._SHORTFALL_MEMO.clear()
    assert inv.plan_policies(small_shop, "fill_rate", 0.8, 7).policies.equals(other.policies)  # afresh: bit for bit
    assert inv.plan_policies(small_shop, "cycle_service_level", 0.9, 7).policies.equals(first.policies)
    assert inv.service_investment_curves(small_shop, 7).equals(curves)


def test_curves_on_the_plans_forecast_leave_the_plan_nothing_to_simulate(small_shop, monkeypatch):
    """The Replenishment page's order: curves first, then the plan on the same forecast reuses every SKU's
    shortfall and simulated cycles, and the plan is the one made without the curves."""
    from opslib.inventory import policy
    from opslib.plan import plan_forecast

    forecast = plan_forecast(small_shop, model="ses")
    alone = inv.plan_policies(small_shop, "fill_rate", 0.9, 14, forecast=forecast)
    policy._WINDOW_MEMO.clear()
    policy._SHORTFALL_MEMO.clear()
    inv.service_investment_curves(small_shop, 14, forecast=forecast)

    def refuse(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(policy, "crossing_cycle_service_level", refuse)
    monkeypatch.setattr(policy, "order_crossing_shortfall", refuse)
    after = inv.plan_policies(small_shop, "fill_rate", 0.9, 14, forecast=forecast)
    pd.testing.assert_frame_equal(after.policies, alone.policies)
    assert (after.policies["lead_time_source"] == "measured").any()  # crossing applies to some SKUs



def test_the_level_search_at_many_levels_at_once_finds_the_bisections_level(small_shop):
    """``_smallest_meeting`` with an evaluator's ``many`` (every level of the bracket in one lookup) gives the
    level the bisection gives, for the fill rate and the cycle service level, SKU by SKU, and so the same plan."""
    from opslib.inventory import policy
    from opslib.inventory.service import _smallest_meeting

    plan = inv.plan_policies(small_shop, "cycle_service_level", 0.9, 14)
    checked = 0
    for row in plan.policies.itertuples(index=False):
        if row.policy == "none" or row.family in ("gamma", "normal"):
            continue
        item = small_shop.items.set_index("sku").loc[row.sku]
        lt = plan.lead_times.get(item["supplier"], float(item["lead_time_days"]))
        rule = inv.RoundingRule(int(item.get("moq", 0) or 0), int(item.get("case_pack", 1) or 1))
        ltd = policy._rs_evaluators(row.sku, row.demand_mean_per_day, row.demand_variance_per_day, lt, 14, "auto",
                                    None if pd.isna(row.average_demand_interval) else row.average_demand_interval,
                                    rule, True, 10_000, 0)
        for kind in ("fill_rate", "cycle_service_level"):
            many = policy._many(ltd.ev, kind)
            if many is None:
                continue
            f = getattr(ltd.ev, kind)
            levels = np.arange(np.floor(ltd.mean) - 5, np.ceil(ltd.mean) + 40)
            np.testing.assert_allclose(many(levels), [f(x) for x in levels], rtol=0, atol=1e-13)
            for target in (0.5, 0.9, 0.95, 0.99):
                start = float(np.ceil(ltd.mean))
                assert (_smallest_meeting(f, target, start - 1, start, True, many)
                        == _smallest_meeting(f, target, start - 1, start, True))
                checked += 1
    assert checked >= 20
