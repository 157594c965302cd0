//! Unit tests of the fast math functions against std over dense grids and edge cases.

use super::*;

/// Distance in units in the last place, counting across zero (±0 are equal).
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

/// The largest distance in ulps seen so far and the argument where it was seen.
#[derive(Debug, Default)]
struct Worst(u64, f64);

impl Worst {
    /// Records `got` against `want` at the argument `x`.
    fn see(&mut self, got: f64, want: f64, x: f64) {
        let d = ulps(got, want);
        if d > self.0 {
            *self = Worst(d, x);
        }
    }
}

#[test]
fn ulps_counts_neighbours() {
    assert_eq!(ulps(1.0, 1.0 + f64::EPSILON), 1);
    assert_eq!(ulps(0.0, -0.0), 0);
    assert_eq!(ulps(f64::from_bits(1), -f64::from_bits(1)), 2);
    assert_eq!(ulps(f64::MAX, f64::INFINITY), 1);
}

#[test]
fn exp_special_values() {
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    assert_eq!(exp(f64::NEG_INFINITY).to_bits(), 0);
    assert!(exp(f64::NAN).is_nan());
    assert_eq!(exp(709.79), f64::INFINITY);
    assert_eq!(exp(1e300), f64::INFINITY);
    assert_eq!(exp(-745.2).to_bits(), 0);
    assert_eq!(exp(-1e300).to_bits(), 0);
    // Largest finite and smallest positive results agree with std to the bit.
    let top = 709.782_712_893_383_9;
    assert_eq!(exp(top), top.exp());
    assert!(exp(top).is_finite());
    assert_eq!(exp(-745.13), (-745.13f64).exp());
    assert_eq!(exp(-745.13).to_bits(), 1);
    // Tiny arguments: e^x rounds to 1 (or 1 − ulp/2 below).
    assert_eq!(exp(1e-300), 1.0);
    assert_eq!(exp(-1e-300), 1.0);
}

#[test]
fn exp_within_one_ulp_of_std_on_a_dense_grid() {
    let mut worst = Worst::default();
    // Step incommensurate with ln 2 so that reduced arguments cover [−ln2/2, ln2/2].
    let step = 7.3e-4;
    let mut x = -746.0;
    while x < 710.0 {
        worst.see(exp(x), x.exp(), x);
        x += step;
    }
    // Reduction boundaries: x = (k ± ½) ln 2 and near the integers k ln 2.
    for k in -1075..=1025 {
        for off in [-0.5, 0.5, 0.0] {
            let c = (f64::from(k) + off) * std::f64::consts::LN_2;
            for x in [c.next_down(), c, c.next_up()] {
                worst.see(exp(x), x.exp(), x);
            }
        }
    }
    assert!(worst.0 <= 1, "{} ulp at x = {:e}", worst.0, worst.1);
}

#[test]
fn exp_normal_within_one_ulp_of_std_in_both_modes() {
    let mut worst = [Worst::default(), Worst::default()];
    let mut check = |x: f64| {
        let e = x.clamp(-708.0, 709.0).exp();
        for (w, v) in worst
            .iter_mut()
            .zip([exp_normal::<false>(x), exp_normal::<true>(x)])
        {
            w.see(v, e, x);
        }
    };
    let mut x = -720.0;
    while x < 720.0 {
        check(x);
        x += 7.3e-4;
    }
    for k in -1022..=1023 {
        for off in [-0.5, 0.5, 0.0] {
            let c = (f64::from(k) + off) * std::f64::consts::LN_2;
            for x in [c.next_down(), c, c.next_up()] {
                check(x);
            }
        }
    }
    let mut x = 1e-30;
    while x < 1.0 {
        check(x);
        check(-x);
        x *= 1.01;
    }
    assert!(worst[0].0 <= 1 && worst[1].0 <= 1, "{worst:?}");
    // Unfused, it is `exp` bit for bit on the normal range.
    for x in [-707.9, -3.25, -1e-9, 0.0, 2.5, 708.5] {
        assert_eq!(
            exp_normal::<false>(x).to_bits(),
            exp(x).to_bits(),
            "x = {x}"
        );
    }
    assert!(exp_normal::<true>(f64::NAN).is_nan() && exp_normal::<false>(f64::NAN).is_nan());
    assert_eq!(
        exp_normal::<true>(f64::NEG_INFINITY),
        exp_normal::<true>(-708.0)
    );
    assert_eq!(exp_normal::<true>(f64::INFINITY), exp_normal::<true>(709.0));
}

#[test]
fn exp_small_arguments() {
    let mut x = 1e-30;
    while x < 1.0 {
        for v in [x, -x] {
            assert!(ulps(exp(v), v.exp()) <= 1, "x = {v:e}");
        }
        x *= 1.01;
    }
}

#[test]
fn ln_1p_special_values() {
    assert_eq!(ln_1p(0.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(ln_1p(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
    assert!(ln_1p(-1.0 - f64::EPSILON).is_nan());
    assert!(ln_1p(-1e300).is_nan());
    assert!(ln_1p(f64::NEG_INFINITY).is_nan());
    assert!(ln_1p(f64::NAN).is_nan());
    assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
    assert_eq!(ln_1p(f64::MAX), f64::MAX.ln_1p());
    let sub = f64::from_bits(3);
    assert_eq!(ln_1p(sub), sub);
    assert_eq!(ln_1p(-sub), -sub);
    assert_eq!(ln_1p(f64::MIN_POSITIVE), f64::MIN_POSITIVE);
    // Closest to −1: 1 + x = 2⁻⁵³ exactly.
    let x = -1.0 + f64::EPSILON / 2.0;
    assert!(ulps(ln_1p(x), x.ln_1p()) <= 1);
}

#[test]
fn ln_special_values() {
    assert_eq!(ln(1.0).to_bits(), 0);
    assert_eq!(ln(0.0), f64::NEG_INFINITY);
    assert_eq!(ln(-0.0), f64::NEG_INFINITY);
    assert_eq!(ln(f64::INFINITY), f64::INFINITY);
    assert!(ln(-1e-300).is_nan());
    assert!(ln(f64::NEG_INFINITY).is_nan());
    assert!(ln(f64::NAN).is_nan());
    assert_eq!(ln(f64::MAX), f64::MAX.ln());
    assert_eq!(ln(f64::from_bits(1)), f64::from_bits(1).ln());
}

#[test]
fn ln_within_one_ulp_of_std() {
    let mut worst = Worst::default();
    let mut check = |x: f64| worst.see(ln(x), x.ln(), x);
    // Dense around 1, where the result is small and cancellation would show.
    let mut x = 0.5;
    while x < 2.0 {
        check(x);
        x += 1.37e-7;
    }
    // Geometric grid over every magnitude, subnormals included.
    let mut a = f64::from_bits(1);
    while a < f64::MAX / 1.0001 {
        check(a);
        a = (a * (1.0 + 3.1e-5)).max(a.next_up());
    }
    // Around the exponent boundaries √2/2 · 2ᵏ and 2ᵏ, and across the subnormal edge.
    for k in -1074..1024 {
        for c in [std::f64::consts::FRAC_1_SQRT_2 * 2f64.powi(k), 2f64.powi(k)] {
            for x in [c.next_down(), c, c.next_up()] {
                if x > 0.0 && x.is_finite() {
                    check(x);
                }
            }
        }
    }
    assert!(worst.0 <= 1, "{} ulp at x = {:e}", worst.0, worst.1);
}

#[test]
fn ln_1p_within_one_ulp_of_std() {
    let mut worst = Worst::default();
    let mut check = |x: f64| worst.see(ln_1p(x), x.ln_1p(), x);
    // Dense near the interesting region (−1, 3]: steps incommensurate with the
    // exponent boundaries.
    let mut x = -1.0 + 1e-12;
    while x < 3.0 {
        check(x);
        x += 1.37e-6;
    }
    // Geometric grids over the magnitudes, both signs (negatives down to −1).
    let mut a = 1e-310;
    while a < 1e308 {
        check(a);
        if a < 1.0 {
            check(-a);
            check(-1.0 + a);
        }
        a *= 1.0 + 3.1e-5;
    }
    // Exponent boundaries of 1 + x around √2/2 · 2ᵏ and 2ᵏ.
    for k in -60..1024 {
        for c in [
            std::f64::consts::FRAC_1_SQRT_2 * 2f64.powi(k) - 1.0,
            2f64.powi(k) - 1.0,
        ] {
            for x in [c.next_down(), c, c.next_up()] {
                if x > -1.0 {
                    check(x);
                }
            }
        }
    }
    assert!(worst.0 <= 1, "{} ulp at x = {:e}", worst.0, worst.1);
}

#[test]
fn softplus_and_sigmoid_edges() {
    assert_eq!(softplus_and_sigmoid(800.0), (800.0, 1.0));
    assert_eq!(softplus_and_sigmoid(-800.0), (0.0, 0.0));
    assert_eq!(softplus_and_sigmoid(f64::INFINITY), (f64::INFINITY, 1.0));
    assert_eq!(softplus_and_sigmoid(f64::NEG_INFINITY), (0.0, 0.0));
    let (a, b) = softplus_and_sigmoid(f64::NAN);
    assert!(a.is_nan() && b.is_nan());
    // Below −745 e^x underflows: softplus and sigmoid are e^x (subnormal or zero).
    let (sp, s) = softplus_and_sigmoid(-740.0);
    assert!(sp > 0.0 && sp == s && sp == (-740.0f64).exp());
}
