"""Key tables of a report, for the per-district XLSX; and licence-id masking.

A notebook calls :func:`export_table` on the few tables analysts will want to filter::

    from kehu_lib.exports import export_table
    export_table("重点品牌销量", brands)        # returns the frame unchanged

In a batch run (``kehu run``) the frame is written to the run's export folder (given by the
runner in ``$KEHU_EXPORT_DIR``) and gathered into ``reports/YYYY-MM/<district>/<district>_YYYY-MM.xlsx``,
one sheet per table. Outside the batch (JupyterLab) it does nothing. Personal-data columns
(:data:`kehu_lib.schema.PERSONAL_COLUMNS`) are dropped and a ``license_id`` column is masked
(``1401******23``) unless the notebook's YAML sets ``show_license_ids: true`` (the manager's
shop list).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

EXPORT_DIR_ENV = "KEHU_EXPORT_DIR"
SHOW_IDS_ENV = "KEHU_SHOW_LICENSE_IDS"
LICENSE_COLUMNS = ("license_id", "许可证号")


def mask_license(value: Any) -> Any:
    """Mask a licence id, keeping the first 4 and last 2 characters: ``1401******23``.

    Missing values are returned unchanged; ids of 6 characters or fewer become all stars.
    """
    if value is None or (isinstance(value, float) and value != value):
        return value
    try:
        import pandas as pd

        if value is pd.NA:
            return value
    except ImportError:  # pragma: no cover
        pass
    s = str(value)
    if len(s) <= 6:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 6) + s[-2:]


def show_license_ids() -> bool:
    """True when the running report may show full licence ids (the manager's shop list)."""
    return os.environ.get(SHOW_IDS_ENV, "0") == "1"


def mask_frame(df, *, show_ids: bool | None = None):
    """A copy of ``df`` without personal-data columns and with licence ids masked."""
    from .schema import PERSONAL_COLUMNS

    show = show_license_ids() if show_ids is None else show_ids
    out = df.drop(columns=[c for c in df.columns if c in PERSONAL_COLUMNS])
    if not show:
        for col in LICENSE_COLUMNS:
            if col in out.columns:
                out[col] = out[col].map(mask_license)
    return out


def export_table(name: str, df, *, sheet: str | None = None, row_keys: str | None = None):
    """Register ``df`` as a key table of the report (see the module docstring); returns ``df``.

    ``name``: the Chinese table title (the sheet name unless ``sheet`` is given; Excel keeps 31
    characters). ``row_keys``: a column naming each row's glossary key, for tables whose value
    columns hold a different quantity per row (:class:`kehu_lib.present.Table`).
    """
    folder = os.environ.get(EXPORT_DIR_ENV)
    if not folder:
        return df
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    n = len(list(path.glob("*.parquet")))
    stem = f"{n:02d}"
    table = mask_frame(df.reset_index() if _named_index(df) else df)
    table.columns = [str(c) for c in table.columns]
    table.to_parquet(path / f"{stem}.parquet", index=False)
    meta = {"name": str(name), "sheet": _sheet_name(sheet or name)}
    if row_keys:
        meta["row_keys"] = row_keys
    (path / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return df


def _named_index(df) -> bool:
    return any(n is not None for n in df.index.names)


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "table"
