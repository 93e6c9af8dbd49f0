"""Sales forecasts (销量预测). Entry points: :func:`forecast_series` (one series) and
:func:`forecast_long` (a long frame), the path the month's pipeline runs and the benchmark
measures. Models: ETS, Holt's linear trend, SARIMA(X), Theta and baselines, backtest-based choice,
calibrated intervals, reconciliation, and the month's cache.

The model forms are those of statsmodels (``ETSModel``, ``SARIMAX``, ``ThetaModel``); they are
fitted by the filter recursions of :mod:`.fast` (same models, checked against statsmodels in
the tests, ~10x faster). Intervals are calibrated on the backtest (:mod:`.calibrate`, the
Spring Festival months on their own errors).

Long format everywhere: input ``unique_id, ds, y`` (``ds`` = month start), output
``unique_id, ds, model, mean, lo_80, hi_80, lo_95, hi_95`` (point forecast and the bounds of the
80% and 95% prediction intervals, same unit as ``y``).
"""

from .calibrate import calibrate_intervals, interval_scale
from .festival import estimate_effect, festival_regressor
from .metrics import accuracy, mase_scale
from .models import LEVELS, Forecast, combine, ets, holt, naive, sarima, snaive, theta
from .pipeline import (build_month_forecasts, build_series, ensure_month_forecasts, horizon_for, load_backtest,
                       load_month_forecasts, load_series, monthly_volume)
from .reconcile import middle_out, reconcile, summing_matrix
from .select import CANDIDATES, OUT_COLUMNS, backtest_one, choose, forecast_frame, forecast_one
from .series import forecast_long, forecast_series

__all__ = ["calibrate_intervals", "interval_scale", "estimate_effect", "festival_regressor", "accuracy", "mase_scale", "LEVELS", "Forecast",
           "combine", "ets", "holt", "naive", "sarima", "snaive", "theta", "build_month_forecasts",
           "build_series", "ensure_month_forecasts", "horizon_for", "load_backtest", "load_month_forecasts", "load_series",
           "monthly_volume", "middle_out", "reconcile", "summing_matrix", "CANDIDATES",
           "OUT_COLUMNS",
           "backtest_one", "choose", "forecast_frame", "forecast_one", "forecast_series",
           "forecast_long"]
