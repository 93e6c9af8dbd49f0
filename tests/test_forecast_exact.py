"""The cheap paths of the month's forecasts give the same bits as the straightforward ones.

The forecast cache must not move when the code gets faster (the reports' headline figures read
it), so each shortcut is checked for exact equality (``tobytes`` / ``check_exact``), not
closeness: the C filter and LAPACK gufuncs called without their Python wrappers (references:
``scipy.signal.lfilter``, ``numpy.linalg.solve`` / ``lstsq``), the ETS polynomials and 2 x 2
least squares on Python floats, the optimiser, the festival regressor, the result frames built
once, and the SKU tasks that fit only the SKU model.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from scipy.signal import lfilter

from kehu_lib.forecast import fast as F
from kehu_lib.forecast import festival as fest
from kehu_lib.forecast import pipeline
from kehu_lib.forecast import select as sel

PATTERN = np.array([120, 150, 90, 95, 100, 105, 110, 108, 100, 98, 102, 130], float)


def _series(seed: int, n: int = 40, noise: float = 0.06) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.tile(PATTERN, 8)[:n] * np.exp(rng.normal(0, noise, n)) * np.linspace(1, 1.3, n)


def _same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()  # bit for bit (also tells -0.0 from 0.0)


# -- the pieces ------------------------------------------------------------------------------


def _params(rng):
    return rng.uniform(1e-4, 1 - 1e-4), rng.uniform(0, 0.3), rng.uniform(0, 0.5), \
        rng.uniform(0.8, 0.98)


@pytest.mark.parametrize("m", [12, 4, 2, 1])
def test_ets_polys_py_is_ets_polys(m):
    rng = np.random.default_rng(m)
    for _ in range(200):
        al, be, ga, ph = _params(rng)
        for trend, damped in ((False, False), (True, False), (True, True)):
            phi = ph if damped else (1.0 if trend else 0.0)
            beta = be if trend else 0.0
            for seasonal in (False, True):
                gamma = ga if seasonal else 0.0
                want = F.ets_polys(np.float64(al), np.float64(beta), np.float64(gamma),
                                   np.float64(phi), trend=trend, seasonal=seasonal, m=m)
                got = F._ets_polys_py(al, beta, gamma, phi, trend, seasonal, m)
                _same(got[0], want[0])
                _same(got[1], want[1])


def test_filter_is_scipy_lfilter():
    rng = np.random.default_rng(1)
    x2 = rng.normal(size=(3, 40))
    for _ in range(50):
        a, th = F.ets_polys(*_params(rng), trend=True, seasonal=True)
        _same(F._filter(a, th, x2), lfilter(a, th, x2))
        _same(F._filter(th, a, x2[0]), lfilter(th, a, x2[0]))
        ma = np.convolve([1.0, rng.uniform(-0.9, 0.9)], np.r_[1.0, np.zeros(11),
                                                              rng.uniform(-0.9, 0.9)])
        _same(F._filter(np.array([1.0]), ma, x2.T, 0), lfilter([1.0], ma, x2.T, axis=0))


def test_solve_and_lstsq_are_numpys():
    rng = np.random.default_rng(2)
    for k in (1, 2, 3, 4):
        for _ in range(50):
            j = rng.normal(size=(30, k))
            a = j.T @ j + 1e-3 * np.diag(np.diag(j.T @ j))
            b = rng.normal(size=k)
            _same(F._solve(a, b), np.linalg.solve(a, b))
            y = rng.normal(size=30)
            _same(F._lstsq(j, y), np.linalg.lstsq(j, y, rcond=None)[0])
            _same(F._lstsq(j[:, :1], y), np.linalg.lstsq(j[:, :1], y, rcond=None)[0])
    with pytest.raises(np.linalg.LinAlgError):
        F._solve(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(np.zeros((2, 2)), np.ones(2))


def _ls_reference(fz, fy):
    """fast._ls as first written: numpy scalars and np.linalg.lstsq."""
    if fz.shape[1] == 1:
        den = fz[:, 0] @ fz[:, 0]
        return np.array([fz[:, 0] @ fy / den if den > 0 else 0.0])
    g = fz.T @ fz
    b = fz.T @ fy
    det = g[0, 0] * g[1, 1] - g[0, 1] * g[1, 0]
    if not abs(det) > 1e-12 * (g[0, 0] * g[1, 1] + 1e-300):
        return np.linalg.lstsq(fz, fy, rcond=None)[0]
    return np.array([g[1, 1] * b[0] - g[0, 1] * b[1], g[0, 0] * b[1] - g[1, 0] * b[0]]) / det


def test_ls_is_the_reference():
    rng = np.random.default_rng(3)
    for _ in range(200):
        f = lfilter(*F.ets_polys(*_params(rng), trend=True, seasonal=True),
                    np.vstack([rng.normal(size=36), np.ones(36), np.arange(1.0, 37)]))
        for fz in (f[1:].T, f[1:2].T):
            _same(F._ls(fz, f[0]), _ls_reference(fz, f[0]))
    # collinear columns: the lstsq branch
    fz = np.column_stack([np.ones(20), 2 * np.ones(20)])
    _same(F._ls(fz, np.arange(20.0)), _ls_reference(fz, np.arange(20.0)))
    _same(F._ls(np.zeros((20, 1)), np.arange(20.0)), _ls_reference(np.zeros((20, 1)),
                                                                    np.arange(20.0)))


def _lsq_box_reference(resid, x0, lo, hi, *, max_iter=40, rtol=1e-5):
    """fast.least_squares_box as first written (numpy scalars, np.linalg.solve, np.clip)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    p = np.clip(np.asarray(x0, float), lo, hi)
    e = resid(p)
    f = float(e @ e)
    if not np.isfinite(f):
        return p, e
    lam = 1e-2
    for _ in range(max_iter):
        jac = np.empty((len(e), len(p)))
        for i in range(len(p)):
            step = 1e-6 * max(1.0, abs(p[i]))
            if p[i] + step > hi[i]:
                step = -step
            q = p.copy()
            q[i] += step
            jac[:, i] = (resid(q) - e) / step
        if not np.all(np.isfinite(jac)):
            break
        g = jac.T @ e
        a = jac.T @ jac
        improved = False
        for _ in range(8):
            try:
                d = np.linalg.solve(a + lam * (np.diag(np.diag(a)) + 1e-12), -g)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            q = np.clip(p + d, lo, hi)
            e_new = resid(q)
            f_new = float(e_new @ e_new)
            if f_new < f:
                improved = True
                break
            lam *= 10
        if not improved:
            break
        done = f - f_new <= rtol * f
        p, e, f, lam = q, e_new, f_new, max(lam / 10, 1e-9)
        if done:
            break
    return p, e


def _reference_pieces(monkeypatch):
    """Swap every shortcut of fast for its straightforward version."""
    monkeypatch.setattr(F, "_filter", lambda b, a, x, axis=-1: lfilter(b, a, x, axis=axis))
    monkeypatch.setattr(F, "_ets_polys_py", lambda al, be, ga, ph, trend, seasonal, m:
                        F.ets_polys(np.float64(al), np.float64(be), np.float64(ga),
                                    np.float64(ph), trend=trend, seasonal=seasonal, m=m))
    monkeypatch.setattr(F, "_ls", _ls_reference)
    monkeypatch.setattr(F, "_solve", np.linalg.solve)
    monkeypatch.setattr(F, "_lstsq", lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0])
    monkeypatch.setattr(F, "least_squares_box", _lsq_box_reference)


def _fits():
    out = []
    for seed in range(4):
        z = np.log(_series(seed, n=30 + 6 * seed))
        for trend in ("N", "A", "Ad"):
            out.append(F.ets_fit(z, 6, trend=trend, seasonal=True))
            out.append(F.ets_fit(z, 6, trend=trend, seasonal=False))
        x = fest.regressor_matrix("2022-01", len(z) + 6, post=False, per_day=True)[:, 0]
        out.append(F.airline_fit(z, 6, phi=0.9))
        out.append(F.airline_fit(z, 6, xreg=x[:len(z), None], xreg_future=x[len(z):, None]))
        out.append(F.theta_forecast(z, 6))
    return out


def _flat(fits):
    for f in fits:
        if isinstance(f, F.EtsFit):
            yield from (f.params, f.mean, f.sd, f.init, f.resid, np.float64(f.sse))
        else:
            yield from (np.asarray(v, float) for v in f)


def test_fits_are_those_of_the_straightforward_pieces(monkeypatch):
    fast = list(_flat(_fits()))
    _reference_pieces(monkeypatch)
    slow = list(_flat(_fits()))
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        _same(a, b)


def test_error_quantiles_are_one_quantile_per_level():
    """error_quantiles takes every level from one np.quantile call: the same bits as one call
    per level."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        e = rng.standard_t(3, size=int(rng.integers(24, 90))) * rng.uniform(0.01, 5)
        burn = int(rng.integers(0, 13))
        got = F.error_quantiles(e, (80, 95), burn=burn)
        a = np.abs(e[burn:][-F.SIGMA_WINDOW:]) / np.sqrt(F.sigma2(e))
        if len(a) < F.MIN_QUANTILE_ERRORS:
            assert got is None
            continue
        assert list(got) == [80, 95]
        for lv in (80, 95):
            _same(np.float64(got[lv]), np.float64(np.quantile(a, lv / 100)))


# -- festival --------------------------------------------------------------------------------


@pytest.mark.parametrize("post,per_day", [(False, True), (True, False), (True, True)])
def test_regressor_matrix_is_the_regressor_frame(post, per_day):
    for start, n in (("2021-03", 40), ("2023-11", 7), ("2020-01", 1)):
        months = pd.period_range(start, periods=n, freq="M")
        want = fest.festival_regressor(months, post=post, per_day=per_day).to_numpy()
        _same(fest.regressor_matrix(pd.Period(start, "M"), n, post=post, per_day=per_day), want)


def test_cached_month_means_are_the_formula():
    x = fest.regressor_matrix("2021-01", 45, post=True, per_day=True)
    xc = fest._combined(x)
    for n in (14, 30, 39, 40):
        pos = np.arange(len(xc)) % 12
        means = np.array([xc[:n][pos[:n] == k].mean() if np.any(pos[:n] == k) else 0.0
                          for k in range(12)])
        for _ in range(2):  # computed, then from the cache
            _same(fest.forecast_correction(x, n, 0.4),
                  np.exp(0.4 * (xc[n:] - means[pos[n:]])))
            _same(fest.effect_spread(x, n, 0.1), 0.1 * np.abs(xc[n:] - means[pos[n:]]))


# -- result frames ---------------------------------------------------------------------------


def _tasks():
    start = pd.Period("2023-10", "M")
    tasks = []
    for i in range(4):
        y = _series(10 + i, n=37 - 5 * i)
        tasks.append({"unique_id": f"区{i}|总量|合计", "y": y, "start": start + 5 * i, "h": 3,
                      "origins": sel.default_origins(len(y)), "last_month": True,
                      "model": None, "festival": True})
    z = _series(20, n=30)
    z[-6:] = [0, 5, 0, 0, 3, 0]  # intermittent: a fallback
    tasks.append({"unique_id": "区9|品牌|其他品牌", "y": z, "start": start, "h": 3,
                  "origins": [18, 24], "last_month": True, "model": None, "festival": True})
    tasks.append({"unique_id": "区9|规格|X", "y": _series(21, n=25), "start": start, "h": 1,
                  "origins": [], "model": "theta", "festival": True})
    tasks.append({"unique_id": "区9|规格|Y", "y": np.array([0.0, 4, 5]), "start": start,
                  "h": 1, "origins": [], "model": "theta", "festival": True})
    return tasks


def test_run_series_frames_are_the_straightforward_ones():
    for task in _tasks():
        got = sel.run_series(task)
        y, start, h, uid = task["y"], task["start"], task["h"], task["unique_id"]
        res = sel.fit_one(y, h, start=start, origins=task["origins"],
                          models=sel.CANDIDATES, model=task["model"], uid=uid)
        fc = res["forecast"]
        ds = pd.period_range(start + len(y), periods=h, freq="M").to_timestamp()
        want = pd.DataFrame({"unique_id": uid, "ds": ds, "model": res["model"],
                             "mean": fc.mean, "lo_80": fc.lo[80], "hi_80": fc.hi[80],
                             "lo_95": fc.lo[95], "hi_95": fc.hi[95]})
        want["reason"] = res["reason"]
        want["note"] = fc.note
        assert_frame_equal(got["forecast"], want, check_exact=True)
        assert_frame_equal(got["backtest"], res["backtest"], check_exact=True)
        assert_frame_equal(got["evidence"], res["evidence"].assign(unique_id=uid),
                           check_exact=True)
        if task.get("last_month"):
            mdl = got["model"] if got["model"] in sel.M.MODELS or got["model"] == "combo" \
                else "combo"
            last = sel.backtest_one(y, start=start, origins=[len(y) - 1], h=1, models=(mdl,),
                                    uid=uid)
            assert_frame_equal(got["last_month"], last, check_exact=True)
        else:
            assert got["last_month"].empty


def test_evidence_columns_decide_as_the_evidence_frame():
    """The model choice reads the evidence as columns (no frame per series): the same frame,
    choice and weights as from the rows of the backtest frame."""
    for task in _tasks():
        bt = sel.backtest_one(task["y"], start=task["start"], origins=task["origins"], h=6,
                              uid=task["unique_id"])
        cols, frame = sel._evidence_cols(bt), sel.evidence(bt)
        assert_frame_equal(sel._evidence_frame(cols), frame, check_exact=True)
        for policy in ("inverse", "combo", "margin", "pick"):
            assert sel.decide(cols, policy=policy) == sel.decide(frame, policy=policy)
        w_cols, w_frame = sel.combo_weights(cols), sel.combo_weights(frame)
        assert (w_cols is None) == (w_frame is None)
        if w_cols is not None:
            _same(w_cols, w_frame)


def test_stacked_results_are_the_concatenated_frames():
    tasks = _tasks()
    frames = sel.forecast_frame(tasks, n_jobs=1)
    compact = sel.forecast_frame(tasks, n_jobs=1, compact=True)
    assert [r["unique_id"] for r in compact] == [t["unique_id"] for t in tasks]
    for key in ("forecast", "backtest", "last_month"):
        want = pd.concat([r[key] for r in frames], ignore_index=True)
        assert_frame_equal(sel.stack_results(compact, key), want, check_exact=True)
    assert [r["model"] for r in compact] == [r["model"] for r in frames]
    assert [r["reason"] for r in compact] == [r["reason"] for r in frames]


def test_a_forced_model_fitted_alone_is_the_same_forecast():
    # the SKU tasks fit only their model: the other candidates never touched its forecast
    for task in _tasks()[-2:]:
        alone = sel.run_series(task | {"models": (task["model"],)})
        among = sel.run_series(task)
        assert_frame_equal(alone["forecast"], among["forecast"], check_exact=True)
    sku = pipeline._sku_tasks(pd.DataFrame({
        "month": ["2026-08", "2026-09", "2026-10"] * 2, "district": ["甲"] * 6,
        "sku": ["a"] * 3 + ["b"] * 3, "qty_supplied": [1.0, 2, 3, 0, 4, 5]}), "2026-10")
    assert [t["models"] for t in sku] == [(pipeline.CHEAP_MODEL,)] * 4


def _dense_reference(df, key, months):
    """pipeline._dense as first written: a frame per series, concatenated."""
    wide = df.pivot_table(index=key, columns="month", values="y", aggfunc="sum",
                          fill_value=0.0)
    wide = wide.reindex(columns=[str(m) for m in months], fill_value=0.0)
    out = []
    for uid, row in wide.iterrows():
        vals = row.to_numpy(float)
        nz = np.flatnonzero(vals > 0)
        first = nz[0] if len(nz) else len(vals) - 1
        out.append(pd.DataFrame({"unique_id": uid, "ds": months[first:].to_timestamp(),
                                 "y": vals[first:]}))
    return pd.concat(out, ignore_index=True)


def test_dense_is_the_per_series_version():
    months = pd.period_range("2025-01", "2026-10", freq="M")
    rng = np.random.default_rng(5)
    rows = []
    for k, key in enumerate(["甲|总量|合计", "乙|品牌|其他品牌", "丙|规格|x", "丁|规格|y"]):
        for i, mo in enumerate(months):
            if k == 1 and i < 7 or k == 2 and i == 9:
                continue  # a late start (no rows); a month without rows
            # 丙 sells from its 6th month on, 丁 never (kept from its last month)
            y = 0.0 if k == 3 or k == 2 and i < 5 else float(rng.integers(1, 50))
            rows.append((key, str(mo), y))
            if k == 0:  # several rows of a month are summed
                rows.append((key, str(mo), float(rng.integers(0, 9))))
    df = pd.DataFrame(rows, columns=["key", "month", "y"])
    assert_frame_equal(pipeline._dense(df, "key", months),
                       _dense_reference(df, "key", months), check_exact=True)


# -- the step without scipy's heavy packages -------------------------------------------------


def test_z_scores_are_scipys():
    from scipy.stats import norm

    from kehu_lib.forecast.models import LEVELS, Z_SCORES

    for lv in LEVELS:
        assert Z_SCORES[lv] == float(norm.ppf(0.5 + lv / 200))


def test_minimize_bounded_is_scipys_bounded_method():
    from scipy.optimize import minimize_scalar

    def check(func, lo, hi, xatol):
        want = minimize_scalar(func, bounds=(lo, hi), method="bounded",
                               options={"xatol": xatol}).x
        _same(np.float64(F.minimize_bounded(func, lo, hi, xatol=xatol)), np.float64(want))

    for seed in range(30):  # the SES objectives of the Theta method (fast.ses)
        x = np.log(_series(seed, n=24 + seed))

        def sse(alpha, x=x):
            lv = lfilter([alpha], [1.0, alpha - 1.0], x, zi=[(1 - alpha) * x[0]])[0]
            err = x[1:] - lv[:-1]
            return float(err @ err)

        check(sse, 1e-8, 1 - 1e-8, 1e-6)
    for c in (-1.0, 0.2, 0.7, 3.0):  # minima inside, on and beyond the bounds
        check(lambda t, c=c: (t - c) ** 2 + 0.1 * np.sin(9 * t), 0.0, 1.0, 1e-5)
    with pytest.raises(ValueError):
        F.minimize_bounded(lambda t: t, 1.0, 0.0)


def test_fir_is_lfilter_with_a_unit_denominator():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 2))
    ar = np.convolve([1.0, -1.0], np.r_[1.0, np.zeros(11), -1.0])
    _same(F._fir(ar, x, axis=0), lfilter(ar, [1.0], x, axis=0))
    _same(F._fir(ar, x[:, 0], axis=0), lfilter(ar, [1.0], x[:, 0], axis=0))


def test_forecast_step_imports_no_scipy_package():
    # scipy.signal would import scipy.stats and scipy.optimize (~1.5 s of CPU); the filter is
    # scipy's own C routine, loaded from its extension
    import subprocess
    import sys

    code = ("import sys, kehu_lib.forecast, kehu_lib.forecast.fast as F; "
            "print(sorted(k for k in sys.modules if k.startswith('scipy'))); "
            "print(F._linear_filter is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"
    import scipy.signal

    assert F._linear_filter is scipy.signal._sigtools._linear_filter
