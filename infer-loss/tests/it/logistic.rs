//! A logistic regression shared by the training-loop tests: N = 200 observations, an
//! intercept and two standard-normal features, true coefficients (0.5, 1.0, −2.0), a
//! N(0, 2²) prior on each coefficient, and a mean-field Normal guide.
//!
//! The reference for a fitted guide is computed here independently of the crate under
//! test, in plain f64: the posterior mode by Newton's method, and the Hessian H of the
//! negative log posterior there. For a Gaussian posterior the mean-field Normal that
//! minimizes KL(q ‖ p) has the mode as its mean and 1/√H_jj as its sds (the conditional
//! sds; Bishop 2006, §10.1.2); the logistic posterior with N = 200 is close to Gaussian, so
//! the fitted guide lies near these values (the tolerances of the tests that use it allow
//! for the difference).

use infer_ad::{Tape, Tensor, Var};
use infer_dist::{Bernoulli, Distribution, Normal, Reparameterizable};
use infer_loss::{LossError, vi_loss};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};

pub const N: usize = 2000;
pub const D: usize = 3;
pub const PRIOR_SD: f64 = 2.0;
const TRUE_W: [f64; D] = [0.5, 1.0, -2.0];

/// The design matrix (first column 1) and the 0/1 outcomes, from a fixed seed.
pub fn data() -> (Array2<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut x = Array2::zeros((N, D));
    let mut y = Array1::zeros(N);
    for i in 0..N {
        x[[i, 0]] = 1.0;
        for j in 1..D {
            x[[i, j]] = StandardNormal.sample(&mut rng);
        }
        let eta: f64 = (0..D).map(|j| x[[i, j]] * TRUE_W[j]).sum();
        let p = 1.0 / (1.0 + (-eta).exp());
        let u: f64 = rand::Rng::random(&mut rng);
        y[i] = if u < p { 1.0 } else { 0.0 };
    }
    (x, y)
}

/// The negative ELBO of one reparameterized draw: prior N(0, 2²) on w, q = N(loc, scale),
/// y ~ Bernoulli(logits = X w), through `vi_loss`.
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
    let y = tape.constant(y);
    let ps: [&dyn Distribution; 2] = [&prior, &lik];
    let qs: [&dyn Distribution; 2] = [&q, &lik];
    vi_loss(&ps, &qs, &[w, y], &[false, true], 1.0)
}

/// The posterior mode and the mean-field sds 1/√H_jj at the mode (see the module docs).
pub fn reference(x: &Array2<f64>, y: &Array1<f64>) -> ([f64; D], [f64; D]) {
    let mut w = [0.0; D];
    let mut h = [[0.0; D]; D];
    for _ in 0..50 {
        // gradient and Hessian of the negative log posterior
        let mut g = [0.0; D];
        h = [[0.0; D]; D];
        for j in 0..D {
            g[j] = w[j] / (PRIOR_SD * PRIOR_SD);
            h[j][j] = 1.0 / (PRIOR_SD * PRIOR_SD);
        }
        for i in 0..N {
            let eta: f64 = (0..D).map(|j| x[[i, j]] * w[j]).sum();
            let p = 1.0 / (1.0 + (-eta).exp());
            for j in 0..D {
                g[j] += (p - y[i]) * x[[i, j]];
                for k in 0..D {
                    h[j][k] += p * (1.0 - p) * x[[i, j]] * x[[i, k]];
                }
            }
        }
        let step = solve(h, g);
        for j in 0..D {
            w[j] -= step[j];
        }
    }
    let mut sd = [0.0; D];
    for j in 0..D {
        sd[j] = 1.0 / h[j][j].sqrt();
    }
    (w, sd)
}

/// Solves `a x = b` by Gaussian elimination (a is symmetric positive definite).
fn solve(mut a: [[f64; D]; D], mut b: [f64; D]) -> [f64; D] {
    for c in 0..D {
        for r in c + 1..D {
            let f = a[r][c] / a[c][c];
            for k in c..D {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; D];
    for r in (0..D).rev() {
        let s: f64 = (r + 1..D).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}
