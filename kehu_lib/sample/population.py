"""Shops, account managers, routes and each shop's assortment for the sample city."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import config
from .catalog import CATALOG, sku_code

FORMAT_P = {"食杂店": 0.70, "便利店": 0.12, "超市": 0.05, "烟酒专卖店": 0.07, "娱乐服务业": 0.03,
            "其它": 0.03}
FORMAT_SIZE = {"食杂店": 1.0, "便利店": 1.25, "超市": 1.6, "烟酒专卖店": 2.4, "娱乐服务业": 0.8,
               "其它": 0.7}
AREA_P_URBAN = {"商业/集贸": 0.16, "居民区": 0.58, "工业区": 0.10, "学区": 0.06, "交通枢纽": 0.10}
AREA_P_RURAL = {"商业/集贸": 0.22, "居民区": 0.68, "工业区": 0.08, "学区": 0.02, "交通枢纽": 0.0}
SHOPS_PER_MANAGER = 170
#: Demand weight of each price class on top of SKU popularity (一二类 about 40% of volume).
CLASS_WEIGHT = {"一类": 0.6, "二类": 0.9, "三类": 1.0, "四类": 1.1, "五类": 1.2}
#: Mean weekly order of an average shop, cartons (条).
BASE_WEEKLY = 38.0


@dataclass
class Population:
    """Shops (one row each, with hidden simulation columns) and their shop x SKU pairs."""

    shops: pd.DataFrame
    products: pd.DataFrame
    pairs: pd.DataFrame  # shop_idx, sku_idx, rate (条/week), p_order, active_from (Period ordinal)


def products_frame() -> pd.DataFrame:
    """The catalogue as a ``products`` table plus simulation columns (popularity, hot)."""
    rows = []
    for i, (brand, name, whole, retail, key, pop, hot, launch) in enumerate(CATALOG):
        rows.append({
            "sku": sku_code(i), "brand": brand, "name": name, "wholesale_price": whole,
            "retail_price": retail, "price_class": config.price_class(whole), "key_brand": key,
            "launch_date": pd.Timestamp(launch + "-01") if launch else pd.Timestamp("2010-01-01"),
            "popularity": pop, "hot": hot, "is_new": bool(launch),
        })
    return pd.DataFrame(rows)


def _choice(rng, options: dict, n: int) -> np.ndarray:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def build_shops(rng: np.random.Generator, n_shops: int, start: pd.Period,
                end: pd.Period) -> pd.DataFrame:
    """Retail customers with their master data and hidden size/value propensities."""
    districts = config.DISTRICTS
    share = np.array([d.shop_share for d in districts])
    counts = np.floor(share / share.sum() * n_shops).astype(int)
    counts[0] += n_shops - counts.sum()
    frames = []
    for di, (d, n) in enumerate(zip(districts, counts)):
        ka = d.kind == "key_account"
        rural = rng.random(n) < d.rural_share
        fmt = _choice(rng, {"超市": 0.35, "烟酒专卖店": 0.45, "便利店": 0.15, "娱乐服务业": 0.05}
                      if ka else FORMAT_P, n)
        area = np.where(rural, _choice(rng, AREA_P_RURAL, n), _choice(rng, AREA_P_URBAN, n))
        n_mgr = max(1, int(round(n / SHOPS_PER_MANAGER)))
        mgr = rng.integers(0, n_mgr, n)
        route = mgr * 5 + rng.integers(0, 5, n)  # five routes per manager, one per weekday
        size = np.exp(rng.normal(0, 0.55, n)) * np.vectorize(FORMAT_SIZE.get)(fmt)
        size *= np.where(rural, 0.85, 1.0) * (3.5 if ka else 1.0)
        # value propensity: urban and key-account shops lean to higher price classes
        value = rng.normal(0.0, 0.5, n) + np.where(rural, -0.6, 0.25) + (1.0 if ka else 0.0)
        opened = pd.to_datetime("2008-01-01") + pd.to_timedelta(rng.integers(0, 365 * 15, n), "D")
        new = rng.random(n) < 0.10  # opened during the sample period
        span_days = (end.end_time - start.start_time).days
        opened = np.where(new, start.start_time + pd.to_timedelta(rng.integers(30, span_days, n), "D"),
                          opened)
        closes = rng.random(n) < 0.08
        closed = start.start_time + pd.to_timedelta(rng.integers(60, span_days + 200, n), "D")
        closed = pd.Series(pd.to_datetime(closed)).where(closes & (closed > pd.to_datetime(opened)))
        closed = closed.where(closed <= end.end_time)
        frames.append(pd.DataFrame({
            "district_idx": di, "district_code": d.code,
            "license_id": [f"{d.code}{i + 1:06d}" for i in range(n)],
            "route_id": [f"{d.code}-{r + 1:02d}" for r in route],
            "manager_id": [f"KM{di + 1:02d}{m + 1:02d}" for m in mgr],
            "weekday": route % 5,
            "business_format": fmt, "trade_area": area,
            "urban_rural": np.where(rural, "乡村", "城镇"),
            "opened_date": pd.to_datetime(opened).normalize(), "closed_date": closed.values,
            "chain_type": np.where(np.isin(fmt, ["超市", "便利店"]) & (rng.random(n) < 0.45), "连锁", "单店"),
            "opening_hours": _choice(rng, {"<12h": 0.02, "12-16h": 0.45, ">16h": 0.53}, n),
            "e_settlement": rng.random(n) < np.where(rural, 0.62, 0.88),
            "key_account": ka, "size": size, "value": value, "rural": rural,
        }))
    shops = pd.concat(frames, ignore_index=True)
    # 档位 1-30 from a weighted score of size and value (higher = bigger, richer mix)
    score = np.log(shops["size"]) + 0.4 * shops["value"]
    shops["tier"] = np.clip(np.ceil(score.rank(pct=True) * 30), 1, 30).astype(int)
    suspended = rng.random(len(shops)) < 0.01
    shops["status"] = np.where(shops["closed_date"].notna(), "歇业",
                               np.where(suspended, "暂停", "正常"))
    return shops


def assign_informants(rng: np.random.Generator, shops: pd.DataFrame, scale: float) -> np.ndarray:
    """Survey informant (信息员) flags: seed 004's panel sizes per district, times ``scale``.

    Informants are drawn among the larger shops still open at the end (核心客户和重点客户).
    """
    flag = np.zeros(len(shops), dtype=bool)
    for di, d in enumerate(config.DISTRICTS):
        idx = np.flatnonzero((shops["district_idx"] == di) & shops["closed_date"].isna()
                             & (shops["status"] == "正常"))
        n = min(len(idx), int(round(d.panel_size * scale)))
        weights = shops["size"].to_numpy()[idx] ** 0.5
        chosen = rng.choice(idx, size=n, replace=False, p=weights / weights.sum())
        flag[chosen] = True
    return flag


def build_pairs(rng: np.random.Generator, shops: pd.DataFrame, products: pd.DataFrame,
                start: pd.Period, new_product_reach: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each shop's assortment: shop x SKU pairs with a weekly rate (条) and order probability.

    Established SKUs are drawn with probability ∝ popularity x the shop's class preference; the
    width grows with the tier (about 12 SKUs at tier 1, 40 at tier 30). New SKUs enter a shop's
    assortment from an adoption month (``active_from``) given by ``new_product_reach``.
    """
    class_rank = products["price_class"].map({c: i for i, c in enumerate(config.PRICE_CLASSES)})
    class_pos = 2.0 - class_rank.to_numpy(dtype=float)  # 一类 +2 ... 五类 -2
    class_weight = products["price_class"].map(CLASS_WEIGHT).to_numpy(dtype=float)
    pop = products["popularity"].to_numpy() * class_weight
    established = ~products["is_new"].to_numpy()
    rows_shop, rows_sku, rows_rate, rows_from = [], [], [], []
    value = shops["value"].to_numpy()
    width = np.clip(np.round(10 + 1.0 * shops["tier"].to_numpy() + rng.normal(0, 3, len(shops))),
                    8, established.sum()).astype(int)
    base = BASE_WEEKLY * shops["size"].to_numpy()
    for s in range(len(shops)):
        pref = pop * np.exp(0.55 * value[s] * class_pos) * established
        k = width[s]
        chosen = rng.choice(len(pop), size=k, replace=False, p=pref / pref.sum())
        w = pref[chosen] * np.exp(rng.normal(0, 0.4, k))
        rows_shop.append(np.full(k, s))
        rows_sku.append(chosen)
        rows_rate.append(base[s] * w / w.sum())
        rows_from.append(np.full(k, -10**6))
    pairs = pd.DataFrame({"shop_idx": np.concatenate(rows_shop), "sku_idx": np.concatenate(rows_sku),
                          "rate": np.concatenate(rows_rate), "active_from": np.concatenate(rows_from)})
    # new products: adoption month per shop (or never)
    extra = []
    for sku_idx in np.flatnonzero(products["is_new"].to_numpy()):
        sku = products.at[sku_idx, "sku"]
        launch = pd.Period(products.at[sku_idx, "launch_date"], freq="M").ordinal
        reach = new_product_reach.get(sku)
        if reach is None:
            reach = np.full(len(shops), 0.30)
        adopt = rng.random(len(shops)) < reach
        # months to adoption: geometric, mean ~1.5 months after launch
        delay = rng.geometric(0.55, len(shops)) - 1
        idx = np.flatnonzero(adopt)
        rate = base[idx] * pop[sku_idx] / 22.0 * np.exp(rng.normal(0, 0.3, len(idx)))
        extra.append(pd.DataFrame({"shop_idx": idx, "sku_idx": sku_idx, "rate": rate,
                                   "active_from": launch + delay[idx]}))
    pairs = pd.concat([pairs, *extra], ignore_index=True)
    pairs["p_order"] = np.clip(0.55 + 0.4 * rng.random(len(pairs)), 0.55, 0.95)
    return pairs


#: Shop-name parts: Taiyuan streets and areas per district code, a trade name, a suffix per format.
STREETS = {
    "140109": ("千峰路", "兴华街", "长风西街", "和平北路", "下元", "小井峪", "西矿街", "南寒"),
    "140106": ("柳巷", "迎泽大街", "双塔西街", "郝庄", "桥东街", "新建南路", "青年路", "老军营"),
    "140107": ("府西街", "解放路", "胜利街", "杏花岭", "敦化坊", "五一路", "新建路", "涧河"),
    "140105": ("学府街", "长治路", "平阳路", "亲贤街", "坞城路", "北营", "许坦", "刘家堡"),
    "140108": ("迎新街", "胜利桥", "新城", "柴村", "阳曲", "向阳", "光社", "古城"),
    "140110": ("晋祠路", "义井", "金胜", "晋源街", "姚村", "古城营", "罗城", "赤桥"),
}
TRADE_NAMES = ("鑫源", "福满多", "惠民", "家家乐", "金鼎", "汾河", "龙城", "兴旺", "顺心", "好邻居",
               "万家", "众诚", "永盛", "晋阳", "嘉禾", "百顺", "利民", "红旗", "金源", "华联", "聚福",
               "富民", "双喜", "恒通", "旺角", "祥和", "长青", "天天", "宏达", "晨光")
FORMAT_SUFFIX = {
    "食杂店": ("食杂店", "副食店", "商店", "小卖部"),
    "便利店": ("便利店", "便民店", "便利"),
    "超市": ("超市", "购物中心", "生活超市"),
    "烟酒专卖店": ("烟酒店", "名烟名酒", "烟酒商行"),
    "娱乐服务业": ("棋牌室", "宾馆", "网吧", "茶楼"),
    "其它": ("商行", "经销部", "综合店"),
}


def shop_names(rng: np.random.Generator, shops: pd.DataFrame) -> np.ndarray:
    """A business name (店名) for every shop: street, trade name and a suffix for its format,
    e.g. 柳巷鑫源便利店. Drawn from its own random stream so no other generated value changes."""
    n = len(shops)
    street_pick, name_pick, suffix_pick = rng.integers(0, 1 << 30, (3, n))
    all_streets = tuple(s for v in STREETS.values() for s in v)
    out = []
    for i, (code, fmt) in enumerate(zip(shops["district_code"], shops["business_format"])):
        streets = STREETS.get(code, all_streets)
        suffixes = FORMAT_SUFFIX.get(fmt, FORMAT_SUFFIX["其它"])
        out.append(streets[street_pick[i] % len(streets)] + TRADE_NAMES[name_pick[i] % len(TRADE_NAMES)]
                   + suffixes[suffix_pick[i] % len(suffixes)])
    return np.array(out, dtype=object)
