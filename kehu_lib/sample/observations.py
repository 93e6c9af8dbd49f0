"""Price and stock checks (价存采集), visit records and census waves of the sample city."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from .orders import ramp

CHECKS_PER_SHOP = 6
ROUTINE_STRATEGIES = ("KZB-06", "KZB-10", "KZB-11", "KZB-17", "KZB-12", "KZB-08")


def price_checks(rng: np.random.Generator, month: pd.Period, orders: pd.DataFrame,
                 shops: pd.DataFrame, products: pd.DataFrame, signals: dict) -> pd.DataFrame:
    """One check per ordering shop and month (its first visit) on up to six SKUs it stocks.

    Observed retail price = guided retail x a price level (about 0.985; above 1 for rationed
    items; falling to the planted level for the oversupplied SKU). Stock (条) = the month's
    supplied quantity of the SKU in the shop x a stock-to-sales ratio (about 0.4).
    """
    if orders.empty:
        return pd.DataFrame()
    monthly = orders.groupby(["shop_idx", "sku_idx"], as_index=False).agg(
        supplied=("qty_supplied", "sum"), first=("order_date", "min"))
    over = signals["oversupplied_sku"]
    over_k = int(np.flatnonzero(products["sku"].to_numpy() == over["sku"])[0])
    over_code = config.resolve_district(over["district"]).code
    in_over_d = shops["district_code"].to_numpy()[monthly["shop_idx"].to_numpy()] == over_code
    is_over = in_over_d & (monthly["sku_idx"].to_numpy() == over_k)
    # choose up to CHECKS_PER_SHOP SKUs per shop at random; always the oversupplied SKU in its district
    priority = rng.random(len(monthly)) + is_over * 2.0
    monthly["rank"] = pd.Series(priority).groupby(monthly["shop_idx"]).rank(ascending=False).to_numpy()
    chosen = monthly[monthly["rank"] <= CHECKS_PER_SHOP].reset_index(drop=True)
    k = chosen["sku_idx"].to_numpy()
    hot = products["hot"].to_numpy()[k]
    low = np.isin(products["price_class"].to_numpy()[k], ["四类", "五类"])
    level = np.where(hot, rng.normal(1.04, 0.02, len(k)),
                     np.where(low, rng.normal(0.975, 0.012, len(k)), rng.normal(0.985, 0.010, len(k))))
    ratio = np.where(hot, np.exp(rng.normal(np.log(0.25), 0.25, len(k))),
                     np.exp(rng.normal(np.log(0.40), 0.25, len(k))))
    push = ramp(month, over["start_month"], over["month"])
    hit = (shops["district_code"].to_numpy()[chosen["shop_idx"].to_numpy()] == over_code) & (k == over_k)
    if push > 0:
        target_level = over["price_index"]
        level = np.where(hit, rng.normal(1 - (1 - target_level) * push, 0.012, len(k)), level)
        target_ratio = over["stock_to_sales"]
        ratio = np.where(hit, np.exp(rng.normal(np.log(0.4 + (target_ratio - 0.4) * push), 0.2, len(k))),
                         ratio)
    retail = np.round(products["retail_price"].to_numpy()[k] * level)
    stock = np.round(chosen["supplied"].to_numpy() * ratio)
    s = chosen["shop_idx"].to_numpy()
    return pd.DataFrame({
        "check_date": pd.to_datetime(chosen["first"]).astype("datetime64[ns]"),
        "month": str(month), "district_code": shops["district_code"].to_numpy()[s],
        "license_id": shops["license_id"].to_numpy()[s], "sku": products["sku"].to_numpy()[k],
        "retail_price": retail.astype(float), "stock": stock.astype(float),
    })


def visits(rng: np.random.Generator, month: pd.Period, orders: pd.DataFrame, shops: pd.DataFrame,
           signals: dict, treated: dict[str, np.ndarray], new_skus_launch: list[pd.Period]) -> pd.DataFrame:
    """A visit on every order day of every shop; strategy codes as the account manager logged them.

    The first visit of the month collects prices and stock (KZB-02); routine strategies are logged at
    random (they have no effect); in the strategy-effect month the treated shops get their planted
    strategy (``treated``: KZB code -> shop flags) on their second visit.
    """
    days = orders[["shop_idx", "order_date"]].drop_duplicates().sort_values(["shop_idx", "order_date"])
    days = days.reset_index(drop=True)
    nth = days.groupby("shop_idx").cumcount().to_numpy()
    codes = np.full(len(days), "", dtype=object)
    codes[nth == 0] = "KZB-02"
    routine = rng.random(len(days)) < 0.06
    pick = rng.integers(0, len(ROUTINE_STRATEGIES), len(days))
    for i in np.flatnonzero(routine):
        c = ROUTINE_STRATEGIES[pick[i]]
        codes[i] = f"{codes[i]};{c}" if codes[i] else c
    if any(0 <= month.ordinal - p.ordinal <= 1 for p in new_skus_launch):
        promo = (nth == 1) & (rng.random(len(days)) < 0.3)
        for i in np.flatnonzero(promo):
            codes[i] = f"{codes[i]};KZB-16" if codes[i] else "KZB-16"
    if month == pd.Period(signals["strategy_effects"]["month"], "M"):
        shop = days["shop_idx"].to_numpy()
        for code, flags in treated.items():
            for i in np.flatnonzero((nth == 1) & flags[shop]):
                codes[i] = f"{codes[i]};{code}" if codes[i] else code
    codes = [";".join(sorted(set(c.split(";")))) if c else None for c in codes]
    s = days["shop_idx"].to_numpy()
    return pd.DataFrame({
        "visit_date": pd.to_datetime(days["order_date"]).astype("datetime64[ns]"),
        "month": str(month), "district_code": shops["district_code"].to_numpy()[s],
        "manager_id": shops["manager_id"].to_numpy()[s], "license_id": shops["license_id"].to_numpy()[s],
        "kzb_codes": pd.array(codes, dtype="string"),
    })


def census(rng: np.random.Generator, wave: pd.Period, shops: pd.DataFrame, wave_no: int) -> pd.DataFrame:
    """A retail census wave: every open shop's answers (mostly its master data, some drift)."""
    when = wave.start_time
    open_ = (shops["opened_date"] <= when) & (shops["closed_date"].isna() | (shops["closed_date"] > when))
    c = shops[open_].reset_index(drop=True)
    n = len(c)
    hours = c["opening_hours"].to_numpy().copy()
    drift = rng.random(n) < 0.08 * wave_no
    hours[drift] = ">16h"
    return pd.DataFrame({
        "wave": str(wave), "district_code": c["district_code"], "license_id": c["license_id"],
        "licensed": True, "business_format": c["business_format"], "trade_area": c["trade_area"],
        "urban_rural": c["urban_rural"], "chain_type": c["chain_type"], "opening_hours": hours,
        "accepts_stock_guidance": rng.random(n) < (0.03 + 0.04 * wave_no),
    })
