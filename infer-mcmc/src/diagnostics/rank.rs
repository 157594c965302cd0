//! Rank normalization: pooled average ranks mapped through the standard normal quantile
//! function with Blom's fractional offset (Vehtari et al. 2021, eq. 14).

use super::chains::Chains;

/// Blom's fractional offset `c = 3/8` in `Φ⁻¹((r − c) / (S − 2c + 1))`.
const BLOM_OFFSET: f64 = 3.0 / 8.0;

/// Ranks of the values (1-based), ties receiving the average of the ranks they span, as
/// `scipy.stats.rankdata(method="average")` does.
pub(crate) fn average_ranks(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    // Sorting (value, index) pairs keeps the comparisons on contiguous memory.
    let mut order: Vec<(f64, usize)> = values.iter().copied().zip(0..).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && order[end].0 == order[start].0 {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &(_, i) in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Rank-normalizes pooled draws: `z = Φ⁻¹((r − 3/8) / (S + 1/4))` with `r` the average rank
/// of a draw among all `S` draws of all chains, keeping the chains × draws shape.
pub(crate) fn z_scale(chains: &Chains) -> Chains {
    let values = chains.values();
    let size = values.len() as f64;
    let z = average_ranks(values)
        .into_iter()
        .map(|r| std_normal_quantile((r - BLOM_OFFSET) / (size - 2.0 * BLOM_OFFSET + 1.0)))
        .collect();
    chains.with_values(z)
}

/// The standard normal quantile function `Φ⁻¹(p)`: `−∞` at 0, `+∞` at 1, `NaN` outside
/// `[0, 1]`.
///
/// Wichura's algorithm AS 241 (`PPND16`): rational minimax approximations in `q = p − 1/2`
/// for `|q| ≤ 0.425` and in `r = √(−ln min(p, 1 − p))` in the tails, with a relative error
/// below about 1e-16 (agreement with SciPy's `ndtri` to 1.1e-15 checked over `p` from
/// 1e-300 to 1/2).
///
/// # References
///
/// Wichura, M. J. (1988). Algorithm AS 241: the percentage points of the normal
/// distribution. *Applied Statistics* 37(3), 477–484.
pub(crate) fn std_normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * polynomial(&CENTRAL_NUM, r) / polynomial(&CENTRAL_DEN, r);
    }
    let tail_p = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail_p.ln()).sqrt();
    let value = if r <= 5.0 {
        let r = r - 1.6;
        polynomial(&NEAR_NUM, r) / polynomial(&NEAR_DEN, r)
    } else {
        let r = r - 5.0;
        polynomial(&FAR_NUM, r) / polynomial(&FAR_DEN, r)
    };
    if q < 0.0 { -value } else { value }
}

/// `Σ c_k x^k` by Horner's rule, coefficients in increasing degree.
fn polynomial(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

// Coefficients of AS 241 (PPND16), increasing degree.
const CENTRAL_NUM: [f64; 8] = [
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
];
const CENTRAL_DEN: [f64; 8] = [
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852545925,
];
const NEAR_NUM: [f64; 8] = [
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
];
const NEAR_DEN: [f64; 8] = [
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
];
const FAR_NUM: [f64; 8] = [
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
];
const FAR_DEN: [f64; 8] = [
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_average_rank() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, 3.0]),
            vec![4.0, 1.0, 4.0, 2.0, 4.0]
        );
    }

    #[test]
    fn normal_quantile_reference_values() {
        // scipy.stats.norm.ppf
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959963984540054),
            (0.05, -1.6448536269514729),
            (0.001, -3.090232306167813),
            (1e-10, -6.361340902404056),
            (0.3, -0.5244005127080409),
            (1e-300, -37.0470962993612),
        ];
        for (p, want) in cases {
            let got = std_normal_quantile(p);
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                "p={p}: {got} vs {want}"
            );
        }
        assert_eq!(std_normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(std_normal_quantile(1.0), f64::INFINITY);
        assert!(std_normal_quantile(1.5).is_nan());
    }
}
