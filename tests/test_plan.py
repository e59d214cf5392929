"""opslib.plan chains the engines and adds nothing: each step equals the engine called by hand."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import opslib
from opslib import forecast as fc
from opslib import inventory as inv
from opslib.errors import DataError
from opslib.plan import MIN_HORIZON_DAYS, forecast_horizon_days, plan_forecast, replenishment_plan


@pytest.fixture(scope="module")
def shop():
    ws = opslib.load_demo()
    return dataclasses.replace(ws, items=ws.items.iloc[::15].reset_index(drop=True))


@pytest.fixture(scope="module")
def plan(shop):
    return replenishment_plan(shop, model="ses", target=0.9, review_period_days=7)


def test_each_step_equals_the_engine_called_by_hand(shop, plan):
    horizon = forecast_horizon_days(shop.items)
    history = shop.demand[shop.demand["sku"].isin(shop.items["sku"])]
    frame = fc.forecast(history, horizon, model="ses")
    pd.testing.assert_frame_equal(plan.forecast.reset_index(drop=True), frame.reset_index(drop=True))
    policies = inv.plan_policies(shop, "fill_rate", 0.9, 7, forecast=frame)
    pd.testing.assert_frame_equal(plan.policies, policies.policies)
    orders = inv.order_suggestions(shop, policies)
    pd.testing.assert_frame_equal(plan.orders.orders, orders.orders)
    assert set(plan.forecast["sku"]) == set(shop.items["sku"])
    assert plan.settings["horizon_days"] == horizon and plan.settings["target"] == 0.9


def test_policies_take_the_forecast_and_meet_the_target(plan):
    p = plan.policies
    assert (p["demand_source"] == "forecast").sum() >= len(p) - plan.warnings["sku"].nunique()
    met = p["fill_rate"] >= 0.9 - 1e-9
    # rounding may leave a SKU below target only when its rounding note says so
    assert met.all() or p.loc[~met, "rounding_status"].ne("ok").all()


def test_history_only_plan_equals_plan_policies_without_forecast(shop):
    plan = replenishment_plan(shop, use_forecast=False, target=0.9)
    assert plan.forecast.empty
    policies = inv.plan_policies(shop, "fill_rate", 0.9, 7)
    pd.testing.assert_frame_equal(plan.policies, policies.policies)
    assert (plan.policies["demand_source"] == "history").all()


def test_without_a_stock_table_the_policies_stand_and_the_order_list_is_empty_with_the_reason(shop, plan):
    from opslib.plan import NO_STOCK_MESSAGE

    bare = replenishment_plan(dataclasses.replace(shop, stock=None), model="ses", target=0.9, review_period_days=7,
                              forecast=plan.forecast)
    pd.testing.assert_frame_equal(bare.policies, plan.policies)  # the policies do not need the stock
    assert bare.orders.orders.empty and list(bare.orders.orders.columns) == list(plan.orders.orders.columns)
    assert bare.orders.status.empty and bare.orders.as_of == pd.to_datetime(shop.demand["date"]).max()
    said = bare.warnings[bare.warnings["step"] == "orders"]
    assert said["message"].tolist() == [NO_STOCK_MESSAGE] and "no stock table" in NO_STOCK_MESSAGE
    assert not (plan.warnings["step"] == "orders").any()  # with the stock table: no such row


def test_horizon_covers_the_longest_lead_time_plus_a_week():
    items = pd.DataFrame({"sku": ["a", "b"], "lead_time_days": [12.0, 40.5]})
    assert forecast_horizon_days(items) == 48
    assert forecast_horizon_days(items.assign(lead_time_days=np.nan)) == MIN_HORIZON_DAYS
    assert forecast_horizon_days(items.drop(columns="lead_time_days")) == MIN_HORIZON_DAYS


def test_another_review_period_plans_on_the_same_forecast(shop, plan):
    # the horizon does not depend on the review period: a 14-day plan takes the 7-day plan's forecast as its own,
    # and equals the 14-day plan made from scratch (which makes that same forecast)
    fortnight = replenishment_plan(shop, model="ses", target=0.9, review_period_days=14, forecast=plan.forecast)
    assert fortnight.forecast is plan.forecast
    assert fortnight.settings["horizon_days"] == plan.settings["horizon_days"]
    scratch = replenishment_plan(shop, model="ses", target=0.9, review_period_days=14)
    pd.testing.assert_frame_equal(fortnight.policies, scratch.policies)
    assert (fortnight.policies["review_period_days"] == 14).all()


def test_a_workspace_without_demand_is_refused(shop):
    with pytest.raises(DataError, match="no demand table"):
        replenishment_plan(dataclasses.replace(shop, demand=None))
    with pytest.raises(DataError, match="plan_forecast: the workspace has no demand table"):
        plan_forecast(dataclasses.replace(shop, demand=None))


def test_plan_forecast_is_the_plans_forecast(shop, plan):
    again = plan_forecast(shop, model="ses")
    pd.testing.assert_frame_equal(again, plan.forecast)
    assert plan_forecast(shop, model="ses", forecast=plan.forecast) is plan.forecast  # it matches: kept as it is


def test_progress_names_each_step_and_saved_settings_are_read_from_the_folder(shop, tmp_path):
    from opslib.plan_settings import update_settings

    steps = []
    plain = replenishment_plan(shop, use_forecast=False, target=0.9, progress=steps.append)
    assert steps == ["policies", "orders"]
    sku = plain.orders.orders["sku"].iloc[0]
    update_settings(tmp_path, "sku", sku, user="test", target=0.8)
    saved = replenishment_plan(dataclasses.replace(shop, path=tmp_path), use_forecast=False, target=0.9)
    p = saved.policies.set_index("sku")
    assert p.loc[sku, "service_target"] == 0.8 and (p.drop(index=sku)["service_target"] == 0.9).all()
    # the SKU's level follows its saved target; every other SKU's policy is as it was
    others = plain.policies.set_index("sku").drop(index=sku)
    pd.testing.assert_frame_equal(p.drop(index=sku)[others.columns], others)


def test_a_forecast_made_before_is_used_when_it_matches(shop, plan):
    from opslib.plan import forecast_matches

    again = replenishment_plan(shop, model="ses", target=0.9, review_period_days=7, forecast=plan.forecast)
    assert again.forecast is plan.forecast  # not made again
    for name in ("policies", "warnings"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(plan, name))
    pd.testing.assert_frame_equal(again.orders.orders, plan.orders.orders)
    assert again.settings == plan.settings
    # a forecast over another horizon or other SKUs does not match: the plan makes its own, as without one
    history = shop.demand[shop.demand["sku"].isin(shop.items["sku"])]
    horizon = plan.settings["horizon_days"]
    assert forecast_matches(plan.forecast, history, horizon)
    assert not forecast_matches(plan.forecast, history, horizon + 1)
    assert not forecast_matches(plan.forecast[plan.forecast["sku"] != shop.items["sku"].iloc[0]], history, horizon)
    longer = replenishment_plan(shop, model="ses", target=0.9, horizon_days=horizon + 7, forecast=plan.forecast)
    assert longer.forecast is not plan.forecast
    pd.testing.assert_frame_equal(
        longer.policies, replenishment_plan(shop, model="ses", target=0.9, horizon_days=horizon + 7).policies)
