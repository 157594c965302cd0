//! Stan's Cholesky-factor transforms: the square `LowerCholesky` (see
//! [`super::Bijector::LowerCholesky`]), `cholesky_factor_corr[K]` and
//! `cholesky_factor_cov[M, N]` (see [`super::Bijector::CholeskyFactorCorr`] and
//! [`super::Bijector::CholeskyFactorCov`]).

use super::{ln_ratio, need_vector, outside, square_root, triangular_root};
use crate::DistError;
use infer_ad::{Shape, Tensor, Var};

const CORR: &str = "CholeskyFactorCorr";
const COV: &str = "CholeskyFactorCov";

pub(super) fn cholesky_order(m: usize) -> Result<usize, DistError> {
    triangular_root(m).ok_or(DistError::InvalidLength {
        what: "Cholesky factor (unconstrained) length",
        len: m,
        reason: "n(n+1)/2 coordinates fill an n×n lower triangle",
    })
}

pub(super) fn lower_cholesky<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    let m = need_vector(y, "LowerCholesky::forward")?;
    let n = cholesky_order(m)?;
    let tape = y.tape();
    if n == 0 {
        return Ok(tape.constant(&ndarray::Array2::<f64>::zeros((0, 0))));
    }
    let mut is_diag = vec![0.0; m];
    for i in 0..n {
        is_diag[i * (i + 1) / 2 + i] = 1.0;
    }
    let diag_mask = tape.constant(&ndarray::Array1::from(is_diag));
    let filled = tape.fused_map([y, diag_mask], |_, [v, d]| {
        if d > 0.0 {
            let e = v.exp();
            (e, [e, 0.0])
        } else {
            (v, [1.0, 0.0])
        }
    })?;
    let zeros = tape.constant(&ndarray::Array1::<f64>::zeros(n));
    let mut parts = Vec::with_capacity(2 * n);
    for i in 0..n {
        let start = i * (i + 1) / 2;
        parts.push(filled.slice_axis(0, start, start + i + 1)?);
        if i + 1 < n {
            parts.push(zeros.slice_axis(0, 0, n - i - 1)?);
        }
    }
    let flat = tape.concat(&parts, 0)?;
    Ok(flat.reshape(Shape::matrix(n, n)?.dims())?)
}

pub(super) fn lower_cholesky_inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
    let n = square_root(x.len()).ok_or(DistError::InvalidLength {
        what: "Cholesky factor (constrained) length",
        len: x.len(),
        reason: "an n×n matrix has n² elements",
    })?;
    let mut out = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in 0..n {
            let v = x[i * n + j];
            if j > i {
                if v != 0.0 {
                    return Err(outside(
                        "LowerCholesky",
                        v,
                        "entries above the diagonal must be 0",
                    ));
                }
            } else if j == i {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(outside(
                        "LowerCholesky",
                        v,
                        "diagonal entries must be positive and finite",
                    ));
                }
                out.push(v.ln());
            } else {
                if !v.is_finite() {
                    return Err(outside("LowerCholesky", v, "entries must be finite"));
                }
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// `ln sech y = ln 2 − |y| − ln(1 + e^{−2|y|})`: finite for every finite `y` (no `cosh`
/// overflow, no `1 − tanh²` cancellation). Its derivative is `−tanh y`.
#[inline]
fn ln_sech(y: f64) -> f64 {
    let a = y.abs();
    std::f64::consts::LN_2 - a - (-2.0 * a).exp().ln_1p()
}

/// K for an unconstrained length `m = K(K−1)/2`.
fn corr_order(m: usize) -> Result<usize, DistError> {
    triangular_root(m)
        .map(|n| n + 1)
        .ok_or(DistError::InvalidLength {
            what: "correlation Cholesky factor (unconstrained) length",
            len: m,
            reason: "K(K−1)/2 coordinates fill the strictly lower triangle of a K×K matrix",
        })
}

pub(super) fn corr_unconstrained_len(len: usize) -> Result<usize, DistError> {
    match square_root(len) {
        Some(k) if k >= 1 => Ok(k * (k - 1) / 2),
        _ => Err(DistError::InvalidLength {
            what: "correlation Cholesky factor (constrained) length",
            len,
            reason: "a K×K matrix with K ≥ 1 has K² elements",
        }),
    }
}

pub(super) fn corr_constrained_len(m: usize) -> Result<usize, DistError> {
    corr_order(m).map(|k| k * k)
}

/// Row `i ≥ 1`: `wᵢ₀ = tanh yᵢ₀`, `wᵢⱼ = tanh yᵢⱼ · exp(Σ_{k<j} ln sech yᵢₖ)`,
/// `wᵢᵢ = exp(Σ_{k<i} ln sech yᵢₖ)`; row 0 is `(1, 0, …, 0)`.
pub(super) fn corr_forward<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    let m = need_vector(y, "CholeskyFactorCorr::forward")?;
    let k = corr_order(m)?;
    let tape = y.tape();
    let ls = tape.fused_map([y], |_, [v]| (ln_sech(v), [-v.tanh()]))?;
    let t = y.tanh();
    let zero = tape.scalar(0.0).item()?;
    let one = tape.scalar(1.0).item()?;
    let mut entries: Vec<Var<'t>> = Vec::with_capacity(k * k);
    for i in 0..k {
        let o = i * i.saturating_sub(1) / 2;
        // acc = Σ_{k<j} ln sech yᵢₖ, i.e. ½ ln(1 − Σ_{k<j} wᵢₖ²).
        let mut acc: Option<Var<'t>> = None;
        for j in 0..i {
            let tij = t.flat(o + j)?;
            entries.push(acc.map_or(tij, |a| tij * a.exp()));
            let sij = ls.flat(o + j)?;
            acc = Some(acc.map_or(sij, |a| a + sij));
        }
        entries.push(acc.map_or(one, |a| a.exp()));
        entries.extend(std::iter::repeat_n(zero, k - i - 1));
    }
    Ok(tape.stack_vars(&entries)?.reshape(&[k, k])?)
}

/// `Σ_{i>j} (i − j + 1) ln sech yᵢⱼ` (0-based), one fused node.
pub(super) fn corr_log_abs_det_jacobian<'t>(y: Tensor<'t>) -> Result<Var<'t>, DistError> {
    let m = need_vector(y, "CholeskyFactorCorr::log_abs_det_jacobian")?;
    let k = corr_order(m)?;
    let mut weight = Vec::with_capacity(m);
    for i in 1..k {
        for j in 0..i {
            weight.push((i - j + 1) as f64);
        }
    }
    Ok(y.tape().fused_sum([y], |idx, [v]| {
        let c = weight[idx];
        (c * ln_sech(v), [-c * v.tanh()])
    })?)
}

/// Row by row, with `nⱼ = ‖(wᵢⱼ, …, wᵢᵢ)‖` accumulated by `hypot` from the diagonal (no
/// `1 − Σ w²` cancellation, no under- or overflow of the squares):
/// `yᵢⱼ = atanh(wᵢⱼ / nⱼ) = sign(wᵢⱼ) ln((nⱼ + |wᵢⱼ|) / nⱼ₊₁)`, since
/// `nⱼ² − wᵢⱼ² = nⱼ₊₁²`.
pub(super) fn corr_inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
    let k = match square_root(x.len()) {
        Some(k) if k >= 1 => k,
        _ => {
            return Err(DistError::InvalidLength {
                what: "correlation Cholesky factor (constrained) length",
                len: x.len(),
                reason: "a K×K matrix with K ≥ 1 has K² elements",
            });
        }
    };
    for i in 0..k {
        for j in 0..k {
            let v = x[i * k + j];
            if !v.is_finite() {
                return Err(outside(CORR, v, "entries must be finite"));
            }
            if j > i && v != 0.0 {
                return Err(outside(CORR, v, "entries above the diagonal must be 0"));
            }
            if j == i && v <= 0.0 {
                return Err(outside(CORR, v, "diagonal entries must be positive"));
            }
        }
    }
    let mut out = Vec::with_capacity(k * (k - 1) / 2);
    let mut norms = vec![0.0; k + 1];
    for i in 0..k {
        let row = &x[i * k..i * k + i + 1];
        norms[i] = row[i];
        for j in (0..i).rev() {
            norms[j] = row[j].hypot(norms[j + 1]);
        }
        if !((norms[0] - 1.0).abs() <= 1e-8) {
            return Err(outside(
                CORR,
                norms[0],
                "rows must have unit Euclidean norm",
            ));
        }
        for j in 0..i {
            let (a, n0, n1) = (row[j].abs(), norms[j], norms[j + 1]);
            // (n0 + a)/n1 − 1 = a(1 + a/(n0 + n1))/n1, since n0 − n1 = a²/(n0 + n1): ln_1p of
            // it keeps small coordinates (ln(1 + 1e-61) would round to 0); large ratios go
            // through ln_ratio, which does not overflow for a subnormal n1.
            let t = a * (1.0 + a / (n0 + n1)) / n1;
            let y = if t < 1.0 {
                t.ln_1p()
            } else {
                ln_ratio(n0 + a, n1)
            };
            out.push(if row[j] < 0.0 { -y } else { y });
        }
    }
    Ok(out)
}

/// The unconstrained length of a `rows`×`cols` factor: `c(c+1)/2 + (r − c)c`.
fn cov_free_len(rows: usize, cols: usize) -> usize {
    cols * (cols + 1) / 2 + (rows - cols) * cols
}

pub(super) fn cov_unconstrained_len(
    rows: usize,
    cols: usize,
    len: usize,
) -> Result<usize, DistError> {
    if len == rows * cols {
        Ok(cov_free_len(rows, cols))
    } else {
        Err(DistError::InvalidLength {
            what: "CholeskyFactorCov (constrained) length",
            len,
            reason: "must be rows · cols",
        })
    }
}

pub(super) fn cov_constrained_len(rows: usize, cols: usize, m: usize) -> Result<usize, DistError> {
    if m == cov_free_len(rows, cols) {
        Ok(rows * cols)
    } else {
        Err(DistError::InvalidLength {
            what: "CholeskyFactorCov (unconstrained) length",
            len: m,
            reason: "must be cols(cols+1)/2 + (rows − cols)·cols",
        })
    }
}

fn cov_check_len(
    y: Tensor<'_>,
    rows: usize,
    cols: usize,
    op: &'static str,
) -> Result<usize, DistError> {
    let m = need_vector(y, op)?;
    cov_constrained_len(rows, cols, m)?;
    Ok(m)
}

/// The top `cols`×`cols` block by [`lower_cholesky`], then the free bottom rows.
pub(super) fn cov_forward<'t>(
    y: Tensor<'t>,
    rows: usize,
    cols: usize,
) -> Result<Tensor<'t>, DistError> {
    let m = cov_check_len(y, rows, cols, "CholeskyFactorCov::forward")?;
    let tri = cols * (cols + 1) / 2;
    if tri == m {
        return lower_cholesky(y);
    }
    let top = lower_cholesky(y.slice_axis(0, 0, tri)?)?.reshape(&[cols * cols])?;
    let bottom = y.slice_axis(0, tri, m)?;
    Ok(y.tape().concat(&[top, bottom], 0)?.reshape(&[rows, cols])?)
}

/// Σ of the diagonal's unconstrained coordinates (slots `i(i+1)/2 + i`, `i < cols`).
pub(super) fn cov_log_abs_det_jacobian<'t>(
    y: Tensor<'t>,
    rows: usize,
    cols: usize,
) -> Result<Var<'t>, DistError> {
    let m = cov_check_len(y, rows, cols, "CholeskyFactorCov::log_abs_det_jacobian")?;
    let mut mask = vec![false; m];
    for i in 0..cols {
        mask[i * (i + 1) / 2 + i] = true;
    }
    Ok(y.select(&mask)?.sum())
}

/// [`lower_cholesky_inverse`] on the top block (its errors renamed), the bottom rows as
/// they are (finite).
pub(super) fn cov_inverse(x: &[f64], rows: usize, cols: usize) -> Result<Vec<f64>, DistError> {
    cov_unconstrained_len(rows, cols, x.len())?;
    let mut out = lower_cholesky_inverse(&x[..cols * cols]).map_err(|e| match e {
        DistError::OutsideSupport { value, reason, .. } => outside(COV, value, reason),
        other => other,
    })?;
    for &v in &x[cols * cols..] {
        if !v.is_finite() {
            return Err(outside(COV, v, "entries must be finite"));
        }
        out.push(v);
    }
    Ok(out)
}
