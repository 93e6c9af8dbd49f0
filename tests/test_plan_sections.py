"""The monthly plan page: a conclusion and 建议 per section written from the plan's codes and
numbers (seed 004 asks for 结论和建议 per section; issue #13), and the words of a shop's problem
on the manager's page. Hand-made plans; every number in a sentence is checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.plan import monthly
from kehu_lib.plan.strategies import load_library
from kehu_lib.present import plan_text

XD = "140105"


@pytest.fixture(scope="module")
def lib():
    return load_library()


def _states(n_shops=10, overstocked=8):
    rows = []
    for i in range(n_shops):
        lic = f"S{i}"
        rows.append({"license_id": lic, "district_code": XD, "indicator": "order_rationality",
                     "value": 1.0, "flagged": i < overstocked,
                     "cause": "overstock" if i < overstocked else None})
        rows.append({"license_id": lic, "district_code": XD, "indicator": "volume",
                     "value": 1.0, "flagged": i == 9, "cause": None})
    return pd.DataFrame(rows)


def _plan(**over):
    ev = pd.DataFrame({"code": ["KZB-12", "KZB-14", "KZB-09"],
                       "outcome": ["recommendation", "assortment_width", "volume"],
                       "verdict_code": ["negative", "effective", "no_effect"]})
    plan = {
        "states": _states(),
        "district_actions": pd.DataFrame({"district_code": [XD], "indicator": ["order_rationality"],
                                          "cause": ["overstock"], "shops_flagged": [8],
                                          "shops_judged": [10], "share": [0.8],
                                          "codes": ["KZB-13;KZB-10"]}),
        "key_shops": pd.DataFrame({"license_id": ["S9", "S1"], "manager_id": ["KM1", "KM2"]}),
        "shop_strategies": pd.DataFrame({"license_id": ["S9", "S9", "S1"],
                                         "code": ["KZB-09", "KZB-11", "KZB-11"]}),
        "targets": pd.DataFrame({"manager_id": ["KM1", "KM2"],
                                 "volume_target_cases": [100.0, 20.5]}),
        "alert_strategies": pd.DataFrame({"license_id": ["S1", "S2", "S1", "S2"],
                                          "sku": "SKU1", "code": ["KZB-13", "KZB-13",
                                                                  "KZB-10", "KZB-10"]}),
        "satisfaction_actions": pd.DataFrame(columns=["item", "codes"]),
        "evaluation": ev,
        "coverage": pd.DataFrame({"manager_id": ["KM1", "KM2"], "planned_strategies": [50, 50],
                                  "executed_strategies": [1, 3], "planned_visits": [100, 100],
                                  "recorded_visits": [90, 70]}),
        "execution_flags": pd.DataFrame({"manager_id": ["KM1", "KM2"],
                                         "code": ["low_strategy_execution"] * 2}),
        "forecast_error": pd.DataFrame({"ape": [0.034]}),
        "advice": pd.DataFrame({"advice": ["stop", "extend", "execute_first"]}),
        "review": pd.DataFrame({"review": [True, False, True]}),
        "carry_over": pd.DataFrame({"license_id": ["S1", "S1", "S3"]}),
        "key_accounts": pd.DataFrame({"trend": [-0.1, 0.05, -0.02], "yoy": [-0.2, 0.1, 0.05]}),
    }
    plan.update(over)
    return plan


def test_section_facts_by_hand():
    f = monthly.section_facts(_plan())
    assert (f["states"]["shops"], f["states"]["flagged"]) == (10, 9)  # S0-S7 and S9
    assert f["states"]["top"] == {"indicator": "order_rationality", "flagged": 8, "share": 0.8}
    assert f["plan"]["top_strategy"] == {"code": "KZB-11", "shops": 2}
    assert f["plan"]["alerts"] == [{"sku": "SKU1", "shops": 2, "codes": "KZB-13;KZB-10"}]
    assert f["plan"]["target_cases"] == 120.5
    assert f["evaluation"]["verdicts"] == {"negative": 1, "effective": 1, "no_effect": 1}
    assert f["execution"]["strategy_coverage"] == pytest.approx(4 / 100)
    assert f["execution"]["visit_coverage"] == pytest.approx(160 / 200)
    assert f["improve"] == {"review": 2, "carry": 2,
                            "advice": {"stop": 1, "extend": 1, "execute_first": 1}}
    assert f["key_accounts"] == {"accounts": 3, "declining": 2, "yoy_down": 1}


def test_section_sentences_carry_the_numbers(lib):
    f = monthly.section_facts(_plan())
    names = {"SKU1": "云烟(紫)"}
    states = plan_text.section_summary("states", f, lib, names)
    assert states[0] == ("**结论**：本月10户中9户（90.0%）至少一项状态指标存在问题，最多的是"
                         "订单合理性（8户，80.0%）。")
    assert "订单合理性（库存积压）涉及80.0%的客户，是区县共性问题" in states[1]
    assert "KZB-13 合理库存建议；KZB-10 供货总量商定" in states[1]
    plan = " ".join(plan_text.section_summary("plan", f, lib, names))
    assert "下月2位客户经理共列2户重点客户，销量目标合计120.5箱" in plan
    assert "KZB-11 提升客户推荐能力（2户）" in plan
    assert "云烟(紫)市场预警，在销的2户安排KZB-13 合理库存建议" in plan
    ev = plan_text.section_summary("evaluation", f, lib, names)
    assert ev[0] == "**结论**：上月评估3项策略：有效1项，效果为负1项，未见效果1项。"
    assert "KZB-12 缺货品牌替代宣扬使重点品牌及新品销量占比变差，停止" in ev[1]
    assert "KZB-14 组合宽度建议对品牌组合宽度有效，推广" in ev[1]
    ex = plan_text.section_summary("execution", f, lib, names)
    assert "拜访计划完成率80.0%，计划策略执行率4.0%，2位策略执行率低于预警线" in ex[0]
    assert "绝对误差率3.4%" in ex[0] and "先按方案" in ex[1]
    im = plan_text.section_summary("improve", f, lib, names)
    assert im[0] == "**结论**：2项策略列入复核，2户上月已列出的问题本月仍存在，结转到下月方案。"
    assert "1项策略先执行到位再评估；1项效果为负的策略停止使用" in im[1]
    ka = plan_text.section_summary("key_accounts", f, lib, names)
    assert "大客户3户，其中近12个月月均销量下降的2户，近3月同比下降的1户" in ka[0]


def test_section_sentences_follow_the_plan_not_a_template(lib):
    """Other numbers, other words: no district action, execution on target, nothing judged."""
    plan = _plan(states=_states(overstocked=3),
                 district_actions=pd.DataFrame(columns=["district_code", "indicator", "cause",
                                                        "shops_flagged", "shops_judged",
                                                        "share", "codes"]),
                 evaluation=pd.DataFrame(columns=["code", "outcome", "verdict_code"]),
                 execution_flags=pd.DataFrame(columns=["manager_id", "code"]),
                 coverage=pd.DataFrame({"manager_id": ["KM1"], "planned_strategies": [10],
                                        "executed_strategies": [9], "planned_visits": [10],
                                        "recorded_visits": [10]}),
                 key_accounts=pd.DataFrame(columns=["trend", "yoy"]))
    f = monthly.section_facts(plan)
    states = plan_text.section_summary("states", f, lib)
    assert "本月10户中4户（40.0%）" in states[0] and "区县共性问题" not in states[1]
    assert "逐户安排" in states[1]
    ev = plan_text.section_summary("evaluation", f, lib)
    assert "没有可评估的策略" in ev[0]
    ex = plan_text.section_summary("execution", f, lib)
    assert "计划策略执行率90.0%" in ex[0] and "低于预警线" not in ex[0]
    assert ex[1] == "**建议**：执行到位，保持按方案拜访和登记。"
    ka = plan_text.section_summary("key_accounts", f, lib)
    assert ka[0] == "**结论**：客户档案中没有标为大客户的零售户。" and len(ka) == 1


def test_problem_text_names_the_product(lib):
    assert (plan_text.problem_text("brand_cooperation", "new_product_not_carried",
                                   "娇子(宽窄细支)", lib)
            == "品牌培育协作：未引入新品（娇子(宽窄细支)）")
    assert plan_text.problem_text("order_rationality", "overstock", "云烟(紫)", lib) == \
        "订单合理性：库存积压（云烟(紫)）"
    assert plan_text.problem_text("volume", None, None, lib) == "销量"
    assert plan_text.problem_text(pd.NA, None, None, lib) == ""
