//! Helpers shared by the integration tests: arrays, the gradient checker's configuration,
//! weighted sums (so that every output's adjoint differs), tolerances and reference formulas.

use infer_ad::gradcheck::GradCheckConfig;
use infer_ad::{Tape, Tensor, Var};
use ndarray::{ArrayD, IxDyn};

/// The gradient checker's default configuration.
pub fn cfg() -> GradCheckConfig {
    GradCheckConfig::default()
}

/// A row-major array of shape `dims` holding `v`.
pub fn arr(dims: &[usize], v: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(dims), v.to_vec()).unwrap()
}

/// A fixed pseudo-random weight per element (so that every output's adjoint differs).
pub fn weight(i: usize) -> f64 {
    0.3 + ((i * 7919) % 13) as f64 / 10.0
}

/// Σ wᵢ tᵢ with the weights wᵢ = `w(i)` as a constant.
pub fn weigh_by<'t>(tape: &'t Tape, t: Tensor<'t>, w: impl Fn(usize) -> f64) -> Var<'t> {
    let w: Vec<f64> = (0..t.numel()).map(w).collect();
    (t * tape.constant(&arr(t.dims(), &w))).sum()
}

/// Σ wᵢ tᵢ with the weights of [`weight`].
pub fn weigh<'t>(tape: &'t Tape, t: Tensor<'t>) -> Var<'t> {
    weigh_by(tape, t, weight)
}

/// `a` within `tol` of `b`, relative to 1 + |b|.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// ln(θ e^a + (1 − θ) e^b) unshifted: exact enough for |a|, |b| ≤ 30.
pub fn naive_mix(th: f64, a: f64, b: f64) -> f64 {
    (th * a.exp() + (1.0 - th) * b.exp()).ln()
}
