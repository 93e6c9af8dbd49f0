"""Export profiles: the canonical profile matches the data model; a marketing system's download
(tests/fixtures/yingxiao, cut from the small sample) ingests to the same rows in the store's units."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kehu_lib import loaders, profiles
from kehu_lib.cli import app
from kehu_lib.ingest import IngestError, ingest_folder
from kehu_lib.schema import TABLES
from kehu_lib.validate import parse_dates, normalise_text

FIXTURES = Path(__file__).parent / "fixtures" / "yingxiao"


def test_canonical_profile_covers_every_field_by_name_and_chinese_term():
    prof = profiles.load("canonical")
    assert set(prof.tables) == set(TABLES)
    for name, t in TABLES.items():
        for f in t.fields:
            assert {f.name, f.zh} <= set(prof.tables[name].headers[f.name]), (name, f.name)


def test_units_convert_to_cartons_and_yuan_per_carton():
    # 1 箱 = 250 条 = 50,000 支; 1 万支 = 10,000 支 = 50 条; 1 条 = 10 盒
    assert profiles.UNITS["箱"] == ("qty", 250.0) and profiles.UNITS["万支"] == ("qty", 50.0)
    assert profiles.UNITS["元/箱"][1] * 250 == pytest.approx(1.0)
    assert profiles.split_unit("需求量（箱）") == ("需求量", "箱")
    assert profiles.split_unit("批发价(元/条)") == ("批发价", "元/条")
    assert profiles.split_unit("金额") == ("金额", None)


def test_bad_profile_is_a_clear_error(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("name: mine\ntables:\n  orders:\n    columns:\n      qty_ordered: {header: 数量, unit: 公斤}\n",
                 encoding="utf-8")
    with pytest.raises(profiles.ProfileError, match=r"orders.qty_ordered unit '公斤' is not convertible; "
                                                     r"expected one of 条, 箱, 万支"):
        profiles.load(p)
    with pytest.raises(profiles.ProfileError, match="unknown profile 'nope'; shipped profiles: canonical, yingxiao"):
        profiles.load("nope")


def test_yingxiao_download_ingests_to_the_sample_rows(small_store, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES, folder)
    out = tmp_path / "store"
    report = ingest_folder(folder, store_dir=out)  # profile detected
    assert report.profile == "yingxiao (detected)"
    res = {r.table: r for r in report.results}
    assert all(r.rejected == 0 for r in report.results)
    assert res["customers"].dropped_personal == ["负责人", "联系电话"]
    assert "header found on row 2" in "\n".join(res["orders"].notes)
    assert "qty_ordered converted from 万支 to 条 (x 50)" in res["orders"].notes
    got = loaders.load_orders(months="2026-10", store=out).sort_values(["license_id", "sku", "order_date"])
    ref = loaders.load_orders(months="2026-10", store=small_store)
    ref = ref[ref["license_id"].isin(got["license_id"])].sort_values(["license_id", "sku", "order_date"])
    assert len(got) == len(ref) > 100
    for col in ("qty_ordered", "qty_supplied", "amount"):
        assert got[col].to_numpy() == pytest.approx(ref[col].to_numpy())
    cust = loaders.load_customers(store=out).set_index("license_id")
    ref_c = loaders.load_customers(store=small_store).set_index("license_id").loc[cust.index]
    assert (cust["shop_name"] == ref_c["shop_name"]).all()  # shop names kept
    assert (cust["tier"] == ref_c["tier"]).all() and (cust["opened_date"] == ref_c["opened_date"]).all()


def test_yingxiao_export_round_trips(small_store, tmp_path):
    from kehu_lib.export_month import export_month

    written = export_month("2026-10", tmp_path / "yx", store_dir=small_store, profile="yingxiao")
    assert set(written) == {"客户信息.csv", "卷烟信息.csv", "订单明细.csv"}
    head = (tmp_path / "yx" / "订单明细.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.replace('"', "").split(",") == ["订货日期", "许可证号", "卷烟编码", "需求量", "实际供货量", "金额"]
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "yx"), "--out", str(tmp_path / "st"),
                                   "--profile", "yingxiao"])
    assert res.exit_code == 0, res.output
    got = loaders.load_orders(months="2026-10", store=tmp_path / "st")["qty_supplied"].sum()
    assert got == pytest.approx(loaders.load_orders(months="2026-10", store=small_store)["qty_supplied"].sum())


def test_unit_written_in_the_header_is_converted(small_store, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    o = loaders.load_orders(months="2026-10", store=small_store).head(50)
    pd.DataFrame({"订货日期": o["order_date"].dt.strftime("%Y年%m月%d日"), "许可证号": o["license_id"],
                  "卷烟规格代码": o["sku"], "订购量(箱)": o["qty_ordered"] / 250, "供货量(箱)": o["qty_supplied"] / 250,
                  "金额(万元)": o["amount"] / 10_000}).to_csv(folder / "订单明细.csv", index=False)
    out = tmp_path / "st"
    shutil.copytree(small_store, out)
    ingest_folder(folder, store_dir=out, replace=["2026-10"])
    got = loaders.load_orders(months="2026-10", store=out).merge(o, on=["order_date", "license_id", "sku"])
    assert len(got) == 50
    assert got["qty_supplied_x"].to_numpy() == pytest.approx(got["qty_supplied_y"].to_numpy())
    assert got["amount_x"].to_numpy() == pytest.approx(got["amount_y"].to_numpy())


def test_accepted_date_formats():
    text = normalise_text(pd.Series(["2026-10-08", "2026/10/8", "2026.10.08", "20261008", "2026年10月8日",
                                     "2026-10-08 13:45", "46303", "46303.5", "２０２６－１０－０８", None,
                                     "2026-02-30", "9999-12-31", "1899-12-30"]))
    val, bad, out, n_time = parse_dates(text, "d")
    day = pd.Timestamp("2026-10-08")
    assert (val[:9] == day).all()  # Excel serial 46303 = 2026-10-08 (1900 date system)
    assert pd.isna(val[9]) and not bad[9]
    assert bad[10] and not out[10]  # 30 February: not a date
    assert out[11] and out[12] and not bad[11]
    assert n_time == 2


def test_profile_given_that_does_not_fit_names_the_missing_column(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES, folder)
    (folder / "订单明细.xlsx").rename(folder / "orders.xlsx")
    with pytest.raises(IngestError, match=r"orders.xlsx: missing column 'sku' \(卷烟规格代码\).*header read "
                                          r"from row 2 of sheet 'Sheet1'.*did you mean '卷烟编码'\?"):
        ingest_folder(folder, store_dir=tmp_path / "st", profile="canonical")


def test_file_names_of_split_exports_name_their_table():
    from pathlib import Path

    from kehu_lib import profiles

    p = profiles.load("canonical")
    cases = {"订单明细_1.csv": "orders", "订单明细(2).xlsx": "orders", "orders-万柏林区.csv": "orders",
             "订单明细202610.csv": "orders", "价存采集 (1).csv": "price_checks",
             "零售客户满意度调查_1.csv": "retailer_survey",  # the longest name, not 零售客户
             "零售客户_2.csv": "customers", "ordersx.csv": None, "订单明细表.csv": None}
    assert {n: p.table_for_file(Path(n)) for n in cases} == cases
