"""The whole monthly work plan for one district (or 全市) and report month, in one call.

:func:`build` runs the loop of the 135 method on the data of :func:`kehu_lib.plan.data.load_inputs`:
analyse (states of this month), plan (next month's key shops, strategies, targets), evaluate (last
month's strategies and plan against this month), improve (review list, carry-over), and the key
accounts. The city-wide part (:mod:`.shared`) does not depend on the district; :func:`build_month`
reads it from the month's cache, so the batch computes it once for all districts. The notebook shows its parts; :mod:`kehu_lib.plan.output` writes the managers' pages.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from .. import config, loaders
from ..frames import isin
from . import data as pdata
from . import evaluate, improve, key_accounts, shared, strategies
from .shared import states_for
from .thresholds import PARAMS_FILE, load_thresholds

__all__ = ["PARAMS_FILE", "load_thresholds", "states_for", "build", "build_month", "summary",
           "section_facts", "sku_names", "findings_part"]

def build(inputs: Mapping[str, Any], *, district: str | None = None,
          thresholds: Mapping[str, Any] | None = None, library=None, store=None,
          build_forecasts: bool = False) -> dict:
    """The monthly work plan of report month ``inputs['month']`` from in-memory inputs.

    Returns a dict of frames (district applied; codes are district codes):

    - ``values``, ``states``: this month's indicators and flags (:mod:`.indicators`)
    - ``strategies``: strategy combination per flagged shop; ``priority``; ``key_shops`` of the
      plan month with visits and strategies; ``targets`` per manager; ``targets_note``
    - ``evaluation`` (DiD per strategy given last month), ``coverage`` (last month's plan vs
      visits), ``forecast_error`` and ``forecast_note``
    - ``review``, ``carry_over``; ``key_accounts`` and ``relationship_note``
    - ``market_alerts`` (the market report's alerts) and ``alert_strategies`` (KZB-13 / KZB-10
      for the shops carrying an alerted SKU); ``satisfaction_actions`` (district strategies for
      a significant satisfaction drop, e.g. R02 → KZB-10, KZB-15, KZB-06)
    - ``district_actions`` (a problem shared by most of a district's shops, once) and
      ``shop_strategies`` (the strategies without those); ``execution`` (策略执行率 per
      strategy), ``advice`` (改进建议 codes, :func:`kehu_lib.plan.improve.improvement_advice`),
      ``execution_flags`` (managers whose plan was not carried out)
    - ``month``, ``plan_month``, ``place`` (Chinese district name or 全市)

    ``build_forecasts``: build the forecast module's cache of ``month`` when missing (else the
    targets fall back to :func:`kehu_lib.plan.data.fallback_forecast`, said in ``targets_note``).
    """
    t = {**load_thresholds(), **(thresholds or {})}
    library = library or strategies.load_library()
    city = shared.city_part(inputs, t, library, store=store, build_forecasts=build_forecasts)
    return _district_plan(city, inputs["visits"], month=inputs["month"], district=district,
                          thresholds=t, library=library, store=store)


def build_month(month: str, district: str | None = None, *,
                thresholds: Mapping[str, Any] | None = None, store=None,
                build_forecasts: bool = False) -> dict:
    """:func:`build` for a report month of the store, sharing the city-wide part.

    The city-wide part comes from :func:`kehu_lib.plan.shared.city_plan` (computed once per month
    and thresholds, then read by every district's run); only the month's and last month's visits
    are read here. Same result as ``build(load_inputs(month), ...)``.
    """
    t = {**load_thresholds(), **(thresholds or {})}
    d = config.resolve_district(district)
    # the frames the plan of one district (or the city) reads: not the states of two months
    # ago, nor the other kind of evaluation
    skip = {"values_b", "states_b", "evaluations" if d is None else "city_evaluation"}
    city = shared.city_plan(month, t, store=store, build_forecasts=build_forecasts,
                            frames=tuple(f for f in shared.FRAMES if f not in skip))
    p = pd.Period(month, freq="M")
    visits = loaders.load_visits(None, [str(p - 1), month], store=store)
    return _district_plan(city, visits, month=month, district=district, thresholds=t,
                          library=strategies.load_library(), store=store)


def findings_part(month: str, district: str | None = None, *,
                  thresholds: Mapping[str, Any] | None = None, store=None) -> dict:
    """The part of :func:`build_month` that the month's findings read
    (:func:`kehu_lib.plan.crossreport.highlights_for`): ``alert_strategies``,
    ``satisfaction_actions``, ``district_actions``, ``cause_strategies``, ``evaluation`` and
    ``library``, the same
    frames as :func:`build_month`'s, from only the city-wide frames they need (read from the
    cache when current) and last month's visits."""
    t = {**load_thresholds(), **(thresholds or {})}
    d = config.resolve_district(district)
    code = None if d is None else d.code
    # the evaluations are part of the city-wide plan (a district's tested as one family with
    # the other districts', the city's pooled): read from its cache when current
    city = shared.city_plan(month, t, store=store, frames=(
        "alert_strategies", "district_actions", "cause_strategies",
        "city_evaluation" if code is None else "evaluations"))
    library = strategies.load_library()
    ev = _evaluation(city, code)
    return {
        "alert_strategies": _cut(city["alert_strategies"], code),
        "satisfaction_actions": _cut(satisfaction_actions(month, library, store=store), code),
        "district_actions": _cut(city["district_actions"], code),
        "cause_strategies": _cut(city["cause_strategies"], code),
        "evaluation": ev,
        "library": library,
    }


def _cut(df, code):
    """Rows of district ``code`` (all when None or the frame has no district)."""
    return df if code is None or df is None or "district_code" not in df.columns else \
        df[df["district_code"] == code].reset_index(drop=True)


def _evaluation(city, code):
    """Strategies of last month judged, from the city-wide part: a district's on its own shops
    (``evaluations``, tested as one family with the other districts'), the city's pooled over
    the districts (``city_evaluation``, district fixed effects)."""
    if code is None:
        return city["city_evaluation"]
    ev = city["evaluations"]
    return ev[ev["district_code"] == code].drop(columns="district_code").reset_index(drop=True)


def _district_plan(city: Mapping[str, Any], visits: pd.DataFrame, *, month: str,
                   district: str | None, thresholds: Mapping[str, Any], library,
                   store) -> dict:
    """The plan of one district (or 全市) from the city-wide part."""
    t = thresholds
    prev = str(pd.Period(month, freq="M") - 1)
    d = config.resolve_district(district)
    code = None if d is None else d.code

    def cut(df):
        return _cut(df, code)

    vis_now, vis_prev = visits[visits["month"] == month], cut(visits[visits["month"] == prev])
    given = strategies.parse_codes(vis_prev)  # the place's visits only: parsed row by row
    ev = _evaluation(city, code)
    keys_b, strat_b = cut(city["key_shops_b"]), cut(city["strategies_b"])
    cov = evaluate.plan_coverage(keys_b[["license_id", "manager_id", "planned_visits"]],
                                 strat_b[["license_id", "code"]], vis_prev, given)
    # last month's forecast error
    names = pdata.district_names()
    monthly = city["district_volume"]
    prev_fc, fe_note = pdata.last_month_forecast(month, store=store)
    actual = monthly[monthly["month"] == month].assign(
        district=lambda x: x["district_code"].map(names)).rename(columns={"volume": "actual"})
    fe = evaluate.forecast_error(prev_fc, actual[["district", "actual"]])
    if d is not None:
        fe = fe[fe["district"] == d.name].reset_index(drop=True)
    rel, rel_note = key_accounts.relationship_score(vis_now)
    sat = satisfaction_actions(month, library, store=store)
    execution = evaluate.strategy_execution(strat_b[["license_id", "code"]], given)
    return {
        "market_alerts": cut(city["market_alerts"]),
        "alert_strategies": cut(city["alert_strategies"]),
        "satisfaction_actions": cut(sat),
        "district_actions": cut(city["district_actions"]),
        "cause_strategies": cut(city["cause_strategies"]),
        "shop_strategies": cut(city["shop_strategies"]), "week_plan": cut(city["week_plan"]),
        "execution": execution,
        "advice": improve.improvement_advice(ev, execution, min_treated=int(t["min_treated"])),
        "execution_flags": improve.execution_flags(cov),
        "month": month, "plan_month": pdata.plan_month(month),
        "place": config.CITY if d is None else d.name,
        "values": cut(city["values"]), "states": cut(city["states"]),
        "strategies": cut(city["strategies"]), "priority": cut(city["priority"]),
        "key_shops": cut(city["key_shops"]), "targets": cut(city["targets"]),
        "targets_note": city["targets_note"], "evaluation": ev, "coverage": cov,
        "forecast_error": fe, "forecast_note": fe_note, "review": improve.review_list(ev),
        "carry_over": cut(city["carry_over"]), "key_accounts": cut(city["key_accounts"]),
        "relationship": rel, "relationship_note": rel_note, "library": library,
        "sku_names": sku_names(store),
    }


def sku_names(store=None) -> dict[str, str]:
    """SKU code -> product name (规格名称), for the problems that name a product."""
    prod = loaders.load_products(store=store, columns=["sku", "name"])
    return dict(zip(prod["sku"].astype(str), prod["name"].astype(str)))


def satisfaction_actions(month: str, library, *, store=None) -> pd.DataFrame:
    """District strategies for the month's significant retailer-satisfaction drops (环比 or
    同比; :func:`kehu_lib.plan.crossreport.satisfaction_actions`), city-wide; empty when the
    store has no survey."""
    from ..findings import month_satisfaction_drops
    from .crossreport import satisfaction_actions as actions

    # the city's drops: from the batch's precompute cache when current, else computed
    drops = month_satisfaction_drops(None, month, store=store)
    return actions(drops.assign(significant=True), library)


def summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Headline figures of a plan (numbers and strings) for ``kehu_lib.headlines.record``."""
    st, ev = plan["states"], plan["evaluation"]
    flagged = st.loc[st["flagged"], "license_id"].nunique()
    out: dict[str, Any] = {
        "month": plan["month"], "plan_month": plan["plan_month"], "place": plan["place"],
        "shops": int(st["license_id"].nunique()), "shops_flagged": int(flagged),
        "key_shops": int(len(plan["key_shops"])),
        "strategies_planned": int(len(plan["strategies"])),
        # the strategies on the key shops' own lists (a district action is planned once)
        "strategies_on_key_shops": int(isin(plan["shop_strategies"]["license_id"],
                  set(plan["key_shops"]["license_id"])).sum()),
        # 箱 to 0.1 as shown (a forecast: see reports.sales_forecast)
        "volume_target_cases": round(float(plan["targets"]["volume_target_cases"].sum()), 1),
        "carry_over_shops": int(plan["carry_over"]["license_id"].nunique()),
        "strategies_to_review": int(plan["review"]["review"].sum()) if len(plan["review"]) else 0,
    }
    for _, r in ev.iterrows():
        k = r["code"].replace("-", "").lower()
        out[f"did_{k}"] = float(r["estimate"])
        out[f"did_{k}_se"] = float(r["se"])
        out[f"did_{k}_effect"] = bool(r["effect_found"])
    return out


def _top(frame: pd.DataFrame, by: str) -> dict[str, Any] | None:
    if frame is None or frame.empty:
        return None
    return frame.sort_values(by, ascending=False, kind="stable").iloc[0].to_dict()


def section_facts(plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The numbers and codes each section's conclusion and 建议 are written from
    (:func:`kehu_lib.present.plan_text.section_summary`), per section id of the plan page.

    - ``states``: shops, flagged (shops with at least one problem), top (indicator, flagged,
      share of the most common problem), district (the district actions: indicator, cause,
      share, shops, codes)
    - ``plan``: managers, key_shops, top_strategy (code, key shops), target_cases (Σ 箱),
      alerts (SKU, shops, codes of the market alerts' strategies), satisfaction (item, codes)
    - ``evaluation``: judged, counts by verdict code, the codes judged negative / effective
    - ``execution``: managers, mean strategy_coverage and visit_coverage, flagged managers,
      forecast ape of last month
    - ``improve``: review (strategies to review), carry (shops carried over), advice counts
    - ``key_accounts``: accounts, declining (trend < 0), the largest decline's licence
    """
    from .indicators import indicator_summary

    st = plan["states"]
    summ = indicator_summary(st)
    shops = int(st["license_id"].nunique())
    flagged = int(st.loc[st["flagged"], "license_id"].nunique())
    top = _top(summ[summ["flagged"] > 0], "flagged")
    acts = plan.get("district_actions", pd.DataFrame())
    facts: dict[str, dict[str, Any]] = {"states": {
        "shops": shops, "flagged": flagged,
        "top": None if top is None else {"indicator": top["indicator"],
                                         "flagged": int(top["flagged"]),
                                         "share": float(top["share"])},
        "district": [{"indicator": r["indicator"], "cause": r["cause"] if isinstance(
            r["cause"], str) else None, "share": float(r["share"]),
            "shops": int(r["shops_flagged"]), "codes": str(r["codes"])}
            for _, r in acts.iterrows()]}}

    ks, ss = plan["key_shops"], plan.get("shop_strategies", pd.DataFrame())
    on_keys = ss[isin(ss["license_id"], set(ks["license_id"]))] if len(ss) else ss
    ts = (on_keys.groupby("code")["license_id"].nunique().sort_values(ascending=False,
                                                                      kind="stable")
          if len(on_keys) else pd.Series(dtype="int64"))
    al = plan.get("alert_strategies", pd.DataFrame())
    alerts = [] if al is None or al.empty else [
        {"sku": k, "shops": int(g["license_id"].nunique()),
         "codes": ";".join(dict.fromkeys(g["code"]))} for k, g in al.groupby("sku")]
    sat = plan.get("satisfaction_actions", pd.DataFrame())
    facts["plan"] = {
        "managers": int(ks["manager_id"].nunique()), "key_shops": int(len(ks)),
        "top_strategy": None if ts.empty else {"code": ts.index[0], "shops": int(ts.iloc[0])},
        "target_cases": float(plan["targets"]["volume_target_cases"].sum()),
        "alerts": alerts,
        "satisfaction": [] if sat is None or sat.empty else [
            {"item": r["item"], "codes": r["codes"]} for _, r in sat.iterrows()]}

    ev = plan["evaluation"]
    verdicts = ev["verdict_code"].value_counts().to_dict() if len(ev) else {}
    facts["evaluation"] = {
        "judged": int(len(ev)), "verdicts": {k: int(v) for k, v in verdicts.items()},
        "negative": [] if ev.empty else [(r["code"], r["outcome"]) for _, r in
                                         ev[ev["verdict_code"] == "negative"].iterrows()],
        "effective": [] if ev.empty else [(r["code"], r["outcome"]) for _, r in
                                          ev[ev["verdict_code"] == "effective"].iterrows()]}

    cov, fl = plan["coverage"], plan["execution_flags"]
    fe = plan["forecast_error"]
    facts["execution"] = {
        "managers": int(len(cov)),
        "strategy_coverage": (float(cov["executed_strategies"].sum()
                                    / cov["planned_strategies"].sum())
                              if len(cov) and cov["planned_strategies"].sum() > 0 else None),
        "visit_coverage": (float(cov["recorded_visits"].sum() / cov["planned_visits"].sum())
                           if len(cov) and cov["planned_visits"].sum() > 0 else None),
        "flagged": {c: int((fl["code"] == c).sum()) for c in fl["code"].unique()}
        if len(fl) else {},
        "ape": float(fe["ape"].iloc[0]) if len(fe) == 1 and "ape" in fe.columns else None}

    adv = plan["advice"]
    facts["improve"] = {
        "review": int(plan["review"]["review"].sum()) if len(plan["review"]) else 0,
        "carry": int(plan["carry_over"]["license_id"].nunique()),
        "advice": adv["advice"].value_counts().to_dict() if len(adv) else {}}

    ka = plan["key_accounts"]
    down = ka[ka["trend"] < 0] if len(ka) else ka
    facts["key_accounts"] = {"accounts": int(len(ka)), "declining": int(len(down)),
                             "yoy_down": int((ka["yoy"] < 0).sum()) if len(ka) else 0}
    return facts
