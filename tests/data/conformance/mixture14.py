"""Golden values for MixtureSameFamily (issue 14): mixtures of Normals and of StudentTs.

log_prob is evaluated in mpmath at 50 digits as ln sum_k w_k p_k(x) with no shift (mpmath's
exponent range holds exp(-1e6)), and cross-checked against SciPy
(scipy.special.logsumexp over ln w_k + scipy.stats.{norm,t}.logpdf). The values include far
tails (|x| up to 1e4), where every component's density underflows in float64 and only a
log-sum-exp keeps the answer. Gradients of sum(log_prob): mpmath numerical differentiation of
the 50-digit evaluation, with respect to the value, every component parameter and the
mixture's logits. Mean sum_k w_k mu_k and variance sum_k w_k (s_k^2 + mu_k^2) - mean^2 from
the components' closed forms, in mpmath.

A gradient with respect to `probs` is not given: off the simplex it depends on how the
weights are extended (PyTorch's Categorical normalizes probs / sum(probs), which adds -1 to
every entry of a simplex's gradient; a plain sum_k w_k p_k does not), and only its tangent
part is meaningful. The logits cases check the weights' gradient instead.

A Normal + StudentT mixture is not a case: MixtureSameFamily (and infer's Mixture) mixes
components of one family.

Run: python3 mixture14.py > mixture14.json
"""
import json
import numpy as np
import mpmath as mp
from scipy import stats, special

mp.mp.dps = 50


def f(x):
    return float(x)


def normal_lp(x, loc, scale):
    z = (x - loc) / scale
    return -z * z / 2 - mp.log(scale) - mp.log(2 * mp.pi) / 2


def student_lp(x, df, loc, scale):
    z = (x - loc) / scale
    return (mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(df * mp.pi) / 2
            - mp.log(scale) - (df + 1) / 2 * mp.log(1 + z * z / df))


def weights(w, logits):
    w = [mp.mpf(v) for v in w]
    if logits:
        e = [mp.e ** v for v in w]
        s = mp.fsum(e)
        return [v / s for v in e]
    return w


def mix_lp(x, w, logits, comp, params):
    """ln sum_k w_k p_k(x); params: one list per component parameter."""
    ws = weights(w, logits)
    lps = [comp(mp.mpf(x), *[mp.mpf(p[k]) for p in params]) for k in range(len(ws))]
    return mp.log(mp.fsum(wk * mp.e ** lk for wk, lk in zip(ws, lps) if wk != 0))


def scipy_lp(x, w, logits, family, params):
    w = np.array(w, dtype=float)
    lw = w - special.logsumexp(w) if logits else np.log(w, where=w > 0, out=np.full_like(w, -np.inf))
    if family == "Normal":
        lp = stats.norm.logpdf(x, loc=np.array(params[0]), scale=np.array(params[1]))
    else:
        lp = stats.t.logpdf(x, df=np.array(params[0]), loc=np.array(params[1]),
                            scale=np.array(params[2]))
    return special.logsumexp(lw + lp)


def total(xs, w, logits, comp, params):
    return mp.fsum(mix_lp(x, w, logits, comp, params) for x in xs)


def diff(fun, v):
    return f(mp.diff(fun, mp.mpf(v)))


def grads(xs, w, logits, comp, params, names):
    g = {"value": [diff(lambda t, i=i: mix_lp(t, w, logits, comp, params), xs[i])
                   for i in range(len(xs))]}
    for j, name in enumerate(names):
        out = []
        for k in range(len(params[j])):
            def fun(t, j=j, k=k):
                q = [list(map(mp.mpf, p)) for p in params]
                q[j][k] = t
                return total(xs, w, logits, comp, q)
            out.append(diff(fun, params[j][k]))
        g[f"component_distribution.{name}"] = out
    if logits:
        out = []
        for k in range(len(w)):
            def fun(t, k=k):
                q = list(map(mp.mpf, w))
                q[k] = t
                return total(xs, q, logits, comp, params)
            out.append(diff(fun, w[k]))
        g["mixture_distribution.logits"] = out
    return g


def moments(w, logits, means, variances):
    ws = weights(w, logits)
    m = mp.fsum(wk * mk for wk, mk in zip(ws, means))
    second = mp.fsum(wk * (vk + mk * mk) for wk, vk, mk in zip(ws, variances, means))
    return f(m), f(second - m * m)


cases = []


def add(cid, family, w, logits, params, xs):
    names = ["loc", "scale"] if family == "Normal" else ["df", "loc", "scale"]
    comp = normal_lp if family == "Normal" else student_lp
    lps = [mix_lp(x, w, logits, comp, params) for x in xs]
    for x, lp in zip(xs, lps):
        sp = scipy_lp(x, w, logits, family, params)
        assert abs(f(lp) - sp) <= 1e-12 * max(1, abs(sp)), (cid, x, f(lp), sp)
    if family == "Normal":
        means = [mp.mpf(v) for v in params[0]]
        variances = [mp.mpf(s) ** 2 for s in params[1]]
    else:
        means = [mp.mpf(v) for v in params[1]]
        variances = [mp.mpf(s) ** 2 * d / (d - 2) for d, s in zip(map(mp.mpf, params[0]), params[2])]
    mean, var = moments(w, logits, means, variances)
    key = "logits" if logits else "probs"
    cases.append({
        "kind": "dist", "id": f"i14-MixtureSameFamily-{cid}", "dist": "MixtureSameFamily",
        "params": {
            "mixture_distribution": {"dist": "Categorical", "params": {key: w}},
            "component_distribution": {"dist": family,
                                       "params": dict(zip(names, params))},
        },
        "value": xs, "reparameterized": False,
        "expect": {"log_prob": [f(v) for v in lps],
                   "grad": grads(xs, w, logits, comp, params, names),
                   "mean": mean, "variance": var},
    })


# two Normals (probs), from the centre to tails where both densities underflow
add("normal2-probs", "Normal", [0.3, 0.7], False, [[-2.0, 1.5], [0.7, 1.0]],
    [-2.5, 0.0, 3.0, 40.0, -1000.0])
# three Normals (logits): near-equal and very unequal components, far tails on both sides
add("normal3-logits", "Normal", [0.2, -1.0, 1.3], True, [[-5.0, 0.0, 4.0], [0.5, 2.0, 1.0]],
    [-30.0, -5.0, 0.5, 4.0, 60.0, 1.0e4])
# a zero weight: the mixture is its other component
add("normal2-zero-weight", "Normal", [0.0, 1.0], False, [[0.0, 3.0], [1.0, 2.0]],
    [-1.0, 3.0, 250.0])
# two StudentTs (logits): heavy tails, where the low-df component dominates far out
add("studentt2-logits", "StudentT", [1.5, -0.5], True, [[3.0, 30.0], [0.0, 1.0], [1.0, 0.5]],
    [0.0, 1.2, -7.0, 1.0e3, -1.0e4])

print(json.dumps({
    "format": "infer-conformance/1",
    "source": "mpmath 1.3.0 at 50 digits (log densities cross-checked with SciPy 1.17.1 "
              "logsumexp of stats.norm / stats.t logpdf; gradients by mpmath numerical "
              "differentiation); generator: tests/data/conformance/mixture14.py",
    "cases": cases,
}, indent=1))
