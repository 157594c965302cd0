//! The backward loops of the tape's elementwise, linear, reduction and grouped nodes, on the
//! adjoint vector `adj` with slot offsets (each node's ranges are disjoint from its output's,
//! or identical in the case of the output itself). A zero output adjoint sends nothing where
//! the loop says so (the tape's convention: a NaN or ∞ partial that no gradient reaches stays
//! out of the gradients).

/// Elementwise node: `adj[a + i] += adj[out + i] · f[p + i]` for `i < n` when `spread`
/// (`s = 1`), else `adj[a] += Σᵢ adj[out + i] · f[p + i]` (`s = 0`, a broadcast single
/// element); terms with a zero output adjoint are skipped.
#[inline(always)]
pub(crate) fn elem_backward(
    adj: &mut [f64],
    f: &[f64],
    [out, a, p]: [usize; 3],
    n: usize,
    spread: bool,
) {
    if spread {
        for i in 0..n {
            let g = adj[out + i];
            if g != 0.0 {
                adj[a + i] += g * f[p + i];
            }
        }
    } else {
        let mut acc = 0.0;
        for i in 0..n {
            let g = adj[out + i];
            if g != 0.0 {
                acc += g * f[p + i];
            }
        }
        adj[a] += acc;
    }
}

/// Linear elementwise node: `adj[a + i] += c · adj[out + i]` when `spread`, else
/// `adj[a] += c · Σᵢ adj[out + i]`.
#[inline(always)]
pub(crate) fn lin_backward(adj: &mut [f64], [out, a]: [usize; 2], n: usize, spread: bool, c: f64) {
    if spread {
        for i in 0..n {
            adj[a + i] += c * adj[out + i];
        }
    } else {
        let acc: f64 = adj[out..out + n].iter().sum();
        adj[a] += c * acc;
    }
}

/// `adj[i] = g · d[i]` (`WRITE`: the range held no adjoints yet) or `adj[i] += g · d[i]`.
#[inline(always)]
pub(crate) fn scale_into<const WRITE: bool>(adj: &mut [f64], d: &[f64], g: f64) {
    if WRITE {
        for (x, d) in adj.iter_mut().zip(d) {
            *x = g * d;
        }
    } else {
        for (x, d) in adj.iter_mut().zip(d) {
            *x += g * d;
        }
    }
}

/// `adj[i] = g` (`WRITE`) or `adj[i] += g` for every element.
#[inline(always)]
pub(crate) fn splat<const WRITE: bool>(adj: &mut [f64], g: f64) {
    if WRITE {
        adj.fill(g);
    } else {
        for x in adj {
            *x += g;
        }
    }
}

/// Backward of an inner product of two slot ranges of length `n` with output adjoint `g`:
/// `adj[a + i] += g · vals[b + i]` and `adj[b + i] += g · vals[a + i]` (the ranges may be
/// the same, for a squared norm).
#[inline(always)]
pub(crate) fn dot_backward(adj: &mut [f64], vals: &[f64], [a, b]: [usize; 2], n: usize, g: f64) {
    for i in 0..n {
        adj[a + i] += g * vals[b + i];
        adj[b + i] += g * vals[a + i];
    }
}

/// Grouped reduction: `adj[a + k] += adj[out + groups[k]] · d[k]` for every `k` (times 1
/// when `d` is `None`).
#[inline(always)]
pub(crate) fn group_backward(
    adj: &mut [f64],
    groups: &[u32],
    d: Option<&[f64]>,
    [out, a]: [usize; 2],
) {
    match d {
        None => {
            for k in 0..groups.len() {
                adj[a + k] += adj[out + groups[k] as usize];
            }
        }
        Some(d) => {
            for k in 0..groups.len() {
                adj[a + k] += adj[out + groups[k] as usize] * d[k];
            }
        }
    }
}
