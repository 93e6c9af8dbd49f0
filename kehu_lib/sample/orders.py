"""Weekly order lines of the sample city, generated one month at a time (streamed to disk)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from ..calendar import festival_factor

#: Yearly volume growth by district kind and price class (城市上结构，农村上销量).
GROWTH = {
    "urban": {"一类": 1.10, "二类": 1.06, "三类": 0.98, "四类": 0.93, "五类": 0.90},
    "key_account": {"一类": 1.10, "二类": 1.06, "三类": 0.98, "四类": 0.93, "五类": 0.90},
    "mixed": {"一类": 1.07, "二类": 1.05, "三类": 1.01, "四类": 0.98, "五类": 0.96},
    "rural": {"一类": 1.05, "二类": 1.05, "三类": 1.04, "四类": 1.04, "五类": 1.03},
}


def ramp(month: pd.Period, start: str, full: str) -> float:
    """0 before ``start``, rising linearly to 1 at ``full`` and after."""
    m, s, f = month.ordinal, pd.Period(start, "M").ordinal, pd.Period(full, "M").ordinal
    if m < s:
        return 0.0
    return float(min(1.0, (m - s + 1) / (f - s + 1)))


class OrderSimulator:
    """Holds the population and signal settings; :meth:`month` returns one month's lines."""

    def __init__(self, shops: pd.DataFrame, products: pd.DataFrame, pairs: pd.DataFrame,
                 start: pd.Period, signals: dict, seed: int):
        self.shops, self.products, self.pairs = shops, products, pairs
        self.start, self.signals, self.seed = start, signals, seed
        kinds = np.array([config.DISTRICTS[i].kind for i in shops["district_idx"]])
        classes = products["price_class"].to_numpy()
        sku_class = classes[pairs["sku_idx"].to_numpy()]
        shop_kind = kinds[pairs["shop_idx"].to_numpy()]
        self.pair_growth = np.array([GROWTH[k][c] for k, c in zip(shop_kind, sku_class)])
        self.pair_weekday = shops["weekday"].to_numpy()[pairs["shop_idx"].to_numpy()]
        self.hot = products["hot"].to_numpy()[pairs["sku_idx"].to_numpy()]
        self.key = products["key_brand"].to_numpy()[pairs["sku_idx"].to_numpy()]
        self.opened = shops["opened_date"].to_numpy()
        self.closed = shops["closed_date"].fillna(pd.Timestamp("2100-01-01")).to_numpy()
        self.loss_shops = np.zeros(len(shops), dtype=bool)  # set by the builder
        self.kzb14_shops = np.zeros(len(shops), dtype=bool)

    def _rng(self, month: pd.Period, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, month.ordinal + 100_000, stream])

    def month(self, month: pd.Period) -> pd.DataFrame:
        """Order lines of ``month``: one per shop x SKU x order day when the shop ordered it."""
        rng = self._rng(month, 1)
        sig = self.signals
        pairs = self.pairs
        active = pairs["active_from"].to_numpy() <= month.ordinal
        days = pd.date_range(month.start_time, month.end_time.normalize(), freq="D")
        days = days[days.day_of_week < 5]
        years = (month.ordinal - self.start.ordinal) / 12.0
        season = 1 + 0.04 * np.sin(2 * np.pi * (month.month - 4) / 12) + (0.03 if month.month == 10 else 0)
        shop_noise = np.exp(rng.normal(0, 0.08, len(self.shops)))
        # signal multipliers per pair
        mult = self.pair_growth ** years * season * shop_noise[pairs["shop_idx"].to_numpy()]
        kb = sig["key_brand_loss"]
        loss = kb["loss"] * ramp(month, kb["start_month"], kb.get("full_month", kb["month"]))
        if loss > 0:
            hit = self.loss_shops[pairs["shop_idx"].to_numpy()] & self.key
            mult = np.where(hit, mult * (1 - loss), mult)
        over = sig["oversupplied_sku"]
        over_sku = self.products.index[self.products["sku"] == over["sku"]][0]
        over_code = config.resolve_district(over["district"]).code
        push = ramp(month, over["start_month"], over["month"])
        if push > 0:
            in_d = (self.shops["district_code"].to_numpy()[pairs["shop_idx"].to_numpy()] == over_code)
            hit = in_d & (pairs["sku_idx"].to_numpy() == over_sku)
            mult = np.where(hit, mult * (1 + 0.35 * push), mult)
        frames = []
        for day in days:
            sel = active & (self.pair_weekday == day.day_of_week)
            idx = np.flatnonzero(sel)
            shop = pairs["shop_idx"].to_numpy()[idx]
            is_open = (self.opened[shop] <= day.to_datetime64()) & (self.closed[shop] > day.to_datetime64())
            idx = idx[is_open]
            p = pairs["p_order"].to_numpy()[idx]
            ordered = rng.random(len(idx)) < p
            idx = idx[ordered]
            fest = float(festival_factor(pd.DatetimeIndex([day])).iloc[0])
            lam = pairs["rate"].to_numpy()[idx] * mult[idx] * fest / p[ordered]
            qty = rng.poisson(lam).astype(float)
            keep = qty > 0
            idx, qty = idx[keep], qty[keep]
            hot = self.hot[idx]
            demand = np.where(hot, np.ceil(qty * 1.5), qty)
            share = np.where(hot, rng.uniform(0.5, 0.85, len(idx)) / (1.15 if fest > 1.2 else 1.0), 1.0)
            short = (~hot) & (rng.random(len(idx)) < 0.01)
            share = np.where(short, 0.5, share)
            supplied = np.maximum(np.where(demand > 0, 1.0, 0.0), np.floor(demand * share))
            frames.append(pd.DataFrame({"order_date": day, "shop_idx": pairs["shop_idx"].to_numpy()[idx],
                                        "sku_idx": pairs["sku_idx"].to_numpy()[idx],
                                        "qty_ordered": demand, "qty_supplied": supplied}))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["order_date", "shop_idx", "sku_idx", "qty_ordered", "qty_supplied"])
        out = self._strategy_effect(month, out, rng)
        return self.finish(out, month)

    def _strategy_effect(self, month: pd.Period, out: pd.DataFrame, rng) -> pd.DataFrame:
        """Shops given KZB-14 (组合宽度建议) last month order extra SKUs this month."""
        eff = self.signals["strategy_effects"]
        if month != pd.Period(eff["month"], "M") + 1 or not self.kzb14_shops.any():
            return out
        extra_n = int(round(eff["effective"]["effect"]))
        first_day = out.groupby("shop_idx")["order_date"].min()
        rows = []
        for s in np.flatnonzero(self.kzb14_shops):
            if s not in first_day.index:
                continue
            have = set(self.pairs.loc[self.pairs["shop_idx"] == s, "sku_idx"])
            options = [k for k in range(len(self.products))
                       if k not in have and not self.products.at[k, "is_new"]]
            for k in rng.choice(options, size=min(extra_n, len(options)), replace=False):
                q = float(max(1, rng.poisson(2)))
                rows.append((first_day[s], s, k, q, q))
        extra = pd.DataFrame(rows, columns=out.columns)
        return pd.concat([out, extra], ignore_index=True)

    def finish(self, out: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
        """Attach ids, district and amount (元 = supplied 条 x wholesale 元/条)."""
        shops, products = self.shops, self.products
        s = out["shop_idx"].to_numpy()
        k = out["sku_idx"].to_numpy()
        return pd.DataFrame({
            "order_date": pd.to_datetime(out["order_date"]).astype("datetime64[ns]"),
            "month": str(month),
            "district_code": shops["district_code"].to_numpy()[s],
            "license_id": shops["license_id"].to_numpy()[s],
            "sku": products["sku"].to_numpy()[k],
            "qty_ordered": out["qty_ordered"].to_numpy(dtype=float),
            "qty_supplied": out["qty_supplied"].to_numpy(dtype=float),
            "amount": out["qty_supplied"].to_numpy(dtype=float) * products["wholesale_price"].to_numpy()[k],
            "shop_idx": s, "sku_idx": k,
        })
