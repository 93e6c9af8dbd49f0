"""Tests of kehu_lib.plan.priority and kehu_lib.plan.output: priority, key shops, targets, files."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.plan import priority as pr


def _values():
    return pd.DataFrame({"license_id": ["A", "B", "C", "D"], "district_code": "140105",
                         "manager_id": ["KM1", "KM1", "KM1", "KM2"],
                         "key_account": [False, False, True, False],
                         "amount": [100.0, 200.0, 400.0, 10.0], "volume": [10.0, 20, 40, 1]})


def _states():
    return pd.DataFrame({"license_id": ["A", "A", "B", "C", "D"],
                         "indicator": ["volume", "assortment_width", "volume", "volume", "volume"],
                         "indicator_zh": ["销量", "品牌组合宽度", "销量", "销量", "销量"],
                         "flagged": [True, True, True, False, True],
                         "severity": [0.4, 0.6, 0.6, 0.0, 0.9]})


def test_shop_weight_by_hand():
    w = pr.shop_weight(_values())
    # district median amount = (100 + 200) / 2 = 150; C: 400/150 = 2.67 x 1.5 (大客户) = 4.0;
    # D: 10/150 clipped to 0.25
    assert list(w.round(4)) == [round(100 / 150, 4), round(200 / 150, 4), 4.0, 0.25]


def test_shop_priority_by_hand():
    p = pr.shop_priority(_states(), _values()).set_index("license_id")
    assert p.loc["A", "gap_score"] == pytest.approx(1.0)  # 0.4 + 0.6
    assert p.loc["A", "priority"] == pytest.approx(100 / 150)
    assert p.loc["B", "priority"] == pytest.approx(0.6 * 200 / 150)
    assert p.loc["C", "priority"] == 0 and p.loc["C", "problems"] == ""
    assert p.loc["A", "problems"] == "品牌组合宽度、销量"  # most severe first
    assert list(p.loc[["B", "A", "C"], "rank"]) == [1, 2, 3] and p.loc["D", "rank"] == 1


def test_planned_visits_counts_weekdays():
    v = pd.DataFrame({"license_id": ["A", "A", "B"],
                      "visit_date": pd.to_datetime(["2026-10-02", "2026-10-09", "2026-10-05"])})
    p = pr.planned_visits(v, plan_month="2026-11").set_index("license_id")
    # November 2026 has 4 Fridays (6, 13, 20, 27) and 5 Mondays (2, 9, 16, 23, 30)
    assert p.loc["A", "weekdays"] == "周五" and p.loc["A", "routine_visits"] == 4
    assert p.loc["B", "routine_visits"] == 5
    assert pr.planned_visits(v.iloc[0:0], plan_month="2026-11").empty


def test_key_shops_take_top_n_with_strategies():
    p = pr.shop_priority(_states(), _values())
    strat = pd.DataFrame({"license_id": ["A", "A", "B"], "code": ["KZB-14", "KZB-09", "KZB-09"],
                          "name": ["组合宽度建议", "卷烟陈列服务", "卷烟陈列服务"], "order": [1, 2, 1]})
    v = pd.DataFrame({"license_id": ["A"], "visit_date": pd.to_datetime(["2026-10-02"])})
    k = pr.key_shops(p, strat, v, plan_month="2026-11",
                     thresholds={"key_shops_per_manager": 1}).set_index("license_id")
    assert set(k.index) == {"B", "D"}  # the first of each manager; C has no problem
    assert k.loc["B", "strategy_codes"] == "KZB-09"
    assert k.loc["B", "planned_visits"] == 4 + 1  # no recorded weekday: 4 routine + 1 extra


def test_manager_targets_by_hand():
    products = pd.DataFrame({"sku": ["K", "O"], "key_brand": [True, False]})
    cust = pd.DataFrame({"license_id": ["A", "B"], "manager_id": ["KM1", "KM2"]})
    orders = pd.DataFrame({"month": ["2026-10"] * 3 + ["2026-05"], "district_code": "140105",
                           "license_id": ["A", "A", "B", "B"], "sku": ["K", "O", "O", "O"],
                           "qty_supplied": [30.0, 30, 40, 999]})
    t = pr.manager_targets(orders, products, cust, month="2026-10",
                           district_forecast={"140105": 1000.0}).set_index("manager_id")
    # last 3 months: KM1 60 of 100 条 -> 60%, target 600 条; key-brand share 30/60 -> 300 条
    assert t.loc["KM1", "share"] == pytest.approx(0.6)
    assert t.loc["KM1", "volume_target"] == pytest.approx(600)
    assert t.loc["KM1", "key_brand_target"] == pytest.approx(300)
    assert t.loc["KM2", "volume_target_cases"] == pytest.approx(400 / 250)
    t2 = pr.manager_targets(orders, products, cust, month="2026-10",
                            district_forecast={"140105": 1000.0},
                            key_brand_forecast={"140105": 50.0}).set_index("manager_id")
    assert t2.loc["KM1", "key_brand_target"] == pytest.approx(50.0)  # KM1 holds all key volume


def test_fallback_forecast_by_hand():
    from kehu_lib.plan.data import fallback_forecast

    months = [str(pd.Period("2025-08", "M") + i) for i in range(15)]
    vol = [100.0] * 15
    vol[months.index("2025-11")] = 120.0
    for m in ("2026-08", "2026-09", "2026-10"):
        vol[months.index(m)] = 110.0
    df = pd.DataFrame({"district_code": "140105", "month": months, "volume": vol})
    f = fallback_forecast(df, target_month="2026-11")
    # last year's November 120 x (330 / 300)
    assert f["140105"] == pytest.approx(120 * 330 / 300)


def test_manager_files_show_full_ids_notebook_masks(tmp_path, small_store):
    from kehu_lib.plan import data, monthly, output
    from kehu_lib.present import glossary

    plan = monthly.build(data.load_inputs("2026-10", store=small_store), district="小店区",
                         store=small_store)
    written = output.write_manager_plans(plan, tmp_path)
    assert len(written) == plan["key_shops"]["manager_id"].nunique() >= 1
    row = written.iloc[0]
    page = (tmp_path / row["html"]).read_text(encoding="utf-8")
    lic = plan["key_shops"].loc[plan["key_shops"]["manager_id"] == row["manager_id"],
                                "license_id"].iloc[0]
    assert lic in page and "月度工作方案" in page and "KZB-" in page
    import openpyxl

    wb = openpyxl.load_workbook(next(tmp_path.glob("*.xlsx")))
    assert wb.sheetnames == ["目标"] + list(written["sheet"])
    ws = wb[row["sheet"]]
    header = [c.value for c in ws[1]]
    # headers in row 1 (the glossary's), no title above
    assert header == [glossary.header(c) for c in output.SHEET_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.max_row == row["key_shops"] + 1
    col = header.index("许可证号") + 1
    ids = [ws.cell(r, col) for r in range(2, ws.max_row + 1)]
    assert lic in {c.value for c in ids}
    assert all(c.data_type == "s" and c.number_format == "@" for c in ids)  # ids as text
    letter = openpyxl.utils.get_column_letter(col)
    assert ws.column_dimensions[letter].width >= 12  # 12 digits fit
    targets = wb["目标"]
    assert [c.value for c in targets[1]][:2] == ["客户经理", "重点客户数"]
    assert targets.freeze_panes == "A2" and targets.max_row == len(written) + 1
    shops = {targets.cell(r, 1).value: targets.cell(r, 2).value for r in range(2, targets.max_row + 1)}
    assert shops == dict(zip(written["manager_id"], written["key_shops"]))
    m = output.masked(plan["key_shops"])
    assert m["license_id"].str.fullmatch(r"\d{4}\*{6}\d{2}").all()


def test_manager_page_is_a_week_list_a_manager_can_act_on(tmp_path, small_store, signals):
    """Issue #13: no shop name, route order or weekly schedule; per-shop targets in 箱 with 3
    decimals; 本户未引入新品 never names the product; 订单合理性 listed shop by shop."""
    import openpyxl

    from kehu_lib import loaders
    from kehu_lib.plan import data, monthly, output
    from kehu_lib.present import glossary

    plan = monthly.build(data.load_inputs("2026-10", store=small_store),
                         district=signals["oversupplied_sku"]["district"], store=small_store)
    written = output.write_manager_plans(plan, tmp_path, back="../monthly_plan.html")
    cust = loaders.load_customers(None, store=small_store).set_index("license_id")
    new_name = plan["sku_names"][signals["new_product"]["sku"]]
    named_new = 0
    for _, row in written.iterrows():
        view = output.manager_view(plan, row["manager_id"])
        assert len(view) == row["key_shops"] > 0
        # by visit day, then route order 1..n within the day
        assert list(view["weekday"]) == sorted(view["weekday"])
        for _, g in view.groupby("weekday"):
            assert list(g["visit_order"]) == list(range(1, len(g) + 1))
        assert list(view["shop_label"]) == list(view["license_id"].map(cust["shop_name"]))
        # whole 条 summing to about the manager's target share of the key shops
        assert str(view["target_qty"].dtype) == "Int64" and (view["target_qty"] >= 0).all()
        # the district-wide overstock is one district action, not a shop problem
        assert not view["problem_text"].str.contains("库存积压").any()
        named_new += int(view["problem_text"].str.contains(f"未引入新品（{new_name}）",
                                                          regex=False).sum())
        page = (tmp_path / row["html"]).read_text(encoding="utf-8")
        assert "周" in page and "区县统一行动：订单合理性（库存积压）" in page
        for name in view["shop_label"]:
            assert name in page
        assert "@page{size:A4 landscape" in page and 'href="../monthly_plan.html"' in page
    assert named_new > 0  # the product is named where it was not introduced
    wb = openpyxl.load_workbook(next(tmp_path.glob("*.xlsx")))
    ws = wb[written["sheet"].iloc[0]]
    header = [c.value for c in ws[1]]
    col = header.index(glossary.header("target_qty")) + 1
    vals = [ws.cell(r, col).value for r in range(2, ws.max_row + 1)]
    assert header[col - 1] == "销量目标（条）"
    assert all(isinstance(v, int) for v in vals)  # whole 条, not 箱 with decimals
    day = [ws.cell(r, header.index("拜访日") + 1).value for r in range(2, ws.max_row + 1)]
    assert set(day) <= {"周一", "周二", "周三", "周四", "周五", "周六", "周日"}


def test_manager_views_made_once_for_all_managers_match_the_old_per_manager_filter(small_store):
    """write_manager_plans filters the city's flagged states once (own_flagged_states) instead of
    once per manager: each manager's details are those of the former per-manager filter."""
    from kehu_lib.plan import data, monthly, output
    from kehu_lib.plan.strategies import district_problem_keys

    plan = monthly.build(data.load_inputs("2026-10", store=small_store), district=None,
                         store=small_store)
    st = plan["states"]
    shared = district_problem_keys(st, plan["district_actions"])
    own = output.own_flagged_states(plan, shared)
    carried = set(plan["carry_over"]["license_id"])
    managers = sorted(set(plan["week_plan"]["manager_id"]))
    assert len(managers) > 3
    n_details = 0
    for m in managers:
        view = output.manager_view(plan, m, own_states=own, carried=carried)
        pd.testing.assert_frame_equal(view, output.manager_view(plan, m, shared=shared))
        # the former computation: the manager's shops first, then flagged and not shared
        w = plan["week_plan"]
        w = w[w["manager_id"] == m].sort_values(["weekday", "visit_order"])
        old = st[st["flagged"] & st["license_id"].isin(set(w["license_id"]))]
        old = old[[k not in shared for k in zip(old["license_id"], old["indicator"])]]
        det = (old.sort_values("severity", ascending=False)
               .groupby("license_id")["detail"].agg(lambda s: "；".join(x for x in s if x)))
        expected = w["license_id"].map(det).fillna("").tolist()
        assert view["details"].tolist() == expected
        assert view["carry_over"].tolist() == w["license_id"].isin(carried).tolist()
        n_details += sum(bool(x) for x in expected)
    assert n_details > 0


def test_manager_page_table_matches_the_former_row_by_row_rendering(small_store):
    """_table reads the view's values once instead of a Series per row (iterrows): the same HTML
    as the former rendering, kept here as the reference."""
    import html

    from kehu_lib.plan import data, monthly, output
    from kehu_lib.present import format as fmt, glossary

    def former(view):
        cols = [c for c in view.columns if c != "weekday"]
        head = "".join(f"<th>{html.escape(glossary.header(c))}</th>" for c in cols)
        rows = []
        for _, r in view.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                text = "" if (c == "carry_over" and not v) else (
                    "" if fmt.is_missing(v) or v == "" else fmt.value(v, c))
                cls = (' class="n"' if c in output._NUMERIC else ' class="c"'
                       if c in output._NOWRAP else "")
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    plan = monthly.build(data.load_inputs("2026-10", store=small_store), district=None,
                         store=small_store)
    managers = sorted(set(plan["week_plan"]["manager_id"]))
    n = 0
    for m in managers:
        view = output.manager_view(plan, m)
        assert output._table(view) == former(view)
        n += len(view)
    assert n > 50
    empty = output.manager_view(plan, managers[0]).iloc[0:0]
    assert output._table(empty) == former(empty)


def test_manager_views_pages_and_sheets_made_at_once_match_the_per_manager_ones(small_store):
    """write_manager_plans makes every manager's view, page and sheet from the week plan at once
    (manager_views, _pages, one sheet frame cut per manager): the same frames and HTML as the
    per-manager functions, for the city (every manager) and a district, including a manager
    without a shop in the week plan (targets only)."""
    from kehu_lib.plan import data, monthly, output

    inputs = data.load_inputs("2026-10", store=small_store)
    checked = 0
    for district in (None, "小店区"):
        plan = monthly.build(inputs, district=district, store=small_store)
        # a manager with a target but no key shop: the per-manager path
        targets = pd.concat([plan["targets"], plan["targets"].iloc[[0]].assign(
            manager_id="KM_NONE")], ignore_index=True)
        plan = {**plan, "targets": targets}
        managers = sorted(set(plan["key_shops"]["manager_id"]) | set(targets["manager_id"]))
        own = output.own_flagged_states(plan)
        carried = set(plan["carry_over"]["license_id"])
        views = output.manager_views(plan, managers, own_states=own, carried=carried)
        w, rows = output._week_frame(plan, own, carried)
        sheet = output._sheet_of(w[list(output.SHEET_COLUMNS)])
        pages = output._pages(plan, managers, w, rows, back="../x.html")
        assert "KM_NONE" not in rows and views["KM_NONE"].empty
        for m in managers:
            view = output.manager_view(plan, m)
            pd.testing.assert_frame_equal(views[m], view, check_exact=True)
            if m in rows:
                pd.testing.assert_frame_equal(sheet.iloc[rows[m]].reset_index(drop=True),
                                              output.manager_sheet(plan, m, view=view),
                                              check_exact=True)
                assert pages[m] == output._page(plan, m, view, "../x.html")
                checked += len(view)
    assert checked > 50
