"""The peer library `lifetimes` (0.11.3, pinned in scripts/python-requirements.txt) on data sent as JSON.

Reads one JSON object on stdin, writes one on stdout:
  in:  {"datasets": [{"name", "x", "tx", "T", "mx", "t",
                      "ours": {"bgnbd": {r, alpha, a, b}, "gamma_gamma": {p, q, gamma}}}]}
       (x, tx, T per customer in one time unit; mx the mean repeat-purchase value, 0 without repeats;
       t the horizon of the conditional expectations; "ours" the job's own estimates)
  out: {"datasets": [{"name", "bgnbd": {...}, "gamma_gamma": {...}}]} where each model has
       "params" (null when lifetimes' BG/NBD fitter raised, with "error"; where its Gamma-Gamma
       optimiser stopped without success, the point it stopped at, with scipy's message as
       "stopped"), "log_likelihood" (lifetimes' own
       total log-likelihood at its estimate) and "log_likelihood_at_ours" (the same function at the
       job's estimate), and the per-customer predictions at lifetimes' estimate: "expected" and
       "p_alive" (BG/NBD), "expected_spend" (Gamma-Gamma, repeat buyers with mx > 0 only); null
       where lifetimes' own value is not finite.
  With {"bench": {"csv": path}} instead (columns x, tx, T, mx), times lifetimes' fits and a 12-period
  CLV on those customers (npm run bench).
"""

import json
import sys
import time
import warnings

import lifetimes.fitters
import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import ConvergenceError

warnings.simplefilter("ignore")

# lifetimes raises ConvergenceError when scipy's optimiser stops without success, and drops the point
# it stopped at; recording scipy's answer keeps that estimate, the one lifetimes' own optimiser reached
_minimize = lifetimes.fitters.minimize
_last = {}


def _recording_minimize(*args, **kwargs):
    _last["output"] = _minimize(*args, **kwargs)
    return _last["output"]


lifetimes.fitters.minimize = _recording_minimize


def values(array):
    """A column as JSON: NaN (lifetimes' answer where its hypergeometric term overflows) as null."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(array, dtype=float)]


def bgnbd(x, tx, T, t, ours):
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    try:
        fitter.fit(x, tx, T)
    except Exception as error:  # lifetimes raises ConvergenceError on some data with recent scipy
        return {"params": None, "error": f"{type(error).__name__}: {error}"}
    params = {name: float(fitter.params_[name]) for name in ("r", "alpha", "a", "b")}
    weights = np.ones_like(x)

    def total_ll(p):
        # lifetimes' objective is the negative mean log-likelihood of log-parameters
        log_params = np.log([p["r"], p["alpha"], p["a"], p["b"]])
        return -float(fitter._negative_log_likelihood(log_params, x, tx, T, weights, 0.0)) * len(x)

    return {
        "params": params,
        "log_likelihood": total_ll(params),
        "log_likelihood_at_ours": total_ll(ours),
        "expected": values(fitter.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)),
        "p_alive": values(fitter.conditional_probability_alive(x, tx, T)),
    }


def gamma_gamma(x, mx, ours):
    repeat = (x > 0) & (mx > 0)
    fitter = GammaGammaFitter(penalizer_coef=0.0)
    stopped = None
    try:
        fitter.fit(x[repeat], mx[repeat])
        estimate = fitter.params_.values
    except ConvergenceError:
        output = _last["output"]
        stopped = str(output.message)
        estimate = np.exp(output.x)
        fitter.params_ = dict(zip(("p", "q", "v"), estimate))
    params = {"p": float(estimate[0]), "q": float(estimate[1]), "gamma": float(estimate[2])}
    weights = np.ones(int(repeat.sum()))

    def total_ll(p):
        log_params = np.log([p["p"], p["q"], p["gamma"]])
        return -float(fitter._negative_log_likelihood(log_params, x[repeat], mx[repeat], weights, 0.0)) * int(repeat.sum())

    return {
        "params": params,
        "stopped": stopped,
        "log_likelihood": total_ll(params),
        "log_likelihood_at_ours": total_ll(ours),
        "expected_spend": values(fitter.conditional_expected_average_profit(x[repeat], mx[repeat])),
    }


def bench(data):
    """Seconds for lifetimes' BG/NBD fit, Gamma-Gamma fit and 12-period CLV on every customer of a CSV (x, tx, T, mx)."""
    import pandas as pd

    table = pd.read_csv(data["csv"])
    x, tx, T, mx = (table[k].to_numpy(dtype=float) for k in ("x", "tx", "T", "mx"))
    started = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(x, tx, T)
    fitted_bgnbd = time.perf_counter()
    repeat = (x > 0) & (mx > 0)
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    try:
        ggf.fit(x[repeat], mx[repeat])
    except ConvergenceError:  # timed all the same, scoring at the point its optimiser stopped
        ggf.params_ = dict(zip(("p", "q", "v"), np.exp(_last["output"].x)))
    fitted_gg = time.perf_counter()
    ggf.customer_lifetime_value(bgf, pd.Series(x), pd.Series(tx), pd.Series(T), pd.Series(mx), time=12, freq="W", discount_rate=0.01)
    done = time.perf_counter()
    return {
        "customers": int(len(x)),
        "bgnbd_fit_s": fitted_bgnbd - started,
        "gamma_gamma_fit_s": fitted_gg - fitted_bgnbd,
        "clv_s": done - fitted_gg,
        "bgnbd": {name: float(bgf.params_[name]) for name in ("r", "alpha", "a", "b")},
    }


def main():
    request = json.load(sys.stdin)
    # lifetimes prints scipy's optimiser report on some fits: keep stdout for the answer alone
    answer, sys.stdout = sys.stdout, sys.stderr
    if "bench" in request:
        json.dump({"bench": bench(request["bench"])}, answer)
        return
    out = []
    for d in request["datasets"]:
        x, tx, T, mx = (np.asarray(d[k], dtype=float) for k in ("x", "tx", "T", "mx"))
        out.append(
            {
                "name": d["name"],
                "bgnbd": bgnbd(x, tx, T, float(d["t"]), d["ours"]["bgnbd"]),
                "gamma_gamma": gamma_gamma(x, mx, d["ours"]["gamma_gamma"]),
            }
        )
    json.dump({"datasets": out}, answer)


if __name__ == "__main__":
    main()
