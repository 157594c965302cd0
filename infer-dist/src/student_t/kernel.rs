//! The per-observation sums of [`super::StudentT`]'s `log_prob_sum` for scalar ν, μ, σ,
//! without a logarithm per observation.
//!
//! With w = (x − μ)/(σ√ν), the per-observation part of the log density and its partials need
//! only the sums Σ ln(1 + w²), Σ u, Σ g and Σ (u − ln(1 + w²)) over the observations, with
//! u = w²/(1 + w²) and g = w/(1 + w²) (see [`Hoisted::term`] for the per-observation form),
//! and the partial for each observation x when x is tracked. The sum of logarithms is taken
//! as the logarithm of a product: in each of [`LANES`] lanes, over the lane's eight
//! observations of a block of [`BLOCK`], P = Π (1 + w²) is kept as 1 + s, updated as
//! s ← s + w²(1 + s) (all terms ≥ 0, so s keeps its relative accuracy however small w² is,
//! where forming 1 + w² would round it away); at the end of the block each lane's P is
//! written 2ᴱ (1 + s), s ∈ [0, 1), the lanes are merged as (1 + a)(1 + b) = 1 + (a + b(1 + a))
//! and ln P = E ln 2 + ln(1 + s) taken once per block. The reciprocal 1/(1 + w²) is a division
//! in the baseline instance, and in the AVX-512 instance `vrcp14pd` (relative error < 2⁻¹⁴)
//! refined by two Newton steps to ≤ 1 ulp.
//!
//! **Error bound** (u = 2⁻⁵³). A lane's eight updates of s round P by ≤ 3u each, the
//! renormalization by u, the five levels of the merge by ≤ 3u each and the logarithm by
//! ≤ 2u·ln P: the block's ln P is within ≈ 45u · ln P of Σ ln(1 + w²) (relative while no
//! renormalization happens, s ≪ 1 and ln(1 + s) ≈ s; ≤ 45u absolute with ln P ≥ ln 2 after
//! one), against ≈ (k + 2)u · Σ ln for a sum of k logarithms each within 1 ulp — the same
//! order for the k = 256 observations of a block. Σ u of a block is within ≈ 20u of itself.
//! The difference Σ u − Σ ln(1 + w²) (the ∂/∂ν term; ≤ 0, and as small as −w⁴/2 per
//! observation for small w²) cancels: its error is ≤ 45u (Σ u + Σ ln), so a block is accepted
//! only where Σ u + Σ ln ≤ [`MAX_CANCELLATION`] · |Σ u − Σ ln|, which bounds that error by
//! 2900u ≈ 3.2e-13 relative; every other block (large ν, where w² ≪ 1 throughout), a block
//! with a w² above [`MAX_W2`] (where a lane's product could overflow) or a non-finite
//! observation is recomputed observation by observation with the exact formulas of
//! [`Hoisted::term`].
//!
//! Measured (`cargo bench -p infer-dist --bench normal_logprob`, N = 100 000, value and
//! gradients; BENCHMARKS.md, "Session 12: StudentT log_prob_sum (issue 14)"): the AVX-512
//! instance is hand-written because the auto-vectorized baseline has neither `vrcp14pd` (a
//! `vdivpd` per eight observations costs 16 cycles, ≈ 2 cycles per observation, more than
//! the Normal's whole per-observation cost) nor `vgetmantpd`/`vgetexppd`; with four
//! independent chains through s (one chain: the add and multiply–add latency, 8 cycles per
//! vector, bounded the kernel at ≈ 1 cycle per observation).

use super::Hoisted;

/// Independent lanes of the products and sums (four AVX-512 vectors: four dependency chains,
/// so that the latency of the update of s, an addition and a multiply–add, is hidden).
const LANES: usize = 32;
/// Eight-lane vectors in [`LANES`].
#[cfg(target_arch = "x86_64")]
const VECS: usize = LANES / 8;
/// Observations per block: eight per lane.
pub(super) const BLOCK: usize = 256;
/// A block is taken by the product form only if every w² in it is at most this: a lane's
/// eight factors 1 + w² ≤ 2¹²⁰ + 1 keep its product below 2⁹⁶¹.
const MAX_W2: f64 = 1.329_227_995_784_916e36; // 2^120
/// The largest (Σ u + Σ ln(1 + w²)) / |Σ u − Σ ln(1 + w²)| of a lane for which the block's
/// ∂/∂ν sum is taken from the product form (module docs: error ≤ 2900u ≈ 3.2e-13 relative).
const MAX_CANCELLATION: f64 = 64.0;

/// The sums the caller records: Σ −((ν + 1)/2) ln(1 + w²) (the value), and the sums of the
/// partials of [`Hoisted::term`] for ν, μ (scaled) and σ (scaled).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Sums {
    pub(crate) value: f64,
    pub(crate) df: f64,
    pub(crate) loc: f64,
    pub(crate) scale: f64,
}

/// What a block's product form gives: Σ ln(1 + w²), Σ u, Σ (u − ln(1 + w²)), Σ g.
#[derive(Clone, Copy, Default)]
struct Raw {
    ln: f64,
    u: f64,
    u_ln: f64,
    g: f64,
}

impl Raw {
    /// The block's sums from its lanes, or `None` if the block fails the checks. The lanes'
    /// products are merged as (1 + a)(1 + b) = 1 + (a + b(1 + a)) (all terms ≥ 0, so small
    /// excesses keep their relative accuracy) and the logarithm taken once per block; sums
    /// by a fixed tree, so that the result depends on the lanes' values only.
    #[inline(always)]
    fn from_lanes(
        mut s: [f64; LANES],
        mut e: [f64; LANES],
        mut u: [f64; LANES],
        mut g: [f64; LANES],
        max_w2: f64,
    ) -> Option<Raw> {
        if !(max_w2 <= MAX_W2) {
            return None;
        }
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for j in 0..width {
                s[j] += s[j + width] * (1.0 + s[j]);
                e[j] += e[j + width];
                u[j] += u[j + width];
                g[j] += g[j + width];
            }
        }
        let ln = e[0] * std::f64::consts::LN_2 + infer_ad::fastmath::ln_1p(s[0]);
        let d = u[0] - ln;
        // NaN fails the comparison
        if !(u[0] + ln <= -MAX_CANCELLATION * d || u[0] + ln == 0.0) {
            return None;
        }
        Some(Raw {
            ln,
            u: u[0],
            u_ln: d,
            g: g[0],
        })
    }
}

/// A block's product-form pass: one per instruction set.
trait FastBlock {
    fn block(&self, x: &[f64; BLOCK], px: Option<&mut [f64; BLOCK]>, h: &Hoisted) -> Option<Raw>;
}

/// The baseline block, in plain `f64` lanes (auto-vectorized where the target allows).
struct Portable;

impl FastBlock for Portable {
    #[inline(always)]
    fn block(&self, x: &[f64; BLOCK], px: Option<&mut [f64; BLOCK]>, h: &Hoisted) -> Option<Raw> {
        let (mut s, mut e) = ([0.0; LANES], [0.0; LANES]);
        let (mut su, mut sg, mut mx) = ([0.0; LANES], [0.0; LANES], [0.0f64; LANES]);
        let mut px = px;
        for (ri, row) in x.chunks_exact(LANES).enumerate() {
            let mut dx = [0.0; LANES];
            for j in 0..LANES {
                let w = (row[j] - h.loc) * h.c1;
                let w2 = w * w;
                let r = 1.0 / (1.0 + w2);
                su[j] += w2 * r;
                let g = w * r;
                sg[j] += g;
                dx[j] = g * h.kx;
                s[j] += w2 * (1.0 + s[j]);
                mx[j] = if w2 > mx[j] { w2 } else { mx[j] };
            }
            if let Some(p) = px.as_deref_mut() {
                p[ri * LANES..(ri + 1) * LANES].copy_from_slice(&dx);
            }
        }
        for j in 0..LANES {
            if s[j] >= 1.0 {
                // 1 + s = 2ᵏ m, m ∈ [1, 2): k from the exponent bits, m with them cleared
                let b = (1.0 + s[j]).to_bits();
                e[j] = ((b >> 52) as i64 - 1023) as f64;
                s[j] = f64::from_bits(b & 0x000f_ffff_ffff_ffff | 0x3ff0_0000_0000_0000) - 1.0;
            }
        }
        let max_w2 = mx.iter().fold(0.0f64, |a, &b| if b > a { b } else { a });
        // a NaN w² fails `from_lanes` through its s
        Raw::from_lanes(s, e, su, sg, max_w2)
    }
}

/// Receives the partials for x of each block of observations, in order.
pub(super) type PartialsSink<'a> = &'a mut dyn FnMut(&[f64]);

/// The observations' sums, and their partials for x given block by block to `px` when
/// asked, by the best instance the CPU runs.
pub(super) fn sums(xs: &[f64], px: Option<PartialsSink<'_>>, h: &Hoisted) -> Sums {
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = avx512::Avx512::detect() {
        return k.run(xs, px, h);
    }
    sums_baseline(xs, px, h)
}

/// [`sums`] by the baseline instance, whatever the CPU (for the tests).
pub(super) fn sums_baseline(xs: &[f64], px: Option<PartialsSink<'_>>, h: &Hoisted) -> Sums {
    run(&Portable, xs, px, h)
}

/// Blocks of [`BLOCK`] observations by `k`'s product form, or one by one by the exact
/// formulas where a block fails its checks; the last, partial block padded with μ (whose
/// terms and partials are exactly 0 in both forms).
#[inline(always)]
fn run<K: FastBlock>(k: &K, xs: &[f64], mut px: Option<PartialsSink<'_>>, h: &Hoisted) -> Sums {
    let mut raw = Raw::default();
    let mut exact = Sums::default();
    let mut buf = [h.loc; BLOCK];
    let mut pbuf = [0.0; BLOCK];
    for chunk in xs.chunks(BLOCK) {
        let len = chunk.len();
        let x: &[f64; BLOCK] = match chunk.try_into() {
            Ok(x) => x,
            Err(_) => {
                buf[..len].copy_from_slice(chunk);
                &buf
            }
        };
        let want = px.is_some();
        match k.block(x, want.then_some(&mut pbuf), h) {
            Some(r) => {
                raw.ln += r.ln;
                raw.u += r.u;
                raw.u_ln += r.u_ln;
                raw.g += r.g;
            }
            None => exact_block(&x[..len], &mut pbuf, h, &mut exact),
        }
        if let Some(out) = px.as_mut() {
            out(&pbuf[..len]);
        }
    }
    Sums {
        value: exact.value - h.half_v1 * raw.ln,
        df: exact.df + 0.5 * raw.u_ln + h.half_inv_v * raw.u,
        loc: exact.loc + h.v1_rv * raw.g,
        scale: exact.scale + h.v1 * raw.u,
    }
}

/// The sums over `x` by [`Hoisted::term`], in lanes, added to `acc`; the partials for x to
/// the start of `px`.
#[inline(always)]
fn exact_block(x: &[f64], px: &mut [f64; BLOCK], h: &Hoisted, acc: &mut Sums) {
    let mut lanes = [[0.0; 4]; LANES];
    for (ci, c) in x.chunks(LANES).enumerate() {
        for (j, &xi) in c.iter().enumerate() {
            let (v, [d, dv, dm, ds]) = h.term(xi);
            px[ci * LANES + j] = d;
            let l = &mut lanes[j];
            l[0] += v;
            l[1] += dv;
            l[2] += dm;
            l[3] += ds;
        }
    }
    for l in lanes {
        acc.value += l[0];
        acc.df += l[1];
        acc.loc += l[2];
        acc.scale += l[3];
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    //! The AVX-512 instance: [`super::run`] compiled with AVX-512F and the block written
    //! with its intrinsics.
    use super::{BLOCK, FastBlock, Hoisted, LANES, PartialsSink, Raw, Sums, VECS, run};
    use std::arch::x86_64::*;

    /// Proof that the CPU has AVX-512F: constructed only by [`Avx512::detect`].
    pub(super) struct Avx512(());

    impl Avx512 {
        pub(super) fn detect() -> Option<Avx512> {
            std::arch::is_x86_feature_detected!("avx512f").then_some(Avx512(()))
        }

        pub(super) fn run(self, xs: &[f64], px: Option<PartialsSink<'_>>, h: &Hoisted) -> Sums {
            // SAFETY: an `Avx512` exists only on a CPU with AVX-512F (`detect`), the only
            // requirement of the function.
            unsafe { run_avx512(&self, xs, px, h) }
        }
    }

    #[target_feature(enable = "avx512f")]
    fn run_avx512(k: &Avx512, xs: &[f64], px: Option<PartialsSink<'_>>, h: &Hoisted) -> Sums {
        run(k, xs, px, h)
    }

    impl FastBlock for Avx512 {
        #[inline(always)]
        fn block(
            &self,
            x: &[f64; BLOCK],
            px: Option<&mut [f64; BLOCK]>,
            h: &Hoisted,
        ) -> Option<Raw> {
            // SAFETY: as in `Avx512::run`.
            unsafe { block(x, px, h) }
        }
    }

    /// The block of [`super::Portable`] with its lanes in [`VECS`] vectors; 1/(1 + w²) by
    /// `vrcp14pd` and two Newton steps y ← y + y(1 − qy) (2⁻¹⁴ → 2⁻²⁸ → < 1 ulp; the tests
    /// check ≤ 1 ulp from the division), the renormalization by `vgetexppd`/`vgetmantpd`.
    #[target_feature(enable = "avx512f")]
    fn block(x: &[f64; BLOCK], px: Option<&mut [f64; BLOCK]>, h: &Hoisted) -> Option<Raw> {
        let (loc, c1, kx) = (
            _mm512_set1_pd(h.loc),
            _mm512_set1_pd(h.c1),
            _mm512_set1_pd(h.kx),
        );
        let one = _mm512_set1_pd(1.0);
        let zero = _mm512_setzero_pd();
        let (mut s, mut su, mut sg, mut mx) = ([zero; VECS], [zero; VECS], [zero; VECS], zero);
        let mut px = px;
        for ri in 0..BLOCK / LANES {
            for k in 0..VECS {
                let i = ri * LANES + k * 8;
                // SAFETY: i + 8 ≤ BLOCK = x.len(); unaligned load
                let xv = unsafe { _mm512_loadu_pd(x.as_ptr().add(i)) };
                let w = _mm512_mul_pd(_mm512_sub_pd(xv, loc), c1);
                let w2 = _mm512_mul_pd(w, w);
                let r = recip(_mm512_add_pd(one, w2));
                su[k] = _mm512_add_pd(su[k], _mm512_mul_pd(w2, r));
                let g = _mm512_mul_pd(w, r);
                sg[k] = _mm512_add_pd(sg[k], g);
                s[k] = _mm512_fmadd_pd(w2, _mm512_add_pd(one, s[k]), s[k]);
                mx = _mm512_max_pd(mx, w2);
                if let Some(p) = px.as_deref_mut() {
                    // SAFETY: i + 8 ≤ BLOCK = p.len(); unaligned store
                    unsafe { _mm512_storeu_pd(p.as_mut_ptr().add(i), _mm512_mul_pd(g, kx)) };
                }
            }
        }
        let (mut ls, mut le, mut lu, mut lg) = ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
        for k in 0..VECS {
            let q = _mm512_add_pd(one, s[k]);
            let big = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(s[k], one);
            let m = _mm512_getmant_pd::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_SRC>(q);
            let sk = _mm512_mask_blend_pd(big, s[k], _mm512_sub_pd(m, one));
            let ek = _mm512_maskz_mov_pd(big, _mm512_getexp_pd(q));
            // SAFETY: each destination holds LANES = 8·VECS f64 and k·8 + 8 ≤ LANES;
            // unaligned stores
            unsafe {
                _mm512_storeu_pd(ls.as_mut_ptr().add(k * 8), sk);
                _mm512_storeu_pd(le.as_mut_ptr().add(k * 8), ek);
                _mm512_storeu_pd(lu.as_mut_ptr().add(k * 8), su[k]);
                _mm512_storeu_pd(lg.as_mut_ptr().add(k * 8), sg[k]);
            }
        }
        Raw::from_lanes(ls, le, lu, lg, _mm512_reduce_max_pd(mx))
    }

    /// 1/q to < 1 ulp from `vrcp14pd` and two Newton steps.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn recip(q: __m512d) -> __m512d {
        let one = _mm512_set1_pd(1.0);
        let y = _mm512_rcp14_pd(q);
        let y = _mm512_fmadd_pd(y, _mm512_fnmadd_pd(q, y, one), y);
        _mm512_fmadd_pd(y, _mm512_fnmadd_pd(q, y, one), y)
    }

    /// [`recip`] on eight values, for the tests (`None` without AVX-512F).
    #[cfg(test)]
    pub(crate) fn recip8(q: [f64; 8]) -> Option<[f64; 8]> {
        Avx512::detect()?;
        #[target_feature(enable = "avx512f")]
        fn go(q: [f64; 8]) -> [f64; 8] {
            let mut out = [0.0; 8];
            // SAFETY: both arrays hold 8 f64; unaligned load and store
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), recip(_mm512_loadu_pd(q.as_ptr()))) };
            out
        }
        // SAFETY: AVX-512F checked above
        Some(unsafe { go(q) })
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) use avx512::recip8;
