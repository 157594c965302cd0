//! The Gaussian guides on the unconstrained space: their parameters in a
//! [`ParamStore`] (what Adam updates), the guide recorded on a tape as an `infer-dist`
//! distribution (what the ELBO estimators differentiate), and the same guide off the tape
//! (the ELBO estimate, the output draws).

use infer_ad::{Bound, ParamId, ParamStore, Tape};
use infer_dist::{DistError, MultivariateNormal, Normal, Reparameterizable};
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::StandardNormal;

use super::error::AdviError;
use super::settings::AdviFamily;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// A Gaussian guide N(μ, LLᵀ): μ, ω = ln diag(L) and, for the full-rank family, the
/// elements of L below its diagonal (row by row: L₂₁, L₃₁, L₃₂, …).
pub(crate) struct Guide {
    family: AdviFamily,
    dim: usize,
    store: ParamStore,
    mu: ParamId,
    omega: ParamId,
    /// The strictly lower elements of L (full rank with n ≥ 2).
    off: Option<ParamId>,
    /// Full rank: the position of each element of L (row-major) in [exp ω, off, 0].
    gather: Vec<usize>,
}

impl Guide {
    /// The guide N(`init`, I), as Stan starts (μ = init, ω = 0, L = I).
    pub(crate) fn new(family: AdviFamily, init: &[f64]) -> Result<Self, AdviError> {
        let n = init.len();
        let mut store = ParamStore::new();
        let ad = |e| AdviError::Loss(infer_loss::LossError::Ad(e));
        let mu = store.add("mu", Array1::from(init.to_vec())).map_err(ad)?;
        let omega = store.add("omega", Array1::zeros(n)).map_err(ad)?;
        let (off, gather) = match family {
            AdviFamily::FullRank if n >= 2 => {
                let m = n * (n - 1) / 2;
                let off = store.add("l_lower", Array1::zeros(m)).map_err(ad)?;
                let gather = (0..n * n)
                    .map(|k| {
                        let (i, j) = (k / n, k % n);
                        match i.cmp(&j) {
                            std::cmp::Ordering::Equal => i,
                            std::cmp::Ordering::Greater => n + i * (i - 1) / 2 + j,
                            std::cmp::Ordering::Less => n + m,
                        }
                    })
                    .collect();
                (Some(off), gather)
            }
            _ => (None, Vec::new()),
        };
        Ok(Guide {
            family,
            dim: n,
            store,
            mu,
            omega,
            off,
            gather,
        })
    }

    /// The parameters, for the optimizer.
    pub(crate) fn store_mut(&mut self) -> &mut ParamStore {
        &mut self.store
    }

    /// The parameters bound as leaves of `tape`.
    pub(crate) fn bind<'t>(&self, tape: &'t Tape) -> Bound<'t> {
        self.store.bind(tape)
    }

    /// The guide on `tape` from the leaves `bound` (of [`Guide::bind`]), as a distribution
    /// with pathwise draws. `Ok(Err(v))` when a scale under- or overflows (value `v`): the
    /// fit has diverged.
    pub(crate) fn record<'t>(
        &self,
        tape: &'t Tape,
        bound: &Bound<'t>,
    ) -> Result<Result<Box<dyn Reparameterizable<'t> + 't>, f64>, AdviError> {
        let mu = bound[self.mu];
        let sigma = bound[self.omega].exp();
        let built: Result<Box<dyn Reparameterizable<'t> + 't>, DistError> = match self.family {
            AdviFamily::FullRank if self.dim >= 2 => {
                let zero = tape.constant(&ndarray::arr1(&[0.0]));
                let off = self.off.map(|id| bound[id]);
                let parts = [Some(sigma), off, Some(zero)];
                let parts: Vec<_> = parts.into_iter().flatten().collect();
                let l = tape
                    .concat(&parts, 0)
                    .and_then(|all| all.gather(&self.gather))
                    .and_then(|l| l.reshape(&[self.dim, self.dim]))
                    .map_err(|e| AdviError::Loss(infer_loss::LossError::Ad(e)))?;
                MultivariateNormal::new(mu, l).map(|d| Box::new(d) as _)
            }
            _ => Normal::new(mu, sigma).map(|d| Box::new(d) as _),
        };
        match built {
            Ok(q) => Ok(Ok(q)),
            Err(DistError::InvalidParameter { value, .. }) => Ok(Err(value)),
            Err(e) => Err(AdviError::Loss(e.into())),
        }
    }

    /// μ.
    pub(crate) fn mean(&self) -> Vec<f64> {
        self.store.value(self.mu).iter().copied().collect()
    }

    /// L (n × n, lower-triangular): diag(exp ω) for the mean-field family.
    pub(crate) fn scale_tril(&self) -> Array2<f64> {
        let n = self.dim;
        let omega = self.store.value(self.omega);
        let mut l = Array2::zeros((n, n));
        for (i, w) in omega.iter().enumerate() {
            l[[i, i]] = w.exp();
        }
        if let Some(id) = self.off {
            let off = self.store.value(id);
            let mut k = 0;
            for i in 1..n {
                for j in 0..i {
                    l[[i, j]] = off[k];
                    k += 1;
                }
            }
        }
        l
    }

    /// The entropy of the guide, (n/2)(1 + ln 2π) + Σ ωᵢ (Kucukelbir et al. 2017, eq. 6).
    pub(crate) fn entropy(&self) -> f64 {
        let omega: f64 = self.store.value(self.omega).iter().sum();
        self.dim as f64 * (0.5 + LN_SQRT_2PI) + omega
    }
}

/// The guide off the tape: a draw z = μ + Lε with its log density
/// ln q(z) = −½‖ε‖² − Σᵢ ln Lᵢᵢ − n ln √(2π).
pub(crate) struct Frozen {
    mean: Vec<f64>,
    l: Array2<f64>,
    log_det: f64,
    eps: Vec<f64>,
}

impl Frozen {
    pub(crate) fn new(guide: &Guide) -> Self {
        let l = guide.scale_tril();
        let log_det = l.diag().iter().map(|d| d.ln()).sum();
        Frozen {
            mean: guide.mean(),
            eps: vec![0.0; guide.dim],
            l,
            log_det,
        }
    }

    /// Writes a draw into `z` and returns its log density under the guide.
    pub(crate) fn draw<R: Rng + ?Sized>(&mut self, rng: &mut R, z: &mut [f64]) -> f64 {
        for e in self.eps.iter_mut() {
            *e = rng.sample(StandardNormal);
        }
        for (i, zi) in z.iter_mut().enumerate() {
            let row = self.l.row(i);
            *zi = self.mean[i] + (0..=i).map(|j| row[j] * self.eps[j]).sum::<f64>();
        }
        let sq: f64 = self.eps.iter().map(|e| e * e).sum();
        -0.5 * sq - self.log_det - self.mean.len() as f64 * LN_SQRT_2PI
    }

    pub(crate) fn into_parts(self) -> (Vec<f64>, Array2<f64>) {
        (self.mean, self.l)
    }
}
