//! Branch-free, vectorizable elementary functions for hot model loops.

/// e^x for x ≤ 0, accurate to a few ulp on [−700, 0]; inputs below −700 are treated as −700
/// (e^−700 ≈ 10⁻³⁰⁴, negligible next to 1) and NaN propagates.
///
/// Cody–Waite reduction x = k ln 2 + r with |r| ≤ ½ ln 2, a degree-13 Taylor polynomial for
/// e^r, and 2^k added to the exponent bits. Written without calls or branches so that loops
/// over slices vectorize.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵²: adding it rounds to an integer
    let x = if x < -700.0 { -700.0 } else { x };
    let kf = x * LOG2E + MAGIC;
    let k_bits = kf.to_bits().wrapping_sub(MAGIC.to_bits());
    let k = kf - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor coefficients 1/n!, n = 13 … 0, evaluated by Horner's rule.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // k_bits is k as a two's-complement integer; shift it into the exponent field.
    f64::from_bits(p.to_bits().wrapping_add(k_bits << 52))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_exp() {
        let mut worst: f64 = 0.0;
        let mut x = 0.0;
        while x > -700.0 {
            let (a, b) = (exp_nonpositive(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
            x -= 0.001_37;
        }
        for x in [
            0.0,
            -1e-300,
            -1e-10,
            -0.5 * std::f64::consts::LN_2,
            -1.0,
            -699.9,
        ] {
            let (a, b) = (exp_nonpositive(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4e-16, "worst relative error {worst}");
        assert!(exp_nonpositive(-1e6) < 1e-300);
        assert!(exp_nonpositive(f64::NEG_INFINITY) < 1e-300);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }
}
