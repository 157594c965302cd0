"""Golden values for Multinomial, DirichletMultinomial and LKJCholesky (issue 14).

Multinomial and DirichletMultinomial log masses from SciPy (scipy.stats.multinomial,
scipy.stats.dirichlet_multinomial), cross-checked against an mpmath evaluation at 50 digits;
gradients by mpmath numerical differentiation of that evaluation (through the normalization
of unnormalized probs / logits); moments from their closed forms in mpmath.
LKJCholesky: PyTorch is not installable here, so the log density is the hand-derived closed
form: unnormalized prod_i L_ii^(K-i-1+2eta-2) (rows i = 0..K-1), normalized by the product of
the ball integrals int_{B_i} (1-|w|^2)^(e_i/2) dw = pi^(i/2) Gamma(e_i/2+1)/Gamma(e_i/2+1+i/2)
over each row's i free entries; gradients by mpmath numerical differentiation.
"""
import json, sys
import numpy as np
import mpmath as mp
from scipy import stats

mp.mp.dps = 50
rng = np.random.default_rng(14)

def f(x):
    return float(x)

def multinomial_lp(n, probs, x, logits=False):
    if logits:
        m = max(probs)
        e = [mp.e ** (mp.mpf(l) - m) for l in probs]
    else:
        e = [mp.mpf(p) for p in probs]
    s = mp.fsum(e)
    lp = mp.loggamma(n + 1)
    for xi, ei in zip(x, e):
        lp += -mp.loggamma(xi + 1) + (xi * mp.log(ei / s) if xi > 0 else 0)
    return lp

def grad(fun, params):
    out = []
    for i in range(len(params)):
        def g(t, i=i):
            q = [mp.mpf(v) for v in params]
            q[i] = t
            return fun(q)
        out.append(f(mp.diff(g, mp.mpf(params[i]))))
    return out

def composition(n, k):
    cuts = np.sort(rng.integers(0, n + 1, size=k - 1))
    parts = np.diff(np.concatenate([[0], cuts, [n]]))
    return [float(v) for v in parts]

cases = []
# ---- Multinomial
for c in range(5):
    k = int(rng.integers(2, 6))
    n = int(rng.integers(0, 25)) if c else 0
    logits = c % 2 == 1
    if logits:
        par = [float(v) for v in rng.normal(0, 1.5, size=k)]
        p_norm = np.exp(np.array(par) - np.max(par)); p_norm /= p_norm.sum()
    else:
        par = [float(v) for v in rng.uniform(0.05, 2.0, size=k)]
        p_norm = np.array(par) / np.sum(par)
    x = composition(n, k)
    lp = multinomial_lp(n, par, x, logits)
    sp = stats.multinomial.logpmf(x, n, p_norm)
    assert abs(f(lp) - sp) < 1e-10 * max(1, abs(sp)), (lp, sp)
    g = grad(lambda q: multinomial_lp(n, q, x, logits), par)
    name = "logits" if logits else "probs"
    cases.append({"kind": "dist", "id": f"i14-Multinomial-{c}", "dist": "Multinomial",
        "params": {"total_count": float(n), name: par}, "value": x, "reparameterized": False,
        "expect": {"log_prob": f(lp), "grad": {name: g},
                   "mean": [float(n * p) for p in p_norm],
                   "variance": [float(n * p * (1 - p)) for p in p_norm]}})
# a zero probability with a zero count, and a batch
par = [0.0, 0.3, 0.7]; x = [0.0, 2.0, 3.0]
lp = multinomial_lp(5, par, x)
assert abs(f(lp) - stats.multinomial.logpmf(x, 5, [0.0, 0.3, 0.7])) < 1e-12
cases.append({"kind": "dist", "id": "i14-Multinomial-zero-prob", "dist": "Multinomial",
    "params": {"total_count": 5.0, "probs": par}, "value": x, "reparameterized": False,
    "expect": {"log_prob": f(lp)}})
B, k, n = 3, 4, 9
par = [[float(v) for v in rng.uniform(0.1, 1.0, size=k)] for _ in range(B)]
xs = [composition(n, k) for _ in range(B)]
lps, gs = [], []
for b in range(B):
    lps.append(f(multinomial_lp(n, par[b], xs[b])))
    assert abs(lps[-1] - stats.multinomial.logpmf(xs[b], n, np.array(par[b]) / sum(par[b]))) < 1e-10
    gs.append(grad(lambda q, b=b: multinomial_lp(n, q, xs[b]), par[b]))
cases.append({"kind": "dist", "id": "i14-Multinomial-batch", "dist": "Multinomial",
    "params": {"total_count": float(n), "probs": par}, "value": xs, "reparameterized": False,
    "expect": {"log_prob": lps, "grad": {"probs": gs}}})

# ---- DirichletMultinomial
def dm_lp(n, a, x):
    a = [mp.mpf(v) for v in a]
    a0 = mp.fsum(a)
    lp = mp.loggamma(n + 1) + mp.loggamma(a0) - mp.loggamma(n + a0)
    for xi, ai in zip(x, a):
        lp += mp.loggamma(xi + ai) - mp.loggamma(ai) - mp.loggamma(xi + 1)
    return lp

for c in range(5):
    k = int(rng.integers(2, 6))
    n = int(rng.integers(1, 30))
    scale = [0.3, 1.0, 5.0, 50.0, 3000.0][c]
    a = [float(v) for v in rng.uniform(0.2, 2.0, size=k) * scale]
    x = composition(n, k)
    lp = dm_lp(n, a, x)
    sp = stats.dirichlet_multinomial.logpmf(x, a, n)
    assert abs(f(lp) - sp) < 1e-8 * max(1, abs(sp)), (lp, sp)
    g = grad(lambda q: dm_lp(n, q, x), a)
    a0 = mp.fsum([mp.mpf(v) for v in a])
    mean = [f(n * ai / a0) for ai in a]
    var = [f(n * (ai / a0) * (1 - ai / a0) * (n + a0) / (1 + a0)) for ai in a]
    sv = stats.dirichlet_multinomial.var(a, n)
    assert np.allclose(np.diag(sv) if np.ndim(sv) == 2 else sv, var, rtol=1e-10)
    cases.append({"kind": "dist", "id": f"i14-DirichletMultinomial-{c}",
        "dist": "DirichletMultinomial", "params": {"total_count": float(n), "concentration": a},
        "value": x, "reparameterized": False,
        "expect": {"log_prob": f(lp), "grad": {"concentration": g}, "mean": mean, "variance": var}})

# ---- LKJCholesky
def lkj_lp(K, eta, L):
    eta = mp.mpf(eta)
    lp = mp.mpf(0)
    for i in range(1, K):
        e = K - i - 1 + 2 * eta - 2
        a = e / 2
        lp += e * mp.log(L[i][i])
        lp -= (i / mp.mpf(2)) * mp.log(mp.pi) + mp.loggamma(a + 1) - mp.loggamma(a + 1 + mp.mpf(i) / 2)
    return lp

def random_chol(K):
    A = rng.normal(size=(K, K + 2))
    S = A @ A.T
    d = np.sqrt(np.diag(S))
    C = S / np.outer(d, d)
    L = np.linalg.cholesky(C)
    # exact unit rows: renormalize in extended precision, then round
    rows = []
    for i in range(K):
        r = [mp.mpf(float(v)) for v in L[i][: i + 1]]
        nr = mp.sqrt(mp.fsum([v * v for v in r]))
        rows.append([float(v / nr) for v in r] + [0.0] * (K - i - 1))
    return rows

for c, (K, eta) in enumerate([(2, 0.5), (2, 1.0), (2, 3.7), (3, 0.8), (3, 2.0), (4, 1.3), (5, 25.0), (3, 400.0)]):
    L = random_chol(K)
    lp = lkj_lp(K, eta, [[mp.mpf(v) for v in row] for row in L])
    if K == 2:
        # the same from the density of the correlation r = L21: (1-r^2)^(eta-1)/(2^(2eta-1) B(eta, eta))
        r = mp.mpf(L[1][0])
        alt = (eta - 1) * mp.log(1 - r * r) - (2 * eta - 1) * mp.log(2) - mp.log(mp.beta(eta, eta))
        # (ln L22 = ln(1 - r^2)/2 up to the rounding of L22)
        assert abs(alt - lp) < 1e-12, (alt, lp)
    geta = f(mp.diff(lambda t: lkj_lp(K, t, [[mp.mpf(v) for v in row] for row in L]), mp.mpf(eta)))
    gval = [[0.0] * K for _ in range(K)]
    for i in range(1, K):
        gval[i][i] = f((K - i - 1 + 2 * mp.mpf(eta) - 2) / mp.mpf(L[i][i]))
    cases.append({"kind": "dist", "id": f"i14-LKJCholesky-{c}", "dist": "LKJCholesky",
        "params": {"dim": float(K), "concentration": eta}, "value": L, "reparameterized": False,
        "expect": {"log_prob": f(lp), "grad": {"concentration": geta, "value": gval}}})

doc = {"format": "infer-conformance/1",
       "source": "SciPy " + __import__("scipy").__version__ + " (multinomial, dirichlet_multinomial) and mpmath "
                 + mp.__version__ + " at 50 digits (gradients by numerical differentiation; LKJCholesky from the "
                 "closed-form normalizer as a product of ball integrals, PyTorch not available); generator: "
                 "tests/data/conformance/families14.py",
       "cases": cases}
json.dump(doc, open(sys.argv[1], "w"), indent=1)
print(len(cases), "cases")
