"""The account managers' own plans: one printable HTML page and one XLSX sheet per manager.

These pages are the one place where full licence ids (许可证号) are shown: the manager needs them
to find the shops. Everything shared more widely (the notebook, its HTML) masks them with
:func:`kehu_lib.exports.mask_license`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exports import mask_license
from ..frames import isin

__all__ = ["SHEET_COLUMNS", "TARGET_COLUMNS", "own_flagged_states", "manager_view",
           "manager_views", "manager_sheet", "targets_sheet",
           "page_name", "write_manager_plans", "district_manager_pages", "masked", "effect_chart"]

#: The manager's week list (周工作安排): glossary keys of its columns, in order (the Chinese
#: headers live in ``kehu_lib/present/glossary.yaml``).
SHEET_COLUMNS = ("weekday", "visit_order", "route_id", "shop_label", "license_id", "problem_text",
                 "details", "strategy_names", "target_qty", "last_visit_date", "last_result",
                 "carry_over")
#: The workbook's 目标 sheet (one row per manager): glossary keys.
TARGET_COLUMNS = ("manager_id", "plan_key_shops", "volume_target_cases", "share_volume",
                  "key_brand_target_cases")


def masked(df: pd.DataFrame, col: str = "license_id") -> pd.DataFrame:
    """A copy of ``df`` with licence ids masked ('1401******23') for anything shared widely."""
    out = df.copy()
    if col in out.columns:
        out[col] = out[col].map(mask_license)
    return out


def own_flagged_states(plan: Mapping[str, Any], shared: set | None = None) -> pd.DataFrame:
    """The plan's flagged states that are not a district problem (``shared``: the keys of
    :func:`kehu_lib.plan.strategies.district_problem_keys`, computed when None), in the order of
    ``plan['states']``: what :func:`manager_view` details, made once for all the managers."""
    from .strategies import district_problem_keys

    st = plan["states"]
    if shared is None:
        shared = district_problem_keys(st, plan.get("district_actions", pd.DataFrame()))
    own = st[st["flagged"]]
    return own[[k not in shared for k in zip(own["license_id"].tolist(),
                                             own["indicator"].tolist())]]


def manager_view(plan: Mapping[str, Any], manager_id: str, *,
                 shared: set | None = None, own_states: pd.DataFrame | None = None,
                 carried: set | None = None) -> pd.DataFrame:
    """The week list of one manager (full licence ids), columns :data:`SHEET_COLUMNS` as codes
    and numbers plus the problem in words.

    From ``plan['week_plan']`` (:func:`kehu_lib.plan.weekly.week_plan`): by visit day and route
    order; ``problem_text`` names the indicator, the cause and the SKU
    (:func:`kehu_lib.present.plan_text.problem_text`); ``details``: the numbers of the shop's own
    flagged states (a district-wide problem is left to the district action); ``target_qty`` in
    whole 条; ``carry_over``: listed with the same problem last month. ``shared``: the
    district problems' keys (:func:`kehu_lib.plan.strategies.district_problem_keys` of the
    plan's states and district actions) when already known; ``own_states``
    (:func:`own_flagged_states`) and ``carried`` (the licence ids of ``plan['carry_over']``)
    likewise, so that a page per manager does not scan the city's states once per manager.
    """
    w = plan["week_plan"]
    w = w[w["manager_id"] == manager_id].sort_values(["weekday", "visit_order"]).copy()
    lib = plan["library"]
    names = plan.get("sku_names", {})
    if own_states is None:
        own_states = own_flagged_states(plan, shared)
    # the same rows in the same order as filtering the states by the manager's shops first
    own = own_states[isin(own_states["license_id"], set(w["license_id"]))]
    det = (own.sort_values("severity", ascending=False)
           .groupby("license_id")["detail"].agg(lambda s: "；".join(x for x in s if x)))
    w["details"] = w["license_id"].map(det).fillna("")
    _add_texts(w, lib, names)
    if carried is None:
        carried = set(plan["carry_over"]["license_id"]) if len(plan["carry_over"]) else set()
    w["carry_over"] = isin(w["license_id"], carried)
    w["last_visit_date"] = pd.to_datetime(w["last_visit_date"]).dt.strftime("%Y-%m-%d")
    return w[list(SHEET_COLUMNS)].reset_index(drop=True)


def _add_texts(w: pd.DataFrame, lib, names: Mapping[str, str]) -> None:
    """Add the week plan's ``problem_text`` (the problem in words) and ``strategy_names``."""
    from ..present import plan_text

    w["problem_text"] = [plan_text.problem_text(i, c, names.get(k, k) if isinstance(k, str)
                                                else None, lib)
                         for i, c, k in zip(w["problem_indicator"], w["problem_cause"],
                                            w["problem_sku"])]
    w["strategy_names"] = [lib.label(str(c).split(";")) if isinstance(c, str) and c else ""
                           for c in w["strategy_codes"]]


def _by_severity(severity: np.ndarray) -> np.ndarray:
    """Positions of ``severity`` (a float array) in the order of ``sort_values('severity',
    ascending=False)`` (quicksort; missing last): the same order, ties included, as sorting a
    frame of these rows by its severity."""
    mask = np.isnan(severity)
    idx = np.arange(len(severity))
    non_nan_idx = idx[~mask][::-1]
    order = non_nan_idx[severity[~mask][::-1].argsort(kind="quicksort")][::-1]
    return np.concatenate([order, idx[mask]])


def _week_frame(plan: Mapping[str, Any], own_states: pd.DataFrame,
                carried: set) -> tuple[pd.DataFrame, dict]:
    """The week plan with the columns of :func:`manager_view` made for every row at once:
    sorted by visit day and route order (a stable sort, so each manager's rows come in the
    order of sorting his rows alone), with the problem in words, strategy names, carry-over,
    date and each manager's ``details`` (his shops' own flagged states in the order of sorting
    those states alone by severity). Returns the frame and manager id -> its positions."""
    w = plan["week_plan"].sort_values(["weekday", "visit_order"])
    rows = w.groupby("manager_id", sort=False).indices
    lib = plan["library"]
    names = plan.get("sku_names", {})
    _add_texts(w, lib, names)
    w["carry_over"] = isin(w["license_id"], carried)
    w["last_visit_date"] = pd.to_datetime(w["last_visit_date"]).dt.strftime("%Y-%m-%d")
    # each shop's own flagged states (positions in own_states, in its order)
    own_rows = own_states.reset_index(drop=True).groupby("license_id", sort=False).indices
    severity = own_states["severity"].to_numpy(dtype="float64")
    detail = own_states["detail"].to_numpy(dtype=object)
    own_lic = own_states["license_id"].to_numpy(dtype=object)
    licence = w["license_id"].to_numpy(dtype=object)
    details = np.full(len(w), "", dtype=object)
    empty = np.empty(0, dtype="int64")
    for at in rows.values():
        hit = [own_rows[k] for k in set(licence[at]) if k in own_rows]
        pos = np.sort(np.concatenate(hit)) if hit else empty
        parts: dict = {}
        for i in pos[_by_severity(severity[pos])]:
            parts.setdefault(own_lic[i], []).append(detail[i])
        joined = {k: "；".join(x for x in v if x) for k, v in parts.items()}
        details[at] = [joined.get(k, "") for k in licence[at]]
    w["details"] = pd.Series(details, index=w.index, dtype=own_states["detail"].dtype)
    return w, rows


def manager_views(plan: Mapping[str, Any], managers, *, shared: set | None = None,
                  own_states: pd.DataFrame | None = None,
                  carried: set | None = None) -> dict[str, pd.DataFrame]:
    """:func:`manager_view` of each of ``managers`` (manager id -> view), the same frames, made
    from the week plan at once (:func:`_week_frame`) instead of a pass over the city's week
    plan and states per manager. A manager without a shop in the week plan gets
    :func:`manager_view` itself."""
    if own_states is None:
        own_states = own_flagged_states(plan, shared)
    if carried is None:
        carried = set(plan["carry_over"]["license_id"]) if len(plan["carry_over"]) else set()
    w, rows = _week_frame(plan, own_states, carried)
    view = w[list(SHEET_COLUMNS)]
    return {m: (view.iloc[rows[m]].reset_index(drop=True) if m in rows else
                manager_view(plan, m, own_states=own_states, carried=carried))
            for m in managers}


def manager_sheet(plan: Mapping[str, Any], manager_id: str, *,
                  view: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`manager_view` for the workbook: Chinese headers (glossary), codes as names,
    numbers kept as numbers (target in whole 条), licence ids in full. ``view``: the manager's
    :func:`manager_view` when already made."""
    from ..present import format as fmt, glossary

    return _sheet_of(manager_view(plan, manager_id) if view is None else view)


def _sheet_of(v: pd.DataFrame) -> pd.DataFrame:
    """:func:`manager_sheet` of the view ``v``."""
    from ..present import format as fmt, glossary

    out = v.copy()
    for col in out.columns:
        e = glossary.entry(col)
        if e.kind in ("code", "bool") or col == "last_visit_date":
            out[col] = [("" if fmt.is_missing(x) else fmt.value(x, col)) for x in v[col]]
    out["carry_over"] = out["carry_over"].replace({fmt.NO: ""})
    return out.rename(columns={c: glossary.header(c) for c in out.columns})


def _targets_line(plan, manager_id: str, first: Mapping[str, Any] | None = None) -> str:
    """The manager's targets in words ('' without a target); ``first``: manager id -> the
    position of his first row in ``plan['targets']`` when already known."""
    from ..present import format as fmt

    t = plan["targets"]
    if first is not None:
        if manager_id not in first:
            return ""
        r = t.iloc[first[manager_id]]
    else:
        t = t[t["manager_id"] == manager_id]
        if t.empty:
            return ""
        r = t.iloc[0]
    return (f"{plan['plan_month']}销量目标 {fmt.cases(r['volume_target_cases'])} 箱（占本区近3月"
            f"销量的{fmt.share(r['share'])}），重点品牌目标 "
            f"{fmt.cases(r['key_brand_target_cases'])} 箱；每户目标按其近3月销量占比分解，以条计。"
            f"{plan.get('targets_note', '')}")


#: The manager's page: screen and A4 landscape print (a day's table keeps its header on every
#: printed page; a shop's row is never split).
_CSS = """body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;font-size:11pt;
color:#222}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border:1px solid #999;
padding:3px 6px;vertical-align:top}th{background:#eee;white-space:nowrap}td.n{text-align:right;
white-space:nowrap}td.c{white-space:nowrap}h1{font-size:16pt;margin:.2em 0}h2{font-size:13pt;
margin:1em 0 .3em}.note{color:#555}.back{font-size:10pt}
@page{size:A4 landscape;margin:1cm}
@media print{body{margin:0;font-size:9pt}.back{display:none}thead{display:table-header-group}
tr{page-break-inside:avoid}h2{page-break-after:avoid}}"""
#: Columns written as numbers (right-aligned) and short codes (never wrapped) on the page.
_NUMERIC = {"visit_order", "target_qty"}
_NOWRAP = {"weekday", "route_id", "license_id", "last_visit_date", "last_result", "carry_over"}


def _table(view: pd.DataFrame) -> str:
    return _table_of(_table_head(view.columns), _table_rows(view))


def _table_head(columns) -> str:
    from ..present import glossary

    return "".join(f"<th>{html.escape(glossary.header(c))}</th>" for c in columns
                   if c != "weekday")


def _table_of(head: str, rows) -> str:
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _table_rows(view: pd.DataFrame) -> list[str]:
    """The ``<tr>`` of each row of ``view`` (its weekday left out)."""
    from ..present import format as fmt

    cols = [c for c in view.columns if c != "weekday"]
    # the row values as iterrows gives them (the frame's values as one object array), without
    # a Series per row
    values = view.to_numpy(dtype=object) if len(view.columns) else None
    where = [view.columns.get_loc(c) for c in cols]
    classes = [' class="n"' if c in _NUMERIC else ' class="c"' if c in _NOWRAP else ""
               for c in cols]
    rows = []
    for r in (values if values is not None else ()):
        cells = []
        for c, i, cls in zip(cols, where, classes):
            v = r[i]
            text = "" if (c == "carry_over" and not v) else (
                "" if fmt.is_missing(v) or v == "" else fmt.value(v, c))
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return rows


def _page(plan, manager_id: str, view: pd.DataFrame, back: str = "") -> str:
    from ..present import plan_text

    used = sorted({c for codes in plan["week_plan"].loc[
        plan["week_plan"]["manager_id"] == manager_id, "strategy_codes"].dropna()
        for c in str(codes).split(";") if c})
    days = [(wd, g["target_qty"].dropna().sum(), len(g), _table(g))
            for wd, g in view.groupby("weekday", dropna=False, sort=True)]
    district = plan_text.district_action_note(plan.get("district_actions", pd.DataFrame()),
                                              plan["library"])
    return _page_html(plan, manager_id, len(view), days, used, district,
                      _targets_line(plan, manager_id), back)


def _page_html(plan, manager_id: str, shops: int, days, used, district: str, targets: str,
               back: str = "") -> str:
    """A manager's page: ``days`` (visit day, target total, shops, table) in order, ``used``
    the strategy codes of the legend, ``district`` the district actions' note, ``targets`` the
    targets' line."""
    from ..present import format as fmt, glossary

    title = f"{plan['place']} 客户经理 {manager_id} {plan['plan_month']} 月度工作方案"
    lib = plan["library"]
    legend = "".join(f"<li>{html.escape(c)} {html.escape(lib.name(c))}</li>" for c in used)
    parts = []
    for wd, total, n, table in days:
        day = "拜访日未定" if fmt.is_missing(wd) else glossary.code_name("weekday", wd)
        parts.append(f"<h2>{html.escape(day)}（{n}户，目标合计{fmt.cartons(total)}条）</h2>"
                     + table)
    nav = f'<p class="back"><a href="{html.escape(back)}">← 返回本区月度工作方案</a></p>' \
        if back else ""
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>{_CSS}</style></head><body>{nav}"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(targets)}</p>"
            + (f"<p>{html.escape(district)}</p>" if district else "")
            + f"<p class='note'>重点客户{shops}户，按拜访日和访销线顺序排列。"
            f"本方案含完整许可证号，仅供客户经理本人使用，请勿转发。</p>"
            + "".join(parts) + f"<h2>策略说明</h2><ul>{legend}</ul></body></html>")


def _pages(plan, managers, w: pd.DataFrame, rows: dict, back: str = "") -> dict[str, str]:
    """:func:`_page` of each manager with a shop in the week frame ``w`` (:func:`_week_frame`,
    ``rows``: his positions), every table row and the district note written once."""
    from ..present import plan_text

    view = w[list(SHEET_COLUMNS)]
    head = _table_head(view.columns)
    trs = np.array(_table_rows(view), dtype=object)
    weekday = w["weekday"].to_numpy(dtype=object)
    qty = w["target_qty"].to_numpy(dtype=object)
    codes = w["strategy_codes"].to_numpy(dtype=object)
    district = plan_text.district_action_note(plan.get("district_actions", pd.DataFrame()),
                                              plan["library"])
    first = {m: int(i[0]) for m, i in
             plan["targets"].groupby("manager_id", sort=False).indices.items()}
    out = {}
    for m in managers:
        at = rows.get(m)
        if at is None:
            continue
        used = sorted({c for x in codes[at] if isinstance(x, str) for c in x.split(";") if c})
        # the frame is sorted by visit day (missing last): each day is one run of rows
        wd = weekday[at]
        days, start = [], 0
        for end in range(1, len(at) + 1):
            if end == len(at) or not _same(wd[end], wd[start]):
                run = at[start:end]
                total = sum(int(q) for q in qty[run] if q is not pd.NA)
                days.append((wd[start], total, len(run), _table_of(head, trs[run])))
                start = end
        out[m] = _page_html(plan, m, len(at), days, used, district,
                            _targets_line(plan, m, first), back)
    return out


def _same(a, b) -> bool:
    """Equal visit days, a missing day equal to a missing day."""
    return (a is pd.NA and b is pd.NA) or (a is not pd.NA and b is not pd.NA and a == b)


def targets_sheet(plan: Mapping[str, Any], managers: list[str]) -> pd.DataFrame:
    """The managers' targets, one row each, with Chinese headers (the workbook's first sheet)."""
    from ..present import glossary

    t = plan["targets"].drop_duplicates("manager_id").set_index("manager_id")
    counts = plan["key_shops"]["manager_id"].value_counts()
    rows = []
    for m in managers:
        r = t.loc[m] if m in t.index else None
        rows.append({"manager_id": m, "plan_key_shops": int(counts.get(m, 0)),
                     "volume_target_cases": None if r is None else round(float(r["volume_target_cases"]), 1),
                     "share_volume": None if r is None else round(float(r["share"]), 3),
                     "key_brand_target_cases": None if r is None else round(float(r["key_brand_target_cases"]), 1)})
    out = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
    out = out.rename(columns={c: glossary.header(c) for c in TARGET_COLUMNS})
    note = plan.get("targets_note", "")
    if note:
        out[glossary.header("note")] = note
    return out


def page_name(plan: Mapping[str, Any], manager_id: str) -> str:
    """File name of a manager's page: ``月度工作方案_<plan month>_<manager>.html``."""
    return f"月度工作方案_{plan['plan_month']}_{manager_id}.html"


def write_manager_plans(plan: Mapping[str, Any], output_dir: str | Path = "", *,
                        back: str = "") -> pd.DataFrame:
    """Write each manager's plan: ``月度工作方案_<plan month>_<manager>.html`` (the week list by
    visit day and route order, printable on A4) and one workbook
    ``月度工作方案_<place>_<plan month>.xlsx`` (a 目标 sheet, then a sheet per manager with the
    week list: headers in row 1, frozen, licence ids as text), in ``output_dir``
    (:func:`kehu_lib.config.files_dir`: empty is the interactive folder under ``reports/``).
    ``back``: link from each page back to the district's plan page (relative to the files).

    Returns
    -------
    DataFrame: manager_id, key_shops, html (file name), sheet, folder — what was written.
    """
    from .. import config
    from ..present import glossary
    from ..workbook import write_workbook

    out = config.files_dir(output_dir, month=plan.get("month", ""), place=plan["place"])
    out.mkdir(parents=True, exist_ok=True)
    managers = sorted(set(plan["key_shops"]["manager_id"]) | set(plan["targets"]["manager_id"]))
    sheets = [("目标", targets_sheet(plan, managers))]
    rows = []
    from .strategies import district_problem_keys

    shared = district_problem_keys(plan["states"], plan.get("district_actions", pd.DataFrame()))
    own = own_flagged_states(plan, shared)
    carried = set(plan["carry_over"]["license_id"]) if len(plan["carry_over"]) else set()
    # every manager's rows made at once from the week plan, then cut per manager
    w, at = _week_frame(plan, own, carried)
    sheet = _sheet_of(w[list(SHEET_COLUMNS)])
    pages = _pages(plan, managers, w, at, back)
    for m in managers:
        if m in at:
            view_rows = len(at[m])
            table = sheet.iloc[at[m]].reset_index(drop=True)
            text = pages[m]
        else:  # no shop in the week plan: the manager's own (empty) view
            view = manager_view(plan, m, own_states=own, carried=carried)
            view_rows, table, text = len(view), manager_sheet(plan, m, view=view), \
                _page(plan, m, view, back)
        name = f"{plan['plan_month']}_{m}"[:31]
        sheets.append((name, table))
        page = out / page_name(plan, m)
        page.write_text(text, encoding="utf-8")
        rows.append((m, view_rows, page.name, name, str(out)))
    write_workbook(out / f"月度工作方案_{plan['place']}_{plan['plan_month']}.xlsx", sheets,
                   text_columns=[glossary.header("license_id"), glossary.header("manager_id"),
                                 glossary.header("route_id")])
    return pd.DataFrame(rows, columns=["manager_id", "key_shops", "html", "sheet", "folder"])


def district_manager_pages(plan: Mapping[str, Any]) -> pd.DataFrame:
    """The managers' pages that the districts' own plans write (:func:`write_manager_plans` of
    each district's cut of ``plan``), listed without writing anything: the city's plan links
    them instead of writing every manager's page a second time.

    A district's plan writes one page per manager of its key shops or targets, with the
    manager's key shops of that district (the rows of its week list).

    Returns
    -------
    DataFrame: district_code, manager_id, key_shops, html (file name), sorted by district and
    manager (:func:`write_manager_plans` sorts by manager within a district).
    """
    cols = ["district_code", "manager_id"]
    pairs = pd.concat([plan["key_shops"][cols], plan["targets"][cols]]).drop_duplicates()
    counts = plan["week_plan"].groupby(cols).size().rename("key_shops")
    out = pairs.join(counts, on=cols).fillna({"key_shops": 0})
    out["key_shops"] = out["key_shops"].astype("int64")
    out["html"] = [page_name(plan, m) for m in out["manager_id"]]
    return out.sort_values(cols, ignore_index=True)


#: Bar colour of a strategy's verdict: effective red, negative blue, the rest grey.
EFFECT_COLORS = {"effective": "#c0392b", "negative": "#2457a6"}


def effect_chart(evaluation: pd.DataFrame, *, ax=None):
    """Chart of the strategies' DiD effects in standard errors (估计值 / 标准误), with the ±1.96
    band: a bar beyond the band is a significant change before the multiple-testing adjustment.
    Returns the matplotlib Axes (None when nothing was evaluated)."""
    import matplotlib.pyplot as plt

    ev = evaluation.dropna(subset=["se"])
    ev = ev[ev["se"] > 0]
    if ev.empty:
        return None
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.4 * len(ev) + 1.2))
    z = ev["estimate"] / ev["se"]
    labels = ev["code"] + " " + ev["name"] + "（" + ev["outcome_zh"] + "）"
    verdict = (ev["verdict_code"] if "verdict_code" in ev.columns
               else ev["effect_found"].map({True: "effective", False: "no_effect"}))
    colors = [EFFECT_COLORS.get(v, "#7f8c8d") for v in verdict]
    ax.barh(labels, z, color=colors)
    for x in (-1.96, 1.96):
        ax.axvline(x, color="#555", linestyle="--", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("效果估计 / 标准误（倍）")
    ax.set_title("上月策略效果（双重差分；红色有效、蓝色效果为负，均为校正后显著）")
    return ax
