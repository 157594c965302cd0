//! The links of the GLM kernel: the family-specific part of a block (residuals and the terms
//! of the value) for Bernoulli–logit, Poisson–log and Normal–identity.

use super::L;
use infer_ad::fastmath::{exp_normal, mad};

/// The kernel's running sums: lanes of the link's value part (for the logit link the
/// log-likelihood's linear part y·η − max(η, 0)) and of the residuals, and the sum of the
/// logarithms (logit link only).
pub(crate) struct Sums {
    /// Lanes of the value's linear part.
    pub(crate) lin: [f64; L],
    /// Lanes of the residuals.
    pub(crate) ga: [f64; L],
    /// The sum of the logarithms.
    pub(crate) logs: f64,
}

/// Calls `f(i, l)` for the rows `i` of a block of `m` rows in order, row i into lane
/// l = i mod [`L`]: whole groups of [`L`] rows (a fixed-length inner loop over the lanes,
/// which the compiler keeps in vector registers), then the remaining rows.
#[inline(always)]
pub(crate) fn by_lanes(m: usize, mut f: impl FnMut(usize, usize)) {
    let full = m - m % L;
    for i0 in (0..full).step_by(L) {
        for l in 0..L {
            f(i0 + l, l);
        }
    }
    for i in full..m {
        f(i, i - full);
    }
}

/// The family-specific part of the GLM kernel, per block of `m` = `eta.len()` rows: from the
/// linear predictors `eta` and outcomes `ys`, the residuals `res` (∂ log p/∂η), whose
/// products with the design's columns give the gradient, and the terms of the value, added
/// into `acc`, row i of the block into lane i mod [`L`]. `ope` is scratch.
pub(crate) trait Link {
    /// See the trait.
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    );
}

/// Bernoulli with the logit link: e = e^(−|η|) by [`exp_normal`], σ(η) = 1/(1 + e) or
/// e/(1 + e), residual y − σ(η), and the log-likelihood y·η − max(η, 0) − ln(1 + e), whose
/// logarithm is taken once per block as the log of the product of the (1 + e) ∈ (1, 2] (at
/// most 2⁶⁴, no overflow).
pub(crate) struct Logit;

impl Link for Logit {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res, ope) = (&ys[..m], &mut res[..m], &mut ope[..m]);
        for i in 0..m {
            let h = eta[i];
            let e = exp_normal::<FUSED>(-h.abs());
            let one_e = 1.0 + e;
            let inv = 1.0 / one_e;
            let sigma = if h >= 0.0 { inv } else { e * inv };
            res[i] = ys[i] - sigma;
            ope[i] = one_e;
        }
        let mut prod = [1.0f64; L];
        by_lanes(m, |i, l| {
            let h = eta[i];
            acc.lin[l] += ys[i] * h - if h > 0.0 { h } else { 0.0 };
            prod[l] *= ope[i];
            acc.ga[l] += res[i];
        });
        acc.logs += (((prod[0] * prod[1]) * (prod[2] * prod[3]))
            * ((prod[4] * prod[5]) * (prod[6] * prod[7])))
            .ln();
    }
}

/// Poisson with the log link: μ = e^η by [`exp_normal`] (∞ above η = 709, where e^η
/// overflows), residual y − μ, and the log-likelihood's parameter-dependent part y·η − μ
/// (the −ln(y!) terms are constant in the parameters and added by the caller).
pub(crate) struct LogLink;

impl Link for LogLink {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res, ope) = (&ys[..m], &mut res[..m], &mut ope[..m]);
        for i in 0..m {
            let h = eta[i];
            let e = exp_normal::<FUSED>(h);
            let mu = if h > 709.0 { f64::INFINITY } else { e };
            res[i] = ys[i] - mu;
            ope[i] = mu;
        }
        by_lanes(m, |i, l| {
            acc.lin[l] += mad::<FUSED>(ys[i], eta[i], -ope[i]);
            acc.ga[l] += res[i];
        });
    }
}

/// Normal with the identity link: residual y − η (the caller divides by σ²) and the sum of
/// squared residuals.
pub(crate) struct Identity;

impl Link for Identity {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        _ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res) = (&ys[..m], &mut res[..m]);
        for i in 0..m {
            res[i] = ys[i] - eta[i];
        }
        by_lanes(m, |i, l| {
            let r = res[i];
            acc.lin[l] = mad::<FUSED>(r, r, acc.lin[l]);
            acc.ga[l] += r;
        });
    }
}
