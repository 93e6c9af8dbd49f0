"""The Chinese trade calendar: Spring Festival dates and the month's market opportunities.

The Spring Festival (春节, first day of the lunar year) moves between 21 January and 20 February;
the weeks before it are the year's sales peak. Dates come from the ``lunardate`` package.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd
from lunardate import LunarDate

#: Length of the pre-festival buying season in days (the peak weeks before 春节).
PRE_FESTIVAL_DAYS = 28


@lru_cache(maxsize=None)
def spring_festival(year: int) -> dt.date:
    """Gregorian date of the Spring Festival (农历正月初一) in ``year``."""
    return LunarDate(year, 1, 1).to_solar_date()


def pre_festival_share(month: str | pd.Period, days: int = PRE_FESTIVAL_DAYS) -> float:
    """Share (0-1) of the ``days`` pre-festival days that fall in ``month`` ('YYYY-MM').

    The pre-festival window is the ``days`` days ending the day before 春节. For example in 2025
    (春节 29 January) nearly all of the window falls in January, in 2026 (17 February) most of it
    falls in February. Used as the moving-holiday regressor of the forecasts.
    """
    period = pd.Period(month, freq="M")
    total = 0
    for year in (period.year, period.year + 1):
        fest = spring_festival(year)
        start = fest - dt.timedelta(days=days)
        window = pd.date_range(start, fest - dt.timedelta(days=1), freq="D")
        total += int(((window.year == period.year) & (window.month == period.month)).sum())
    return total / days


def festival_factor(dates: pd.DatetimeIndex | pd.Series, peak: float = 1.7,
                    after: float = 0.55) -> pd.Series:
    """Demand multiplier around the Spring Festival for each date.

    ``peak`` applies in the pre-festival window (ramping up over its four weeks), ``after`` in the
    two weeks after 春节 (shops are stocked), 1 elsewhere. Dimensionless.
    """
    d = pd.DatetimeIndex(dates)
    out = pd.Series(1.0, index=range(len(d)))
    for year in sorted(set(d.year) | {y + 1 for y in set(d.year)}):
        fest = pd.Timestamp(spring_festival(year))
        days_before = (fest - d).days
        pre = (days_before >= 1) & (days_before <= PRE_FESTIVAL_DAYS)
        ramp = 1.0 + (peak - 1.0) * (1.0 - (days_before[pre] - 1) / PRE_FESTIVAL_DAYS * 0.5)
        out[pre] = ramp
        post = (days_before <= 0) & (days_before > -14)
        out[post] = after
    return out.set_axis(dates.index if isinstance(dates, pd.Series) else range(len(d)))


#: Fixed-date opportunities (month, day, name) beside the lunar ones.
_FIXED = ((1, 1, "元旦"), (5, 1, "劳动节"), (10, 1, "国庆节"), (6, 7, "高考"), (9, 10, "教师节"))
#: Lunar-date opportunities (lunar month, lunar day, name).
_LUNAR = ((1, 1, "春节"), (1, 15, "元宵节"), (5, 5, "端午节"), (8, 15, "中秋节"))


def opportunities(month: str | pd.Period) -> pd.DataFrame:
    """The calendar of market opportunities (节日/假期) falling in ``month``.

    Returns columns ``date`` (datetime64), ``name`` (Chinese), ``kind`` ('节日' or '备货期').
    The pre-festival stocking season is listed when it overlaps the month.
    """
    period = pd.Period(month, freq="M")
    rows = []
    for m, d, name in _FIXED:
        if m == period.month:
            rows.append((pd.Timestamp(period.year, m, d), name, "节日"))
    for year in (period.year - 1, period.year):
        for lm, ld, name in _LUNAR:
            try:
                day = pd.Timestamp(LunarDate(year, lm, ld).to_solar_date())
            except ValueError:
                continue
            if day.to_period("M") == period:
                rows.append((day, name, "节日"))
    if pre_festival_share(period) > 0:
        fest = spring_festival(period.year if period.month <= 2 else period.year + 1)
        start = pd.Timestamp(fest) - pd.Timedelta(days=PRE_FESTIVAL_DAYS)
        rows.append((max(start, period.start_time), "春节前备货旺季", "备货期"))
    out = pd.DataFrame(rows, columns=["date", "name", "kind"])
    return out.sort_values("date", ignore_index=True)


def months_to_year_end(month: str | pd.Period) -> list[str]:
    """至年底: the months after the report ``month`` up to and including December of its year
    ('YYYY-MM' strings). For 2026-10 that is ['2026-11', '2026-12'] — never a month of the next
    year, whatever the forecast horizon; empty for a December report. The forecast's "to year
    end" totals sum exactly these months."""
    p = pd.Period(month, freq="M")
    return [str(pd.Period(year=p.year, month=m, freq="M")) for m in range(p.month + 1, 13)]
