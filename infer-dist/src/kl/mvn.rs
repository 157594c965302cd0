//! KL divergence between multivariate normal distributions given by their Cholesky factors,
//! as one node per batch item with its own gradients, computed so that every valid parameter
//! (Cholesky entries and locations anywhere in f64) gives a finite value or +∞, never NaN,
//! and gradients that are never NaN.
//!
//! # Derivation
//!
//! For p = N(μp, Σp), q = N(μq, Σq) on ℝⁿ (PyTorch `_kl_multivariatenormal_multivariatenormal`;
//! any text on Gaussian divergences):
//!
//! KL = ½[tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − n + ln det Σq − ln det Σp].
//!
//! With Σp = LpLpᵀ, Σq = LqLqᵀ (lower-triangular, positive diagonals), M = Lq⁻¹Lp and
//! v = Lq⁻¹(μp − μq):
//!
//! * tr(Σq⁻¹Σp) = tr(Lq⁻ᵀLq⁻¹LpLpᵀ) = tr(MMᵀ) = Σᵢⱼ Mᵢⱼ²;
//! * (μq − μp)ᵀΣq⁻¹(μq − μp) = ‖v‖²;
//! * M is lower-triangular (a product of lower-triangular matrices) with Mᵢᵢ = rᵢ,
//!   rᵢ = Lp,ᵢᵢ/Lq,ᵢᵢ, and ln det Σq − ln det Σp = 2 Σᵢ (ln Lq,ᵢᵢ − ln Lp,ᵢᵢ) = −Σᵢ ln rᵢ².
//!
//! Splitting Σᵢⱼ Mᵢⱼ² into the diagonal Σᵢ rᵢ² and the strict lower triangle, and the −n
//! into one −1 per diagonal term:
//!
//! KL = Σᵢ ½(rᵢ² − 1 − ln rᵢ²) + ½ Σ_{i>j} Mᵢⱼ² + ½‖v‖² = Σᵢ ½ φ(2 ln rᵢ) + ½ Σ_{i>j} Mᵢⱼ² + ½‖v‖²,
//!
//! φ(s) = eˢ − 1 − s ≥ 0: a sum of non-negative terms (no diagonal-offset term remains). ln rᵢ
//! is taken from logarithms where the quotient leaves the normal range, φ from its series near
//! 0 (`stable.rs`).
//!
//! # Gradients
//!
//! With W = Lq⁻ᵀM and u = Lq⁻ᵀv = Σq⁻¹(μp − μq), from dM = −Lq⁻¹(dLq)M, dv = Lq⁻¹(dμp − dμq)
//! − Lq⁻¹(dLq)v and d ln rᵢ = dLp,ᵢᵢ/Lp,ᵢᵢ − dLq,ᵢᵢ/Lq,ᵢᵢ:
//!
//! * ∂KL/∂μp = u, ∂KL/∂μq = −u;
//! * ∂KL/∂Lp = W − diag(1/Lp,ᵢᵢ);
//! * ∂KL/∂Lq = −(WMᵀ + uvᵀ) + diag(1/Lq,ᵢᵢ);
//!
//! on the lower triangle. The upper triangles are zero by construction; as in PyTorch, whose
//! KL multiplies the whole of Lp by Lq⁻¹, the gradient of Lp's upper triangle is W's (and
//! Lq's is 0: its triangular solves do not read it). On the diagonals the terms of size rᵢ that cancel against 1/Lp,ᵢᵢ and
//! 1/Lq,ᵢᵢ are combined analytically: with tᵢ = Σ_{l>i} Lq,ₗᵢ Wₗᵢ, Wᵢᵢ = (rᵢ − tᵢ)/Lq,ᵢᵢ, so
//!
//! * ∂KL/∂Lp,ᵢᵢ = (rᵢ² − 1)/Lp,ᵢᵢ − tᵢ/Lq,ᵢᵢ,
//! * ∂KL/∂Lq,ᵢᵢ = −(rᵢ² − 1)/Lq,ᵢᵢ + rᵢtᵢ/Lq,ᵢᵢ − Σ_{k<i} WᵢₖMᵢₖ − uᵢvᵢ,
//!
//! with rᵢ² − 1 = expm1(2 ln rᵢ) near rᵢ = 1 (no cancellation).
//!
//! # Range
//!
//! The triangular solves (forward substitution for M and v, back substitution for W and u)
//! and every sum and product after them are carried out in [`Wide`] numbers (f64 mantissa,
//! unbounded exponent): an entry of M or v beyond f64 (a Cholesky diagonal of 1e-300 against
//! a location of 1e300) is a number like any other, so no intermediate becomes ∞ and no
//! ∞ − ∞ or 0 · ∞ arises; only the results are rounded to f64 (to ±∞ where they exceed it).
//! Where the factors are shared by a batch of locations, M and W are computed once.

use super::stable::phi;
use super::wide::Wide;
use super::{kl, ln_ratio};
use crate::DistError;
use infer_ad::{Shape, Tensor};

/// The parts of the divergence that depend only on the Cholesky factors (row-major n×n).
struct Factors {
    n: usize,
    /// Lq.
    lq: Vec<Wide>,
    /// Σᵢ ½ φ(2 ln rᵢ) (f64: +∞ only where the divergence exceeds f64).
    phi_sum: f64,
    /// Σ_{i>j} Mᵢⱼ².
    off: Wide,
    /// ∂KL/∂Lp (lower triangle; 0 above).
    grad_lp: Vec<f64>,
    /// The part −WMᵀ + diag(1/Lq,ᵢᵢ) of ∂KL/∂Lq (lower triangle; 0 above).
    grad_lq: Vec<Wide>,
}

impl Factors {
    fn new(lp: &[f64], lq: &[f64], n: usize) -> Factors {
        let at = |i: usize, j: usize| i * n + j;
        let pw: Vec<Wide> = lp.iter().map(|&x| Wide::from_f64(x)).collect();
        let qw: Vec<Wide> = lq.iter().map(|&x| Wide::from_f64(x)).collect();
        let one = Wide::from_f64(1.0);
        let mut m = vec![Wide::ZERO; n * n];
        let mut r2m1 = vec![Wide::ZERO; n];
        let mut phi_sum = 0.0;
        for i in 0..n {
            let s = 2.0 * ln_ratio(lp[at(i, i)], lq[at(i, i)]);
            phi_sum += 0.5 * phi(s);
            let r = pw[at(i, i)] / qw[at(i, i)];
            m[at(i, i)] = r;
            // rᵢ² − 1: expm1 where rᵢ² is near 1, else the square (no cancellation there).
            r2m1[i] = if s.abs() <= 1.0 {
                Wide::from_f64(s.exp_m1())
            } else {
                r.square() - one
            };
        }
        // M = Lq⁻¹Lp below the diagonal, column by column (forward substitution).
        let mut off = Wide::ZERO;
        for j in 0..n {
            for i in j + 1..n {
                let mut acc = pw[at(i, j)];
                for k in j..i {
                    acc = acc - qw[at(i, k)] * m[at(k, j)];
                }
                let x = acc / qw[at(i, i)];
                m[at(i, j)] = x;
                off = off + x.square();
            }
        }
        // W = Lq⁻ᵀM (back substitution per column), and tᵢ = Σ_{l>i} Lq,ₗᵢ Wₗᵢ. Its entries
        // above the diagonal are the gradient of the zero upper triangle of Lp as PyTorch
        // reports it (its KL multiplies the whole of Lp by Lq⁻¹).
        let mut w = vec![Wide::ZERO; n * n];
        let mut t = vec![Wide::ZERO; n];
        for k in 0..n {
            for i in (0..n).rev() {
                let mut acc = Wide::ZERO;
                for l in i + 1..n {
                    acc = acc + qw[at(l, i)] * w[at(l, k)];
                }
                if i == k {
                    t[i] = acc;
                }
                w[at(i, k)] = (m[at(i, k)] - acc) / qw[at(i, i)];
            }
        }
        let mut grad_lp = vec![0.0; n * n];
        let mut grad_lq = vec![Wide::ZERO; n * n];
        for i in 0..n {
            for j in i + 1..n {
                grad_lp[at(i, j)] = w[at(i, j)].to_f64();
            }
            for j in 0..i {
                grad_lp[at(i, j)] = w[at(i, j)].to_f64();
                let mut acc = Wide::ZERO;
                for k in 0..=j {
                    acc = acc + w[at(i, k)] * m[at(j, k)];
                }
                grad_lq[at(i, j)] = -acc;
            }
            let (p, q) = (pw[at(i, i)], qw[at(i, i)]);
            grad_lp[at(i, i)] = (r2m1[i] / p - t[i] / q).to_f64();
            let mut acc = m[at(i, i)] * t[i] / q - r2m1[i] / q;
            for k in 0..i {
                acc = acc - w[at(i, k)] * m[at(i, k)];
            }
            grad_lq[at(i, i)] = acc;
        }
        Factors {
            n,
            lq: qw,
            phi_sum,
            off,
            grad_lp,
            grad_lq,
        }
    }

    /// KL and its gradients (μp, Lp, μq, Lq, row-major) for the locations `mp`, `mq`.
    fn divergence(&self, mp: &[f64], mq: &[f64]) -> (f64, [Vec<f64>; 4]) {
        let n = self.n;
        let q = |i: usize, j: usize| self.lq[i * n + j];
        // v = Lq⁻¹(μp − μq) (forward substitution), u = Lq⁻ᵀv (back substitution).
        let mut v = vec![Wide::ZERO; n];
        let mut sv = Wide::ZERO;
        for i in 0..n {
            let mut acc = Wide::from_f64(mp[i]) - Wide::from_f64(mq[i]);
            for k in 0..i {
                acc = acc - q(i, k) * v[k];
            }
            v[i] = acc / q(i, i);
            sv = sv + v[i].square();
        }
        let mut u = vec![Wide::ZERO; n];
        for i in (0..n).rev() {
            let mut acc = v[i];
            for l in i + 1..n {
                acc = acc - q(l, i) * u[l];
            }
            u[i] = acc / q(i, i);
        }
        let value = self.phi_sum + (self.off + sv).half().to_f64();
        let g_mp: Vec<f64> = u.iter().map(|x| x.to_f64()).collect();
        let g_mq: Vec<f64> = g_mp.iter().map(|x| -x).collect();
        let mut g_lq = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                g_lq[i * n + j] = (self.grad_lq[i * n + j] - u[i] * v[j]).to_f64();
            }
        }
        (value, [g_mp, self.grad_lp.clone(), g_mq, g_lq])
    }
}

/// A parameter tensor split into batch items: the tensor itself when it has no batch axes
/// (every item reads it), else its broadcast to `batch ++ event`, flattened to `[B, event…]`.
struct Items<'t> {
    t: Tensor<'t>,
    vals: Vec<f64>,
    size: usize,
    batched: bool,
}

impl<'t> Items<'t> {
    fn new(t: Tensor<'t>, batch: Shape, event: &[usize]) -> Result<Items<'t>, DistError> {
        let size = event.iter().product();
        if t.ndim() == event.len() {
            return Ok(Items {
                t,
                vals: t.to_vec(),
                size,
                batched: false,
            });
        }
        let mut full = batch.dims().to_vec();
        full.extend_from_slice(event);
        let mut flat = vec![batch.numel()];
        flat.extend_from_slice(event);
        let b = t.broadcast_to(Shape::new(&full)?)?.reshape(&flat)?;
        Ok(Items {
            t: b,
            vals: b.to_vec(),
            size,
            batched: true,
        })
    }

    /// Which item of this tensor batch item `i` reads.
    fn index(&self, i: usize) -> usize {
        if self.batched { i } else { 0 }
    }

    fn values(&self, i: usize) -> &[f64] {
        let k = self.index(i);
        &self.vals[k * self.size..(k + 1) * self.size]
    }

    fn tensor(&self, i: usize) -> Result<Tensor<'t>, DistError> {
        Ok(if self.batched {
            self.t.index_axis(0, i)?
        } else {
            self.t
        })
    }
}

kl!(
    /// KL(MultivariateNormal ‖ MultivariateNormal) =
    /// Σᵢ ½ φ(2 ln(Lp,ᵢᵢ/Lq,ᵢᵢ)) + ½ Σ_{i>j} (Lq⁻¹Lp)ᵢⱼ² + ½‖Lq⁻¹(μp − μq)‖², φ(s) = eˢ − 1 − s
    /// (the derivation, the gradients and the unbounded-exponent solves are in `kl/mvn.rs`;
    /// PyTorch `_kl_multivariatenormal_multivariatenormal`); batches broadcast, one node per
    /// batch item. Finite or +∞ with gradients that are never NaN at every valid parameter.
    MultivariateNormal, MultivariateNormal, |p, q| {
        let (mp, lp, mq, lq) = (p.loc(), p.scale_tril(), q.loc(), q.scale_tril());
        let n = mp.dims().last().copied().unwrap_or(0);
        let event_ok = n > 0
            && mq.dims().last() == Some(&n)
            && lp.ndim() >= 2
            && lq.ndim() >= 2
            && lp.dims()[lp.ndim() - 2..] == [n, n]
            && lq.dims()[lq.ndim() - 2..] == [n, n];
        if !event_ok {
            return Err(DistError::ShapeMismatch {
                dist: "MultivariateNormal",
                what: "KL divergence: event shapes of p and q",
                left: lp.shape(),
                right: lq.shape(),
            });
        }
        let drop = |t: Tensor<'t>, k: usize| Shape::new(&t.dims()[..t.ndim() - k]);
        let mut batch = Shape::SCALAR;
        for s in [drop(mp, 1)?, drop(mq, 1)?, drop(lp, 2)?, drop(lq, 2)?] {
            batch = batch.broadcast(&s).map_err(|_| DistError::ShapeMismatch {
                dist: "MultivariateNormal",
                what: "KL divergence: batch shapes of p and q",
                left: batch,
                right: s,
            })?;
        }
        let items = [
            Items::new(mp, batch, &[n])?,
            Items::new(lp, batch, &[n, n])?,
            Items::new(mq, batch, &[n])?,
            Items::new(lq, batch, &[n, n])?,
        ];
        let tape = mp.tape();
        let mut cache: Option<((usize, usize), Factors)> = None;
        let mut out = Vec::with_capacity(batch.numel());
        for i in 0..batch.numel() {
            let key = (items[1].index(i), items[3].index(i));
            if cache.as_ref().is_some_and(|(k, _)| *k != key) {
                cache = None;
            }
            let (_, f) = cache.get_or_insert_with(|| {
                (key, Factors::new(items[1].values(i), items[3].values(i), n))
            });
            let (value, grads) = f.divergence(items[0].values(i), items[2].values(i));
            let mut inputs = Vec::with_capacity(4);
            for (it, g) in items.iter().zip(&grads) {
                inputs.push((it.tensor(i)?, g.as_slice()));
            }
            out.push(tape.scalar_with_gradients(value, &inputs)?);
        }
        if let ([one], 0) = (out.as_slice(), batch.ndim()) {
            return Ok(one.as_tensor());
        }
        Ok(tape.stack_vars(&out)?.reshape(batch.dims())?)
    }
);
