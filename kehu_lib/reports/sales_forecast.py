"""销量预测与货源投放建议 (notebooks/sales_forecast.ipynb): the month's reconciled forecasts,
their backtest, last month's check and next month's supply plan per SKU."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import aggregates, calendar, config, findings, loaders
from ..forecast import load_backtest, load_month_forecasts, load_series, plan, report
from ..metrics import definitions, market
from ..plan import crossreport
from ..present import Chart, Table, Text, forecast_text, glossary
from ..present import format as fmt
from .base import Report, load_params, place

__all__ = ["build"]

NOTEBOOK = "sales_forecast"
FORECAST_COLUMNS = {"mean": "forecast_mean"}


def _forecasts(fc, level: str, months: int | None = None, member: bool = True):
    t = report.forecast_table(fc, level=level, months=months).rename(columns=FORECAST_COLUMNS)
    cols = (["member"] if member else []) + ["month", "forecast_mean", "lo_80", "hi_80", "lo_95",
                                             "hi_95", "model"]
    return t[cols]


def _market_check(name: str, month: str, *, store=None):
    """The market report's alerts and social inventory (in 条) of the place and month: what
    the demand plan is checked against (:func:`kehu_lib.plan.crossreport.demand_plan_adjustment`)."""
    district = None if name == config.CITY else name
    t = findings.load_thresholds()
    chk = loaders.load_price_checks(district, month, store=store)
    # the month's ledger (shop x SKU sums, summed in the store), not the city's order lines
    od = aggregates.shop_sku_month(district, month, store=store,
                                   columns=["month", "license_id", "sku", "qty_supplied"])
    prod = loaders.load_products(store=store)
    # the columns social_inventory reads (the shops open in the month, their 业态)
    customers = loaders.load_customers(district, store=store, columns=[
        "license_id", "business_format", "opened_date", "closed_date"])
    inv = market.social_inventory(chk, od, customers, month=month)
    alerts = market.market_alerts(market.price_index(chk, prod), inv, thresholds=t)
    return alerts, inv


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The forecast report of ``district`` (or 全市) for ``month`` (``""``: the latest month)."""
    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    name, _ = place(district)
    horizon, top_n = p["horizon"], p["top_n"]
    fc = load_month_forecasts(month, name, store=store)
    bt = load_backtest(month, name, store=store)
    hist = load_series(month, name, store=store)
    r = Report(NOTEBOOK, month, name)
    r.section("data").add(Text(f"{name}：以 {month} 及以前的供货量（销量）为基础，预测 "
                               f"{fc['ds'].min():%Y-%m} 至 {fc['ds'].max():%Y-%m}。"))

    total = report.forecast_table(fc, level="总量")
    r.section("total").add(
        Table(_forecasts(fc, "总量", horizon, member=False),
              title=f"{name}近{horizon}个月销量预测", sheet="销量预测"),
        Chart(report.fan_chart, hist, {"fc": fc, "unique_id": f"{name}|总量|合计",
                                       "title": f"{name}月度销量与预测（箱）"}))
    to_ye = calendar.months_to_year_end(month)
    year_end = definitions.to_year_end_total(total, month=month, date_col="month")
    if to_ye:
        r.section("total").add(Text(
            f"至年底（{to_ye[0]}至{to_ye[-1]}，报告月之后到12月，不含次年）合计预测"
            f"{year_end:,.1f}箱。"))
    if len(to_ye) > horizon:
        sec = r.section("year_end")
        sec.heading = "至年底的预测"
        ye = _forecasts(fc, "总量", member=False)
        sec.add(Text("预测期越长，区间越宽。"),
                Table(ye[ye["month"].astype(str).isin(to_ye)], title="至年底销量预测"))
    r.section("classes").add(
        Table(_forecasts(fc, "价类", horizon), title="分价类销量预测", sheet="分价类预测"),
        Table(_forecasts(fc, "品牌", 1), title="重点品牌下月销量预测"))

    bt_table = report.backtest_table(bt)
    r.section("backtest").add(
        Table(bt_table.rename(columns={"n": "n_forecasts"})[
            ["level", "model", "n_forecasts", "mase", "smape", "bias", "coverage_80",
             "coverage_95", "mase_jan_feb"]], title="回测准确度（按层级）",
            empty="没有可用的回测（历史不足）。"),
        Table(report.reconciliation_check(bt)[["level", "mase_base", "mase_reconciled"]],
              title="协调前后回测MASE"),
        *_model_choice(report.model_choice(fc, bt)))
    last = report.last_month_check(bt)
    last = last.assign(_o=glossary.ordered(last["member"], "price_class")).sort_values(
        ["level", "_o"], kind="stable").drop(columns="_o")
    r.section("last_month").add(Table(
        last.rename(columns={"forecast": "forecast_prev", "error": "error_rate"})[
            ["level", "member", "forecast_prev", "actual", "error_rate"]],
        title=f"{month} 预测与实际", empty="没有上月所作的预测可供对比。"))

    demand = plan.demand_plan(month, name, history=p["history_months"],
                              fill_threshold=p["fill_threshold"], store=store)
    alerts, inv = _market_check(name, month, store=store)
    adjusted = crossreport.demand_plan_adjustment(demand, alerts, inv,
                                                  control_months=p["control_months"],
                                                  control_floor=p["control_floor"])
    files = plan.write_plan(adjusted, p["output_dir"], month=month, district=name)
    view = adjusted.rename(columns={**plan.PLAN_COLUMNS, **plan.ADJUSTMENT_COLUMNS})
    controlled = view[view["demand_control"]]
    cols = ["sku_name", "price_class", "plan_mean", "plan_lo_80", "plan_hi_80", "ordered_avg",
            "supplied_avg", "fill_rate", "rationed", "demand_control", "plan_suggested"]
    sup = r.section("supply")
    sup.add(Table(
        view[cols], title="货源投放建议（下月，按预测供货量排序；控量规格扣减超量社会库存）",
        cap=top_n, noun="个规格", sheet="货源投放建议"),
        Text(f"全表另存为 {files['xlsx'].name} 和同名 CSV 文件。"))
    if len(controlled):
        sup.add(Table(controlled[["sku_name", "control_reason", "stock_to_sales", "plan_mean",
                                  "excess_stock_cartons", "control_reduction", "plan_suggested",
                                  "excess_left_cartons"]],
                      title=(f"控量规格（市场分析预警：超出合理库存的社会库存分{p['control_months']}"
                             f"个月扣减，投放建议不低于预测的{p['control_floor'] * 100:.0f}%）"),
                      sheet="控量规格"))
    else:
        sup.add(Text("本月没有市场预警规格，投放建议即预测值。"))

    notes = report.fallback_notes(fc[fc["level"] != "规格"])
    r.section("notes").add(Text(forecast_text.method_text()),
                           Text("以下系列采用了简化方法：") if notes else None,
                           Text(items=notes, numbered=False) if notes
                           else Text("所有系列均有足够历史，未采用简化方法。"))

    row = total.iloc[0]
    chosen = bt_table[bt_table["model"] == "reconciled"].set_index("level")
    snaive = bt_table[bt_table["model"] == "snaive"].set_index("level")
    top = last["level"] == "总量"
    # forecasts in 箱 to 0.1, as the page shows them: fitted figures differ in the fifth digit
    # between machines (the optimiser's floating-point path), which a headline must not carry
    r.headlines = {
        "next_month": row["month"],
        "forecast_next_month_cases": round(float(row["mean"]), 1),
        "forecast_next_month_lo_80": round(float(row["lo_80"]), 1),
        "forecast_next_month_hi_80": round(float(row["hi_80"]), 1),
        "forecast_to_year_end_cases": round(float(year_end), 1),
        "backtest_mase_total": chosen.loc["总量", "mase"] if "总量" in chosen.index else None,
        "backtest_mase_snaive_total": (snaive.loc["总量", "mase"] if "总量" in snaive.index
                                       else None),
        "last_month_error_total": last.loc[top, "error"].iloc[0] if top.any() else None,
        "rationed_skus": int(demand["rationed"].sum()),
    }
    return r


def _model_choice(choice: pd.DataFrame) -> tuple:
    """Which model each series used and why: (a sentence or None, the table). A reason, or a
    number of backtest origins and forecasts, that is the same on every row is said once in
    the sentence instead of a column (the table then fits an office screen)."""
    cols = ["level", "member", "model", "reason", "mase_snaive", "mase_ets", "mase_theta",
            "mase_sarima", "mase_holt", "mase_combo", "weight_ets", "weight_theta",
            "weight_sarima", "weight_holt", "origins", "n_forecasts"]
    view = choice.rename(columns={"n": "n_forecasts"})
    cols = [c for c in cols if c in view.columns]
    said = []
    if len(view) and view["reason"].nunique(dropna=False) == 1:
        said.append(f"各序列的模型均为{fmt.value(view['reason'].iloc[0], 'reason')}")
        cols.remove("reason")
    if len(view) and view[["origins", "n_forecasts"]].nunique(dropna=False).max() == 1:
        said.append(f"每个序列回测{fmt.count(view['origins'].iloc[0])}个起点、"
                    f"{fmt.count(view['n_forecasts'].iloc[0])}次预测")
        cols = [c for c in cols if c not in ("origins", "n_forecasts")]
    return (Text("；".join(said) + "。") if said else None,
            Table(view[cols], sheet="模型选择",
                  title="各序列采用的预测模型及依据（回测MASE：越小越准；季节朴素为1.0以上说明不如去年同月）"))
