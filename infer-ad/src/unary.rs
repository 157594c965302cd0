//! The elementwise unary functions of [`Var`] and [`Tensor`], listed once. Each entry names
//! the method and its `(value, derivative)` function in [`crate::scalar`]; `unary_ops!`
//! generates from it the `Var` method (one scalar record, [`Var::map_with_derivative`]'s
//! path) and the `Tensor` method (one elementwise node, [`Tensor::map_with_derivative`]'s
//! path). To add a function: write its `d_` pair in `scalar.rs` and add one entry here.

use crate::scalar as s;
use crate::tensor::Tensor;
use crate::var::Var;

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident => $d:path;)*) => {
        impl<'t> Var<'t> {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $name(self) -> Var<'t> {
                    self.unary($d)
                }
            )*
        }

        impl<'t> Tensor<'t> {
            $(
                $(#[$doc])*
                ///
                /// Elementwise on a tensor (one node).
                pub fn $name(self) -> Tensor<'t> {
                    self.map_internal($d)
                }
            )*
        }
    };
}

unary_ops! {
    /// eˣ.
    exp => s::d_exp;
    /// Natural logarithm (NaN below 0, −∞ at 0).
    ln => s::d_ln;
    /// ln(1 + x), accurate near 0.
    ln_1p => s::d_ln_1p;
    /// eˣ − 1, accurate near 0.
    exp_m1 => s::d_exp_m1;
    /// Square root.
    sqrt => s::d_sqrt;
    /// Sine.
    sin => s::d_sin;
    /// Cosine.
    cos => s::d_cos;
    /// Hyperbolic tangent.
    tanh => s::d_tanh;
    /// Logistic sigmoid, stable for large |x|.
    sigmoid => s::d_sigmoid;
    /// ln(1 + eˣ), stable for large |x|.
    softplus => s::d_softplus;
    /// ln σ(x) = −softplus(−x).
    log_sigmoid => s::d_log_sigmoid;
    /// |x|; the derivative at 0 is taken as 0.
    abs => s::d_abs;
    /// 1/x.
    recip => s::d_recip;
    /// x².
    square => s::d_square;
    /// ln Γ(x); derivative digamma.
    lgamma => s::d_lgamma;
    /// Digamma ψ(x); derivative trigamma (see [`crate::scalar::digamma`]).
    digamma => s::d_digamma;
    /// Error function.
    erf => s::d_erf;
    /// Complementary error function.
    erfc => s::d_erfc;
    /// ln Φ(x), accurate far in the lower tail (see [`crate::scalar::log_normal_cdf`]).
    log_normal_cdf => s::d_log_normal_cdf;
}
