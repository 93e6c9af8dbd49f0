"""Ingest against faulty-but-realistic exports: one test per defect of issue 12.

Every case starts from a writable copy of the small sample store and the canonical export of one
month of it (``kehu export``), then damages the export the way a real one is damaged.
"""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kehu_lib import loaders, store
from kehu_lib.cli import app
from kehu_lib.export_month import export_month
from kehu_lib.ingest import IngestError, ingest_folder, inspect_file
from kehu_lib.schema import TABLES

from conftest import writable_copy

MONTH, PREV = "2026-10", "2026-09"


@pytest.fixture(scope="module")
def exported(small_store, tmp_path_factory):
    """The canonical export of 2026-10 of the small sample (read-only: copy before changing)."""
    out = tmp_path_factory.mktemp("export") / MONTH
    export_month(MONTH, out, store_dir=small_store)
    return out


@pytest.fixture()
def st(small_store, tmp_path):
    return writable_copy(small_store, tmp_path / "store")


def _folder(tmp_path, exported, *tables):
    f = tmp_path / "in"
    f.mkdir()
    for t in tables:
        shutil.copy(exported / f"{t}.csv", f / f"{t}.csv")
    return f


def _orders(exported) -> pd.DataFrame:
    return pd.read_csv(exported / "orders.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _csv(df, path, encoding="utf-8-sig"):
    df.to_csv(path, index=False, encoding=encoding)


def _count(st, month, district=None):
    return len(loaders.load_orders(district, month, store=st, columns=["sku"]))


# --------------------------------------------------------------------------------------------
# round trip


def test_export_then_ingest_leaves_every_table_unchanged(exported, st, tmp_path):
    before = {t: store.query(t, store=st) for t in TABLES}
    folder = tmp_path / "in"
    shutil.copytree(exported, folder)
    report = ingest_folder(folder, store_dir=st)
    assert not report.all_rejected and all(r.rejected == 0 for r in report.results)
    for t, old in before.items():
        new = store.query(t, store=st)
        key = list(TABLES[t].key)
        pd.testing.assert_frame_equal(old.sort_values(key).reset_index(drop=True),
                                      new.sort_values(key).reset_index(drop=True), obj=t)


# --------------------------------------------------------------------------------------------
# replacement by coverage


def test_late_lines_of_an_earlier_month_are_merged_not_replacing_it(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    sep_before = _count(st, PREV)
    late = o.head(5).assign(order_date="2026-09-30", month=PREV)
    _csv(pd.concat([o, late]), folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert _count(st, PREV) == sep_before + 5  # new keys added, nothing removed
    merged = [c for c in report.changes if c.month == PREV]
    assert merged and all(c.action == "merged" for c in merged)
    assert "late line(s) merged by key" in report.summary()
    # merged again: the same 5 keys update in place (no doubling)
    ingest_folder(folder, store_dir=st)
    assert _count(st, PREV) == sep_before + 5


def test_stray_dates_are_rejected_not_made_into_months(exported, st, tmp_path):
    """A line of next month and a year typo in October's export: before, each became a month of
    one line, and 2026-11 the store's latest month (the batch's default). Now both are counted
    rejects naming the cause; --replace stores such a month on purpose."""
    folder = _folder(tmp_path, exported)
    o = _orders(exported).drop(columns=["month"])
    n = len(o)
    o.loc[0, "order_date"] = "2026-11-01"
    o.loc[1, "order_date"] = "2016-10-05"
    _csv(o, folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].rejected == 2 and report.results[0].stored == n - 2
    assert store.months("orders", st)[-1] == MONTH and "2016-10" not in store.months("orders", st)
    assert _count(st, MONTH) == n - 2
    rej = pd.read_csv(report.results[0].rejects_file, dtype=str, encoding="utf-8-sig")
    assert list(rej["row"]) == ["2", "3"]
    assert rej.loc[0, "reason"].startswith(
        "order_date 2026-11-01 is in 2026-11: the store holds no orders of 2026-11 and this export "
        "has only 1 line(s) of it")
    assert "pass --replace 2016-10" in rej.loc[1, "reason"]
    ingest_folder(folder, store_dir=st, replace=["2026-11"])
    assert _count(st, "2026-11") == 1 and "2016-10" not in store.months("orders", st)


def test_one_district_export_replaces_only_that_district(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    others = _count(st, MONTH) - _count(st, MONTH, "140109")
    one = o[o["district_code"] == "140109"]
    _csv(one.iloc[: int(len(one) * 0.9)], folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert _count(st, MONTH, "140109") == int(len(one) * 0.9)
    assert _count(st, MONTH) - _count(st, MONTH, "140109") == others
    (change,) = [c for c in report.changes if c.table == "orders"]
    assert (change.district, change.before, change.after) == ("140109", len(one), int(len(one) * 0.9))
    assert f"{len(one):>9,} → {int(len(one) * 0.9):>9,}  replaced" in report.summary()


def test_handful_of_rows_against_thousands_stored_stops(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    _csv(_orders(exported).head(20), folder / "orders.csv")
    with pytest.raises(IngestError, match=r"would shrink stored data by more than 30%.*→ +20 rows"):
        ingest_folder(folder, store_dir=st)
    with pytest.raises(IngestError, match=r"by more than 99.5%: orders 2026-10 district \d+: [\d,]+ → +20 rows \(-99.\d%\)"):
        ingest_folder(folder, store_dir=st, max_shrink=0.995)


def test_month_only_partitions_keep_other_districts(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    pc = pd.read_csv(exported / "price_checks.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    before = loaders.load_price_checks(months=MONTH, store=st)
    _csv(pc[pc["district_code"] == "140105"], folder / "price_checks.csv")
    ingest_folder(folder, store_dir=st)
    after = loaders.load_price_checks(months=MONTH, store=st)
    assert len(after) == len(before)
    assert after.groupby("district_code").size().equals(before.groupby("district_code").size())


# --------------------------------------------------------------------------------------------
# keys


def test_duplicate_keys_across_two_files_of_one_table_name_both(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    n = _count(st, MONTH)
    _csv(o, folder / "orders.csv")
    o.head(2000).to_excel(folder / "订单明细.xlsx", index=False)
    report = ingest_folder(folder, store_dir=st)
    assert _count(st, MONTH) == n  # not doubled
    res = {r.file: r for r in report.results}
    assert res["订单明细.xlsx"].rejected == 2000 and res["订单明细.xlsx"].all_rejected
    rej = pd.read_csv(res["订单明细.xlsx"].rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej["reason"].str.contains(r"the same key is in orders\.csv row \d+").all()
    assert "1 file(s) had every row rejected or no rows: 订单明细.xlsx" in report.summary()


def test_time_of_day_is_dropped_and_counted_so_no_second_copy(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    again = o.head(3).assign(order_date=lambda d: d["order_date"] + " 09:00:00")
    _csv(pd.concat([o, again]), folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    (r,) = report.results
    assert r.rejected == 3 and r.stored == len(o)
    assert "order_date: time of day dropped from 3 value(s)" in report.summary()
    assert _count(st, MONTH) == len(o)


# --------------------------------------------------------------------------------------------
# dates


def test_ambiguous_day_month_order_refuses_the_file_with_examples(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    o = o[o["order_date"] <= "2026-10-12"].drop(columns="month")
    d = pd.to_datetime(o["order_date"])
    _csv(o.assign(order_date=d.dt.strftime("%d/%m/%Y")), folder / "orders.csv")
    jan = _count(st, "2026-01")
    with pytest.raises(IngestError, match=r"orders.csv: column order_date: dates such as row 2: '0\d/10/2026'.*"
                                          r"--date-format %d/%m/%Y"):
        ingest_folder(folder, store_dir=st)
    assert _count(st, "2026-01") == jan
    report = ingest_folder(folder, store_dir=st, date_format="%d/%m/%Y", replace=[MONTH])
    assert report.months == {"orders": [MONTH]} and _count(st, "2026-01") == jan


def test_day_first_found_in_the_values(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported).drop(columns="month")
    d = pd.to_datetime(o["order_date"])
    _csv(o.assign(order_date=d.dt.strftime("%d/%m/%Y")), folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].stored == len(o)
    assert "D/M/Y dates read day-first" in report.summary()
    got = loaders.load_orders(months=MONTH, store=st)["order_date"]
    assert sorted(got.unique()) == sorted(d.unique())


def test_excel_serial_dates_in_xlsx_and_csv(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    serial = (pd.to_datetime(o["order_date"]) - pd.Timestamp("1899-12-30")).dt.days
    xl = o.assign(order_date=serial, qty_ordered=o["qty_ordered"].astype(float))
    xl.to_excel(folder / "订单明细.xlsx", index=False)
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].stored == len(o)
    got = loaders.load_orders(months=MONTH, store=st, columns=["order_date"])
    assert got["order_date"].min() == pd.Timestamp("2026-10-01")
    (folder / "订单明细.xlsx").unlink()
    _csv(o.assign(order_date=serial.astype(str) + ".375"), folder / "orders.csv")  # 09:00
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].stored == len(o)
    assert "time of day dropped" in report.summary()


def test_out_of_range_date_is_rejected_per_row(exported, st, tmp_path):
    folder = _folder(tmp_path, exported, "customers")
    c = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    c.loc[3, "closed_date"] = "2199-12-31"
    c.loc[5, "opened_date"] = "9999-12-31"  # "no date" is no answer for a required date
    _csv(c, folder / "customers.csv")
    report = ingest_folder(folder, store_dir=st)
    (r,) = report.results
    assert r.rejected == 2
    rej = pd.read_csv(r.rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej["row"].tolist() == ["5", "7"]
    assert rej["reason"].str.contains("date out of range").all()


def test_open_end_date_in_an_optional_date_is_stored_empty_and_counted(exported, st, tmp_path):
    """Systems write 9999-12-31 for a shop still open: the row is kept, 歇业日期 is empty."""
    folder = _folder(tmp_path, exported, "customers")
    c = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    forms = ["9999-12-31", "9999/12/31 00:00:00", "99991231", "9999年12月31日", "31/12/9999"]
    for i, form in enumerate(forms):
        c.loc[i, "closed_date"] = form
    _csv(c, folder / "customers.csv")
    report = ingest_folder(folder, store_dir=st)
    (r,) = report.results
    assert r.rejected == 0 and r.stored == len(c)
    assert "closed_date: 5 value(s) 9999-12-31 read as no date" in report.summary()
    got = loaders.load_customers(store=st).set_index("license_id")
    assert got.loc[c.loc[:4, "license_id"], "closed_date"].isna().all()
    # a profile without open_end_dates rejects them as out of range, as before
    import yaml
    from kehu_lib import profiles
    mine = yaml.safe_load(profiles.load("canonical").path.read_text(encoding="utf-8"))
    mine.pop("open_end_dates")
    (tmp_path / "strict.yaml").write_text(yaml.safe_dump(mine, allow_unicode=True), encoding="utf-8")
    report = ingest_folder(folder, store_dir=st, profile=str(tmp_path / "strict.yaml"))
    assert report.results[0].rejected == 5


def test_all_rows_rejected_exits_non_zero_with_a_summary(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported).head(50).assign(sku="6900000000000")
    _csv(o, folder / "orders.csv")
    res = CliRunner().invoke(app, ["ingest", str(folder), "--out", str(st)])
    assert res.exit_code == 1
    assert "ALL 50 ROWS REJECTED" in res.output and "1 file(s) had every row rejected" in res.output
    (folder / "orders.csv").write_text("order_date,license_id,sku,qty_ordered,qty_supplied,amount\n",
                                       encoding="utf-8")
    res = CliRunner().invoke(app, ["ingest", str(folder), "--out", str(st)])
    assert res.exit_code == 1 and "NO DATA ROWS under the header" in res.output


def test_export_of_a_month_without_data_is_a_message(small_store, tmp_path):
    res = CliRunner().invoke(app, ["export", str(tmp_path / "x"), "--month", "2019-01", "--store", str(small_store)])
    assert res.exit_code == 2 and "the store has no rows of 2019-01" in res.output


# --------------------------------------------------------------------------------------------
# normalisation and references


def test_full_width_ids_and_thousands_separators_are_normalised(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    o.loc[0, "license_id"] = " " + o.loc[0, "license_id"].translate(fw) + "\u3000"
    o.loc[1, "amount"] = "1,234.5"
    o.loc[2, "amount"] = "１，２３４"
    _csv(o, folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].rejected == 0
    got = loaders.load_orders(months=MONTH, store=st)
    assert got["license_id"].str.fullmatch(r"\d{12}").all()
    assert {1234.5, 1234.0} <= set(got["amount"])


def test_an_id_excel_turned_into_a_number_is_rejected_with_the_cause(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    o.loc[0, "license_id"] = "1.40105E+11"
    _csv(o, folder / "orders.csv")
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].rejected == 1 and report.results[0].stored == len(o) - 1
    rej = pd.read_csv(report.results[0].rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej.loc[0, "reason"].startswith(
        "license_id (许可证号) = '1.40105E+11': expected 12 digits (pattern ^\\d{12}$) (Excel stored "
        "this id as a number and wrote it in scientific notation, losing digits: format the column "
        "as text before exporting)")


def test_unknown_district_code_is_rejected_not_stored(exported, st, tmp_path):
    folder = _folder(tmp_path, exported, "customers")
    c = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    c.loc[0, "district_code"] = "999999"
    _csv(c, folder / "customers.csv")
    report = ingest_folder(folder, store_dir=st)
    rej = pd.read_csv(report.results[0].rejects_file, dtype=str, encoding="utf-8-sig")
    assert "district_code = '999999' is not a known districts row" in rej.loc[0, "reason"]
    assert "999999" not in set(loaders.load_customers(store=st)["district_code"])


def test_survey_answer_words_are_mapped_or_rejected(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    s = pd.read_csv(exported / "retailer_survey.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    s.loc[0, "answer"], s.loc[1, "answer"], s.loc[2, "answer"] = "很满意", "不清楚", "还行吧"
    s.loc[1, "dont_know"] = "false"
    _csv(s, folder / "retailer_survey.csv")
    report = ingest_folder(folder, store_dir=st)
    (r,) = report.results
    assert r.rejected == 1
    rej = pd.read_csv(r.rejects_file, dtype=str, encoding="utf-8-sig")
    assert "'还行吧': expected 1-5 or one of 很满意=5" in rej.loc[0, "reason"]
    got = loaders.load_retailer_survey(months=MONTH, store=st).set_index(["license_id", "item"])
    k0, k1 = (s.loc[0, "license_id"], s.loc[0, "item"]), (s.loc[1, "license_id"], s.loc[1, "item"])
    assert got.loc[k0, "answer"] == 5
    assert pd.isna(got.loc[k1, "answer"]) and bool(got.loc[k1, "dont_know"])


# --------------------------------------------------------------------------------------------
# unreadable files: messages, never tracebacks


# --------------------------------------------------------------------------------------------
# a table split over sheets or files (a city's month is past Excel's 1,048,576-row limit)


def test_a_table_over_two_sheets_is_read_whole(exported, st, tmp_path):
    """Before, only the best-matching sheet was read: the second half was lost with exit 0."""
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    n = _count(st, MONTH)
    half = len(o) // 2
    with pd.ExcelWriter(folder / "订单明细.xlsx") as xw:
        pd.DataFrame({"说明": ["系统导出", "2026-11-01"]}).to_excel(xw, sheet_name="说明", index=False)
        o.iloc[:half].to_excel(xw, sheet_name="Sheet1", index=False)
        o.iloc[half:].to_excel(xw, sheet_name="Sheet2", index=False)
    report = ingest_folder(folder, store_dir=st)
    res = {r.file: r for r in report.results}
    assert set(res) == {"订单明细.xlsx〈Sheet1〉", "订单明细.xlsx〈Sheet2〉"}
    assert res["订单明细.xlsx〈Sheet1〉"].read == half
    assert res["订单明细.xlsx〈Sheet2〉"].read == len(o) - half
    assert _count(st, MONTH) == n == len(o)  # every row of both sheets, none twice
    assert any("sheet '说明' not read (3 rows" in x for x in res["订单明细.xlsx〈Sheet1〉"].notes)
    assert "订单明细.xlsx〈Sheet2〉" in report.summary()


def test_a_sheet_of_rows_without_the_header_stops_the_ingest(exported, st, tmp_path):
    """A continuation sheet without the header row would be skipped: refuse instead of losing it."""
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    with pd.ExcelWriter(folder / "订单明细.xlsx") as xw:
        o.iloc[:100].to_excel(xw, sheet_name="Sheet1", index=False)
        o.iloc[100:200].to_excel(xw, sheet_name="Sheet2", index=False, header=False)
    with pytest.raises(IngestError, match=r"订单明细.xlsx: sheet 'Sheet2' has 100 rows but is not read "
                                          r"\(no header row of orders .*give it the same header row"):
        ingest_folder(folder, store_dir=st)
    assert "PROBLEM: 订单明细.xlsx: sheet 'Sheet2' has 100 rows" in inspect_file(
        folder / "订单明细.xlsx", store_dir=st)


def test_split_files_are_named_by_their_table_and_overlaps_rejected(exported, st, tmp_path):
    """订单明细_1.csv / 订单明细_2.csv are both orders; rows in both are stored once and the
    later copies are counted as rejects naming the first file's row."""
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    n = _count(st, MONTH)
    half = len(o) // 2
    _csv(o.iloc[: half + 50], folder / "订单明细_1.csv")
    _csv(o.iloc[half:], folder / "订单明细_2.csv")
    report = ingest_folder(folder, store_dir=st)
    res = {r.file: r for r in report.results}
    assert res["订单明细_2.csv"].rejected == 50 and res["订单明细_1.csv"].rejected == 0
    assert _count(st, MONTH) == n == len(o)
    rej = pd.read_csv(res["订单明细_2.csv"].rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej["reason"].str.contains(r"the same key is in 订单明细_1\.csv row \d+").all()
    assert rej["order_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()  # the date as written


def _cli(folder, st, *extra):
    res = CliRunner().invoke(app, ["ingest", str(folder), "--out", str(st), *extra])
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    return res


def test_empty_file_names_the_file(st, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.csv").write_bytes(b"")
    res = _cli(folder, st)
    assert res.exit_code == 2 and "orders.csv: the file is empty" in res.output


def test_unquoted_thousands_comma_rejects_that_row(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    text = (exported / "orders.csv").read_text(encoding="utf-8-sig").splitlines()
    parts = text[5].split(",")
    parts[-1] = "1,234"  # amount written 1,234 without quotes
    text[5] = ",".join(parts)
    (folder / "orders.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    report = ingest_folder(folder, store_dir=st)
    (r,) = report.results
    assert r.rejected == 1 and r.read == len(text) - 1
    rej = pd.read_csv(r.rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej.loc[0, "row"] == "6" and "9 fields where the header has 8" in rej.loc[0, "reason"]


def test_wrong_delimiter_is_found(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    _csv(_orders(exported).assign(amount=lambda d: d["amount"].str.replace(".", ",")), folder / "orders.csv")
    o = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    o.to_csv(folder / "orders.csv", sep=";", index=False)
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].stored == len(o)


def test_corrupt_xlsx_is_a_message(st, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "订单明细.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    res = _cli(folder, st)
    assert res.exit_code == 2 and "订单明细.xlsx: not a readable .xlsx workbook" in res.output
    with zipfile.ZipFile(folder / "订单明细.xlsx", "w") as z:
        z.writestr("hello.txt", "x")
    res = _cli(folder, st)
    assert res.exit_code == 2 and "not a readable .xlsx workbook" in res.output


def test_title_row_above_the_header_is_skipped(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    o = _orders(exported)
    with pd.ExcelWriter(folder / "订单明细.xlsx") as xw:
        pd.DataFrame([["2026年10月 订单明细表"]]).to_excel(xw, index=False, header=False)
        o.to_excel(xw, index=False, startrow=2)
    report = ingest_folder(folder, store_dir=st)
    assert report.results[0].stored == len(o)
    assert "header found on row 3" in report.summary()


def test_no_header_says_where_it_looked(st, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pd.DataFrame(np.arange(12).reshape(4, 3)).to_csv(folder / "orders.csv", index=False, header=False)
    with pytest.raises(IngestError, match=r"orders.csv: no header row found: looked in rows 1-4 for columns"):
        ingest_folder(folder, store_dir=st)


def test_renamed_license_id_reports_license_id(exported, st, tmp_path):
    folder = _folder(tmp_path, exported)
    _csv(_orders(exported).drop(columns=["district_code"]).rename(columns={"license_id": "lic"}),
         folder / "orders.csv")
    with pytest.raises(IngestError, match=r"orders.csv: missing column 'license_id' \(许可证号\)"):
        ingest_folder(folder, store_dir=st)


# --------------------------------------------------------------------------------------------
# inspect


def test_inspect_shows_mapping_dates_and_rows_without_writing(exported, small_store, tmp_path):
    p = tmp_path / "订单明细.csv"
    o = _orders(exported).drop(columns=["month", "district_code"]).rename(
        columns={"order_date": "订货日期", "license_id": "许可证号", "sku": "卷烟规格代码"})
    o.assign(备注="x").to_csv(p, index=False, encoding="gb18030")
    files = sorted((f, f.stat().st_mtime_ns) for f in small_store.rglob("*") if f.is_file())
    out = inspect_file(p, store_dir=small_store)
    assert "table:     orders (订单明细)" in out
    assert "encoding gb18030" in out
    assert "'订货日期'" in out and "-> order_date" in out
    assert "unmapped, ignored: 备注" in out
    assert "first 5 parsed rows" in out
    assert "dates:     order_date: YYYY-MM-DD (" in out
    assert sorted((f, f.stat().st_mtime_ns) for f in small_store.rglob("*") if f.is_file()) == files


def test_blank_lines_title_row_and_a_cut_last_line_keep_row_numbers(st, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "订单明细 2026年10月\n\norder_date,license_id,sku,qty_ordered,qty_supplied,amount\n"
        "2026-10-01,140109000003,6901028000289,3,3,120\n\n"
        "2026-10-02,140109000003,6901028000289,3,3,1,234\n"
        "2026-10-03,140109000003,6901028000289,3,3,120\n"
        "2026-10-04,140109000003,6901028000289,3\n", encoding="utf-8")
    report = ingest_folder(folder, store_dir=st, replace=[MONTH])
    (r,) = report.results
    assert (r.read, r.stored, r.rejected) == (4, 2, 2)
    rej = pd.read_csv(r.rejects_file, dtype=str, encoding="utf-8-sig")
    assert rej["row"].tolist() == ["6", "8"]
    assert "the row is cut short" in rej.loc[1, "reason"]
    assert "header found on row 3" in report.summary()


def test_inspect_cli_never_shows_a_traceback(tmp_path):
    p = tmp_path / "订单明细.xlsx"
    p.write_bytes(b"garbage")
    res = CliRunner().invoke(app, ["inspect", str(p)])
    assert res.exit_code == 2 and "not a readable .xlsx workbook" in res.output
    res = CliRunner().invoke(app, ["inspect", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "missing.csv: no such file" in res.output
    (tmp_path / "销售汇总.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["inspect", str(tmp_path / "销售汇总.csv")])
    assert res.exit_code == 2 and "cannot tell which table this file holds" in res.output
