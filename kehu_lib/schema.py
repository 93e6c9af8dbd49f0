"""The data model: every table of the store, its fields, Chinese terms, units and checks.

This module is the single source of the data model. ``data/README.md`` documents the same
fields (a test keeps the two in sync) and :mod:`kehu_lib.validate` builds pandera schemas from it.

dtypes are pandas dtypes: ``string`` (codes and ids, never numbers: a license id keeps its leading
digits), ``date`` (datetime64[ns] at midnight), ``Int64``/``float64``/``boolean``/``category``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import CONSUMER_CLASSES, PRICE_CLASSES

BUSINESS_FORMATS = ("食杂店", "便利店", "超市", "烟酒专卖店", "娱乐服务业", "其它")
TRADE_AREAS = ("商业/集贸", "居民区", "工业区", "学区", "交通枢纽")
URBAN_RURAL = ("城镇", "乡村")
STATUSES = ("正常", "暂停", "歇业")
CHAIN_TYPES = ("单店", "连锁")
OPENING_HOURS = ("<12h", "12-16h", ">16h")


@dataclass(frozen=True)
class Field:
    """One column: name, dtype, unit and value checks; its Chinese term is the glossary's
    (``store_field`` codes of ``kehu_lib/present/glossary.yaml``, by ``term`` or the name)."""

    name: str
    dtype: str
    unit: str = ""
    nullable: bool = False
    isin: tuple | None = None
    ge: float | None = None
    le: float | None = None
    regex: str | None = None
    doc: str = ""
    term: str = ""  # glossary key when the name means another thing in another table

    @property
    def zh(self) -> str:
        """The Chinese term (e.g. 许可证号), from the glossary."""
        from .present import glossary

        return glossary.code_name("store_field", self.term or self.name)


@dataclass(frozen=True)
class Table:
    """One table of the store."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    partition: tuple[str, ...] = ()  # hive partition columns in the store
    doc: str = ""
    refs: dict[str, str] = field(default_factory=dict)  # column -> referenced table

    @property
    def zh(self) -> str:
        """The table's Chinese name (e.g. 订单明细), from the glossary (``store_table`` codes)."""
        from .present import glossary

        return glossary.code_name("store_table", self.name)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


LICENSE = Field("license_id", "string", regex=r"^\d{12}$",
                doc="12-digit retail licence number, kept as text")
DISTRICT_CODE = Field("district_code", "string", regex=r"^\d{6}$")
MONTH = Field("month", "string", "YYYY-MM", regex=r"^\d{4}-(0[1-9]|1[0-2])$")
SKU = Field("sku", "string", regex=r"^\d{13}$", doc="13-digit barcode of the carton")
ANSWER = Field("answer", "Int64", "1-5 (5 = 很满意)", nullable=True, ge=1, le=5,
               doc="5-point answer; missing when not answered or 'don't know'")

TABLES: dict[str, Table] = {
    "districts": Table(
        "districts",
        (
            DISTRICT_CODE,
            Field("district", "string"),
            Field("kind", "string", isin=("urban", "mixed", "rural", "key_account")),
            Field("panel_size", "Int64", "户", ge=0),
        ),
        key=("district_code",),
    ),
    "customers": Table(
        "customers",
        (
            LICENSE,
            DISTRICT_CODE,
            Field("route_id", "string", regex=r"^\d{6}-\d{2}$"),
            Field("manager_id", "string", regex=r"^KM\d{4}$"),
            Field("business_format", "string", isin=BUSINESS_FORMATS),
            Field("trade_area", "string", isin=TRADE_AREAS),
            Field("urban_rural", "string", isin=URBAN_RURAL),
            Field("tier", "Int64", "1-30 (30 = highest)", ge=1, le=30),
            Field("status", "string", isin=STATUSES),
            Field("opened_date", "date"),
            Field("closed_date", "date", nullable=True),
            Field("chain_type", "string", isin=CHAIN_TYPES),
            Field("opening_hours", "string", isin=OPENING_HOURS),
            Field("e_settlement", "boolean"),
            Field("survey_informant", "boolean"),
            Field("key_account", "boolean"),
            Field("shop_name", "string", nullable=True,
                  doc="the shop's business name (店名); not personal data"),
        ),
        key=("license_id",),
        refs={"district_code": "districts"},
    ),
    "products": Table(
        "products",
        (
            SKU,
            Field("brand", "string"),
            Field("name", "string"),
            Field("wholesale_price", "float64", "元/条", ge=0.01),
            Field("retail_price", "float64", "元/条", ge=0.01),
            Field("price_class", "string", isin=PRICE_CLASSES),
            Field("key_brand", "boolean"),
            Field("launch_date", "date"),
        ),
        key=("sku",),
    ),
    "orders": Table(
        "orders",
        (
            Field("order_date", "date"),
            MONTH,
            DISTRICT_CODE,
            LICENSE,
            SKU,
            Field("qty_ordered", "float64", "条", ge=0),
            Field("qty_supplied", "float64", "条", ge=0),
            Field("amount", "float64", "元", ge=0),
        ),
        key=("order_date", "license_id", "sku"),
        partition=("month", "district_code"),
        refs={"license_id": "customers", "sku": "products"},
    ),
    "price_checks": Table(
        "price_checks",
        (
            Field("check_date", "date"),
            MONTH,
            DISTRICT_CODE,
            LICENSE,
            SKU,
            Field("retail_price", "float64", "元/条", ge=0.01, term="checked_retail_price"),
            Field("stock", "float64", "条", ge=0),
        ),
        key=("check_date", "license_id", "sku"),
        partition=("month",),
        refs={"license_id": "customers", "sku": "products"},
    ),
    "visits": Table(
        "visits",
        (
            Field("visit_date", "date"),
            MONTH,
            DISTRICT_CODE,
            Field("manager_id", "string", regex=r"^KM\d{4}$"),
            LICENSE,
            Field("kzb_codes", "string", "';'-separated KZB-xx", nullable=True,
                  regex=r"^(KZB-\d{2})(;KZB-\d{2})*$"),
        ),
        key=("visit_date", "license_id"),
        partition=("month",),
        refs={"license_id": "customers"},
    ),
    "retailer_survey": Table(
        "retailer_survey",
        (
            MONTH,
            DISTRICT_CODE,
            LICENSE,
            Field("item", "string", regex=r"^R\d{2}$"),
            ANSWER,
            Field("dont_know", "boolean"),
        ),
        key=("month", "license_id", "item"),
        partition=("month",),
        refs={"license_id": "customers"},
    ),
    "consumer_survey": Table(
        "consumer_survey",
        (
            MONTH,
            DISTRICT_CODE,
            Field("respondent_id", "string", regex=r"^C\d{5}$"),
            Field("consumer_class", "string", "A >20, B 10-20, C 5-10, D <5 元/盒",
                  isin=CONSUMER_CLASSES),
            Field("item", "string", regex=r"^C\d{2}$"),
            ANSWER,
            Field("dont_know", "boolean"),
        ),
        key=("month", "respondent_id", "item"),
        partition=("month",),
    ),
    "census": Table(
        "census",
        (
            Field("wave", "string", "YYYY-MM", regex=r"^\d{4}-(0[1-9]|1[0-2])$"),
            DISTRICT_CODE,
            LICENSE,
            Field("licensed", "boolean"),
            Field("business_format", "string", isin=BUSINESS_FORMATS),
            Field("trade_area", "string", isin=TRADE_AREAS),
            Field("urban_rural", "string", isin=URBAN_RURAL),
            Field("chain_type", "string", isin=CHAIN_TYPES),
            Field("opening_hours", "string", isin=OPENING_HOURS),
            Field("accepts_stock_guidance", "boolean"),
        ),
        key=("wave", "license_id"),
        partition=("wave",),
    ),
}

#: Columns a real export may carry that are personal data: dropped at ingest, never stored.
PERSONAL_COLUMNS = ("owner_name", "phone", "负责人", "业主姓名", "联系电话", "手机", "电话", "身份证号",
                    "id_card", "address_detail")


def survey_items() -> dict[str, dict[str, Any]]:
    """Survey item catalogue (code -> zh label, dimension, survey) from ``params/survey.yaml``."""
    from .config import PARAMS_DIR, read_yaml

    return read_yaml(PARAMS_DIR / "survey_items.yaml")


def markdown() -> str:
    """The field tables of ``data/README.md`` rendered from :data:`TABLES`."""
    lines: list[str] = []
    for t in TABLES.values():
        lines.append(f"### `{t.name}` — {t.zh}\n")
        if t.key:
            lines.append(f"Key: {', '.join(t.key)}."
                         + (f" Partitioned by {', '.join(t.partition)}." if t.partition else "") + "\n")
        lines.append("| field | 中文 | dtype | unit / values |")
        lines.append("|---|---|---|---|")
        for f in t.fields:
            values = f.unit
            if f.isin:
                values = (values + " " if values else "") + " / ".join(map(str, f.isin))
            if f.nullable:
                values = (values + "; " if values else "") + "may be empty"
            lines.append(f"| `{f.name}` | {f.zh} | {f.dtype} | {values} |")
        lines.append("")
    return "\n".join(lines)
