//! Property tests of `infer_ad::fastmath` against the platform's libm and against identities
//! that do not depend on either implementation.

use infer_ad::fastmath::{exp, ln_1p, softplus_and_sigmoid};
use infer_ad::scalar::{log_sigmoid, sigmoid, softplus};
use proptest::prelude::*;

/// Distance in units in the last place (±0 equal, NaN only equal to NaN).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    let key = |v: f64| {
        let i = v.to_bits() as i64;
        if i < 0 { i64::MIN - i } else { i }
    };
    key(a).abs_diff(key(b))
}

/// Any bit pattern: every finite value, subnormals, ±0, ±∞ and NaNs.
fn any_f64() -> impl Strategy<Value = f64> {
    any::<u64>().prop_map(f64::from_bits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn exp_within_one_ulp_over_its_range(x in -750.0f64..715.0) {
        prop_assert!(ulps(exp(x), x.exp()) <= 1, "x = {x:e}: {} vs {}", exp(x), x.exp());
    }

    #[test]
    fn exp_any_bit_pattern(x in any_f64()) {
        prop_assert!(ulps(exp(x), x.exp()) <= 1, "x = {x:e}");
    }

    #[test]
    fn ln_1p_within_one_ulp_log_uniform(e in -320.0f64..308.0, neg in any::<bool>()) {
        let a = 10f64.powf(e);
        // Negative arguments in (−1, 0): both −a (a < 1) and −1 + a.
        let xs = if neg { [-a.min(0.999_999), -1.0 + a.min(0.5)] } else { [a, a] };
        for x in xs {
            prop_assert!(ulps(ln_1p(x), x.ln_1p()) <= 1, "x = {x:e}");
        }
    }

    #[test]
    fn ln_1p_any_bit_pattern(x in any_f64()) {
        prop_assert!(ulps(ln_1p(x), x.ln_1p()) <= 1, "x = {x:e}");
    }

    #[test]
    fn ln_1p_inverts_exp_m1(x in -2.0f64..30.0) {
        // ln(1 + (eˣ − 1)) = x, with eˣ − 1 from libm: a check independent of libm's ln_1p
        // (below −2 the rounding of eˣ − 1 near −1 dominates, so the range stops there).
        let y = x.exp_m1();
        prop_assert!((ln_1p(y) - x).abs() <= 4.0 * f64::EPSILON * x.abs(), "x = {x:e}");
    }

    #[test]
    fn logistic_helpers_match_libm_formulas(x in -800.0f64..800.0) {
        let (sp, s) = softplus_and_sigmoid(x);
        let t = (-x.abs()).exp();
        let sp_ref = x.max(0.0) + t.ln_1p();
        let s_ref = if x >= 0.0 { 1.0 / (1.0 + t) } else { t / (1.0 + t) };
        prop_assert!(ulps(sp, sp_ref) <= 2, "softplus({x:e}) = {sp:e} vs {sp_ref:e}");
        prop_assert!(ulps(s, s_ref) <= 2, "sigmoid({x:e}) = {s:e} vs {s_ref:e}");
        prop_assert_eq!(softplus(x), sp);
        prop_assert_eq!(sigmoid(x), s);
    }

    #[test]
    fn logistic_identities(x in -700.0f64..700.0) {
        // softplus(x) − softplus(−x) = x; σ(x) + σ(−x) = 1; ln σ(x) = −softplus(−x).
        let (a, sa) = softplus_and_sigmoid(x);
        let (b, sb) = softplus_and_sigmoid(-x);
        prop_assert!((a - b - x).abs() <= 4.0 * f64::EPSILON * a.max(b).max(1.0));
        prop_assert!((sa + sb - 1.0).abs() <= 2.0 * f64::EPSILON);
        prop_assert!((0.0..=1.0).contains(&sa) && a >= 0.0);
        prop_assert_eq!(log_sigmoid(x), -b);
    }
}
