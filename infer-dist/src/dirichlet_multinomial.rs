//! The Dirichlet-multinomial (multivariate Pólya) distribution: multinomial counts whose
//! probabilities are Dirichlet-distributed.

use crate::special;
use crate::bind::Kernel;
use crate::gamma::ln_standard_gamma;
use crate::dirichlet::check_concentration;
use crate::multinomial::{check_total_count, count_rows, sample_counts};
use crate::util;
use crate::{Constraint, DistError};
use infer_ad::scalar::lgamma;
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

crate::bind::family! {
    /// The Dirichlet-multinomial distribution with `total_count` = n trials and concentration α
    /// along the last axis (α₀ = Σₖ αₖ):
    ///
    /// ln P(x) = ln n! + ln Γ(α₀) − ln Γ(n + α₀) + Σₖ [ln Γ(xₖ + αₖ) − ln Γ(αₖ) − ln xₖ!],
    ///
    /// for x a vector of non-negative integers with Σₖ xₖ = n; −∞ elsewhere. The differences of
    /// log-gammas are taken as single differences (Stirling's series for large arguments), so
    /// that a large concentration loses no digits to cancellation: as α → ∞ with α/α₀ fixed the
    /// log mass tends to the multinomial's.
    ///
    /// Event shape `[K]`; batch shape: the concentration's shape without its last axis. Gradients
    /// flow to α (∂/∂αₖ = ψ(xₖ + αₖ) − ψ(αₖ) + ψ(α₀) − ψ(n + α₀)), not to the discrete value.
    /// Mean n α/α₀; variance n (α/α₀)(1 − α/α₀)(n + α₀)/(1 + α₀). Sampling: p ~ Dirichlet(α),
    /// then x ~ Multinomial(n, p).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{DirichletMultinomial, Distribution};
    /// let tape = Tape::new();
    /// // α = 1: every composition of n into K parts is equally likely, P = 1/C(n + K − 1, K − 1)
    /// let d = DirichletMultinomial::new(3, tape.tensor(&ndarray::array![1.0, 1.0, 1.0]))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::array![0.0, 1.0, 2.0]))?;
    /// assert!((lp.to_vec()[0] + 10f64.ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Pyro, `pyro.distributions.DirichletMultinomial` (parameter names and moments); SciPy,
    /// `scipy.stats.dirichlet_multinomial` (log mass).
    pub struct DirichletMultinomial / DirichletMultinomialK {
        params: [concentration],
        extra: {total_count: u64, k: usize},
        support: |k| Constraint::IntegerInterval {
            low: 0.0,
            high: k.total_count as f64,
        },
    }
}

impl<'t> DirichletMultinomial<'t> {
    /// A Dirichlet-multinomial distribution of `total_count` trials; the last axis of
    /// `concentration` holds the K components.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a concentration element that is not finite and
    /// positive, a row whose sum overflows, or `total_count` above 2⁵³;
    /// [`DistError::ShapeMismatch`] for a 0-d concentration or an empty last axis.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let bad = tape.tensor(&ndarray::array![1.0, 0.0]);
    /// assert!(infer_dist::DirichletMultinomial::new(5, bad).is_err());
    /// ```
    pub fn new(
        total_count: u64,
        concentration: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [concentration] = crate::param::take_params!(NAME; concentration);
        check_total_count(NAME, total_count)?;
        let (batch, k) = check_concentration(NAME, &concentration)?;
        Ok(DirichletMultinomial {
            total_count,
            concentration,
            batch,
            k,
        })
    }

    /// The number of trials n.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }
}

impl<'t> DirichletMultinomialK<'t> {
    /// α₀ = Σₖ αₖ, shape `batch`.
    fn total(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.concentration.sum_axis(self.concentration.ndim() - 1)?)
    }

    /// α₀ with a trailing axis of length 1 (to broadcast against `batch ++ [K]`).
    fn total_keep(&self) -> Result<Tensor<'t>, DistError> {
        let mut keep = self.batch.dims().to_vec();
        keep.push(1);
        Ok(self.total()?.reshape(&keep)?)
    }

    /// The per-row normalizer ln n! + ln Γ(α₀) − ln Γ(n + α₀) and its derivative in α₀.
    fn row_norm(n: f64) -> impl Fn(f64) -> (f64, f64) {
        move |a0| {
            (
                lgamma(n + 1.0) - special::lgamma_diff(a0, n),
                -special::digamma_diff(a0, n),
            )
        }
    }

    /// The moments: `f(q, s)` with q = αₖ/α₀, s = α₀ returns (value, ∂/∂q, ∂/∂s at fixed q).
    fn moment(&self, f: impl Fn(f64, f64) -> (f64, f64, f64)) -> Result<Tensor<'t>, DistError> {
        let t = self.concentration.tape();
        Ok(
            t.fused_map([self.concentration, self.total_keep()?], |_, [a, s]| {
                let q = a / s;
                let (v, dq, ds) = f(q, s);
                // q = a/s: ∂q/∂a = 1/s, ∂q/∂s = −q/s
                (v, [dq / s, ds - dq * q / s])
            })?,
        )
    }
}

/// ln Γ(x + α) − ln Γ(α) − ln x! and its partials (value, α).
fn term([x, a]: [f64; 2]) -> (f64, [f64; 2]) {
    if x == 0.0 || !util::is_count(x) {
        // a zero count contributes nothing; a row with an invalid count is masked to −∞
        return (0.0, [0.0; 2]);
    }
    (
        special::lgamma_diff(a, x) - lgamma(x + 1.0),
        [0.0, special::digamma_diff(a, x)],
    )
}

impl<'t> Kernel<'t> for DirichletMultinomialK<'t> {

    fn event_shape(&self) -> Shape {
        Shape::vector(self.k)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let n = self.total_count;
        let (full, out, ok) = count_rows(NAME, value, self.concentration, self.k, n)?;
        let tape = value.tape();
        let terms = tape.fused_map([value, self.concentration], |_, a| term(a))?;
        let sums = terms.sum_axis(full.ndim() - 1)?;
        let ok = util::constant(
            tape,
            out,
            ok.iter().map(|&b| f64::from(u8::from(b))).collect(),
        )?;
        let norm = Self::row_norm(n as f64);
        Ok(tape.fused_map([sums, self.total()?, ok], |_, [s, a0, ok]| {
            if ok == 1.0 {
                let (c, dc) = norm(a0);
                (s + c, [1.0, dc, 0.0])
            } else {
                (f64::NEG_INFINITY, [0.0; 3])
            }
        })?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let n = self.total_count;
        let (_, out, ok) = count_rows(NAME, value, self.concentration, self.k, n)?;
        let tape = value.tape();
        if ok.iter().any(|b| !b) {
            return Ok(util::scalar(tape, f64::NEG_INFINITY).sum());
        }
        let s = tape.fused_sum([value, self.concentration], |_, a| term(a))?;
        // each batch element's normalizer, once per row of the value that it serves
        let reps = (out.numel() / self.batch.numel().max(1)) as f64;
        let norm = Self::row_norm(n as f64);
        let c = tape.fused_sum([self.total()?], |_, [a0]| {
            let (c, dc) = norm(a0);
            (reps * c, [reps * dc])
        })?;
        Ok(s + c)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let a = self.concentration.to_vec();
        let mut x = Vec::with_capacity(a.len());
        let mut l = Vec::with_capacity(self.k);
        for row in a.chunks(self.k) {
            l.clear();
            for &ai in row {
                l.push(ln_standard_gamma(rng, ai, NAME)?);
            }
            // p ∝ exp(l), shifted by the largest log-gamma
            let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let q: Vec<f64> = l.iter().map(|v| (v - m).exp()).collect();
            sample_counts(rng, NAME, self.total_count, &q, &mut x)?;
        }
        util::draws(NAME, self.concentration.shape(), x)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let n = self.total_count as f64;
        self.moment(|q, _| (n * q, n, 0.0))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let n = self.total_count as f64;
        self.moment(|q, s| {
            // n q(1 − q) · r(s), r = (n + s)/(1 + s), r′ = (1 − n)/(1 + s)²
            let r = (n + s) / (1.0 + s);
            let dr = (1.0 - n) / ((1.0 + s) * (1.0 + s));
            let b = n * q * (1.0 - q);
            (b * r, n * (1.0 - 2.0 * q) * r, b * dr)
        })
    }
}
