//! Reductions on slices: lane-parallel sums (fixed combination trees, so the same bits on
//! every machine), sums of squared deviations, and the reverse cumulative sum.

/// (Σ (xᵢ − m), Σ (xᵢ − m)²), each with eight independent accumulators, so the loops are
/// throughput-bound (and vectorize) rather than bound by the latency of one add chain. Two
/// passes: fused into one loop, the vectorizer packs the two sums of one element into a
/// register instead of neighbouring elements, and the loop runs about 1.5× slower (measured
/// with `cargo bench -p infer-dist --bench normal_logprob`).
#[inline]
pub(crate) fn dev_moments(x: &[f64], m: f64) -> (f64, f64) {
    (lane_sum8(x, |v| v - m), lane_sum8(x, |v| (v - m) * (v - m)))
}

/// The backward pass of [`crate::Tensor::sum_sq_dev`] over a tracked range: `adj[i] += g2 (xᵢ − m)`
/// for every element (`adj[i] = g2 (xᵢ − m)` when `WRITE`: the range held no adjoints yet),
/// and returns Σ (xᵢ − m) — one pass, eight lanes.
pub(crate) fn sq_dev_backward<const WRITE: bool>(
    adj: &mut [f64],
    vals: &[f64],
    m: f64,
    g2: f64,
) -> f64 {
    const L: usize = 8;
    let mut acc = [0.0f64; L];
    let mut ac = adj.chunks_exact_mut(L);
    let vc = vals.chunks_exact(L);
    let vrest = vc.remainder();
    for (a, v) in (&mut ac).zip(vc) {
        for l in 0..L {
            let d = v[l] - m;
            if WRITE {
                a[l] = g2 * d;
            } else {
                a[l] += g2 * d;
            }
            acc[l] += d;
        }
    }
    for (j, (a, v)) in ac.into_remainder().iter_mut().zip(vrest).enumerate() {
        let d = v - m;
        if WRITE {
            *a = g2 * d;
        } else {
            *a += g2 * d;
        }
        acc[j] += d;
    }
    pairwise8(acc)
}

/// The sum of eight lane accumulators, combined pairwise.
#[inline(always)]
fn pairwise8(s: [f64; 8]) -> f64 {
    ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

/// Σ f(xᵢ) with eight independent accumulators, combined pairwise at the end.
#[inline(always)]
pub(crate) fn lane_sum8(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    const L: usize = 8;
    let mut s = [0.0f64; L];
    let chunks = x.chunks_exact(L);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..L {
            s[j] += f(c[j]);
        }
    }
    for (j, &v) in rest.iter().enumerate() {
        s[j] += f(v);
    }
    pairwise8(s)
}

/// `Σ xᵢ` with element i added into lane i mod 4 and the lanes summed as a fixed tree: the
/// same result on every machine, and a loop that vectorizes.
#[inline]
pub(crate) fn lane_sum4(x: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            lanes[l] += c[l];
        }
    }
    for (l, &v) in chunks.remainder().iter().enumerate() {
        lanes[l] += v;
    }
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
}

/// The backward pass of [`crate::Tensor::cumsum`]: `adj[a + k·inner + j] += Σ_{i ≥ k}
/// adj[out + i·inner + j]`, one sweep from the last row up, with the running sums of the
/// `inner` columns kept in `acc`.
pub(crate) fn cumsum_backward(
    adj: &mut [f64],
    acc: &mut Vec<f64>,
    out: usize,
    a: usize,
    n: usize,
    inner: usize,
) {
    if inner == 1 {
        let mut s = 0.0;
        for i in (0..n).rev() {
            s += adj[out + i];
            adj[a + i] += s;
        }
        return;
    }
    acc.clear();
    acc.resize(inner, 0.0);
    for i in (0..n).rev() {
        let (o, x) = (out + i * inner, a + i * inner);
        for j in 0..inner {
            acc[j] += adj[o + j];
            adj[x + j] += acc[j];
        }
    }
}
