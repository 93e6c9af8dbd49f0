"""The whole monthly work plan for one district (or 全市) and report month, in one call.

:func:`build` runs the loop of the 135 method on the data of :func:`kehu_lib.plan.data.load_inputs`:
analyse (states of this month), plan (next month's key shops, strategies, targets), evaluate (last
month's strategies and plan against this month), improve (review list, carry-over), and the key
accounts. The notebook shows its parts; :mod:`kehu_lib.plan.output` writes the managers' pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .. import config
from . import data as pdata
from . import evaluate, improve, indicators, key_accounts, priority, strategies

__all__ = ["PARAMS_FILE", "load_thresholds", "states_for", "build", "summary"]

PARAMS_FILE = config.PARAMS_DIR / "monthly_plan.yaml"


def load_thresholds(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Thresholds and settings of the plan: the module defaults updated with ``path``."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    params = data.get("parameters", data)
    known = {**indicators.DEFAULTS, **priority.DEFAULTS, "alpha": 0.05, "min_treated": 5}
    return {**known, **{k: v for k, v in params.items() if k in known}}


def states_for(inputs: Mapping[str, Any], month: str, thresholds: Mapping[str, Any]):
    """(values, states) of every shop of the city in ``month``."""
    checks = inputs["checks"]
    values = indicators.indicator_values(inputs["orders"], inputs["products"],
                                         inputs["customers"],
                                         checks[checks["month"] == month], month=month,
                                         thresholds=thresholds)
    return values, indicators.shop_states(values, thresholds=thresholds)


def _plan(values, states, library, visits, plan_month, thresholds):
    strat = strategies.assign_strategies(states, library)
    prio = priority.shop_priority(states, values, thresholds=thresholds)
    keys = priority.key_shops(prio, strat, visits, plan_month=plan_month, thresholds=thresholds)
    return strat, prio, keys


def build(inputs: Mapping[str, Any], *, district: str | None = None,
          thresholds: Mapping[str, Any] | None = None, library=None, store=None,
          build_forecasts: bool = False) -> dict:
    """The monthly work plan of report month ``inputs['month']``.

    Returns a dict of frames (district applied; codes are district codes):

    - ``values``, ``states``: this month's indicators and flags (:mod:`.indicators`)
    - ``strategies``: strategy combination per flagged shop; ``priority``; ``key_shops`` of the
      plan month with visits and strategies; ``targets`` per manager; ``targets_note``
    - ``evaluation`` (DiD per strategy given last month), ``coverage`` (last month's plan vs
      visits), ``forecast_error`` and ``forecast_note``
    - ``review``, ``carry_over``; ``key_accounts`` and ``relationship_note``
    - ``month``, ``plan_month``, ``place`` (Chinese district name or 全市)

    ``build_forecasts``: build the forecast module's cache of ``month`` when missing (else the
    targets fall back to :func:`kehu_lib.plan.data.fallback_forecast`, said in ``targets_note``).
    """
    t = {**load_thresholds(), **(thresholds or {})}
    library = library or strategies.load_library()
    month = inputs["month"]
    p = pd.Period(month, freq="M")
    prev, before = str(p - 1), str(p - 2)
    d = config.resolve_district(district)
    code = None if d is None else d.code

    def cut(df):
        return df if code is None or df is None or "district_code" not in df.columns else \
            df[df["district_code"] == code].reset_index(drop=True)

    visits = inputs["visits"]
    vis_now, vis_prev = visits[visits["month"] == month], visits[visits["month"] == prev]
    values, states = states_for(inputs, month, t)
    strat, prio, keys = _plan(values, states, library, vis_now, pdata.plan_month(month), t)
    # last month's plan (made from the data of two months ago) and its evaluation
    values_b, states_b = states_for(inputs, before, t)
    strat_b, _, keys_b = _plan(values_b, states_b, library, vis_prev, prev, t)
    given = strategies.parse_codes(vis_prev)
    # a district's strategies are judged on its own shops; the city's within districts
    ev = evaluate.evaluate_strategies(cut(given), cut(values_b), cut(values), library,
                                      alpha=float(t["alpha"]), min_treated=int(t["min_treated"]),
                                      covariates=("district_code",) if code is None else ())
    cov = evaluate.plan_coverage(cut(keys_b)[["license_id", "manager_id", "planned_visits"]],
                                 cut(strat_b)[["license_id", "code"]], cut(vis_prev), cut(given))
    # targets from the forecast (or the fallback) and last month's forecast error
    names = pdata.district_names()
    monthly = pdata.district_volume(inputs["orders"], inputs["products"])
    pm = pdata.plan_month(month)
    fc, note = pdata.load_forecasts(month, store=store, build=build_forecasts)
    vol = pdata.fallback_forecast(monthly, target_month=pm).to_dict()
    kb_fc = pdata.fallback_forecast(monthly, target_month=pm, value="key_brand_volume").to_dict()
    if fc is not None and (fc["month"] == pm).any():
        f = fc[fc["month"] == pm].set_index("district")["forecast"]
        vol = {c: float(f[n]) for c, n in names.items() if n in f.index}
        kb_fc = None  # key-brand targets follow the forecast by the managers' key-brand share
    targets = priority.manager_targets(inputs["orders"], inputs["products"], inputs["customers"],
                                       month=month, district_forecast=vol,
                                       key_brand_forecast=kb_fc, thresholds=t)
    prev_fc, fe_note = pdata.last_month_forecast(month, store=store)
    actual = monthly[monthly["month"] == month].assign(
        district=lambda x: x["district_code"].map(names)).rename(columns={"volume": "actual"})
    fe = evaluate.forecast_error(prev_fc, actual[["district", "actual"]])
    if d is not None:
        fe = fe[fe["district"] == d.name].reset_index(drop=True)
    rel, rel_note = key_accounts.relationship_score(vis_now)
    return {
        "month": month, "plan_month": pm, "place": config.CITY if d is None else d.name,
        "values": cut(values), "states": cut(states), "strategies": cut(strat),
        "priority": cut(prio), "key_shops": cut(keys), "targets": cut(targets),
        "targets_note": note, "evaluation": ev, "coverage": cov, "forecast_error": fe,
        "forecast_note": fe_note, "review": improve.review_list(ev),
        "carry_over": cut(improve.carry_over(states_b, states, strat_b)),
        "key_accounts": cut(key_accounts.key_account_list(inputs["orders"], inputs["customers"],
                                                          month=month)),
        "relationship": rel, "relationship_note": rel_note, "library": library,
    }


def summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Headline figures of a plan (numbers and strings) for ``kehu_lib.headlines.record``."""
    st, ev = plan["states"], plan["evaluation"]
    flagged = st.loc[st["flagged"], "license_id"].nunique()
    out: dict[str, Any] = {
        "month": plan["month"], "plan_month": plan["plan_month"], "place": plan["place"],
        "shops": int(st["license_id"].nunique()), "shops_flagged": int(flagged),
        "key_shops": int(len(plan["key_shops"])),
        "strategies_planned": int(len(plan["strategies"])),
        "strategies_on_key_shops": int(plan["strategies"]["license_id"].isin(
            set(plan["key_shops"]["license_id"])).sum()),
        "volume_target_cases": float(plan["targets"]["volume_target_cases"].sum()),
        "carry_over_shops": int(plan["carry_over"]["license_id"].nunique()),
        "strategies_to_review": int(plan["review"]["review"].sum()) if len(plan["review"]) else 0,
    }
    for _, r in ev.iterrows():
        k = r["code"].replace("-", "").lower()
        out[f"did_{k}"] = float(r["estimate"])
        out[f"did_{k}_se"] = float(r["se"])
        out[f"did_{k}_effect"] = bool(r["effect_found"])
    return out
