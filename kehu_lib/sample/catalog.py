"""The sample city's cigarette catalogue: realistic brands, prices per carton and launch dates.

Prices are yuan per carton (元/条): ``wholesale`` is the tax-exclusive 调拨 price that sets the
价类, ``retail`` the suggested retail price. ``popularity`` is the relative weekly demand of a SKU
in a shop that stocks it; ``hot`` marks rationed items (demand above supply).
"""

from __future__ import annotations

# (brand, name, wholesale, retail, key_brand, popularity, hot, launch 'YYYY-MM' or '')
CATALOG: tuple[tuple[str, str, float, float, bool, float, bool, str], ...] = (
    ("中华", "中华(硬)", 375.0, 450.0, True, 1.0, True, ""),
    ("中华", "中华(软)", 550.0, 650.0, True, 0.35, True, ""),
    ("黄鹤楼", "黄鹤楼(1916)", 850.0, 1000.0, True, 0.12, True, ""),
    ("黄鹤楼", "黄鹤楼(软蓝)", 170.0, 200.0, True, 0.8, False, ""),
    ("芙蓉王", "芙蓉王(硬)", 215.0, 250.0, True, 1.1, False, ""),
    ("玉溪", "玉溪(软)", 195.0, 230.0, True, 1.2, False, ""),
    ("玉溪", "玉溪(硬和谐)", 300.0, 350.0, True, 0.3, False, ""),
    ("利群", "利群(新版)", 120.0, 140.0, True, 1.3, True, ""),
    ("利群", "利群(阳光)", 160.0, 190.0, True, 0.5, False, ""),
    ("云烟", "云烟(软珍品)", 190.0, 220.0, True, 0.6, False, ""),
    ("南京", "南京(炫赫门)", 155.0, 180.0, False, 0.9, False, ""),
    ("南京", "南京(雨花石)", 850.0, 1000.0, False, 0.08, False, ""),
    ("苏烟", "苏烟(五星红杉树)", 300.0, 350.0, False, 0.25, False, ""),
    ("泰山", "泰山(佛光)", 150.0, 180.0, False, 0.4, False, ""),
    ("七匹狼", "七匹狼(通仙)", 110.0, 130.0, True, 0.45, False, "2025-03"),
    ("云烟", "云烟(紫)", 85.0, 100.0, True, 1.6, False, ""),
    ("白沙", "白沙(精品)", 85.0, 100.0, False, 1.2, False, ""),
    ("七匹狼", "七匹狼(白)", 95.0, 110.0, True, 0.7, False, ""),
    ("黄山", "黄山(红方印)", 88.0, 105.0, False, 0.8, False, ""),
    ("钻石", "钻石(硬蓝)", 75.0, 90.0, False, 0.9, False, ""),
    ("娇子", "娇子(蓝时代)", 90.0, 105.0, False, 0.5, False, ""),
    ("黄金叶", "黄金叶(乐途)", 80.0, 95.0, False, 0.6, False, ""),
    ("真龙", "真龙(海韵)", 95.0, 110.0, False, 0.35, False, "2024-09"),
    ("娇子", "娇子(宽窄细支)", 95.0, 110.0, True, 0.9, False, "2026-06"),
    ("红塔山", "红塔山(硬经典)", 60.0, 70.0, True, 2.2, False, ""),
    ("红河", "红河(硬99)", 55.0, 65.0, False, 1.4, False, ""),
    ("红双喜", "红双喜(硬)", 50.0, 60.0, False, 1.5, False, ""),
    ("白沙", "白沙(硬)", 40.0, 50.0, False, 1.8, False, ""),
    ("红金龙", "红金龙(硬神州)", 48.0, 60.0, False, 1.0, False, ""),
    ("哈德门", "哈德门(精品)", 45.0, 55.0, False, 1.3, False, ""),
    ("黄金叶", "黄金叶(红旗渠)", 38.0, 50.0, False, 1.7, False, ""),
    ("真龙", "真龙(软)", 55.0, 65.0, False, 0.7, False, ""),
    ("好猫", "好猫(长乐)", 65.0, 75.0, False, 0.6, False, ""),
    ("大前门", "大前门(软)", 35.0, 45.0, False, 1.2, False, ""),
    ("人民大会堂", "人民大会堂(红)", 58.0, 70.0, False, 0.5, False, ""),
    ("钻石", "钻石(荷花)", 62.0, 75.0, False, 0.8, False, ""),
    ("红旗渠", "红旗渠(银河)", 25.0, 30.0, False, 1.6, False, ""),
    ("都宝", "都宝(硬)", 22.0, 30.0, False, 1.3, False, ""),
    ("哈德门", "哈德门(软)", 20.0, 25.0, False, 0.9, False, ""),
    ("大前门", "大前门(短支)", 18.0, 25.0, False, 0.8, False, ""),
    ("红金龙", "红金龙(软)", 14.0, 18.0, False, 0.9, False, ""),
    ("经典", "经典(软)", 12.0, 16.0, False, 0.5, False, ""),
)


def sku_code(index: int) -> str:
    """13-digit carton barcode of catalogue entry ``index``."""
    return f"6901028{100 + index * 7:06d}"


def sku_by_name(name: str) -> str:
    """The SKU code of a catalogue entry by its Chinese name."""
    for i, row in enumerate(CATALOG):
        if row[1] == name:
            return sku_code(i)
    raise KeyError(name)
