//! The blocked GLM kernel shared by every GLM likelihood: the design in the kernel's layout
//! ([`Blocked`]), the run-time choice of the instruction set ([`glm_dispatch`]), and the pass
//! over blocks of rows that forms the value, `Xᵀr` and `Σ r` for a link ([`super::link`]).

use super::link::{Identity, Link, LogLink, Logit, Sums, by_lanes};
use super::{BLOCK, L, STACK_COEFS};
use infer_ad::Tensor;
use infer_ad::fastmath::mad;
use ndarray::Array2;

/// The design matrix in the kernel's layout: blocks of [`BLOCK`] rows (the last block may be
/// shorter), each block stored column by column, each column of a block padded with zeros to
/// a multiple of [`L`] rows, and the whole on a 64-byte boundary — so that every column of
/// every block starts on a cache line, and vector loads never straddle two lines (which
/// halves the load throughput of the kernel's inner loops). Element (r₀ + i, j) of the block
/// of `m` rows starting at row r₀ is at `r₀·k + j·s + i`, `s` = `m` rounded up to a multiple
/// of [`L`] (only the last block has `s` ≠ [`BLOCK`]).
#[derive(Debug)]
pub(crate) struct Blocked {
    /// The layout and `L − 1` spare elements, in which the layout starts at `off`.
    buf: Vec<f64>,
    /// Index of the first element in `buf`: the first on a 64-byte boundary.
    off: usize,
}

impl Blocked {
    pub(crate) fn new(x: &Array2<f64>) -> Self {
        let (n, k) = x.dim();
        let len = (n / BLOCK * BLOCK + (n % BLOCK).next_multiple_of(L)) * k;
        // L − 1 spare elements: an f64 buffer is 8-byte aligned, so a 64-byte boundary lies
        // within its first eight elements.
        let mut buf = vec![0.0; len + L - 1];
        let off = (buf.as_ptr() as usize).wrapping_neg() % 64 / 8;
        for r0 in (0..n).step_by(BLOCK) {
            let m = BLOCK.min(n - r0);
            let stride = m.next_multiple_of(L);
            for j in 0..k {
                let col = &mut buf[off + r0 * k + j * stride..][..m];
                for (i, c) in col.iter_mut().enumerate() {
                    *c = x[[r0 + i, j]];
                }
            }
        }
        Blocked { buf, off }
    }

    pub(crate) fn data(&self) -> &[f64] {
        &self.buf[self.off..self.off + self.buf.len() + 1 - L]
    }
}

/// Rows of one block, on a cache-line boundary like the design's columns.
#[repr(align(64))]
struct BlockRows([f64; BLOCK]);

/// Whether the baseline (not run-time selected) build of [`glm_kernel`] uses fused
/// multiply–adds: where the compilation target guarantees FMA instructions.
pub(crate) const FMA_BASELINE: bool = cfg!(any(target_feature = "fma", target_arch = "aarch64"));

/// [`glm_kernel`] in the best instance the CPU runs: with AVX-512 (eight `f64` per vector)
/// or AVX2 (four), both with fused multiply–add, selected at run time; the crates target
/// baseline x86-64 so that binaries run anywhere.
///
/// **Reproducibility.** The kernel's accumulators are explicit lanes, so every instance
/// performs the same operations in the same order, and a fused multiply–add is rounded once
/// whatever instruction computes it: the AVX-512, AVX2 and baseline instances give
/// bit-identical results on every CPU with FMA (x86-64 since 2013, all aarch64), so the same
/// seed gives the same draws there. On an x86-64 CPU without FMA the kernel multiplies and
/// adds separately (a library `fma` would be some twenty times slower), and results differ
/// in the last bits.
pub(crate) fn glm_dispatch(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
    link: LinkKind,
) -> (f64, f64) {
    // One instance of the fused kernel per instruction set: `R` rows of η in registers.
    infer_ad::with_target_features!(
        ["avx512f", "avx2", "fma"],
        kernel_avx512(xb: &[f64], y: &[f64], alpha: f64, beta: &[f64], g: &mut [f64], lanes: &mut [[f64; L]], link: LinkKind) -> (f64, f64) {
            glm_kernel_any::<true, 64>(xb, y, alpha, beta, g, lanes, link)
        }
    );
    infer_ad::with_target_features!(
        ["avx2", "fma"],
        kernel_avx2(xb: &[f64], y: &[f64], alpha: f64, beta: &[f64], g: &mut [f64], lanes: &mut [[f64; L]], link: LinkKind) -> (f64, f64) {
            glm_kernel_any::<true, 32>(xb, y, alpha, beta, g, lanes, link)
        }
    );
    glm_kernel_any::<FMA_BASELINE, 16>(xb, y, alpha, beta, g, lanes, link)
}

/// [`glm_dispatch`] with its lane accumulators on the stack (on the heap for more than
/// [`STACK_COEFS`] coefficients). `beta` and `g` have one element per column of the design.
#[inline(always)]
pub(crate) fn glm_eval(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    link: LinkKind,
) -> (f64, f64) {
    let k = beta.len();
    let mut stack = [[0.0f64; L]; STACK_COEFS];
    let mut heap = Vec::new();
    let lanes: &mut [[f64; L]] = if k <= STACK_COEFS {
        &mut stack[..k]
    } else {
        heap.resize(k, [0.0; L]);
        &mut heap
    };
    glm_dispatch(xb, y, alpha, beta, g, lanes, link)
}

/// `f(b, g)` with `b` the `k` values of `beta` and `g` a zeroed gradient of the same length,
/// both on the stack for up to [`STACK_COEFS`] coefficients.
#[inline(always)]
pub(crate) fn with_coefficients<R>(
    beta: Tensor<'_>,
    k: usize,
    f: impl FnOnce(&[f64], &mut [f64]) -> R,
) -> R {
    let mut stack = [0.0f64; 2 * STACK_COEFS];
    let mut heap = Vec::new();
    let buf: &mut [f64] = if k <= STACK_COEFS {
        &mut stack[..2 * k]
    } else {
        heap.resize(2 * k, 0.0);
        &mut heap
    };
    let (b, g) = buf.split_at_mut(k);
    beta.value_into(b);
    f(b, g)
}

/// The family of a GLM kernel: which [`Link`] [`glm_kernel`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkKind {
    /// Bernoulli with the logit link ([`Logit`]).
    Logit,
    /// Poisson with the log link ([`LogLink`]).
    Log,
    /// Normal with the identity link ([`Identity`]).
    Identity,
}

/// [`glm_kernel`] for the link `link`, chosen once per call (each instance is compiled
/// with the caller's target features).
#[inline(always)]
fn glm_kernel_any<const FUSED: bool, const R: usize>(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
    link: LinkKind,
) -> (f64, f64) {
    match link {
        LinkKind::Logit => glm_kernel::<FUSED, R, Logit>(xb, y, alpha, beta, g, lanes),
        LinkKind::Log => glm_kernel::<FUSED, R, LogLink>(xb, y, alpha, beta, g, lanes),
        LinkKind::Identity => glm_kernel::<FUSED, R, Identity>(xb, y, alpha, beta, g, lanes),
    }
}

/// For `η = α + Xβ` and the link's residuals `r` (see [`Link`]): the link's value,
/// `g = Xᵀr` and `Σ r` — for the logit link the log-likelihood, `Xᵀ(y − σ(η))` and
/// `Σ (y − σ(η))` — one block of
/// [`BLOCK`] rows at a time from the blocked design `xb` (see [`Blocked`]), so that a block
/// is fetched from memory once and read a second time from cache. Full blocks go through
/// [`glm_block`] with the row count a constant, so that its loops compile to straight-line
/// vector code; the last, shorter block through the same function with the row count
/// known at run time. Called through [`glm_dispatch`]; `lanes` holds one accumulator per
/// coefficient.
#[inline(always)]
fn glm_kernel<const FUSED: bool, const R: usize, K: Link>(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
) -> (f64, f64) {
    let (n, k) = (y.len(), beta.len());
    let lanes = &mut lanes[..k];
    lanes.fill([0.0; L]);
    let mut acc = Sums {
        lin: [0.0; L],
        ga: [0.0; L],
        logs: 0.0,
    };
    let mut rows = [
        BlockRows([0.0; BLOCK]),
        BlockRows([0.0; BLOCK]),
        BlockRows([0.0; BLOCK]),
    ];
    let mut r0 = 0;
    while r0 < n {
        let m = BLOCK.min(n - r0);
        let blk = &xb[r0 * k..r0 * k + m.next_multiple_of(L) * k];
        let ys = &y[r0..r0 + m];
        if m == BLOCK {
            glm_block::<FUSED, R, K>(BLOCK, blk, ys, alpha, beta, lanes, &mut rows, &mut acc);
        } else {
            glm_block::<FUSED, R, K>(m, blk, ys, alpha, beta, lanes, &mut rows, &mut acc);
        }
        r0 += m;
    }
    for (gj, a) in g.iter_mut().zip(lanes.iter()) {
        *gj = sum_lanes(a);
    }
    (sum_lanes(&acc.lin) - acc.logs, sum_lanes(&acc.ga))
}

/// One block of `m` ≤ [`BLOCK`] rows (column stride `m` rounded up to [`L`]):
/// - ηᵢ = α + Σⱼ βⱼxᵢⱼ as a chain of multiply–adds in the order of j, `R` rows at a time with
///   the accumulators in registers (then 8 rows, then single rows; the grouping does not
///   change any row's chain, so `R` does not change the result);
/// - the residuals and the terms of the value by the link `K` (see [`Link`]);
/// - gⱼ as the dot product of column j with the residuals, row i of the block into lane
///   i mod 8 of column j's accumulator (summed by [`sum_lanes`] at the end).
///
/// `rows` is scratch for η, the residuals and the link's own use.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn glm_block<const FUSED: bool, const R: usize, K: Link>(
    m: usize,
    blk: &[f64],
    ys: &[f64],
    alpha: f64,
    beta: &[f64],
    lanes: &mut [[f64; L]],
    rows: &mut [BlockRows; 3],
    acc: &mut Sums,
) {
    let m_ = mad::<FUSED>;
    let s = m.next_multiple_of(L);
    let [eta, res, ope] = rows;
    let (eta, res, ope) = (&mut eta.0[..m], &mut res.0[..m], &mut ope.0[..m]);
    let ys = &ys[..m];
    // η: R rows, then L rows, then single rows at a time
    let i0 = eta_rows::<FUSED, R>(blk, s, alpha, beta, eta, 0);
    let i0 = eta_rows::<FUSED, L>(blk, s, alpha, beta, eta, i0);
    for (i, e) in eta.iter_mut().enumerate().skip(i0) {
        *e = alpha;
        for (j, &b) in beta.iter().enumerate() {
            *e = m_(b, blk[j * s + i], *e);
        }
    }
    K::link::<FUSED>(eta, ys, res, ope, acc);
    // gradient, a column at a time; consecutive columns are independent chains, which the
    // CPU overlaps
    for (j, a) in lanes.iter_mut().enumerate() {
        let col = &blk[j * s..j * s + m];
        let mut v = *a;
        by_lanes(m, |i, l| v[l] = m_(col[i], res[i], v[l]));
        *a = v;
    }
}

/// ηᵢ of [`glm_block`] for the rows from `i0` on, `N` rows at a time with the accumulators in
/// registers, as far as whole groups of `N` reach (`s` the block's column stride); returns the
/// first row not done.
#[inline(always)]
fn eta_rows<const FUSED: bool, const N: usize>(
    blk: &[f64],
    s: usize,
    alpha: f64,
    beta: &[f64],
    eta: &mut [f64],
    mut i0: usize,
) -> usize {
    while i0 + N <= eta.len() {
        let mut a = [alpha; N];
        for (j, &b) in beta.iter().enumerate() {
            let col = &blk[j * s + i0..j * s + i0 + N];
            for l in 0..N {
                a[l] = mad::<FUSED>(b, col[l], a[l]);
            }
        }
        eta[i0..i0 + N].copy_from_slice(&a);
        i0 += N;
    }
    i0
}

/// The sum of eight lanes as a fixed tree.
#[inline(always)]
pub(crate) fn sum_lanes(s: &[f64; L]) -> f64 {
    ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: usize, k: usize) -> (Array2<f64>, Vec<f64>, Vec<f64>) {
        let x = Array2::from_shape_fn((n, k), |(i, j)| {
            (((i * k + j) * 7919 % 1009) as f64 / 1009.0 - 0.5) * 4.0
        });
        let y: Vec<f64> = (0..n).map(|i| f64::from(i % 3 == 0)).collect();
        let beta: Vec<f64> = (0..k).map(|j| 0.3 - 0.07 * j as f64).collect();
        (x, y, beta)
    }

    /// Value, ∂/∂α and ∂/∂β in plain row-by-row f64, the definition written out.
    fn reference(x: &Array2<f64>, y: &[f64], alpha: f64, beta: &[f64]) -> (f64, f64, Vec<f64>) {
        let (mut lp, mut ga, mut g) = (0.0, 0.0, vec![0.0; beta.len()]);
        for (row, &yi) in x.rows().into_iter().zip(y) {
            let h = alpha + row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
            let s = 1.0 / (1.0 + (-h).exp());
            lp += yi * h - h.max(0.0) - (-h.abs()).exp().ln_1p();
            ga += yi - s;
            for (gj, xj) in g.iter_mut().zip(row) {
                *gj += (yi - s) * xj;
            }
        }
        (lp, ga, g)
    }

    fn run<const FUSED: bool>(x: &Array2<f64>, y: &[f64], beta: &[f64]) -> (f64, f64, Vec<f64>) {
        let xb = Blocked::new(x);
        let xb = xb.data();
        let mut g = vec![0.0; beta.len()];
        let mut lanes = vec![[0.0; L]; beta.len()];
        let (lp, ga) = glm_kernel::<FUSED, 16, Logit>(xb, y, 0.2, beta, &mut g, &mut lanes);
        (lp, ga, g)
    }

    const SHAPES: [(usize, usize); 6] =
        [(150, 25), (37, 3), (64, 9), (5, 0), (1000, 25), (130, 70)];

    /// The run-time-selected instance (AVX-512 or AVX2 with FMA on a CPU that has them) and
    /// the baseline build of the kernel with fused multiply–adds give bit-identical results,
    /// so draws do not depend on the machine; each row group size gives the same bits too.
    #[test]
    fn dispatch_is_bit_identical_to_the_baseline_kernel() {
        for (n, k) in SHAPES {
            let (x, y, beta) = case(n, k);
            let xb = Blocked::new(&x);
            let xb = xb.data();
            let mut g1 = vec![0.0; k];
            let mut lanes = vec![[0.0; L]; k];
            let a = glm_dispatch(xb, &y, 0.2, &beta, &mut g1, &mut lanes, LinkKind::Logit);
            // The dispatch fuses wherever the CPU has FMA; a baseline x86-64 CPU without it
            // takes the unfused kernel.
            #[cfg(target_arch = "x86_64")]
            let fused = FMA_BASELINE || std::arch::is_x86_feature_detected!("fma");
            #[cfg(not(target_arch = "x86_64"))]
            let fused = FMA_BASELINE;
            let mut g3 = vec![0.0; k];
            let (b, c) = if fused {
                let c = glm_kernel::<true, 64, Logit>(xb, &y, 0.2, &beta, &mut g3, &mut lanes);
                (run::<true>(&x, &y, &beta), c)
            } else {
                let c = glm_kernel::<false, 64, Logit>(xb, &y, 0.2, &beta, &mut g3, &mut lanes);
                (run::<false>(&x, &y, &beta), c)
            };
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for (other, g) in [((b.0, b.1), &b.2), (c, &g3)] {
                assert_eq!(a.0.to_bits(), other.0.to_bits(), "value, n={n} k={k}");
                assert_eq!(
                    a.1.to_bits(),
                    other.1.to_bits(),
                    "alpha gradient, n={n} k={k}"
                );
                assert_eq!(bits(&g1), bits(g), "beta gradient, n={n} k={k}");
            }
        }
    }

    /// Fused and unfused kernels agree with the definition evaluated row by row with std's
    /// `exp` and `ln_1p`: relative error ≤ 1e-12 of the magnitude of the terms summed
    /// (rounding differences only; a wrong index or lane would be off by O(1)).
    #[test]
    fn both_kernels_match_the_definition() {
        for (n, k) in SHAPES {
            let (x, y, beta) = case(n, k);
            let (lp, ga, g) = reference(&x, &y, 0.2, &beta);
            let scale = (n * (k + 1)) as f64 * 10.0;
            for (name, got) in [
                ("fused", run::<true>(&x, &y, &beta)),
                ("plain", run::<false>(&x, &y, &beta)),
            ] {
                assert!(
                    (got.0 - lp).abs() <= 1e-12 * scale,
                    "{name} value {} vs {lp}, n={n} k={k}",
                    got.0
                );
                assert!(
                    (got.1 - ga).abs() <= 1e-12 * scale,
                    "{name} alpha gradient, n={n} k={k}"
                );
                for (j, (a, b)) in got.2.iter().zip(&g).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * scale,
                        "{name} beta[{j}] {a} vs {b}, n={n} k={k}"
                    );
                }
            }
        }
    }

    #[test]
    fn blocked_layout_places_each_element() {
        let x = Array2::from_shape_fn((70, 3), |(i, j)| (i * 10 + j) as f64);
        let b = Blocked::new(&x);
        let xb = b.data();
        assert_eq!(xb.as_ptr() as usize % 64, 0);
        // second block: rows 64..70 (m = 6, column stride 8), element (66, 2) at 64·3 + 2·8 + 2
        assert_eq!(xb.len(), 64 * 3 + 8 * 3);
        assert_eq!(xb[64 * 3 + 2 * 8 + 2], 662.0);
        assert_eq!(xb[64 * 3 + 8 + 6], 0.0); // padding after (69, 1)
        assert_eq!(xb[5], 50.0); // first block: (5, 0)
        assert_eq!(xb[64 + 1], 11.0); // (1, 1)
    }
}
