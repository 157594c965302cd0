//! Run-time selection of a kernel instance compiled for wider vector instructions.

/// Defines `$name` — `$body` compiled with the target features `$feature`… enabled — and, if
/// the CPU has all of them, calls it and **returns its result from the enclosing function**;
/// otherwise does nothing, and the caller's next statement (typically the same body,
/// compiled for the baseline) runs. Functions that `$body` calls must be
/// `#[inline(always)]` to be compiled with the features too.
///
/// Whether the instances agree bit for bit is up to the body: without `f64::mul_add` (Rust
/// never contracts `a * b + c`) every instance performs the same operations in the same
/// order; with it, instances agree wherever the multiply–add is fused in all of them.
///
/// Used by infer-ad's matrix–vector kernels and infer-dist's GLM kernel; not part of the
/// supported API.
///
/// # Examples
/// ```
/// fn sum(x: &[f64]) -> f64 {
///     infer_ad::with_target_features!(["avx2"], sum_avx2(x: &[f64]) -> f64 {
///         x.iter().sum()
///     });
///     x.iter().sum()
/// }
/// assert_eq!(sum(&[1.0, 2.0]), 3.0);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! with_target_features {
    ([$($feature:tt),+], $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        #[cfg(target_arch = "x86_64")]
        {
            if $(::std::arch::is_x86_feature_detected!($feature))&&+ {
                $(#[target_feature(enable = $feature)])+
                fn $name($($arg: $ty),*) -> $ret $body
                // SAFETY: the only requirement of the function is a CPU with the features it
                // is compiled for, all checked on the line above.
                #[allow(unsafe_code)]
                return unsafe { $name($($arg),*) };
            }
        }
    };
}
