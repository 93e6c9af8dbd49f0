"""Findings that cross reports (跨报告联动): what one report finds, the others act on.

- market alerts (oversupply: price index under, 存销比 over its norm) →
  :func:`demand_plan_adjustment` (the demand plan's 控量 flag, social stock above the norm
  netted out of 投放建议 over the following months) and :func:`alert_shop_strategies` (KZB-13 / KZB-10 for the shops
  carrying the SKU in the monthly plan)
- satisfaction drops (survey change results) → :func:`satisfaction_actions` (district
  strategies chosen by the strategy library's ``survey_causes`` and ``causes`` tables)
- :func:`month_highlights`: one 本月要点 view per district and for the city, merging the coded
  findings of every report (:func:`market_findings`, :func:`driver_findings`,
  :func:`demand_findings`, :func:`plan_findings`, :func:`survey_findings`) ordered by importance

Everything returns codes and numbers in the tidy frame of :data:`FINDING_COLUMNS`; the
presentation layer renders the sentences.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..frames import isin

__all__ = ["FINDING_COLUMNS", "IMPORTANCE", "ANCHORS", "CONTROL_KEYS", "control_params",
           "demand_plan_adjustment",
           "alert_cause", "alert_shop_strategies", "cause_strategies", "satisfaction_actions",
           "market_findings",
           "driver_findings", "demand_findings", "plan_findings", "survey_findings",
           "month_highlights", "highlights_for"]

#: Columns of a coded finding. ``subject``: the SKU, survey item, shop group or strategy the
#: finding is about; ``value`` / ``reference`` / ``change`` / ``share`` / ``count``: its numbers
#: (meaning per code, see :data:`IMPORTANCE`); ``consequence_of``: the code of the finding it
#: follows from (a demand-plan flag follows from an oversupply alert).
FINDING_COLUMNS = ["source", "anchor", "code", "district_code", "subject", "value", "reference",
                   "change", "share", "count", "importance", "consequence_of"]

#: Finding code -> importance (higher first). Numbers per code:
#: headline: value = 销量 箱, change = 同比 (0-1), reference = 环比 (0-1);
#: change_explained: subject = dimension:group, value = contribution, change = total change,
#: share = contribution / change, reference = indicator code's base (see driver_findings);
#: oversupply / price_low / overstock: subject = SKU, value = price index, reference = 存销比;
#: demand_control: subject = SKU, value = suggested 条, reference = forecast 条, change = −reduction,
#: count = excess social stock 条 (netted over the months, :func:`demand_plan_adjustment`);
#: plan_alert_strategy: subject = SKU, count = shops given KZB-13/KZB-10;
#: plan_key_brand_strategy / plan_new_product_strategy: the plan's strategies for the shops
#: with the market finding's cause (key-brand loss; a new product not carried, subject = SKU),
#: count = shops, reference = codes — shown only beside that finding (:func:`highlights_for`);
#: satisfaction_drop: subject = item, change = points (0-100), value = lower CI, reference = upper;
#: plan_satisfaction_action: subject = item, count = strategies (codes in the plan frame);
#: key_brand_loss: count = shops flagged, share = of the judged shops;
#: new_product_stall: subject = SKU, share = 订购面, value = weeks since launch;
#: district_action: subject = indicator:cause, count = shops, share = of the judged shops;
#: strategy_effective / strategy_negative: subject = KZB code:outcome, value = estimate,
#: change = lower CI, reference = upper CI (unit of the outcome,
#: :data:`kehu_lib.plan.evaluate.OUTCOMES`);
#: structure: change = 一二类占比 change (pp as a fraction); margin_below: count = shops below.
IMPORTANCE: dict[str, float] = {
    "headline": 100, "change_explained": 95, "oversupply": 90, "demand_control": 89.5,
    "plan_alert_strategy": 89, "satisfaction_drop": 88, "plan_satisfaction_action": 87.5,
    "key_brand_loss": 85, "plan_key_brand_strategy": 84.5, "new_product_stall": 80,
    "plan_new_product_strategy": 79.5, "district_action": 75,
    "strategy_negative": 72, "strategy_effective": 71, "price_low": 70, "overstock": 70, "structure": 60,
    "margin_below": 40,
}
#: Report code -> section anchor of each finding code (the report builders' section ids).
ANCHORS: dict[str, str] = {
    "headline": "market_report#overview", "change_explained": "market_report#drivers",
    "oversupply": "market_report#market", "price_low": "market_report#market",
    "overstock": "market_report#market", "structure": "market_report#structure",
    "key_brand_loss": "market_report#customers", "new_product_stall": "market_report#brands",
    "margin_below": "market_report#margin", "demand_control": "sales_forecast#demand_plan",
    "plan_alert_strategy": "monthly_plan#strategies",
    "plan_key_brand_strategy": "monthly_plan#strategies",
    "plan_new_product_strategy": "monthly_plan#strategies",
    "plan_satisfaction_action": "monthly_plan#district_actions",
    "district_action": "monthly_plan#district_actions",
    "strategy_negative": "monthly_plan#evaluation",
    "strategy_effective": "monthly_plan#evaluation",
    "satisfaction_drop": "survey_retailer#changes",
}


def _rows(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    if len(out):
        out["importance"] = out["code"].map(IMPORTANCE).astype(float)
        out["anchor"] = out["code"].map(ANCHORS)
        out["source"] = out["anchor"].str.split("#").str[0]
    return out


def alert_cause(alert: Mapping[str, Any]) -> str:
    """The cause code of a market alert: ``oversupply`` (price under and 存销比 over its norm:
    supply runs ahead of demand), ``overstock`` (存销比 only) or ``price_below_guided``."""
    if bool(alert.get("price_alert")) and bool(alert.get("stock_alert")):
        return "oversupply"
    return "overstock" if bool(alert.get("stock_alert")) else "price_below_guided"


#: The 控量 settings of the demand plan and their home (params/sales_forecast.yaml).
CONTROL_KEYS = ("control_months", "control_floor")


def control_params(path=None) -> dict[str, Any]:
    """``control_months`` and ``control_floor`` of the demand plan's 控量, read from
    ``params/sales_forecast.yaml`` (their one home; a missing key is an error naming it)."""
    from .. import config

    return config.yaml_params(path or config.PARAMS_DIR / "sales_forecast.yaml", CONTROL_KEYS,
                              what="控量 settings")


def demand_plan_adjustment(plan: pd.DataFrame, alerts: pd.DataFrame,
                           inventory: pd.DataFrame | None = None, *,
                           stock_norm: float = 1.0, control_months: int | None = None,
                           control_floor: float | None = None) -> pd.DataFrame:
    """The demand plan (货源投放建议) checked against the market report's alerts.

    ``plan``: :func:`kehu_lib.forecast.plan.demand_plan` of one district (sku, mean in 条, ...);
    ``alerts``: :func:`kehu_lib.metrics.market.market_alerts` of the same district;
    ``inventory``: :func:`kehu_lib.metrics.market.social_inventory` of the same district (stock
    and sales in 条). ``stock_norm``: the 存销比 norm (months of sales retailers may hold; the
    market report's ``stock_to_sales_alert``, 1.0). ``control_months`` / ``control_floor``:
    how the excess is netted (default: :func:`control_params`, params/sales_forecast.yaml).

    - 控量 ``control`` = the SKU has a market alert; ``control_reason`` = :func:`alert_cause`
    - 超量社会库存 ``excess_stock`` = max(0, social stock − ``stock_norm`` × month's sales) (条)
    - the excess is run down the way a planner does it, not in one month: next month nets
      ``excess_stock`` / ``control_months`` (the months of the forecast horizon over which the
      retailers sell it down), and never more than takes 投放建议 below ``control_floor`` × the
      forecast (retail stock is uneven: a cut to nothing leaves the shops without stock short):
      ``reduction`` = min(excess_stock / control_months, (1 − control_floor) × mean)
    - 投放建议 ``suggested`` = mean − reduction (条); ``excess_left`` = excess_stock − reduction:
      what later months still net (re-measured then from the month's price and stock checks)

    Returns
    -------
    ``plan`` with control, control_reason, stock_to_sales, excess_stock, reduction, suggested,
    excess_left.
    """
    if "sku" not in plan.columns or "mean" not in plan.columns:
        raise KeyError("demand plan needs the columns 'sku' and 'mean' (see forecast.plan.demand_plan)")
    if control_months is None or control_floor is None:
        d = control_params()
        control_months = d["control_months"] if control_months is None else control_months
        control_floor = d["control_floor"] if control_floor is None else control_floor
    if int(control_months) < 1:
        raise ValueError(f"control_months must be at least 1, got {control_months}")
    if not 0 <= float(control_floor) <= 1:
        raise ValueError(f"control_floor must be in [0, 1], got {control_floor}")
    out = plan.copy()
    a = alerts.drop_duplicates("sku").set_index("sku") if len(alerts) else None
    out["control"] = out["sku"].isin(set(alerts["sku"])) if len(alerts) else False
    out["control_reason"] = pd.array([alert_cause(a.loc[s]) if c else pd.NA
                                      for s, c in zip(out["sku"], out["control"])],
                                     dtype="string")
    excess = pd.Series(0.0, index=out.index)
    out["stock_to_sales"] = np.nan
    if inventory is not None and len(inventory):
        inv = inventory.drop_duplicates("sku").set_index("sku")
        stock = out["sku"].map(inv["stock"]).astype(float)
        sales = out["sku"].map(inv["sales"]).astype(float)
        out["stock_to_sales"] = out["sku"].map(inv["stock_to_sales"]).astype(float)
        excess = (stock - stock_norm * sales).clip(lower=0).fillna(0.0)
    out["excess_stock"] = excess.where(out["control"], 0.0)
    room = (out["mean"] * (1 - float(control_floor))).clip(lower=0)
    out["reduction"] = np.minimum(out["excess_stock"] / int(control_months), room)
    out["suggested"] = out["mean"] - out["reduction"]
    out["excess_left"] = out["excess_stock"] - out["reduction"]
    return out


#: Plan cause (``shop_strategies['cause']``) -> (finding code of the plan's answer, finding code
#: of the market report's cause it answers).
CAUSE_FINDINGS = {"key_brand_loss": ("plan_key_brand_strategy", "key_brand_loss"),
                  "new_product_not_carried": ("plan_new_product_strategy", "new_product_stall")}


def cause_strategies(shop_strategies: pd.DataFrame) -> pd.DataFrame:
    """The plan's strategies per district and cause (:data:`CAUSE_FINDINGS`): how many shops
    were given which strategies for a key-brand loss or a new product they do not carry.

    Returns
    -------
    DataFrame: district_code, cause, cause_sku ('' when the cause names no product), shops,
    codes (';'-joined in the plan's order).
    """
    cols = ["district_code", "cause", "cause_sku", "shops", "codes"]
    s = shop_strategies[shop_strategies["cause"].isin(list(CAUSE_FINDINGS))]
    if s.empty:
        return pd.DataFrame(columns=cols)
    s = s.assign(cause=s["cause"].astype(str),
                 cause_sku=s["cause_sku"].astype("string").fillna("").astype(str))
    out = s.sort_values("order", kind="stable").groupby(
        ["district_code", "cause", "cause_sku"], observed=True).agg(
        shops=("license_id", "nunique"),
        codes=("code", lambda c: ";".join(dict.fromkeys(c)))).reset_index()
    return out[cols]


def alert_shop_strategies(alerts: pd.DataFrame, orders: pd.DataFrame, library, *,
                          month: str) -> pd.DataFrame:
    """Monthly-plan strategies for the shops that carry an alerted SKU.

    A shop carries the SKU when it was supplied with it in ``month`` (in the alert's district
    when the alerts have ``district_code``). The strategies are the library's combination for
    the alert's cause (:func:`alert_cause`: oversupply → KZB-13 合理库存建议, KZB-10 供货总量商定).

    Returns
    -------
    DataFrame: license_id, district_code, sku, cause, code, order (1 = first).
    """
    cols = ["license_id", "district_code", "sku", "cause", "code", "order"]
    if alerts.empty:
        return pd.DataFrame(columns=cols)
    od = orders[(orders["month"] == month) & (orders["qty_supplied"] > 0)]
    od = od[isin(od["sku"], set(alerts["sku"]))]  # the rows the merge below keeps
    keys = ["sku"] + (["district_code"] if "district_code" in alerts.columns else [])
    al = alerts[keys].copy()
    al["cause"] = [alert_cause(r) for _, r in alerts.iterrows()]
    shops = od[["license_id", "district_code", "sku"]].drop_duplicates().merge(al, on=keys)
    rows = []
    for cause, g in shops.groupby("cause"):
        for i, code in enumerate(library.for_cause(cause), start=1):
            rows.append(g.assign(code=code, order=i))
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["district_code", "license_id", "sku", "order"],
                           ignore_index=True)[cols]


def satisfaction_actions(changes: pd.DataFrame, library) -> pd.DataFrame:
    """District strategies for significant satisfaction drops (满意度显著下降).

    ``changes``: :func:`kehu_lib.metrics.survey_change.survey_changes` (district_code, item,
    comparison, diff, ci_low, ci_high, significant). A significant drop of an item listed in the
    library's ``survey_causes`` gets that cause's strategies (R02 货源供应 → supply_complaint →
    KZB-10, KZB-15, KZB-06) as one district action. A drop seen in both 环比 and 同比 is
    listed once (环比 first).

    Returns
    -------
    DataFrame: district_code, item, comparison, diff (points, 0-100 scale), ci_low, ci_high,
    cause, codes (';'-joined).
    """
    cols = ["district_code", "item", "comparison", "diff", "ci_low", "ci_high", "cause", "codes"]
    if changes.empty:
        return pd.DataFrame(columns=cols)
    ch = changes[changes["significant"].astype(bool) & (changes["diff"] < 0)].copy()
    ch["cause"] = ch["item"].map(library.survey_causes)
    ch = ch[ch["cause"].notna()]
    if ch.empty:
        return pd.DataFrame(columns=cols)
    ch["_o"] = (ch["comparison"] != "mom").astype(int)
    ch = ch.sort_values(["district_code", "item", "_o"]).drop_duplicates(["district_code", "item"])
    ch["codes"] = ch["cause"].map(lambda c: ";".join(library.for_cause(c)))
    return ch.reset_index(drop=True)[cols]


# ----------------------------------------------------------------------------- coded findings

def market_findings(result: Mapping[str, Any], *, district_code: str | None = None
                    ) -> pd.DataFrame:
    """The market report's findings as codes and numbers, from
    :func:`kehu_lib.findings.analyse` (same thresholds as :func:`kehu_lib.findings.compose`).

    ``district_code``: the place of a district report (None for the city: district-level rows
    carry their own district)."""
    t = result["thresholds"]
    rows: list[dict] = []
    h = result["headline"].set_index("indicator")
    vol = h.loc["volume_cases"]
    rows.append({"code": "headline", "district_code": district_code, "subject": "volume_cases",
                 "value": vol["value"], "change": vol["yoy"], "reference": vol["mom"]})
    if "share_class12" in h.index:
        s12 = h.loc["share_class12"]
        if np.isfinite(s12["yoy"]) and abs(s12["yoy"]) >= t["structure_change_alert"]:
            rows.append({"code": "structure", "district_code": district_code,
                         "subject": "share_class12", "value": s12["value"],
                         "change": s12["yoy"]})
    for _, a in result["alerts"].iterrows():
        code = ("oversupply" if a["severity"] >= 2 else
                "price_low" if a["price_alert"] else "overstock")
        rows.append({"code": code, "district_code": a.get("district_code", district_code),
                     "subject": a["sku"], "value": a["price_index"],
                     "reference": a["stock_to_sales"]})
    kb = result["key_brand"]
    if "district_code" in kb.columns and len(kb):
        for dc, g in kb.groupby("district_code"):
            n, judged = int(g["flagged"].sum()), len(g)
            if n >= t["key_brand_min_shops"] and n / judged >= t["key_brand_min_share"]:
                rows.append({"code": "key_brand_loss", "district_code": dc, "count": n,
                             "share": n / judged,
                             "value": g.loc[g["flagged"], "gap_ratio"].median()})
    for _, r in result["new_products"].iterrows():
        if r["stalled"]:
            rows.append({"code": "new_product_stall", "district_code": r["group"],
                         "subject": r["sku"], "share": r["reach"], "value": r["week"]})
    m = result["margin"].iloc[0]
    if m["shops"] > 0 and m.get("shops_below", 0) > 0:
        rows.append({"code": "margin_below", "district_code": district_code,
                     "count": int(m["shops_below"]), "share": 1 - m["share_reaching"]})
    return _rows(rows)


def driver_findings(explanation: pd.DataFrame, *, district_code: str | None = None
                    ) -> pd.DataFrame:
    """The first explanation of :func:`kehu_lib.metrics.drivers.explain_change` as a finding
    (``subject`` = 'dimension:group', e.g. 'shop_group:key_brand_loss')."""
    if explanation.empty:
        return _rows([])
    e = explanation.iloc[0]
    return _rows([{"code": "change_explained", "district_code": district_code,
                   "subject": f"{e['dimension']}:{e['group']}", "value": e["contribution"],
                   "change": e["total_change"], "share": e["share"],
                   "reference": f"{e['comparison']}:{e['indicator']}"}])


def demand_findings(adjusted: pd.DataFrame, *, district_code: str | None = None
                    ) -> pd.DataFrame:
    """控量 SKUs of :func:`demand_plan_adjustment` as findings (consequence of the alert)."""
    rows = [{"code": "demand_control", "district_code": district_code, "subject": r["sku"],
             "value": r["suggested"], "reference": r["mean"], "change": -r["reduction"],
             "count": r["excess_stock"], "consequence_of": r["control_reason"]}
            for _, r in adjusted[adjusted["control"]].iterrows()]
    return _rows(rows)


def plan_findings(*, alert_strategies: pd.DataFrame | None = None,
                  satisfaction: pd.DataFrame | None = None,
                  district_actions: pd.DataFrame | None = None,
                  evaluation: pd.DataFrame | None = None,
                  cause_strategies: pd.DataFrame | None = None,
                  district_code: str | None = None) -> pd.DataFrame:
    """The monthly plan's findings: strategies planned because of a market alert or a
    satisfaction drop, district-wide problems (left out when a market alert of the district
    already plans the same strategies: one problem, reported once), the strategies for the shops
    with a key-brand loss or without a new product (``cause_strategies``, of
    :func:`cause_strategies`), and last month's strategies
    with a significant effect, good (``strategy_effective``: keep it) or bad
    (``strategy_negative``: stop it)."""
    rows: list[dict] = []
    if alert_strategies is not None and len(alert_strategies):
        g = alert_strategies.groupby(["district_code", "sku", "cause"]).agg(
            shops=("license_id", "nunique"), codes=("code", lambda s: ";".join(
                dict.fromkeys(s)))).reset_index()
        for _, r in g.iterrows():
            rows.append({"code": "plan_alert_strategy", "district_code": r["district_code"],
                         "subject": r["sku"], "count": r["shops"], "reference": r["codes"],
                         "consequence_of": r["cause"]})
    if cause_strategies is not None:
        for _, r in cause_strategies.iterrows():
            rows.append({"code": CAUSE_FINDINGS[r["cause"]][0],
                         "district_code": r["district_code"], "subject": r["cause_sku"] or None,
                         "count": r["shops"], "reference": r["codes"],
                         "consequence_of": CAUSE_FINDINGS[r["cause"]][1]})
    if satisfaction is not None:
        for _, r in satisfaction.iterrows():
            rows.append({"code": "plan_satisfaction_action", "district_code": r["district_code"],
                         "subject": r["item"], "reference": r["codes"],
                         "count": len(r["codes"].split(";")), "consequence_of": r["cause"]})
    # a district problem answered by the same strategies as a market alert in that district
    # (e.g. 80% of 小店区's shops overstocked on the oversupplied SKU) is that alert's
    # consequence: reported once, as the alert's plan strategy
    covered = {(r["district_code"], r["reference"]) for r in rows
               if r["code"] == "plan_alert_strategy"}
    if district_actions is not None:
        for _, r in district_actions.iterrows():
            if (r["district_code"], r["codes"]) in covered:
                continue
            cause = r["cause"] if isinstance(r["cause"], str) else ""
            rows.append({"code": "district_action", "district_code": r["district_code"],
                         "subject": f"{r['indicator']}:{cause}".rstrip(":"),
                         "count": r["shops_flagged"], "share": r["share"],
                         "reference": r["codes"]})
    if evaluation is not None and "verdict_code" in getattr(evaluation, "columns", []):
        judged = evaluation[evaluation["verdict_code"].isin(["negative", "effective"])]
        for _, r in judged.iterrows():
            rows.append({"code": f"strategy_{r['verdict_code']}", "district_code": district_code,
                         "subject": f"{r['code']}:{r['outcome']}", "value": r["estimate"],
                         "reference": r["ci_high"], "change": r["ci_low"]})
    return _rows(rows)


def survey_findings(satisfaction: pd.DataFrame) -> pd.DataFrame:
    """Significant satisfaction drops (of :func:`satisfaction_actions`) as findings. A district's
    overall item (R10) is no finding of its own when one of its items dropped too: the market
    report tells it in that item's sentence (:func:`kehu_lib.findings.satisfaction_sentences`)."""
    from ..metrics.survey import overall_item

    overall = overall_item("retailer")
    with_item = set(satisfaction.loc[satisfaction["item"] != overall, "district_code"])
    rows = [{"code": "satisfaction_drop", "district_code": r["district_code"],
             "subject": r["item"], "change": r["diff"], "value": r["ci_low"],
             "reference": r["ci_high"]} for _, r in satisfaction.iterrows()
            if not (r["item"] == overall and r["district_code"] in with_item)]
    return _rows(rows)


def month_highlights(frames: Iterable[pd.DataFrame], *, district_code: str | None = None,
                     top: int | None = None) -> pd.DataFrame:
    """本月要点: the month's coded findings from all reports, most important first.

    ``frames``: outputs of the ``*_findings`` functions. For a district (``district_code``) the
    rows of that district (and rows without a district, i.e. of the place itself); for the city
    (None) all rows. Ties keep the order given; a consequence follows its cause.

    Returns
    -------
    DataFrame: rank (1 = first), source (report code), anchor ('report#section'), code,
    district_code, subject, value, reference, change, share, count, importance, consequence_of.
    """
    parts = [f for f in frames if f is not None and len(f)]
    if not parts:
        return pd.DataFrame(columns=["rank", *FINDING_COLUMNS])
    df = pd.concat(parts, ignore_index=True)
    if district_code is not None:
        df = df[df["district_code"].isna() | (df["district_code"] == district_code)]
    df = df.sort_values("importance", ascending=False, kind="stable", ignore_index=True)
    if top is not None:
        df = df.head(top)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def _answers_with_their_cause(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Drop the plan's answers to a cause (:data:`CAUSE_FINDINGS`) where the market report does
    not find that cause (same district, and same SKU for a product): a handful of shops with a
    key-brand gap is the plan's business, not a 要点."""
    parts = [f for f in frames if f is not None and len(f)]
    if not parts:
        return frames
    allf = pd.concat(parts, ignore_index=True)
    found = {(r["code"], r["district_code"], r["subject"] if isinstance(r["subject"], str)
              else None) for _, r in allf.iterrows()}
    answers = {a for a, _ in CAUSE_FINDINGS.values()}

    def keep(r) -> bool:
        if r["code"] not in answers:
            return True
        subj = r["subject"] if isinstance(r["subject"], str) else None
        return (r["consequence_of"], r["district_code"], subj) in found

    return [f[f.apply(keep, axis=1)] if f is not None and len(f) else f for f in frames]


def highlights_for(district: str | None, month: str, *, store=None,
                   result: Mapping[str, Any] | None = None,
                   plan: Mapping[str, Any] | None = None,
                   demand: pd.DataFrame | None = None, top: int | None = None) -> pd.DataFrame:
    """本月要点 of one district (or the city, ``district`` None / 全市) in one call.

    Reuses what the caller already has — ``result`` (:func:`kehu_lib.findings.analyse` of the
    place), ``plan`` (:func:`kehu_lib.plan.monthly.build_month`, city-wide or of the place),
    ``demand`` (:func:`kehu_lib.forecast.plan.demand_plan` of the place) — and computes the rest
    from the store; the demand plan is read only when the month's forecasts are cached (never
    built here), else its findings are left out. Returns :func:`month_highlights`.
    """
    from .. import config, findings
    from ..metrics import market
    from . import monthly
    from .strategies import load_library

    d = config.resolve_district(district)
    code = None if d is None else d.code
    if result is None:
        result = findings.analyse(findings.load_inputs(district, month, store=store),
                                  findings.load_thresholds())
    if plan is None:  # only the frames read below (the same as build_month's)
        plan = monthly.findings_part(month, district, store=store)
    lib = plan.get("library") or load_library()
    frames = [market_findings(result, district_code=code),
              driver_findings(result.get("explanation", pd.DataFrame()), district_code=code)]
    sat = result.get("satisfaction")
    if sat is not None and len(sat):
        frames.append(survey_findings(satisfaction_actions(sat.assign(significant=True), lib)))
    frames.append(plan_findings(alert_strategies=plan.get("alert_strategies"),
                                satisfaction=plan.get("satisfaction_actions"),
                                district_actions=plan.get("district_actions"),
                                evaluation=plan.get("evaluation"),
                                cause_strategies=plan.get("cause_strategies"),
                                district_code=code))
    frames = _answers_with_their_cause(frames)
    if demand is None and d is not None:
        from ..forecast import pipeline

        if (pipeline.cache_dir(month, store) / "forecasts.parquet").exists():
            from ..forecast.plan import demand_plan

            demand = demand_plan(month, district, store=store)
    if demand is not None and d is not None:
        alerts = result["alerts"]
        inv = None
        if len(alerts):  # analyse's estimate of the district (by=None), else from the store
            inv = result.get("inventory")
        if len(alerts) and inv is None:
            from .. import loaders

            chk = loaders.load_price_checks(district, month, store=store)
            od = loaders.load_orders(district, month, store=store,
                                     columns=["month", "license_id", "sku", "qty_supplied"])
            inv = market.social_inventory(chk, od, loaders.load_customers(district, store=store),
                                          month=month)
        frames.append(demand_findings(demand_plan_adjustment(demand, alerts, inv),
                                      district_code=code))
    return month_highlights(frames, district_code=code, top=top)
