//! A real number with an unbounded exponent, for the multivariate normal divergence
//! (`mvn.rs`): triangular solves whose entries exceed the range of f64 (a Cholesky diagonal
//! of 1e-300 against a location of 1e300) without ∞ − ∞ or 0 · ∞, the result rounded to f64
//! (± ∞ or 0 beyond its range) only at the end.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// m · 2^e with m = 0 or ½ ≤ |m| < 1 and an `i64` exponent: f64 arithmetic (one rounding per
/// operation, as in f64) without overflow or underflow. Only finite values are represented.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Wide {
    m: f64,
    e: i64,
}

/// 2^k for −1022 ≤ k ≤ 1023 (a normal number, exact).
fn pow2(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// (m, e) with x = m · 2^e and ½ ≤ |m| < 1, for finite non-zero x (subnormals included).
fn frexp(x: f64) -> (f64, i64) {
    let bits = x.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i64;
    if field == 0 {
        // Subnormal: scale into the normal range first (exact).
        let (m, e) = frexp(x * pow2(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, field - 1022)
}

impl Wide {
    /// Zero.
    pub(crate) const ZERO: Wide = Wide { m: 0.0, e: 0 };

    /// m · 2^e normalised (m finite).
    fn norm(m: f64, e: i64) -> Wide {
        if m == 0.0 {
            return Wide::ZERO;
        }
        let (m, d) = frexp(m);
        Wide { m, e: e + d }
    }

    /// The finite f64 `x`, exactly.
    pub(crate) fn from_f64(x: f64) -> Wide {
        debug_assert!(x.is_finite());
        Wide::norm(x, 0)
    }

    /// The nearest f64: ±∞ above its range, 0 (or a subnormal) below.
    pub(crate) fn to_f64(self) -> f64 {
        let (mut x, mut k) = (self.m, self.e.clamp(-1200, 1100));
        while k > 1000 {
            x *= pow2(1000);
            k -= 1000;
        }
        while k < -1000 {
            // Exact: |x| ≥ 2⁻¹ stays ≥ 2⁻¹⁰⁰¹, a normal number.
            x *= pow2(-1000);
            k += 1000;
        }
        // One rounding (the only one that can be inexact, for a subnormal or ∞ result).
        x * pow2(k)
    }

    /// x/2, exactly.
    pub(crate) fn half(self) -> Wide {
        if self.m == 0.0 {
            self
        } else {
            Wide {
                m: self.m,
                e: self.e - 1,
            }
        }
    }

    /// x².
    pub(crate) fn square(self) -> Wide {
        self * self
    }
}

impl Add for Wide {
    type Output = Wide;
    fn add(self, o: Wide) -> Wide {
        if self.m == 0.0 {
            return o;
        }
        if o.m == 0.0 {
            return self;
        }
        let (hi, lo) = if self.e >= o.e { (self, o) } else { (o, self) };
        let d = lo.e - hi.e;
        if d < -60 {
            // |lo| < 2⁻⁶⁰ |hi|: below half an ulp of hi, which the f64 sum would return.
            return hi;
        }
        Wide::norm(hi.m + lo.m * pow2(d), hi.e)
    }
}

impl Neg for Wide {
    type Output = Wide;
    fn neg(self) -> Wide {
        Wide {
            m: -self.m,
            e: self.e,
        }
    }
}

impl Sub for Wide {
    type Output = Wide;
    fn sub(self, o: Wide) -> Wide {
        self + -o
    }
}

impl Mul for Wide {
    type Output = Wide;
    fn mul(self, o: Wide) -> Wide {
        Wide::norm(self.m * o.m, self.e + o.e)
    }
}

impl Div for Wide {
    type Output = Wide;
    /// The divisor must be non-zero (the callers divide by Cholesky diagonals, > 0).
    fn div(self, o: Wide) -> Wide {
        debug_assert!(o.m != 0.0);
        Wide::norm(self.m / o.m, self.e - o.e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_saturates() {
        for x in [
            5e-324,
            -5e-324,
            1e-310,
            f64::MIN_POSITIVE,
            0.3,
            -1.0,
            1e300,
            f64::MAX,
            -f64::MAX,
        ] {
            assert_eq!(Wide::from_f64(x).to_f64(), x, "{x:e}");
        }
        let big = Wide::from_f64(1e300);
        assert_eq!((big * big).to_f64(), f64::INFINITY);
        assert_eq!((-(big * big)).to_f64(), f64::NEG_INFINITY);
        let tiny = Wide::from_f64(1e-300);
        assert_eq!((tiny * tiny).to_f64(), 0.0);
        // 2⁹⁰⁰ · 2⁹⁰⁰ / 2⁹⁰⁰ and 2⁻⁹⁰⁰ · 2⁻⁹⁰⁰ / 2⁻⁹⁰⁰, exact, without overflow or underflow
        // in between; 3 · 2¹⁸⁰⁰ / 2¹⁷⁹⁹ = 6.
        let (p, q) = (
            Wide::from_f64(2f64.powi(900)),
            Wide::from_f64(2f64.powi(-900)),
        );
        assert_eq!((p * p / p).to_f64(), 2f64.powi(900));
        assert_eq!((q * q / q).to_f64(), 2f64.powi(-900));
        assert_eq!((Wide::from_f64(3.0) * p * p / (p * p).half()).to_f64(), 6.0);
        // Sums: cancellation as in f64, and a term below half an ulp vanishes.
        assert_eq!((big * big - big * big).to_f64(), 0.0);
        let one = Wide::from_f64(1.0);
        assert_eq!((one + Wide::from_f64(1e-300)).to_f64(), 1.0);
        assert_eq!((one + Wide::from_f64(0.25)).to_f64(), 1.25);
        assert_eq!((Wide::from_f64(0.75) - one).to_f64(), -0.25);
        assert_eq!(Wide::from_f64(3.0).half().to_f64(), 1.5);
        // A subnormal result rounds once.
        assert_eq!(
            (Wide::from_f64(5e-324) * Wide::from_f64(3.0)).to_f64(),
            1.5e-323
        );
    }
}
