"""Findings of the market report (本月要点): generated Chinese sentences with computed numbers.

:func:`load_inputs` reads one district's (or the city's) slice for a report month;
:func:`analyse` computes the frames the findings need; :func:`compose` turns them into sentences
ordered by importance. Every threshold comes from ``params/market_report.yaml`` (passed in as
``thresholds``; :data:`DEFAULTS` only fills gaps).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import aggregates, config, frames, loaders
from .metrics import brands, customers, definitions, drivers, market, sales

__all__ = ["DEFAULTS", "load_thresholds", "report_months", "load_inputs", "key_brand_loss", "new_product_status",
           "satisfaction_drops", "survey_months", "satisfaction_cache_dir",
           "satisfaction_fingerprint", "month_satisfaction_drops", "ensure_month_satisfaction",
           "analyse", "compose", "findings_for"]

PARAMS_FILE = config.PARAMS_DIR / "market_report.yaml"
#: The thresholds of the findings; their values live in params/market_report.yaml only.
THRESHOLD_KEYS = ("price_index_alert", "stock_to_sales_alert", "min_checks", "alert_z",
                  "key_brand_loss_alert", "key_brand_loss_min_baseline", "key_brand_min_shops",
                  "key_brand_min_share", "key_brand_current_months", "new_product_tracking_months",
                  "new_product_min_weeks", "new_product_reach_alert", "structure_change_alert",
                  "volume_change_alert", "margin_target")
#: Order columns the report reads (the dates only for the new products' weekly reach).
ORDER_COLUMNS = ["month", "district_code", "license_id", "sku", "qty_ordered", "qty_supplied",
                 "amount"]


def load_thresholds(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """The thresholds of the report, read from ``path`` (params/market_report.yaml).

    A threshold missing from the file is an error naming it (the YAML is their one home).
    """
    return config.yaml_params(path, THRESHOLD_KEYS, what="thresholds")


#: The thresholds of params/market_report.yaml (used where a caller passes none).
DEFAULTS: dict[str, Any] = load_thresholds()


def _place(district: str | None) -> tuple[str, str | None]:
    d = config.resolve_district(district)
    return (config.CITY, None) if d is None else (d.name, d.code)


def report_months(month: str, new_product_months: int = DEFAULTS["new_product_tracking_months"]
                  ) -> list[str]:
    """The months of the ledger the report reads, oldest first: ``month`` − 13 and − 12 (同比,
    the 1-2月 comparison) and the last max(7, ``new_product_months`` + 1) months (环比, the
    key-brand change against months −6..−4, the new products since their launch, 停止订货
    over 3 months)."""
    p = pd.Period(month, freq="M")
    recent = max(7, int(new_product_months) + 1)
    back = sorted({13, 12, *range(recent)}, reverse=True)
    return [str(p - k) for k in back]


def load_inputs(district: str | None, month: str, *, store=None,
                new_product_months: int = DEFAULTS["new_product_tracking_months"]) -> dict[str, Any]:
    """The report's data slice for one district (or 全市) and month.

    - ``orders``: the monthly ledger (:func:`kehu_lib.aggregates.shop_sku_month`: one row per
      month × shop × SKU with the summed qty_ordered, qty_supplied, amount and the number of
      order ``lines``; summed by DuckDB in the store) of the months the report reads
      (:func:`report_months`: the last 7 — 环比, the key-brand baseline, new products, 停止
      订货 — and the same month and the month before it a year earlier — 同比 and the 1-2月
      comparison). Every figure sums these, counts shops or tests a quantity > 0, so the
      ledger gives the figures of the order lines at a third of the rows; the 13-month trends
      are summed in the store (:func:`kehu_lib.aggregates.sku_month`, ``shop_month``).
    - ``new_lines``: order lines (with dates) of the new products since their launch
    - ``checks``: the month's price checks; ``customers``; ``products``
    - ``survey``: the retailer survey of the month, the month before and the same month last
      year (satisfaction drops, 同比 and 环比; None when the store has none)
    - ``satisfaction``: the place's :func:`satisfaction_drops` from the batch's cache when it is
      current (:func:`month_satisfaction_drops`), else None (:func:`analyse` computes them from
      ``survey``)
    """
    place, _ = _place(district)
    p = pd.Period(month, freq="M")
    products = loaders.load_products(store=store)
    new = brands.new_products(products, month=month, within_months=new_product_months)
    lines = None
    if len(new):
        first = pd.Timestamp(new["launch_date"].min()).to_period("M")
        lines = loaders.load_orders(district, (str(first), month), skus=list(new["sku"]),
                                    columns=["order_date", "month", "license_id", "sku",
                                             "qty_ordered", "qty_supplied"], store=store)
    try:
        survey = loaders.load_retailer_survey(district, survey_months(month), store=store)
    except FileNotFoundError:
        survey = None
    return {
        "place": place, "month": month, "products": products, "new_lines": lines,
        "survey": survey,
        "satisfaction": month_satisfaction_drops(district, month, store=store, compute=False),
        "orders": aggregates.shop_sku_month(district, report_months(month, new_product_months),
                                            columns=ORDER_COLUMNS + ["lines"], store=store),
        "checks": loaders.load_price_checks(district, month, store=store),
        "customers": loaders.load_customers(district, store=store),
    }


def key_brand_loss(orders: pd.DataFrame, products: pd.DataFrame, cust: pd.DataFrame, *,
                   month: str, thresholds: Mapping[str, Any] | None = None,
                   by_district: bool = False) -> pd.DataFrame:
    """Shops losing key-brand volume against their peers (重点品牌流失户).

    The shop's key-brand change ratio (:func:`~kehu_lib.metrics.customers.key_brand_change`,
    last two months vs months −6..−4, relative to its other brands) is compared with the median of
    its peers (同业态/商圈/档位, within the district); ``gap_ratio`` ≤ ``key_brand_loss_alert``
    (−0.40: 40% below peers) flags the shop.

    Returns
    -------
    All judged shops with baseline, current, change_ratio, peer_median, gap_ratio, flagged.
    """
    t = {**DEFAULTS, **(thresholds or {})}
    ch = customers.key_brand_change(orders, products, month=month,
                                    current_months=int(t["key_brand_current_months"]),
                                    min_baseline=t["key_brand_loss_min_baseline"])
    attrs = ["license_id", "district_code", "manager_id", "business_format", "trade_area", "tier"]
    ch = ch.merge(cust[[c for c in attrs if c in cust.columns]], on="license_id", how="inner")
    keys = (["district_code"] if by_district else []) + list(customers.DEFAULT_PEER_KEYS)
    fallback = [keys[:i] for i in range(len(keys) - 1, 0 if by_district else -1, -1)]
    comp = customers.peer_comparison(ch, value="change_ratio", peer_keys=keys, fallback=fallback)
    comp["flagged"] = comp["gap_ratio"] <= t["key_brand_loss_alert"]
    return comp.sort_values("gap_ratio", ignore_index=True)


def new_product_status(lines: pd.DataFrame | None, orders: pd.DataFrame, products: pd.DataFrame,
                       cust: pd.DataFrame, *, month: str,
                       thresholds: Mapping[str, Any] | None = None,
                       by: str | None = None) -> pd.DataFrame:
    """Reach of each new product at the end of ``month`` (新品铺市进度).

    For SKUs launched within ``new_product_tracking_months`` months: weeks since launch (completed weeks,
    :func:`kehu_lib.metrics.definitions.weeks_since_launch`), 订购面 and 重购率 at the last week
    (see :func:`~kehu_lib.metrics.brands.new_product_reach`; ``lines`` are the new products'
    order lines with dates, ``orders`` the monthly totals that define the active shops: the
    month's 有效户数, :func:`kehu_lib.metrics.definitions.effective_shops`), and
    ``stalled`` = weeks ≥ ``new_product_min_weeks`` and reach < ``new_product_reach_alert``.

    Returns
    -------
    DataFrame: [group], sku, name, launch_date, week, active_shops, reach, repeat_rate, stalled.
    """
    t = {**DEFAULTS, **(thresholds or {})}
    new = brands.new_products(products, month=month, within_months=int(t["new_product_tracking_months"]))
    end = pd.Period(month, freq="M").end_time.normalize()
    rows = []
    if len(new):
        # the month's active shops and the new SKUs' ledger rows, once for all new products
        cur = frames.rows_of(orders, "month", [month])  # a slice of a ledger sorted by month
        active = cur.loc[cur["qty_supplied"] > 0, "license_id"].unique()
        new_orders = orders[frames.isin(orders["sku"], list(new["sku"]))]
    for _, prod in new.iterrows():
        launch = pd.Timestamp(prod["launch_date"])
        sku_lines = lines if lines is not None else orders.iloc[0:0]
        r = brands.new_product_reach(sku_lines, cust, sku=prod["sku"], launch_date=launch, by=by,
                                     end_date=end, active=active)
        if r.empty:
            continue
        last = r[r["week"] == r["week"].max()].assign(sku=prod["sku"], name=prod["name"],
                                                      launch_date=prod["launch_date"])
        # 重购率 of the month (see definitions.repeat_rate), not the cumulative rate of the
        # reach table, which is ~100% for any product a few weeks after its launch
        # repeat_rate reads only the SKU's rows
        od = new_orders if by is None or by in new_orders.columns else new_orders.merge(
            cust[["license_id", by]], on="license_id", how="left")
        rep = definitions.repeat_rate(od, sku=prod["sku"], month=month, by=by)
        rate = (rep.set_index(by)["repeat_rate"] if by is not None
                else pd.Series({"全部": rep["repeat_rate"].iloc[0]}))
        last = last.assign(repeat_rate=last["group"].map(rate).astype("float64"))
        rows.append(last)
    cols = ["group", "sku", "name", "launch_date", "week", "active_shops", "reach", "repeat_rate",
            "stalled"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    out["stalled"] = (out["week"] >= t["new_product_min_weeks"]) & (
        out["reach"] < t["new_product_reach_alert"])
    return out[cols]


def analyse(inputs: Mapping[str, Any], thresholds: Mapping[str, Any] | None = None, *,
            city_inventory: bool = False) -> dict:
    """Everything :func:`compose` needs, from :func:`load_inputs` output.

    ``city_inventory``: on the city page, also the city-wide :func:`~kehu_lib.metrics.market.
    social_inventory` (over all shops, not by district) as ``inventory_city``, from the same
    preparation of the month's checks and rows as the districts' ``inventory``."""
    t = {**DEFAULTS, **(thresholds or {})}
    month, od, prod = inputs["month"], inputs["orders"], inputs["products"]
    cust, chk = inputs["customers"], inputs["checks"]
    city = inputs["place"] == config.CITY
    by = "district_code" if city else None
    p = pd.Period(month, freq="M")
    out: dict[str, Any] = {"place": inputs["place"], "month": month, "thresholds": t}
    out["headline"] = sales.headline(od, prod, month=month)
    if p.month in (1, 2) and sales.festival_moved(p.year):
        out["jan_feb"] = sales.jan_feb_comparison(od, prod, year=p.year) if p.month == 2 else None
    pi = market.price_index(chk, prod, by=by)
    bys = [by, None] if city and city_inventory else [by]
    inv, *whole = market.social_inventories(chk, od, cust, prod, month=month, bys=bys)
    out["inventory"] = inv  # also the market report's table and the demand plan's check
    if whole:
        out["inventory_city"] = whole[0]  # the city page's table (over all shops)
    out["alerts"] = market.market_alerts(pi, inv, thresholds=t, by=by)
    out["key_brand"] = key_brand_loss(od, prod, cust, month=month, thresholds=t, by_district=city)
    out["new_products"] = new_product_status(inputs.get("new_lines"), od, prod, cust, month=month,
                                             thresholds=t, by="district_code")
    shops = customers.shop_indicators(od, prod, cust, month=month, price_checks=chk)
    out["shops"] = shops  # the market report's customer section reads them too
    out["margin"] = customers.margin_summary(shops, target=t["margin_target"])
    out["sku_margins"] = definitions.sku_margins(chk, prod, target=t["margin_target"], by=by)
    # what explains the change (drivers of 同比 and 环比, with the flagged shop groups)
    groups = {c: drivers.flagged_shop_groups(od, prod, cust, month=month, comparison=c,
                                             thresholds=t, key_brand=out["key_brand"])
              for c in drivers.COMPARISONS}
    out["drivers"] = drivers.change_drivers(od, prod, month=month, groups=groups)
    out["explanation"] = drivers.explain_change(out["drivers"])
    sat = inputs.get("satisfaction")
    out["satisfaction"] = (sat if sat is not None
                           else satisfaction_drops(inputs.get("survey"), month=month))
    return out


_SAT_COLUMNS = ["comparison", "district_code", "item", "diff", "ci_low", "ci_high", "p_adj"]


def satisfaction_drops(survey: pd.DataFrame | None, *, month: str) -> pd.DataFrame:
    """Significant drops of retailer satisfaction (满意度显著下降) per district and item:
    :func:`kehu_lib.metrics.survey_change.survey_changes` (Welch, Holm-adjusted within each
    comparison) rows with ``significant`` and a negative ``diff`` (points, 0-100); a drop seen
    in both 环比 and 同比 is kept once (环比 first).

    Returns
    -------
    DataFrame: comparison, district_code, item, diff, ci_low, ci_high, p_adj (no drop: an
    empty frame of these columns).
    """
    cols = _SAT_COLUMNS
    if survey is None or survey.empty or month not in set(survey["month"]):
        return pd.DataFrame(columns=cols)
    from .metrics.survey_change import survey_changes

    return _drops(survey_changes(survey, month=month))


def _drops(ch: pd.DataFrame) -> pd.DataFrame:
    """The drops of :func:`satisfaction_drops` among the changes ``ch`` of one place."""
    cols = _SAT_COLUMNS
    if ch.empty or "significant" not in ch.columns:
        return pd.DataFrame(columns=cols)
    ch = ch[ch["significant"] & (ch["diff"] < 0)].copy()
    ch["_o"] = (ch["comparison"] != "mom").astype(int)
    if ch.empty:  # one empty frame whatever the path (the cache returns the same)
        return pd.DataFrame(columns=cols)
    ch = ch.sort_values(["district_code", "item", "_o"]).drop_duplicates(["district_code", "item"])
    return ch.reset_index(drop=True)[cols]


# The satisfaction drops of every place of a month (the city's, over all districts, and each
# district's own, each place its own Holm family) are computed once by the batch's precompute
# and cached in ``<store>/derived/satisfaction/month=YYYY-MM/`` (``drops.parquet`` with a
# ``place`` column: "" for the city, else the district code; ``fingerprint.txt``), written
# atomically like the monthly ledger (:mod:`kehu_lib.aggregates`). The fingerprint hashes the
# code the drops depend on and the retailer-survey files of the months they read, so a changed
# survey or test never reads stale drops; without a current cache the callers compute.

#: Modules whose code the cached drops depend on (this one: :func:`satisfaction_drops`).
_SATISFACTION_CODE = (Path(__file__), Path(__file__).parent / "metrics" / "survey_change.py",
                      Path(__file__).parent / "metrics" / "survey.py")


def survey_months(month: str) -> list[str]:
    """The retailer-survey months the drops of ``month`` read: the same month last year, the
    month before and ``month`` (同比 and 环比)."""
    p = pd.Period(month, freq="M")
    return [str(p - 12), str(p - 1), str(p)]


def _store_root(store) -> Path:
    return Path(store).resolve() if store is not None else config.store_dir()


def satisfaction_cache_dir(month: str, store=None) -> Path:
    """Folder of one month's cached satisfaction drops."""
    return _store_root(store) / "derived" / "satisfaction" / f"month={pd.Period(month, 'M')}"


def satisfaction_fingerprint(month: str, store=None) -> str:
    """Hash of what the drops of ``month`` depend on: their code and the survey files read."""
    from .digest import update_with_files

    root = _store_root(store)
    h = hashlib.sha256()
    for src in _SATISFACTION_CODE:
        h.update(src.read_bytes())
    files = [f for m in survey_months(month)
             for f in sorted((root / "retailer_survey" / f"month={m}").glob("*.parquet"))]
    update_with_files(h, root, files)
    return h.hexdigest()[:16]


def _read_drops(month: str, store) -> pd.DataFrame | None:
    folder = satisfaction_cache_dir(month, store)
    try:
        if ((folder / "fingerprint.txt").read_text(encoding="utf-8").strip()
                != satisfaction_fingerprint(month, store)):
            return None
        return pd.read_parquet(folder / "drops.parquet")
    except (OSError, ValueError):  # missing or half-removed folder: compute
        return None


def month_satisfaction_drops(district: str | None, month: str, *, store=None,
                             compute: bool = True) -> pd.DataFrame | None:
    """:func:`satisfaction_drops` of ``district`` (None / 全市: the city, all districts in one
    family) for ``month``, from the batch's cache when current; else computed from the store
    (``compute=False``: None). Same frame as the direct computation on the place's survey."""
    _, code = _place(district)
    cached = _read_drops(month, store)
    if cached is not None:
        rows = cached[cached["place"] == (code or "")].drop(columns="place")
        return (pd.DataFrame(columns=_SAT_COLUMNS) if rows.empty
                else rows.reset_index(drop=True))
    if not compute:
        return None
    try:
        survey = loaders.load_retailer_survey(code, survey_months(month), store=store)
    except FileNotFoundError:
        survey = None
    return satisfaction_drops(survey, month=month)


def ensure_month_satisfaction(month: str = "", store=None, *, dry_run: bool = False) -> bool:
    """Batch precompute: cache the satisfaction drops of the city and of every district for
    ``month``. Returns True when it computed, False when the cache was current (``dry_run``:
    only say whether it would compute)."""
    from .store import atomic_dir_write

    month = str(pd.Period(month or loaders.latest_month(store=store), "M"))
    if _read_drops(month, store) is not None:
        return False
    if dry_run:
        return True
    fingerprint = satisfaction_fingerprint(month, store)
    try:
        survey = loaders.load_retailer_survey(None, survey_months(month), store=store)
    except FileNotFoundError:
        survey = None
    parts = [p.assign(place=code or "") for code, p in _place_drops(survey, month).items()]
    drops = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)

    def write(tmp: Path) -> None:
        drops.to_parquet(tmp / "drops.parquet", index=False)
        (tmp / "fingerprint.txt").write_text(fingerprint, encoding="utf-8")

    atomic_dir_write(satisfaction_cache_dir(month, store), write)
    return True


def _place_drops(survey: pd.DataFrame | None, month: str) -> dict[str | None, pd.DataFrame]:
    """:func:`satisfaction_drops` of the city (None) and of each district's own survey (as
    :func:`kehu_lib.loaders.load_retailer_survey` returns it), the changes computed once."""
    from .metrics.survey_change import place_changes

    places = [None, *config.DISTRICT_BY_CODE]
    if survey is None or survey.empty or month not in set(survey["month"]):
        return {p: satisfaction_drops(None, month=month) for p in places}
    changes = place_changes(survey, month=month, place="district_code")
    # a district without an answer in the month has no drop (satisfaction_drops' guard)
    answered = {None, *survey.loc[survey["month"] == month, "district_code"]}
    return {p: _drops(changes[p]) if p in answered else satisfaction_drops(None, month=month)
            for p in places}


#: the precompute steps whose caches this step reads (:data:`kehu_lib.batch.runner.AFTER`):
#: none, it reads the retailer survey
ensure_month_satisfaction.precompute_after = ()


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.1f}%"


def _change(x: float, up: str = "增长", down: str = "下降") -> str:
    if x is None or not np.isfinite(x):
        return "无去年同期数据"
    return f"{up if x >= 0 else down}{_pct(x)}"


def _rate(x) -> str:
    """A repeat rate as '97.0%' ('—' when unknown)."""
    return "—" if x is None or pd.isna(x) else f"{x * 100:.1f}%"


def _district_name(code: str | None) -> str:
    d = config.DISTRICT_BY_CODE.get(str(code)) if code is not None else None
    return d.name if d else ""


#: Chinese names of the drivers' shop groups (the sentences of :func:`compose`).
_SHOP_GROUP_ZH = {"key_brand_loss": "重点品牌流失户", "new_shop": "新增订货客户",
                  "stopped_shop": "停止订货客户"}


def _group_label(dimension: str, group: str) -> str:
    if dimension == "shop_group":
        return _SHOP_GROUP_ZH.get(group, group)
    if dimension == "district":
        return _district_name(group) or group
    if dimension == "price_class":
        return f"{group}卷烟"
    return f"{group}品牌"


def satisfaction_sentences(sat: pd.DataFrame, place: str = "") -> list[tuple[str, str]]:
    """The 要点 sentences of :func:`satisfaction_drops`: (district code, text), one per dropped
    item. The overall item (R10 总体满意度) moves with the items behind it, so a district's overall
    drop is told in the sentence of its largest item drop ("总体满意度随之…"), and alone only when
    no single item dropped significantly.
    """
    from .metrics.survey import overall_item
    from .present import glossary
    from .schema import survey_items

    labels = {k: str(v.get("label", k)).removesuffix("满意度") for k, v in survey_items().items()}
    overall = overall_item("retailer")

    def drop(r) -> str:
        return (f"{glossary.code_name('comparison_code', r['comparison'])}下降{abs(r['diff']):.1f}分"
                f"（95%置信区间{r['ci_low']:.1f}至{r['ci_high']:.1f}分）")

    out = []
    for code, g in sat.groupby("district_code", sort=False):
        where = _district_name(code) or place
        items, total = g[g["item"] != overall], g[g["item"] == overall]
        if items.empty:
            r = total.iloc[0]
            out.append((code, f"{where}零售客户总体满意度{drop(r)}，需在走访中了解原因并有针对性地改进。"))
            continue
        first = items["diff"].idxmin()
        for i, r in items.iterrows():
            tail = (f"，总体满意度随之{drop(total.iloc[0])}" if i == first and len(total) else "")
            out.append((code, f"{where}零售客户对“{labels.get(r['item'], r['item'])}”的满意度"
                              f"{drop(r)}{tail}，需在走访中了解原因并有针对性地改进。"))
    return out


def compose(result: Mapping[str, Any]) -> pd.DataFrame:
    """本月要点: the month's significant moves as Chinese sentences, most important first.

    Returns
    -------
    DataFrame: importance (higher first), kind, district, sku, text.
    """
    t, place = result["thresholds"], result["place"]
    mcn = f"{int(result['month'][:4])}年{int(result['month'][5:])}月"
    rows: list[tuple[float, str, str, str | None, str]] = []
    h = result["headline"].set_index("indicator")
    vol, amt, vpc = h.loc["volume_cases"], h.loc["amount_wan"], h.loc["value_per_case"]
    strong = np.isfinite(vol["yoy"]) and abs(vol["yoy"]) >= t["volume_change_alert"]
    rows.append((100, "headline", place, None,
                 f"{place}{mcn}销量{vol['value']:,.1f}箱，同比{_change(vol['yoy'])}"
                 f"{'（变动明显）' if strong else ''}，环比{_change(vol['mom'])}；销售额"
                 f"{amt['value']:,.1f}万元，同比{_change(amt['yoy'])}；单箱值{vpc['value']:,.0f}元，"
                 f"同比{_change(vpc['yoy'], '提高', '降低')}。"))
    ex = result.get("explanation")
    if ex is not None and len(ex) and np.isfinite(vol["yoy"]):
        e = ex.iloc[0]
        total, c = e["total_change"], e["contribution"]
        part = ("超过全部同比变动" if e["share"] >= 1 else f"占同比变动的{e['share'] * 100:.0f}%")
        rows.append((95, "change_explained", place, None,
                     f"销量同比{'增加' if total >= 0 else '减少'}{abs(total):,.1f}箱，主要来自"
                     f"{_group_label(e['dimension'], e['group'])}（{'增加' if c >= 0 else '减少'}"
                     f"{abs(c):,.1f}箱，{part}）。"))
    jf = result.get("jan_feb")
    if jf is not None and not jf.empty:
        v = jf.set_index("indicator").loc["volume_cases"]
        y = int(result["month"][:4])
        rows.append((65, "festival", place, None,
                     f"春节由{y - 1}年{sales.spring_festival(y - 1).month}月移至{y}年"
                     f"{sales.spring_festival(y).month}月，单月同比不可比：1-2月合计销量"
                     f"{v['value']:,.1f}箱，同比{_change(v['yoy'])}。"))
    s12 = h.loc["share_class12"] if "share_class12" in h.index else None
    if s12 is not None and np.isfinite(s12["yoy"]) and abs(s12["yoy"]) >= t["structure_change_alert"]:
        rows.append((60, "structure", place, None,
                     f"一二类卷烟销量占比{s12['value'] * 100:.1f}%，同比"
                     f"{'提高' if s12['yoy'] > 0 else '下降'}{abs(s12['yoy']) * 100:.1f}个百分点。"))
    for _, a in result["alerts"].iterrows():
        where = _district_name(a.get("district_code")) or place
        pi, ss = a["price_index"], a["stock_to_sales"]
        if a["severity"] >= 2:
            rows.append((90, "oversupply", where, a["sku"],
                         f"{where}{a['name']}价格指数{pi:.2f}（低于{t['price_index_alert']:.2f}），"
                         f"存销比{ss:.2f}（高于{t['stock_to_sales_alert']:.1f}），价格走低、社会库存"
                         "偏高，货源投放超过实际需求，建议控制投放并做好合理库存建议。"))
        elif a["price_alert"]:
            rows.append((70, "price", where, a["sku"],
                         f"{where}{a['name']}价格指数{pi:.2f}，低于{t['price_index_alert']:.2f}的预警线。"))
        else:
            rows.append((70, "stock", where, a["sku"],
                         f"{where}{a['name']}存销比{ss:.2f}，高于{t['stock_to_sales_alert']:.1f}的预警线。"))
    sat = result.get("satisfaction")
    if sat is not None and len(sat):
        for code, text in satisfaction_sentences(sat, place):
            rows.append((88, "satisfaction_drop", _district_name(code) or place, None, text))
    kb = result["key_brand"]
    groups = kb.groupby("district_code") if "district_code" in kb.columns and len(kb) else []
    for code, g in groups:
        n, judged = int(g["flagged"].sum()), len(g)
        if n >= t["key_brand_min_shops"] and n / judged >= t["key_brand_min_share"]:
            where = _district_name(code) or place
            med = g.loc[g["flagged"], "gap_ratio"].median()
            rows.append((85, "key_brand_loss", where, None,
                         f"{where}有{n}户零售户近两月重点品牌销量较同类客户低"
                         f"{abs(t['key_brand_loss_alert']) * 100:.0f}%以上（中位数低{_pct(med)}），"
                         f"占可比客户的{n / judged * 100:.1f}%，需排查原因并开展重点品牌宣扬。"))
    newp = result["new_products"]
    for _, r in newp[newp["stalled"].astype(bool)].iterrows():
        where = _district_name(r["group"]) or place
        rows.append((80, "new_product_stall", where, r["sku"],
                     f"新品{r['name']}上市{int(r['week'])}周，{where}订购面仅"
                     f"{r['reach'] * 100:.1f}%（低于{t['new_product_reach_alert'] * 100:.0f}%），"
                     f"重购率{_rate(r['repeat_rate'])}，铺市推进缓慢，需加强新品上市宣扬。"))
    # progress where it is not stalled: one sentence per product (the city page lists its
    # districts in it rather than one line each)
    for _, g in newp[~newp["stalled"].astype(bool)].groupby("sku", sort=False):
        r = g.iloc[0]
        if len(g) == 1:
            where = _district_name(r["group"]) or place
            text = (f"新品{r['name']}上市{int(r['week'])}周，{where}订购面{r['reach'] * 100:.1f}%，"
                    f"重购率{_rate(r['repeat_rate'])}。")
        else:
            g = g.sort_values("reach", ascending=False)
            parts = "、".join(f"{_district_name(x['group']) or x['group']}{x['reach'] * 100:.1f}%"
                             for _, x in g.iterrows())
            rr = g["repeat_rate"].dropna()
            rep = (f"重购率{_rate(rr.min())}至{_rate(rr.max())}" if len(rr) > 1 and
                   rr.min() != rr.max() else f"重购率{_rate(rr.iloc[0] if len(rr) else None)}")
            where = place
            text = f"新品{r['name']}上市{int(r['week'])}周，订购面{parts}，{rep}。"
        rows.append((30, "new_product", where, r["sku"], text))
    m = result["margin"].iloc[0]
    if m["shops"] > 0:
        rows.append((40, "margin", place, None,
                     f"按实际零售价（价存采集均价，未采集的规格按指导价）测算，毛利率达到{t['margin_target'] * 100:.0f}%的零售户占"
                     f"{m['share_reaching'] * 100:.1f}%，未达标{int(m['shops_below'])}户。"))
    sm = result.get("sku_margins")
    if sm is not None and len(sm):
        low = sm[sm["below_target"] & (sm["checked_shops"] >= t["min_checks"])]
        for _, r in low.iterrows():
            where = _district_name(r.get("district_code")) or place
            rows.append((45, "sku_margin_below", where, r["sku"],
                         f"{where}{r['name']}实际零售价{r['observed_price']:.1f}元/条，批发价"
                         f"{r['wholesale_price']:.1f}元/条，零售毛利率{r['margin'] * 100:.1f}%，"
                         f"低于{t['margin_target'] * 100:.0f}%的目标（{int(r['shops_below'])}户）。"))
    out = pd.DataFrame(rows, columns=["importance", "kind", "district", "sku", "text"])
    return out.sort_values("importance", ascending=False, kind="stable", ignore_index=True)


def findings_for(district: str | None, month: str, *, thresholds=None, store=None) -> pd.DataFrame:
    """Load, analyse and compose the findings of one district (or 全市) and month."""
    t = thresholds if thresholds is not None else load_thresholds()
    return compose(analyse(load_inputs(district, month, store=store), t))
