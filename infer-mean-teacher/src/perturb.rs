//! Input perturbations for the consistency term: Gaussian input noise and the virtual
//! adversarial perturbation of Miyato et al. (2018).

use crate::consistency::kl_consistency;
use crate::error::MeanTeacherError;
use infer_ad::{AdError, Tape, Tensor};
use ndarray::{Array2, ArrayD, Ix2};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// How the student's input is perturbed in the consistency term.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Perturbation {
    /// No perturbation.
    None,
    /// Gaussian input noise `x + σ z`, `z ~ N(0, I)`, see [`gaussian_noise`].
    Gaussian {
        /// Standard deviation σ ≥ 0.
        sd: f64,
    },
    /// The virtual adversarial perturbation, see [`virtual_adversarial`].
    Adversarial {
        /// Size ξ > 0 of the random starting point of the power iteration.
        xi: f64,
        /// Size ε ≥ 0 of the returned perturbation (per row).
        eps: f64,
    },
}

fn check(name: &'static str, value: f64, positive: bool) -> Result<(), MeanTeacherError> {
    let ok = value.is_finite() && if positive { value > 0.0 } else { value >= 0.0 };
    if ok {
        Ok(())
    } else {
        Err(MeanTeacherError::InvalidPerturbation {
            name,
            value,
            reason: if positive { "> 0" } else { "≥ 0" },
        })
    }
}

/// `x + σ z` with `z ~ N(0, I)` drawn from `rng`, elementwise.
///
/// # Errors
/// [`MeanTeacherError::InvalidPerturbation`] when `sd` is negative or not finite.
///
/// # Examples
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let x = ndarray::Array2::<f64>::zeros((3, 2));
/// let same = infer_mean_teacher::gaussian_noise(&x, 0.0, &mut rng)?;
/// assert_eq!(same, x);
/// let noisy = infer_mean_teacher::gaussian_noise(&x, 0.1, &mut rng)?;
/// assert!(noisy.iter().all(|v| v.abs() < 1.0));
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
pub fn gaussian_noise<R: Rng + ?Sized>(
    x: &Array2<f64>,
    sd: f64,
    rng: &mut R,
) -> Result<Array2<f64>, MeanTeacherError> {
    check("sd", sd, false)?;
    if sd == 0.0 {
        return Ok(x.clone());
    }
    Ok(x.mapv(|v| {
        let z: f64 = StandardNormal.sample(rng);
        v + sd * z
    }))
}

/// The result of [`virtual_adversarial`].
#[derive(Debug, Clone)]
pub struct VatStep {
    /// The random starting point `r₀ = ξ d/‖d‖` (each row normalised), `d ~ N(0, I)`.
    pub start: Array2<f64>,
    /// The consistency loss `D(r₀) = KL(target ‖ f(x + r₀))` (batch mean).
    pub loss_at_start: f64,
    /// Its gradient `g = ∇ᵣ D(r)` at `r = r₀`.
    pub grad: Array2<f64>,
    /// The adversarial perturbation `r_adv = ε g/‖g‖`, each row normalised separately (a row
    /// whose gradient is exactly zero gets a zero perturbation).
    pub perturbation: Array2<f64>,
}

/// Rows of `a` scaled to Euclidean norm `size` (zero rows stay zero).
fn normalize_rows(a: &Array2<f64>, size: f64) -> Array2<f64> {
    let mut out = a.clone();
    for mut row in out.rows_mut() {
        // scaled by the largest magnitude first, so tiny gradients do not underflow to 0
        let scale = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale > 0.0 && scale.is_finite() {
            let norm = row.iter().map(|v| (v / scale).powi(2)).sum::<f64>().sqrt();
            row.mapv_inplace(|v| size * (v / scale) / norm);
        } else {
            row.fill(0.0);
        }
    }
    out
}

/// Virtual adversarial perturbation (Miyato, Maeda, Koyama & Ishii 2018), one step of power
/// iteration on the tape:
///
/// 1. `r₀ = ξ d/‖d‖` with `d ~ N(0, I)` (each row, i.e. each example, normalised);
/// 2. `g = ∇ᵣ KL(target ‖ f(x + r))` at `r = r₀`, by one forward and one backward pass of
///    `forward` on a fresh tape where only `r` is tracked;
/// 3. `r_adv = ε g/‖g‖` (each row normalised).
///
/// `target_logits` are the logits the student is pulled towards (the teacher's on `x` for mean
/// teacher, the student's own on `x` for VAT); they enter as constants. `forward` maps a batch
/// of inputs to logits; bind the network's parameters inside it as constants (e.g. with
/// [`Constants::bind`](crate::Constants::bind)) so that the power iteration sends no gradient
/// to any weights.
///
/// `g` is the exact gradient of the batch-mean KL at `r₀`, so `r_adv` is an *ascent* direction
/// of the consistency loss there: the directional derivative `⟨g, r_adv⟩ = ε Σᵢ ‖gᵢ‖ ≥ 0`
/// (equivalently, a descent direction of its negative). Near `r = 0` the KL is approximately
/// the quadratic form `½ rᵀ H r` and the step approximates the dominant eigenvector of `H`.
///
/// **Cost:** one extra forward and one extra backward pass of the network per batch, on top
/// of the training step (which then evaluates the student on `x + r_adv`).
///
/// # Errors
/// [`MeanTeacherError::InvalidPerturbation`] when `xi` is not finite and positive or `eps` is
/// not finite and non-negative; [`MeanTeacherError::LogitShape`] when `forward`'s logits and
/// `target_logits` differ in shape; any error of `forward` as [`MeanTeacherError::Ad`].
///
/// # Examples
/// ```
/// use infer_mean_teacher::virtual_adversarial;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let w = ndarray::array![[1.0, -1.0], [0.5, 2.0]];
/// let x = ndarray::array![[0.3, 0.1], [-0.2, 0.4]];
/// let target = x.dot(&w); // the network's own logits on x (VAT)
/// let step = virtual_adversarial(&x, &target, 1e-6, 0.5, &mut rng, |tape, input| {
///     input.matmul(tape.constant(&w))
/// })?;
/// for row in step.perturbation.rows() {
///     assert!((row.dot(&row).sqrt() - 0.5).abs() < 1e-12);
/// }
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Miyato, T., Maeda, S., Koyama, M. & Ishii, S. (2018). Virtual adversarial training: a
/// regularization method for supervised and semi-supervised learning. IEEE TPAMI 41(8).
pub fn virtual_adversarial<R, F>(
    x: &Array2<f64>,
    target_logits: &Array2<f64>,
    xi: f64,
    eps: f64,
    rng: &mut R,
    forward: F,
) -> Result<VatStep, MeanTeacherError>
where
    R: Rng + ?Sized,
    F: for<'t> Fn(&'t Tape, Tensor<'t>) -> Result<Tensor<'t>, AdError>,
{
    check("xi", xi, true)?;
    check("eps", eps, false)?;
    let d = x.mapv(|_| StandardNormal.sample(rng));
    let start = normalize_rows(&d, xi);
    let (loss_at_start, grad) = kl_and_grad(x, target_logits, &start, forward)?;
    let perturbation = normalize_rows(&grad, eps);
    Ok(VatStep {
        start,
        loss_at_start,
        grad,
        perturbation,
    })
}

/// `KL(target ‖ f(x + r))` (batch mean) and its gradient with respect to `r`, on a fresh tape.
///
/// # Errors
/// [`MeanTeacherError::InputShape`] when `r` and `x` differ in shape; otherwise as
/// [`virtual_adversarial`].
///
/// # Examples
/// ```
/// let x = ndarray::array![[1.0, 0.0]];
/// let target = ndarray::array![[0.0, 0.0]];
/// let r = ndarray::array![[0.0, 0.0]];
/// let (kl, g) = infer_mean_teacher::kl_and_grad(&x, &target, &r, |_, input| Ok(input))?;
/// // p = softmax(1, 0), q = (½, ½): KL = ln ½ − ½ (ln p₀ + ln p₁)
/// let lse = (1.0f64.exp() + 1.0).ln();
/// assert!((kl - (0.5f64.ln() - 0.5 * ((1.0 - lse) + (0.0 - lse)))).abs() < 1e-15);
/// assert_eq!(g.dim(), (1, 2));
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
pub fn kl_and_grad<F>(
    x: &Array2<f64>,
    target_logits: &Array2<f64>,
    r: &Array2<f64>,
    forward: F,
) -> Result<(f64, Array2<f64>), MeanTeacherError>
where
    F: for<'t> Fn(&'t Tape, Tensor<'t>) -> Result<Tensor<'t>, AdError>,
{
    if r.dim() != x.dim() {
        return Err(MeanTeacherError::InputShape {
            input: x.shape().to_vec(),
            perturbation: r.shape().to_vec(),
        });
    }
    let tape = Tape::new();
    let rt = tape.tensor(r);
    let input = tape.constant(x) + rt;
    let logits = forward(&tape, input)?;
    let kl = kl_consistency(logits, tape.constant(target_logits))?;
    kl.backward();
    let grad: ArrayD<f64> = rt.grad();
    let grad = grad
        .into_dimensionality::<Ix2>()
        .map_err(|_| MeanTeacherError::LogitShape {
            student: r.shape().to_vec(),
            teacher: x.shape().to_vec(),
        })?;
    Ok((kl.value(), grad))
}
