//! The logistic regression shared by the examples `vi_logistic` and `vi_tape_growth`:
//! simulated data (an intercept and two standard-normal features) and the negative ELBO of a
//! mean-field Normal guide.

use infer::ad::{Tape, Tensor, Var};
use infer::dist::{Bernoulli, Distribution, Normal, Reparameterizable};
use infer::loss::{LossError, vi_loss};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};

/// The number of coefficients, the intercept's included.
pub const D: usize = 3;
/// The prior sd of each coefficient.
pub const PRIOR_SD: f64 = 2.0;
/// The coefficients the data are simulated from.
pub const TRUE_W: [f64; D] = [0.5, 1.0, -2.0];

/// `n` simulated observations (fixed seed): the design matrix (first column 1) and 0/1
/// outcomes.
pub fn data(n: usize) -> (Array2<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut x = Array2::zeros((n, D));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        x[[i, 0]] = 1.0;
        for j in 1..D {
            x[[i, j]] = StandardNormal.sample(&mut rng);
        }
        let eta: f64 = (0..D).map(|j| x[[i, j]] * TRUE_W[j]).sum();
        let u: f64 = rand::Rng::random(&mut rng);
        y[i] = if u < 1.0 / (1.0 + (-eta).exp()) {
            1.0
        } else {
            0.0
        };
    }
    (x, y)
}

/// The negative ELBO of one draw w ~ q = N(loc, scale): prior N(0, 2²), y ~ Bernoulli(logits
/// = X w).
pub fn loss<'t>(
    tape: &'t Tape,
    loc: Tensor<'t>,
    scale: Tensor<'t>,
    x: &Array2<f64>,
    y: &Array1<f64>,
    rng: &mut StdRng,
) -> Result<Var<'t>, LossError> {
    let q = Normal::new(loc, scale)?;
    let w = q.rsample(rng)?;
    let prior = Normal::new(tape.var(0.0), tape.var(PRIOR_SD))?;
    let lik = Bernoulli::from_logits(tape.constant(x).matvec(w)?)?;
    let ps: [&dyn Distribution; 2] = [&prior, &lik];
    let qs: [&dyn Distribution; 2] = [&q, &lik];
    vi_loss(&ps, &qs, &[w, tape.constant(y)], &[false, true], 1.0)
}
