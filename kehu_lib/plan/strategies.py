"""The marketing-service strategy library (营销服务策略组合库, seed 000) as editable data.

The library lives in ``params/strategy_library.yaml``: the KZB strategies (code, name, category,
the indicator their effect is judged on, whether they are routine), the potential-needs table
(the eight state indicators → standard strategy combinations, i.e. the states each strategy
answers) and the direct-needs table. :func:`assign_strategies` maps the flagged states of
:func:`kehu_lib.plan.indicators.shop_states` to strategy combinations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from .. import config
from ..frames import isin
from .indicators import INDICATORS

__all__ = ["LIBRARY_FILE", "Library", "load_library", "assign_strategies", "parse_codes",
           "strategy_summary", "district_actions", "district_problem_keys",
           "shop_level_states", "DISTRICT_ACTION_SHARE"]

#: Default share of a district's judged shops above which a cause is a district-wide problem.
DISTRICT_ACTION_SHARE = 0.5

LIBRARY_FILE = config.PARAMS_DIR / "strategy_library.yaml"
CODE_RE = re.compile(r"^KZB-\d{2}$")


@dataclass(frozen=True)
class Library:
    """The strategy library: three tidy frames.

    - ``strategies``: code, name, category, evaluate_on, routine
    - ``potential``: indicator, indicator_zh, rank (position in the combination, 1 = first),
      code, name — the potential-needs table, one row per indicator and strategy
    - ``direct``: category, need, code, name — the direct-needs table, one row per need and
      strategy
    - ``causes``: cause, cause_zh, rank, code, name — the strategies answering a cause (the
      state's reason, e.g. ``overstock``), used before the indicator's combination
    - ``district_action_share``: share of a district's judged shops above which a cause is
      reported once as a district action (:func:`district_actions`)
    - ``survey_causes``: retailer-survey item code -> the cause a drop of it points to
    """

    strategies: pd.DataFrame
    potential: pd.DataFrame
    direct: pd.DataFrame
    causes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["cause", "cause_zh", "rank", "code", "name"]))
    district_action_share: float = DISTRICT_ACTION_SHARE
    survey_causes: dict = field(default_factory=dict)

    def for_cause(self, cause: str) -> list[str]:
        """The strategy codes answering ``cause``, in order (empty when the cause is unknown)."""
        return list(self.causes.loc[self.causes["cause"] == cause, "code"])

    @cached_property
    def _names(self) -> dict[str, str]:
        """code -> name (the first row of a code), read once: the managers' pages name
        thousands of strategies."""
        names: dict[str, str] = {}
        for c, n in zip(self.strategies["code"].tolist(), self.strategies["name"].tolist()):
            names.setdefault(c, str(n))
        return names

    @cached_property
    def _cause_names(self) -> dict[str, str]:
        """cause -> its Chinese name (the first row of a cause), read once."""
        names: dict[str, str] = {}
        for c, n in zip(self.causes["cause"].tolist(), self.causes["cause_zh"].tolist()):
            names.setdefault(c, str(n))
        return names

    def cause_name(self, cause: str) -> str:
        """Chinese name of a cause code (the code itself when unknown)."""
        return self._cause_names.get(cause, cause)

    def name(self, code: str) -> str:
        """Chinese name of a strategy code (the code itself when unknown)."""
        return self._names.get(code, code)

    def answers(self, code: str) -> list[str]:
        """The state indicators a strategy answers (from the potential-needs table)."""
        return list(self.potential.loc[self.potential["code"] == code, "indicator"])

    def label(self, codes) -> str:
        """'KZB-13 合理库存建议；KZB-12 缺货品牌替代宣扬' for a list of codes."""
        return "；".join(f"{c} {self.name(c)}" for c in codes)


def _check_code(code, where: str) -> str:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise ValueError(f"{where}: strategy code must look like 'KZB-13', got {code!r}")
    return code


def load_library(path: str | Path = LIBRARY_FILE) -> Library:
    """Read and check the strategy library (see ``params/strategy_library.yaml``).

    Raises ``ValueError`` naming the problem: a malformed code, a strategy used in a table but
    not defined, an unknown indicator, or an ``evaluate_on`` that is not a measured indicator.
    """
    data = config.read_yaml(path) or {}
    for key in ("strategies", "potential_needs", "direct_needs"):
        if key not in data:
            raise ValueError(f"{Path(path).name}: missing section {key!r}")
    from .evaluate import OUTCOMES

    rows = []
    for code, spec in data["strategies"].items():
        _check_code(code, f"{Path(path).name} strategies")
        ev = spec.get("evaluate_on")
        if ev is not None and ev not in OUTCOMES:
            raise ValueError(f"{Path(path).name}: {code} evaluate_on {ev!r} is not one of "
                             f"{sorted(OUTCOMES)}")
        rows.append((code, str(spec["name"]), str(spec.get("category", "")), ev,
                     bool(spec.get("routine", False))))
    strategies = pd.DataFrame(rows, columns=["code", "name", "category", "evaluate_on",
                                             "routine"])
    known = set(strategies["code"])
    names = dict(zip(strategies["code"], strategies["name"]))

    def codes_of(entry, where):
        out = []
        for c in entry.get("strategies") or []:
            _check_code(c, where)
            if c not in known:
                raise ValueError(f"{where}: strategy {c} is not defined under 'strategies'")
            out.append(c)
        return out

    prow = []
    for entry in data["potential_needs"]:
        ind = entry.get("indicator")
        if ind not in INDICATORS:
            raise ValueError(f"{Path(path).name} potential_needs: unknown indicator {ind!r}; "
                             f"expected one of {list(INDICATORS)}")
        for rank, c in enumerate(codes_of(entry, f"potential_needs {ind}"), start=1):
            prow.append((ind, str(entry.get("zh", INDICATORS[ind][0])), rank, c, names[c]))
    potential = pd.DataFrame(prow, columns=["indicator", "indicator_zh", "rank", "code", "name"])
    drow = []
    for entry in data["direct_needs"]:
        for c in codes_of(entry, f"direct_needs {entry.get('need')}"):
            drow.append((str(entry["category"]), str(entry["need"]), c, names[c]))
    direct = pd.DataFrame(drow, columns=["category", "need", "code", "name"])
    crow = []
    for entry in data.get("causes") or []:
        cause = entry.get("cause")
        if not isinstance(cause, str) or not cause:
            raise ValueError(f"{Path(path).name} causes: every entry needs a 'cause' code")
        for rank, c in enumerate(codes_of(entry, f"causes {cause}"), start=1):
            crow.append((cause, str(entry.get("zh", cause)), rank, c, names[c]))
    causes = pd.DataFrame(crow, columns=["cause", "cause_zh", "rank", "code", "name"])
    share = float(data.get("district_action_share", DISTRICT_ACTION_SHARE))
    if not 0 < share <= 1:
        raise ValueError(f"{Path(path).name}: district_action_share must be in (0, 1], "
                         f"got {share}")
    survey = {str(k): str(v) for k, v in (data.get("survey_causes") or {}).items()}
    unknown = sorted(set(survey.values()) - set(causes["cause"]))
    if unknown:
        raise ValueError(f"{Path(path).name} survey_causes: cause(s) {unknown} not in 'causes'")
    return Library(strategies, potential, direct, causes, share, survey)


def assign_strategies(states: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Strategy combination (策略组合) per shop from its flagged state indicators.

    For every flagged indicator of a shop: when the state carries a ``cause`` (see
    :func:`kehu_lib.plan.indicators.shop_states`) that the library's ``causes`` table lists, that
    cause's combination (overstock → KZB-13, KZB-10; a new product not carried → KZB-16);
    otherwise the indicator's standard combination of the potential-needs table. A strategy
    answering several flagged indicators is listed once, under its most severe indicator;
    strategies are ordered by that indicator's severity, then by their position in the
    combination.

    Returns
    -------
    DataFrame, one row per shop and strategy: license_id, district_code, manager_id, code, name,
    indicator (the state it answers first), indicator_zh, cause, cause_sku (codes; NA without a
    cause), severity, order (1 = first), reasons (all flagged indicators it answers, '、'-joined
    in Chinese).
    """
    cols = ["license_id", "district_code", "manager_id", "code", "name", "indicator",
            "indicator_zh", "cause", "cause_sku", "severity", "order", "reasons"]
    flagged = states[states["flagged"]]
    if flagged.empty:
        return pd.DataFrame(columns=cols)
    base = flagged[["license_id", "district_code", "manager_id", "indicator", "severity"]].copy()
    base["cause"] = (flagged["cause"].astype("object") if "cause" in flagged.columns
                     else None)
    base["cause_sku"] = (flagged["cause_sku"].astype("object") if "cause_sku" in flagged.columns
                         else None)
    known = base["cause"].isin(set(library.causes["cause"]))
    zh = library.potential.drop_duplicates("indicator").set_index("indicator")["indicator_zh"]
    by_cause = base[known].merge(library.causes[["cause", "rank", "code", "name"]], on="cause",
                                 how="inner")
    by_cause["indicator_zh"] = by_cause["indicator"].map(zh).fillna(by_cause["indicator"])
    by_ind = base[~known].merge(
        library.potential[["indicator", "indicator_zh", "rank", "code", "name"]],
        on="indicator", how="inner")
    m = pd.concat([by_cause, by_ind], ignore_index=True)
    m = m.sort_values(["license_id", "severity", "rank"], ascending=[True, False, True])
    # all indicators a (shop, strategy) answers, in the sorted order, each once
    seen: dict[tuple, dict] = {}
    for k, zh_ in zip(zip(m["license_id"].tolist(), m["code"].tolist()),
                      m["indicator_zh"].tolist()):
        seen.setdefault(k, {})[zh_] = None
    out = m.drop_duplicates(["license_id", "code"])
    out = out.assign(reasons=pd.Series(
        ["、".join(seen[k]) for k in zip(out["license_id"].tolist(), out["code"].tolist())],
        index=out.index, dtype="str"))
    out["order"] = out.groupby("license_id").cumcount() + 1
    for c in ("cause", "cause_sku"):
        out[c] = out[c].astype("string")
    return out.reset_index(drop=True)[cols]


def district_actions(states: pd.DataFrame, assigned: pd.DataFrame, library: Library, *,
                     share: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """District-wide problems (区域共性问题) taken out of the shop actions.

    A problem (indicator and cause; the indicator alone when there is no cause) flagged for more
    than ``share`` (default: the library's ``district_action_share``, 0.5) of a district's
    judged shops is one district problem — e.g. 458 of 570 shops with 订单合理性 is a 投放
    problem, not 458 shop problems. It is reported once, as a district action with its
    strategies (the cause's or the indicator's combination), and the strategies of those
    shops that answer only that problem are dropped from the shop actions.

    ``states``: :func:`kehu_lib.plan.indicators.shop_states`; ``assigned``:
    :func:`assign_strategies` of the same states.

    Returns
    -------
    (actions, shop_actions): actions = DataFrame district_code, indicator, cause, shops_flagged,
    shops_judged, share (0-1), codes (';'-joined strategy codes); shop_actions = ``assigned``
    without the rows answering a district problem only.
    """
    share = library.district_action_share if share is None else float(share)
    cols = ["district_code", "indicator", "cause", "shops_flagged", "shops_judged", "share",
            "codes"]
    st = states.copy()
    st["_cause"] = (st["cause"].astype("object") if "cause" in st.columns else None)
    st["_key"] = st["_cause"].where(st["_cause"].notna(), st["indicator"])
    judged = st.groupby(["district_code", "indicator"])["license_id"].nunique().rename(
        "shops_judged")
    fl = st[st["flagged"]]
    g = fl.groupby(["district_code", "indicator", "_key"], dropna=False).agg(
        shops_flagged=("license_id", "nunique"), cause=("_cause", "first")).reset_index()
    g = g.join(judged, on=["district_code", "indicator"])
    g["share"] = g["shops_flagged"] / g["shops_judged"]
    acts = g[g["share"] > share].copy()
    if acts.empty:
        return pd.DataFrame(columns=cols), assigned
    pot = library.potential.groupby("indicator")["code"].agg(list)

    def codes(r):
        c = library.for_cause(r["cause"]) if isinstance(r["cause"], str) else []
        return ";".join(c or pot.get(r["indicator"], []))

    acts["codes"] = acts.apply(codes, axis=1)
    acts["cause"] = acts["cause"].astype("string")
    # a shop strategy is dropped when every state it answers is, for this shop, a district
    # problem (same district, indicator and cause)
    covered = district_problem_keys(states, acts)
    zh_to_ind = {v[0]: k for k, v in INDICATORS.items()}
    if len(assigned):
        only = [all((lic, zh_to_ind.get(z, z)) in covered for z in str(r).split("、"))
                for lic, r in zip(assigned["license_id"].tolist(), assigned["reasons"].tolist())]
        shop = assigned[~pd.Series(only, index=assigned.index)].copy()
        shop["order"] = shop.groupby("license_id").cumcount() + 1
    else:
        shop = assigned
    return acts.reset_index(drop=True)[cols], shop.reset_index(drop=True)


def _problem_key(states: pd.DataFrame) -> pd.Series:
    """A state's problem: its cause, else its indicator (the key of :func:`district_actions`)."""
    cause = (states["cause"].astype("object") if "cause" in states.columns
             else pd.Series(None, index=states.index, dtype="object"))
    return cause.where(cause.notna(), states["indicator"])


def district_problem_keys(states: pd.DataFrame, actions: pd.DataFrame) -> set:
    """The (license_id, indicator) flags of ``states`` that are a district problem of
    ``actions`` (:func:`district_actions`: same district, indicator and cause)."""
    if actions.empty:
        return set()
    key = actions["cause"].astype("object")
    key = key.where(key.notna(), actions["indicator"])
    problem = set(zip(actions["district_code"].tolist(), actions["indicator"].tolist(),
                      key.tolist()))
    fl = states[states["flagged"].astype(bool)]
    # the columns as lists (a Python value per row without iterating the Arrow arrays)
    ind = fl["indicator"].tolist()
    return {(lic, i) for lic, i, d, k in zip(fl["license_id"].tolist(), ind,
                                              fl["district_code"].tolist(),
                                              _problem_key(fl).tolist())
            if (d, i, k) in problem}


def shop_level_states(states: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """``states`` with the district problems of ``actions`` no longer flagged shop by shop.

    A flag that is a district problem (:func:`district_problem_keys`) is answered once by the
    district action, so it neither raises the shop's priority nor appears in the key-shop list:
    ``flagged`` becomes False and ``severity`` 0 for it; every other row is unchanged.
    """
    covered = district_problem_keys(states, actions)
    if not covered:
        return states
    out = states.copy()
    hit = pd.Series([k in covered for k in zip(out["license_id"].tolist(),
                                                out["indicator"].tolist())],
                    index=out.index) & out["flagged"].astype(bool)
    out.loc[hit, "flagged"] = False
    out.loc[hit, "severity"] = 0.0
    return out


def parse_codes(visits: pd.DataFrame) -> pd.DataFrame:
    """Visit records exploded to one row per visit and strategy code (``kzb_codes`` split on ';').

    Returns
    -------
    DataFrame: visit_date, month, district_code, manager_id, license_id, code (visits without
    codes are dropped).
    """
    cols = ["visit_date", "month", "district_code", "manager_id", "license_id"]
    v = visits[[c for c in cols if c in visits.columns] + ["kzb_codes"]].dropna(
        subset=["kzb_codes"])
    v = v.assign(code=v["kzb_codes"].astype(str).str.split(";")).explode("code")
    v["code"] = v["code"].str.strip()
    return v[v["code"] != ""].drop(columns="kzb_codes").reset_index(drop=True)


def strategy_summary(assigned: pd.DataFrame, library: Library,
                     key_shops: pd.DataFrame | None = None,
                     shop_strategies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Shops per strategy (策略组合汇总) in the plan.

    ``shops`` = shops given the strategy (from :func:`assign_strategies`); ``key_shops`` = of
    which key shops of the month that carry it on their own list (when ``key_shops`` is given;
    with ``shop_strategies``, the shop actions of :func:`district_actions`, a strategy of a
    district action is not counted on the key shops); ``answers`` = the flagged states it answers
    there ('、'-joined).

    Returns
    -------
    DataFrame: code, name, shops, key_shops, answers; sorted by shops descending.
    """
    cols = ["code", "name", "shops", "key_shops", "answers"]
    if assigned.empty:
        return pd.DataFrame(columns=cols)
    keys = set(key_shops["license_id"]) if key_shops is not None else set()
    if shop_strategies is not None:
        own = set(zip(shop_strategies["license_id"].tolist(), shop_strategies["code"].tolist()))
        on_key = [lic in keys and (lic, c) in own
                  for lic, c in zip(assigned["license_id"].tolist(), assigned["code"].tolist())]
    else:
        on_key = isin(assigned["license_id"], keys)
    g = assigned.assign(_k=on_key).groupby("code").agg(
        shops=("license_id", "nunique"), key_shops=("_k", "sum"),
        answers=("reasons", lambda s: "、".join(dict.fromkeys("、".join(s).split("、")))))
    g = g.reset_index()
    g.insert(1, "name", g["code"].map(library.name))
    return g.sort_values(["shops", "code"], ascending=[False, True], ignore_index=True)[cols]
