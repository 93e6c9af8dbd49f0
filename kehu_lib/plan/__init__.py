"""The monthly work plan (月度工作方案): the 135 method's analyse → plan → evaluate → improve loop.

- :mod:`.indicators`: the eight state indicators per shop against its peers, with problem flags
- :mod:`.strategies`: the strategy library (营销服务策略组合库, ``params/strategy_library.yaml``)
- :mod:`.priority`: shop priority, key shops, visit frequency and targets per account manager
- :mod:`.output`: the per-manager printable HTML page and XLSX sheet
- :mod:`.evaluate`: last month's strategies against this month's data (difference-in-differences),
  plan coverage and forecast error
- :mod:`.improve`: strategies to review and the carry-over list
- :mod:`.key_accounts`: the 大客户 list with trend, and the relationship score where data exists
- :mod:`.data`: the data slice the plan reads
- :mod:`.shared`: the city-wide part of the plan, cached per month (computed once per batch)
"""
