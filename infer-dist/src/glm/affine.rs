//! The fast path of the plain spelling of logistic regression,
//! `Bernoulli::from_logits(tape.data_matvec(&x, beta)? + alpha)?.log_prob_sum(y)`: when the
//! logits are an affine data product (see [`infer_ad::Tape::data_affine_source`]), the
//! likelihood records its gradient with respect to β and α directly — Xᵀ(y − σ(η)) and
//! Σ (yᵢ − σ(ηᵢ)), formed in its forward pass by the GLM kernel's logit link — instead of
//! one partial per observation followed by the product's backward pass.
//!
//! While the product's values are still deferred (nothing has read them; see
//! [`infer_ad::Tape::deferred_affine`]) the likelihood does not read η at all: the fused GLM
//! kernel evaluates `α + X·β` on a blocked copy of the data kept between evaluations
//! (`cache`), exactly as [`crate::BernoulliLogitGlm`] does, and the product is never computed
//! on the tape. `cargo bench -p infer-dist --bench glm` (logreg data, N = 1000, K = 25): the
//! plain spelling 6.2–6.5 µs per gradient against the GLM node's 4.5 µs (1.37–1.44×; 2.8–3.0×
//! before, when the product was computed when recorded).

use super::{L, Link, LinkKind, Logit, STACK_COEFS, Sums, glm_eval, sum_lanes, with_coefficients};
use infer_ad::fastmath::mad;
use infer_ad::{Operand, Tensor, Var};

/// Observations per block: η, y and the residuals of a block live on the stack.
const BLOCK: usize = 64;

/// Σᵢ log Bernoulli(yᵢ | logit = tᵢ) when the tape recorded `t` as `data · β (+ c·α)`, as one
/// scalar with gradients to β (and α); `None` when `t` is not such a product, `y` is not a
/// vector of `t`'s shape on its tape, or an outcome is not 0 or 1 (the elementwise path then
/// gives the log mass −∞ or NaN that `Bernoulli` defines for those).
///
/// Exactly the elementwise path's function and gradient (up to rounding): the value
/// Σ yᵢηᵢ − max(ηᵢ, 0) − ln(1 + e^(−|ηᵢ|)) = Σ −softplus(∓ηᵢ) is read from the η already on
/// the tape, and the chain rule through the product and the offset is applied here rather
/// than in the backward pass. The nodes of `t` stay on the tape: when `t` is also used
/// elsewhere, its adjoint from there still reaches β and α through them.
pub(crate) fn logit_affine_sum<'t>(t: Tensor<'t>, y: Operand<'_, 't>) -> Option<Var<'t>> {
    if y.shape() != t.shape() || y.tape().is_some_and(|yt| !std::ptr::eq(yt, t.tape())) {
        return None;
    }
    let tape = t.tape();
    if let Some(lp) = deferred(t, y) {
        return Some(lp);
    }
    let src = tape.data_affine_source(t)?;
    let data = src.data.as_slice()?;
    let k = src.data.ncols();
    let mut stack = [0.0f64; STACK_COEFS];
    let mut heap = Vec::new();
    let g: &mut [f64] = if k <= STACK_COEFS {
        &mut stack[..k]
    } else {
        heap.resize(k, 0.0);
        &mut heap
    };
    let (lp, ga) = dispatch(t, y, data, g)?;
    let ga = [ga * src.offset.map_or(0.0, |(_, c)| c)];
    let lp = match src.offset {
        Some((a, _)) => tape.scalar_with_gradients(lp, &[(src.x, &*g), (a, &ga)]),
        None => tape.scalar_with_gradients(lp, &[(src.x, &*g)]),
    };
    lp.ok()
}

/// [`logit_affine_sum`] while `t`'s values are still deferred (nothing has read the product
/// yet; see [`infer_ad::Tape::deferred_affine`]): the fused GLM kernel evaluates
/// `α + X·β` itself, on the blocked copy of the data ([`super::cache`]), in the one pass that
/// also forms the value and the gradient — the product is never computed on the tape (unless
/// something reads it later). `None` when the recipe does not apply (the caller then takes
/// the path that reads `t`), when an outcome is not 0 or 1, or when the value or a gradient
/// is not finite (a non-finite logit, which that path reports as `Bernoulli` defines).
fn deferred<'t>(t: Tensor<'t>, y: Operand<'_, 't>) -> Option<Var<'t>> {
    let tape = t.tape();
    let src = tape.deferred_affine(t)?;
    let cached = super::cache::cached(&src.data)?;
    let xb = &cached.blocked;
    let k = src.data.ncols();
    let (alpha, sign) = src
        .offset
        .map_or((0.0, 0.0), |(s, c)| (c * s.with_values(|v| v[0]), c));
    with_coefficients(src.x, k, |b, g| {
        // the outcomes read in place (`f` computes only)
        let (lp, ga) = y.with_values(|ys| {
            if ys
                .iter()
                .fold(false, |bad, &v| bad | (v * (1.0 - v) != 0.0))
            {
                return None;
            }
            Some(glm_eval(xb.data(), ys, alpha, b, g, LinkKind::Logit))
        })?;
        if !lp.is_finite() || !ga.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let ga = [ga * sign];
        let lp = match src.offset {
            Some((s, _)) if s.is_tracked() => {
                tape.scalar_with_gradients(lp, &[(src.x, &*g), (s, &ga)])
            }
            _ => tape.scalar_with_gradients(lp, &[(src.x, &*g)]),
        };
        lp.ok()
    })
}

/// Whether every value of the deferred product `t` is provably finite without computing it
/// (see [`infer_ad::Tape::deferred_affine`]): |α + xᵢ·β| ≤ maxᵢ Σⱼ |xᵢⱼ| · maxⱼ |βⱼ| + |α|,
/// and a bound below half of `f64::MAX` leaves room for the rounding of the sums. `false`
/// when `t` is not deferred or the bound is not small enough: the caller then checks the
/// values themselves (which computes them).
pub(crate) fn deferred_logits_finite(t: Tensor<'_>) -> bool {
    let Some(src) = t.tape().deferred_affine(t) else {
        return false;
    };
    let Some(cached) = super::cache::cached(&src.data) else {
        return false;
    };
    // each read once, in place; a non-finite β or α makes the bound ∞ or NaN, which fails
    let alpha = src.offset.map_or(0.0, |(s, _)| s.with_values(|v| v[0]));
    let beta_max = src.x.with_values(|b| {
        b.iter().fold(0.0f64, |m, v| {
            if v.is_finite() {
                m.max(v.abs())
            } else {
                f64::INFINITY
            }
        })
    });
    cached.row_abs_max * beta_max + alpha.abs() < 0.5 * f64::MAX
}

/// [`kernel`] in the best instance the CPU runs (as the GLM kernel: AVX-512 or AVX2 with
/// FMA, else the baseline build).
fn dispatch(t: Tensor<'_>, y: Operand<'_, '_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
    infer_ad::with_target_features!(
        ["avx512f", "avx2", "fma"],
        kernel_avx512(t: Tensor<'_>, y: Operand<'_, '_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
            kernel::<true>(t, y, data, g)
        }
    );
    infer_ad::with_target_features!(
        ["avx2", "fma"],
        kernel_avx2(t: Tensor<'_>, y: Operand<'_, '_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
            kernel::<true>(t, y, data, g)
        }
    );
    kernel::<{ super::FMA_BASELINE }>(t, y, data, g)
}

/// The log likelihood and Σ r, with `g` = Xᵀr, r = y − σ(η), for the logits `t` (η, already
/// on the tape) and outcomes `y`, a block of [`BLOCK`] observations at a time: η and y read
/// into stack buffers, the residuals and value terms by the GLM kernel's [`Logit`] link, and
/// the rows of the block (row-major `data`, `g.len()` columns) added into `g` weighted by
/// their residuals, four rows per pass over `g`.
#[inline(always)]
fn kernel<const FUSED: bool>(
    t: Tensor<'_>,
    y: Operand<'_, '_>,
    data: &[f64],
    g: &mut [f64],
) -> Option<(f64, f64)> {
    let (n, k) = (t.numel(), g.len());
    g.fill(0.0);
    let mut acc = Sums {
        lin: [0.0; L],
        ga: [0.0; L],
        logs: 0.0,
    };
    let (mut eta, mut ys, mut res, mut ope) =
        ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let mut r0 = 0;
    while r0 < n {
        let m = BLOCK.min(n - r0);
        let (eta, ys, res) = (&mut eta[..m], &mut ys[..m], &mut res[..m]);
        t.value_range_into(r0, eta);
        y.value_range_into(r0, ys);
        // branch-free, so that the check vectorizes: y(1 − y) is 0 exactly for y ∈ {0, 1}
        // (NaN for NaN, non-zero for anything else)
        if ys
            .iter()
            .fold(false, |bad, &v| bad | (v * (1.0 - v) != 0.0))
        {
            return None;
        }
        Logit::link::<FUSED>(eta, ys, res, &mut ope[..m], &mut acc);
        let rows = &data[r0 * k..(r0 + m) * k];
        let mut quads = rows.chunks_exact(4 * k);
        for (quad, r) in (&mut quads).zip(res.chunks_exact(4)) {
            let (x0, rest) = quad.split_at(k);
            let (x1, rest) = rest.split_at(k);
            let (x2, x3) = rest.split_at(k);
            let it = g.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3);
            for ((((gj, &a0), &a1), &a2), &a3) in it {
                let mut v = *gj;
                v = mad::<FUSED>(r[0], a0, v);
                v = mad::<FUSED>(r[1], a1, v);
                v = mad::<FUSED>(r[2], a2, v);
                v = mad::<FUSED>(r[3], a3, v);
                *gj = v;
            }
        }
        let tail = m - m % 4;
        for (row, &ri) in quads.remainder().chunks_exact(k).zip(&res[tail..]) {
            for (gj, &a) in g.iter_mut().zip(row) {
                *gj = mad::<FUSED>(ri, a, *gj);
            }
        }
        r0 += m;
    }
    Some((sum_lanes(&acc.lin) - acc.logs, sum_lanes(&acc.ga)))
}
