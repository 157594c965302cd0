//! The binomial distribution.

use crate::elementwise::prelude::*;
use infer_ad::scalar::lgamma;
use rand::Rng;

family! {
    /// The binomial distribution: successes in n = `total_count` trials with probability p:
    ///
    /// ln P(k) = ln C(n, k) + k ln p + (n − k) ln(1 − p), k ∈ {0, …, n}; −∞ elsewhere.
    ///
    /// Entropy −Σₖ P(k) ln P(k) (summed over the support, as PyTorch); mean np; variance
    /// np(1 − p). `total_count` is a count: no gradient flows to it. Not reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Binomial, Distribution};
    /// let tape = Tape::new();
    /// let d = Binomial::new(tape.constant(&ndarray::arr0(2.0)), tape.var(0.5))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(1.0)))?;
    /// assert!((lp.to_vec()[0] - 0.5f64.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Binomial`.
    pub struct Binomial / BinomialK {
        /// A binomial distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a `total_count` that is not a finite non-negative
        /// integer or a probability outside [0, 1]; [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Binomial::new(tape.var(2.5), tape.var(0.5)).is_err());
        /// ```
        new(total_count: Check::COUNT, probs: Check::PROB),
        support: |k| {
            let high = k.total_count.to_vec().into_iter().fold(0.0, f64::max);
            Constraint::IntegerInterval { low: 0.0, high }
        },
    }
}

impl Check {
    /// A count of trials: a non-negative integer below 9e15 (where f64 still holds every integer
    /// and the sampler's u64 the count).
    const COUNT: Check = Check {
        ok: |n| n >= 0.0 && n.is_finite() && n.fract() == 0.0 && n < 9.0e15,
        reason: "must be a non-negative integer",
    };
}

impl<'t> Elementwise<'t> for BinomialK<'t> {
    fn density([k, n, p]: [f64; 3]) -> (f64, [f64; 3]) {
        if !(k >= 0.0 && k <= n && k.fract() == 0.0) {
            return if k.is_nan() {
                (f64::NAN, [0.0; 3])
            } else {
                util::neg_inf()
            };
        }
        let dp =
            (if k == 0.0 { 0.0 } else { k / p }) - (if k == n { 0.0 } else { (n - k) / (1.0 - p) });
        (ln_pmf(k, n, p), [0.0, 0.0, dp])
    }

    fn draw([_, n, p]: [f64; 3], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        let d = rand_distr::Binomial::new(n as u64, p).map_err(|_| DistError::Sampling {
            dist: NAME,
            reason: "rand_distr rejected the parameters",
        })?;
        Ok(rng.sample(d) as f64)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[n, p]| {
            let (h, dh) = entropy(n, p);
            (h, [0.0, dh])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[n, p]| {
            (n * p, [0.0, n])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[n, p]| {
            (n * p * (1.0 - p), [0.0, n * (1.0 - 2.0 * p)])
        })
    }
}

/// Stirling's error δ(x) = ln x! − (x ln x − x + ½ ln(2πx)), for x ≥ 1: directly for
/// x ≤ 15 (|error| ≲ 1e-14 there), by its asymptotic series beyond (truncation < 2e-16).
pub(crate) fn stirlerr(x: f64) -> f64 {
    if x <= 15.0 {
        lgamma(x + 1.0) - x * x.ln() + x - 0.5 * (2.0 * std::f64::consts::PI * x).ln()
    } else {
        let r = 1.0 / x;
        let r2 = r * r;
        r * (1.0 / 12.0
            - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
    }
}

/// The deviance term x ln(x/m) + m − x ≥ 0, given d = x − m computed accurately by the caller
/// (Loader 2000): for |d| < 0.1 (x + m) by the series 2x Σ v^{2j+1}/(2j + 1) − d,
/// v = d/(x + m), which has no cancellation.
pub(crate) fn bd0(x: f64, m: f64, d: f64) -> f64 {
    if m <= 0.0 {
        // a rate or mean of 0 (also −0): no mass away from x = 0
        return if x == 0.0 { 0.0 } else { f64::INFINITY };
    }
    if x == 0.0 {
        return m;
    }
    // (x + m)/2 by halves: x + m overflows for x, m ~ 1e308
    let half = 0.5 * x + 0.5 * m;
    if d.abs() < 0.2 * half {
        let v = 0.5 * d / half;
        let v2 = v * v;
        let mut s = d * v;
        let mut ej = 2.0 * (x * v);
        for j in 1..200 {
            ej *= v2;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        s
    } else {
        x * (x.ln() - m.ln()) - d
    }
}

/// ln P(K = k) for K ~ Binomial(n, p), accurate for every n < 9e15: Loader's saddle-point
/// form ln f = δ(n) − δ(k) − δ(n − k) − bd0(k, np) − bd0(n − k, nq) − ½ ln(2πk(n − k)/n).
/// The textbook ln Γ(n + 1) − ln Γ(k + 1) − ln Γ(n − k + 1) + k ln p + (n − k) ln q adds
/// terms of size n ln n that cancel, and loses ~n·1e-16 in absolute terms (units at
/// n = 1e16).
pub(crate) fn ln_pmf(k: f64, n: f64, p: f64) -> f64 {
    let q = 1.0 - p;
    if k == 0.0 {
        // n = 0: the point mass at 0 (0 · ln 0 would be NaN at p = 1)
        return if n == 0.0 { 0.0 } else { n * (-p).ln_1p() };
    }
    if k == n {
        return n * p.ln();
    }
    let np = n * p;
    let nq = n * q;
    // k − np and (n − k) − nq = np − k, both from np (nq = n − np rounds for a tiny p)
    let d = k - np;
    stirlerr(n)
        - stirlerr(k)
        - stirlerr(n - k)
        - bd0(k, np, d)
        - bd0(n - k, nq, -d)
        - 0.5 * ((2.0 * std::f64::consts::PI).ln() + k.ln() + ((n - k) / n).ln())
}

/// Above this variance n·p·q, the entropy is its asymptotic series.
const ENTROPY_SERIES: f64 = 1e5;

/// The entropy and its p-derivative, with work bounded for every n.
///
/// For v = npq ≥ 1e5, the asymptotic series (r = pq)
/// H = ½ ln(2πe v) − (1 − 4r)/(12v) + (−1/24 + r/6 − r²/12)/v² + O(v⁻³):
/// the first correction is the skewness term −γ₁²/12 of the Edgeworth expansion, the second
/// was identified against direct summation in 50-digit arithmetic and reduces to the
/// Poisson's −1/(24λ²) as p → 0; the remainder, ≈ c/v³ with |c| < 0.06 in those checks, is
/// below 1e-16 here.
///
/// Otherwise the sum −Σ f ln f over k within np ± (40√v + 60): by Bernstein's inequality the
/// mass outside is below e^{−50}, and its share of the entropy below 1e-18; at most
/// 80√v + 121 < 25,500 terms.
fn entropy(n: f64, p: f64) -> (f64, f64) {
    let q = 1.0 - p;
    let r = p * q;
    let v = n * r;
    if v >= ENTROPY_SERIES {
        let h = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * v).ln()
            - (1.0 - 4.0 * r) / (12.0 * v)
            + (-1.0 / 24.0 + r / 6.0 - r * r / 12.0) / (v * v);
        let dr = 0.5 / r + 1.0 / (12.0 * v * r) + (1.0 / 12.0 - r / 6.0) / (v * v * r);
        return (h, dr * (1.0 - 2.0 * p));
    }
    let w = 40.0 * v.sqrt() + 60.0;
    let mu = n * p;
    let lo = (mu - w).floor().max(0.0);
    let hi = (mu + w).ceil().min(n);
    let (mut h, mut dh) = (0.0, 0.0);
    let mut k = lo;
    while k <= hi {
        let lp = ln_pmf(k, n, p);
        let f = lp.exp();
        if f > 0.0 {
            h -= f * lp;
            // d(−f ln f)/dp = −(ln f + 1) f ∂ln f/∂p, and Σ f ∂ln f/∂p = 0; f ∂ln f/∂p =
            // k f/p − (n − k) f/q taken in logs (f/p is 0·∞ when p is subnormal)
            let up = if k == 0.0 {
                0.0
            } else {
                k * (lp - p.ln()).exp()
            };
            let down = if k == n {
                0.0
            } else {
                (n - k) * (lp - (-p).ln_1p()).exp()
            };
            dh -= lp * (up - down);
        }
        k += 1.0;
    }
    (h, dh)
}

