"""Drivers of change (变动原因分解): which districts, price classes, brands and shop groups make
the month's 同比 and 环比 of volume, amount and 单箱值.

Every result is codes and numbers; the presentation layer renders them.

Additive indicators (销量 ``volume_cases`` 箱, 销售额 ``amount_wan`` 万元): the change of the
total is the sum of the changes of the groups of any partition, so the contribution of group g
is simply ``current_g − base_g`` and the contributions add up to the total change exactly.

The ratio 单箱值 ``value_per_case`` (元/箱) V = A / Q is decomposed by a symmetric (two-factor
Shapley) mix/rate split. With s_g = Q_g / Q the group's share of the volume and
v_g = A_g / Q_g its own 单箱值, V = Σ_g s_g · v_g and, for the base period 0 and the current
period 1::

    V1 − V0 = Σ_g (s_g1 − s_g0) · (v_g0 + v_g1) / 2      structure effect (结构效应)
            + Σ_g (s_g0 + s_g1) / 2 · (v_g1 − v_g0)      price effect (价格效应, within the group)

which holds exactly (expand the products). A group absent in one period (s = 0) takes its
other period's v there, so its whole contribution is structure (entering or leaving the mix).
The group's ``contribution`` = its structure + price effect; they sum to V1 − V0.

Shop groups (:func:`shop_groups`) partition the shops of the comparison: ``key_brand_loss``
(flagged by :func:`kehu_lib.findings.key_brand_loss` in the report month), ``new_shop``
(supplied in the report month but not in the base month), ``stopped_shop`` (supplied in the
base month but not in the report month) and ``other``; a shop is in the first group that fits,
in that order.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..config import CARTONS_PER_CASE
from ..frames import rows_of

__all__ = ["COMPARISONS", "DIMENSIONS", "SHOP_GROUPS", "INDICATORS", "base_month",
           "shop_groups", "decompose", "change_drivers", "explain_change", "flagged_shop_groups"]

#: Comparison code -> months back of the base period (同比 = 12, 环比 = 1).
COMPARISONS: dict[str, int] = {"yoy": 12, "mom": 1}
#: Dimension code -> column of the order lines (after the product attributes are joined).
DIMENSIONS: dict[str, str] = {"district": "district_code", "price_class": "price_class",
                              "brand": "brand", "shop_group": "shop_group"}
#: Shop-group codes in order of precedence.
SHOP_GROUPS = ("key_brand_loss", "new_shop", "stopped_shop", "other")
#: Indicator codes (the same as :data:`kehu_lib.metrics.sales.HEADLINE_LABELS`).
INDICATORS = ("volume_cases", "amount_wan", "value_per_case")


def base_month(month: str, comparison: str) -> str:
    """The base month of a comparison: 'yoy' → same month last year, 'mom' → previous month."""
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {sorted(COMPARISONS)}, got {comparison!r}")
    return str(pd.Period(month, freq="M") - COMPARISONS[comparison])


def shop_groups(orders: pd.DataFrame, *, month: str, base: str,
                key_brand_loss: Iterable[str] = ()) -> pd.DataFrame:
    """The shop groups of one comparison (see the module docstring), one row per shop that was
    supplied in ``month`` or ``base``.

    Returns
    -------
    DataFrame: license_id, shop_group (a code of :data:`SHOP_GROUPS`).
    """
    # only the two columns read, before the row selection (the other columns are not copied)
    def supplied(m: str) -> set:
        # the month's rows (a slice of a ledger sorted by month), then the shops supplied:
        # distinct shops first (vectorised), then Python sets of the few thousand codes
        part = rows_of(orders, "month", [m])
        return set(part.loc[part["qty_supplied"] > 0, "license_id"].unique().tolist())

    now, before = supplied(month), supplied(base)
    kbl = set(key_brand_loss)
    shops = sorted(now | before)
    group = ["key_brand_loss" if s in kbl else "new_shop" if s not in before
             else "stopped_shop" if s not in now else "other" for s in shops]
    return pd.DataFrame({"license_id": pd.Series(shops, dtype="string"), "shop_group": group})


def _prepare(orders: pd.DataFrame, products: pd.DataFrame | None,
             groups: pd.DataFrame | None, dims: Sequence[str]) -> pd.DataFrame:
    needed = ["month", "license_id", "qty_supplied", "amount"]
    missing = [c for c in needed if c not in orders.columns]
    if missing:
        raise KeyError(f"orders lacks column(s) {missing}; see kehu_lib/schema.py (orders)")
    df = orders
    want = [c for c in ("price_class", "brand") if DIMENSIONS.get(c) in
            [DIMENSIONS[d] for d in dims] and c not in df.columns]
    if want:
        if products is None:
            raise ValueError(f"dimension(s) {want} need the products table")
        df = df.merge(products[["sku", *want]], on="sku", how="left")
    if "shop_group" in dims:
        if groups is None:
            raise ValueError("dimension 'shop_group' needs the shop groups (see shop_groups)")
        df = df.merge(groups[["license_id", "shop_group"]], on="license_id", how="left")
        df["shop_group"] = df["shop_group"].fillna("other")
    return df


def _lookup(keys: pd.Series, table_keys: pd.Series, values: pd.Series) -> pd.Series:
    """For each of ``keys``, the value of ``values`` at its row in ``table_keys`` (unique), NA
    where it has none: ``keys.map(values.set_index(table_keys))`` as one hash lookup in Arrow
    (no Python string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        s = pa.large_string()
        pos = pc.index_in(pa.array(keys).cast(s), value_set=pa.array(table_keys).cast(s))
        found = pc.take(pa.array(values).cast(s), pos)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return keys.map(pd.Series(values.to_numpy(), index=table_keys.to_numpy()))
    return pd.Series(pd.array(found, dtype=pd.StringDtype()), index=keys.index)


def _keyed(orders: pd.DataFrame, products: pd.DataFrame | None,
           groups: pd.DataFrame | None, dimension: str) -> pd.DataFrame:
    """month, qty_supplied, amount and the dimension's column (a missing group is 未知) of
    ``orders``, the rows in their order: :func:`_prepare`'s merge as a lookup by SKU in
    ``products`` or by shop in ``groups`` (their keys are unique), without copying the other
    columns of the order frame."""
    col = DIMENSIONS[dimension]
    needed = ["month", "license_id", "qty_supplied", "amount"]
    missing = [c for c in needed if c not in orders.columns]
    if missing:
        raise KeyError(f"orders lacks column(s) {missing}; see kehu_lib/schema.py (orders)")
    if dimension == "shop_group" and col not in orders.columns and groups is not None \
            and groups["license_id"].is_unique:
        key = _lookup(orders["license_id"], groups["license_id"], groups["shop_group"])
        key = key.fillna("other")
    elif col in ("price_class", "brand") and col not in orders.columns and products is not None \
            and "sku" in orders.columns and products["sku"].is_unique:
        key = _lookup(orders["sku"], products["sku"], products[col])
    elif col in orders.columns and dimension != "shop_group":
        key = orders[col]
    else:  # the general path (or its error): merged with the dimension's table
        key = _prepare(orders, products, groups, [dimension])[col]
        key.index = orders.index
    key = key.fillna("未知") if isinstance(key.dtype, pd.StringDtype) else \
        key.astype("object").fillna("未知")
    return pd.DataFrame({"month": orders["month"], "qty_supplied": orders["qty_supplied"],
                         "amount": orders["amount"], col: key})


def decompose(orders: pd.DataFrame, products: pd.DataFrame | None = None, *, month: str,
              comparison: str = "yoy", dimension: str = "district",
              groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Contributions of the groups of one dimension to one comparison's change.

    ``orders``: order lines (or monthly shop × SKU totals) covering ``month`` and the base month
    of ``comparison``. ``dimension``: a code of :data:`DIMENSIONS`; ``groups`` the output of
    :func:`shop_groups` for ``dimension="shop_group"``. Formulas: module docstring.

    Returns
    -------
    Long DataFrame, one row per group and indicator: comparison, dimension, group, indicator,
    base, current (the group's own level: 箱, 万元 or 元/箱), contribution (to the total change,
    same unit), structure_effect, price_effect (单箱值 only; NaN for the additive indicators),
    total_base, total_current, total_change, share_of_change (contribution / total_change; NaN
    when the total did not change), growth_pull (拉动: contribution / total_base, the group's
    part of the total's growth rate; the pulls of a partition sum to total_change / total_base;
    NaN when the base is 0).
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {sorted(DIMENSIONS)}, got {dimension!r}")
    col = DIMENSIONS[dimension]
    bm = base_month(month, comparison)
    df = _keyed(orders[orders["month"].isin([month, bm])], products, groups, dimension)
    # the group sums over the rows of the two months in their order (the same sums as over the
    # full order frame merged with its dimensions)
    # period as a flag (False = base, True = current: sorted as 'base' < 'cur')
    g = df.assign(_p=(df["month"] == month).to_numpy(dtype=bool)).groupby(
        [col, "_p"], observed=True)[["qty_supplied", "amount"]].sum().unstack(
        "_p", fill_value=0.0)
    flag = {"base": False, "cur": True}
    q = pd.DataFrame({p: g[("qty_supplied", f)] if ("qty_supplied", f) in g.columns else 0.0
                      for p, f in flag.items()}, index=g.index) / CARTONS_PER_CASE
    a = pd.DataFrame({p: g[("amount", f)] if ("amount", f) in g.columns else 0.0
                      for p, f in flag.items()}, index=g.index)
    return _contributions(q, a, comparison=comparison, dimension=dimension)


#: The dtype pandas gives a column of text broadcast from one string (``str`` in pandas 3).
_TEXT = pd.Series(["x"]).dtype


def _contributions(q: pd.DataFrame, a: pd.DataFrame, *, comparison: str,
                   dimension: str) -> pd.DataFrame:
    """:func:`decompose`'s rows from the group totals: ``q`` volume (箱) and ``a`` amount (元),
    columns base and cur, indexed by the groups in sorted order."""
    # one frame of three blocks of rows (volume, amount, 单箱值: the groups in their order in
    # each), built from arrays: the same values as one frame per block concatenated
    tq, ta = q.sum(), a.sum()
    n = len(q)
    fq, fa = q * 1.0, a * 1e-4
    # 单箱值: symmetric structure / price split
    with np.errstate(divide="ignore", invalid="ignore"):
        v0 = (a["base"] / q["base"].where(q["base"] > 0)).to_numpy()
        v1 = (a["cur"] / q["cur"].where(q["cur"] > 0)).to_numpy()
    own0, own1 = v0, v1.copy()
    v0 = np.where(np.isfinite(v0), v0, v1)
    v1 = np.where(np.isfinite(v1), v1, v0)
    s0 = (q["base"] / tq["base"]).to_numpy() if tq["base"] > 0 else np.full(n, np.nan)
    s1 = (q["cur"] / tq["cur"]).to_numpy() if tq["cur"] > 0 else np.full(n, np.nan)
    structure = (s1 - s0) * (v0 + v1) / 2
    price = (s0 + s1) / 2 * (v1 - v0)
    V0 = ta["base"] / tq["base"] if tq["base"] > 0 else np.nan
    V1 = ta["cur"] / tq["cur"] if tq["cur"] > 0 else np.nan
    nan = np.full(n, np.nan)
    base = np.concatenate([fq["base"].to_numpy(), fa["base"].to_numpy(), own0])
    current = np.concatenate([fq["cur"].to_numpy(), fa["cur"].to_numpy(), own1])
    contribution = np.concatenate([(fq["cur"] - fq["base"]).to_numpy(),
                                   (fa["cur"] - fa["base"]).to_numpy(), structure + price])
    total_base = np.repeat(np.array([fq["base"].sum(), fa["base"].sum(), V0], dtype="float64"), n)
    total_current = np.repeat(np.array([fq["cur"].sum(), fa["cur"].sum(), V1], dtype="float64"),
                              n)
    total_change = total_current - total_base
    with np.errstate(divide="ignore", invalid="ignore"):
        share = contribution / np.where(np.abs(total_change) > 1e-12, total_change, np.nan)
        pull = contribution / np.where(np.abs(total_base) > 1e-12, total_base, np.nan)
    groups = np.asarray(q.index.astype("object"), dtype=object)
    out = pd.DataFrame({
        "comparison": comparison, "dimension": dimension,
        "group": np.concatenate([groups, groups, groups]),
        "indicator": pd.Series(np.repeat(np.array(["volume_cases", "amount_wan",
                                                   "value_per_case"], dtype=object), n),
                               dtype=_TEXT),
        "base": base, "current": current, "contribution": contribution,
        "structure_effect": np.concatenate([nan, nan, structure]),
        "price_effect": np.concatenate([nan, nan, price]),
        "total_base": total_base, "total_current": total_current, "total_change": total_change,
        "share_of_change": share, "growth_pull": pull})
    out["group"] = out["group"].astype("string")
    return out.sort_values(["indicator", "contribution"], ignore_index=True)


def flagged_shop_groups(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame,
                        *, month: str, comparison: str = "yoy",
                        thresholds: Mapping | None = None,
                        key_brand: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`shop_groups` with the key-brand-loss shops flagged the way the market report
    flags them (:func:`kehu_lib.findings.key_brand_loss`, judged within each district), in the
    districts where the report states the finding (at least ``key_brand_min_shops`` flagged
    shops and ``key_brand_min_share`` of the judged ones); elsewhere the few flagged shops are
    noise and stay in their other groups.

    ``orders`` must cover the 14 months up to ``month`` (the flag's baseline and 同比);
    ``key_brand``: the report's own :func:`~kehu_lib.findings.key_brand_loss` result when
    already computed (with ``district_code``)."""
    from ..findings import DEFAULTS, key_brand_loss

    t = {**DEFAULTS, **(thresholds or {})}
    kb = key_brand if key_brand is not None else key_brand_loss(
        orders, products, customers, month=month, thresholds=t, by_district=True)
    n = kb.groupby("district_code")["flagged"].agg(["sum", "size"])
    shown = n.index[(n["sum"] >= t["key_brand_min_shops"])
                    & (n["sum"] / n["size"] >= t["key_brand_min_share"])]
    flagged = kb.loc[kb["flagged"] & kb["district_code"].isin(set(shown)), "license_id"]
    return shop_groups(orders, month=month, base=base_month(month, comparison),
                       key_brand_loss=flagged)


def change_drivers(orders: pd.DataFrame, products: pd.DataFrame | None = None, *, month: str,
                   comparisons: Sequence[str] = ("yoy", "mom"),
                   dimensions: Sequence[str] = ("district", "price_class", "brand",
                                                "shop_group"),
                   groups: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """:func:`decompose` for every comparison and dimension, stacked.

    ``groups``: comparison code -> :func:`shop_groups` output (needed for ``shop_group``; a
    dimension without its groups is skipped).

    Returns
    -------
    The columns of :func:`decompose`, all comparisons and dimensions.
    """
    parts = []
    cols = [c for c in orders.columns if c in ("month", "license_id", "sku", "qty_supplied",
                                               "amount", *DIMENSIONS.values())]
    for c in comparisons:
        # the rows of the two months once per comparison, only the columns decompose reads
        two = rows_of(orders, "month", [month, base_month(month, c)])[cols]
        coded = _Coded(two, month)
        for d in dimensions:
            g = (groups or {}).get(c)
            if d == "shop_group" and g is None:
                continue
            totals = coded.totals(d, products, g)
            parts.append(decompose(two, products, month=month, comparison=c, dimension=d,
                                   groups=g) if totals is None
                         else _contributions(*totals, comparison=c, dimension=d))
    return pd.concat(parts, ignore_index=True)


class _Coded:
    """The rows of one comparison (``two``: the report month and its base month) with their
    SKUs, shops and districts as integer codes, each factorized once: the group totals of
    every dimension (:meth:`totals`) are then sums over integer group keys, not over a string
    column per dimension. The sums are pandas' group sums over the same rows in the same order
    as :func:`decompose`'s, so they are the same to the last bit."""

    def __init__(self, two: pd.DataFrame, month: str):
        self.two = two
        self.period = (two["month"] == month).to_numpy(dtype=bool)
        self._codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
        self._values = pd.DataFrame({"qty_supplied": two["qty_supplied"].to_numpy(),
                                     "amount": two["amount"].to_numpy()})

    def codes(self, col: str) -> tuple[np.ndarray, pd.Index]:
        """(code per row, -1 for a missing value; the distinct values) of column ``col``."""
        if col not in self._codes:
            codes, uniques = pd.factorize(self.two[col])
            self._codes[col] = (np.asarray(codes), pd.Index(uniques))
        return self._codes[col]

    def totals(self, dimension: str, products: pd.DataFrame | None,
               groups: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """(q, a) of :func:`decompose` for ``dimension``, or None where :func:`_keyed` would
        not take a lookup (then :func:`decompose` computes them)."""
        col = DIMENSIONS[dimension]
        two = self.two
        if dimension == "shop_group":
            if col in two.columns or groups is None or not groups["license_id"].is_unique:
                return None
            codes, uniques = self.codes("license_id")
            table = pd.Series(groups["shop_group"].astype("object").to_numpy(),
                              index=groups["license_id"].astype("object").to_numpy())
            labels = table.reindex(uniques.astype("object")).to_numpy(dtype=object)
            missing = "other"
        elif col in ("price_class", "brand") and col not in two.columns:
            if products is None or "sku" not in two.columns or not products["sku"].is_unique:
                return None
            codes, uniques = self.codes("sku")
            table = pd.Series(products[col].astype("object").to_numpy(),
                              index=products["sku"].astype("object").to_numpy())
            labels = table.reindex(uniques.astype("object")).to_numpy(dtype=object)
            missing = "未知"
        elif col in two.columns:
            codes, uniques = self.codes(col)
            labels = uniques.astype("object").to_numpy(dtype=object)
            missing = "未知"
        else:
            return None
        if any(not isinstance(x, str) and not pd.isna(x) for x in labels):
            return None  # not strings (the lookup's path casts them): let decompose do it
        labels = np.array([x if isinstance(x, str) else missing for x in labels] + [missing],
                          dtype=object)  # the last entry: a row whose own key is missing
        seen = np.bincount(codes + 1, minlength=len(labels)) > 0  # index 0: a missing key
        names = np.array(sorted(set(labels[np.roll(seen, -1)])), dtype=object)
        group_of = np.searchsorted(names, labels)
        key = group_of[codes] * 2 + self.period  # code -1 takes the last label
        sums = self._values.groupby(key, sort=True).sum()
        idx = sums.index.to_numpy()
        out = []
        for column, scale in (("qty_supplied", CARTONS_PER_CASE), ("amount", None)):
            frame = pd.DataFrame({"base": 0.0, "cur": 0.0},
                                 index=pd.Index(names, dtype="string", name=col))
            base, cur = sums.loc[idx % 2 == 0, column], sums.loc[idx % 2 == 1, column]
            frame.iloc[idx[idx % 2 == 0] // 2, 0] = base.to_numpy()
            frame.iloc[idx[idx % 2 == 1] // 2, 1] = cur.to_numpy()
            out.append(frame / scale if scale else frame)
        return out[0], out[1]


def explain_change(drivers: pd.DataFrame, *, indicator: str = "volume_cases",
                   comparison: str = "yoy", prefer: Sequence[str] = ("shop_group",),
                   min_share: float = 0.5, min_listed: float = 0.1, max_share: float = 2.0,
                   top: int = 3) -> pd.DataFrame:
    """What explains the change (变动主因): per dimension, the groups that moved the total the
    most in the direction of the change, as codes and numbers.

    For each dimension the groups whose contribution has the sign of the total change are ranked
    by contribution; ``share`` = contribution / total change (0.9 = the group alone explains 90%
    of the change; a share above 1 means other groups moved the other way). Among the preferred
    rows, the shop groups come in the order of :data:`SHOP_GROUPS` (a flagged key-brand loss
    before the routine churn of new and stopped shops). Dimensions with a
    single group, the residual group ``other``, groups explaining less than ``min_listed``
    (10%) of the change and groups moving more than ``max_share`` (200%) of it are left out (a
    gross flow many times the net change — e.g. shops opening while others close — explains
    nothing about the net change). The rows are ordered
    with the dimensions of ``prefer`` first when their leading group explains at least
    ``min_share`` of the change (a flagged shop group is an explanation a manager can act on;
    a district or brand is a place to look), then by share. ``top`` groups per dimension.

    Returns
    -------
    DataFrame: rank (1 = the first explanation), comparison, indicator, dimension, group,
    contribution, total_change, share, base, current. Empty when the total did not change.
    """
    d = drivers[(drivers["indicator"] == indicator) & (drivers["comparison"] == comparison)]
    cols = ["rank", "comparison", "indicator", "dimension", "group", "contribution",
            "total_change", "share", "base", "current"]
    if d.empty or not np.isfinite(d["total_change"].iloc[0]) or d["total_change"].iloc[0] == 0:
        return pd.DataFrame(columns=cols)
    sign = np.sign(d["total_change"].iloc[0])
    n_groups = d.groupby("dimension")["group"].transform("nunique")
    d = d[n_groups >= 2]  # a dimension with one group (the district itself) explains nothing
    same = d[np.sign(d["contribution"]) == sign].copy()
    same["share"] = same["contribution"] / same["total_change"]
    same = same.sort_values("share", ascending=False)
    same = same[(same["group"] != "other") & (same["share"] >= min_listed)
                & (same["share"] <= max_share)]
    same = same.groupby("dimension", sort=False).head(top)
    lead = same.groupby("dimension")["share"].transform("max")
    same["_pref"] = same["dimension"].isin(prefer) & (same["share"] >= min_share)
    same["_lead"] = lead
    # within the preferred rows, a flagged group (key-brand loss) before shop churn
    order = {g: i for i, g in enumerate(SHOP_GROUPS)}
    same["_g"] = np.where(same["_pref"], same["group"].map(order).fillna(len(order)), 0)
    out = same.sort_values(["_pref", "_g", "_lead", "share"],
                           ascending=[False, True, False, False], ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out[cols]
