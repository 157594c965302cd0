//! The fast path of the plain spelling of logistic regression,
//! `Bernoulli::from_logits(tape.data_matvec(&x, beta)? + alpha)?.log_prob_sum(y)`: when the
//! logits are an affine data product (see [`infer_ad::Tape::data_affine_source`]), the
//! likelihood records its gradient with respect to β and α directly — Xᵀ(y − σ(η)) and
//! Σ (yᵢ − σ(ηᵢ)), formed in its forward pass by the GLM kernel's logit link — instead of
//! one partial per observation followed by the product's backward pass.

use super::{L, Link, Logit, STACK_COEFS, Sums, sum_lanes};
use infer_ad::fastmath::mad;
use infer_ad::{Tensor, Var};

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
pub(crate) fn logit_affine_sum<'t>(t: Tensor<'t>, y: Tensor<'t>) -> Option<Var<'t>> {
    if y.shape() != t.shape() || !std::ptr::eq(y.tape(), t.tape()) {
        return None;
    }
    let tape = t.tape();
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

/// [`kernel`] in the best instance the CPU runs (as the GLM kernel: AVX-512 or AVX2 with
/// FMA, else the baseline build).
fn dispatch(t: Tensor<'_>, y: Tensor<'_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
    infer_ad::with_target_features!(
        ["avx512f", "avx2", "fma"],
        kernel_avx512(t: Tensor<'_>, y: Tensor<'_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
            kernel::<true>(t, y, data, g)
        }
    );
    infer_ad::with_target_features!(
        ["avx2", "fma"],
        kernel_avx2(t: Tensor<'_>, y: Tensor<'_>, data: &[f64], g: &mut [f64]) -> Option<(f64, f64)> {
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
    y: Tensor<'_>,
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
