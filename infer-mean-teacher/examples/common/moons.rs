//! Two moons, a 2-32-32-2 tanh MLP on infer-ad, and five training methods: supervised only
//! (with and without input noise), mean teacher (Tarvainen & Valpola 2017) with input noise or
//! with the virtual adversarial perturbation (Miyato et al. 2018), and VAT without a teacher.
//! Shared by `examples/two_moons.rs`, the bench `benches/step.rs` and the integration test.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{AdError, ParamId, ParamStore, Tape, Tensor};
use infer_mean_teacher::{
    Constants, EmaSettings, MeanTeacher, cosine_rampdown, gaussian_noise, kl_consistency,
    masked_cross_entropy, sigmoid_rampup, virtual_adversarial,
};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::error::Error;
use std::ops::Index;

/// The data of one experiment.
pub struct Moons {
    /// Labelled inputs (rows).
    pub x_lab: Array2<f64>,
    /// Classes of the labelled inputs.
    pub y_lab: Vec<usize>,
    /// Unlabelled inputs.
    pub x_unl: Array2<f64>,
    /// Test inputs.
    pub x_test: Array2<f64>,
    /// Test classes.
    pub y_test: Vec<usize>,
}

/// `n` points of the two-moons distribution (classes alternate), Gaussian noise of sd `noise`.
fn moons(n: usize, noise: f64, rng: &mut StdRng) -> (Array2<f64>, Vec<usize>) {
    let eps = Normal::new(0.0, noise).expect("noise sd is positive");
    let mut x = Array2::zeros((n, 2));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let t = rng.random::<f64>() * std::f64::consts::PI;
        let (a, b) = if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        x[[i, 0]] = a + eps.sample(rng);
        x[[i, 1]] = b + eps.sample(rng);
        y.push(class);
    }
    (x, y)
}

impl Moons {
    /// `n_lab` labelled (half per class), `n_unl` unlabelled and `n_test` test points.
    pub fn generate(n_lab: usize, n_unl: usize, n_test: usize, noise: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let (x_lab, y_lab) = moons(n_lab, noise, &mut rng);
        let (x_unl, _) = moons(n_unl, noise, &mut rng);
        let (x_test, y_test) = moons(n_test, noise, &mut rng);
        Moons {
            x_lab,
            y_lab,
            x_unl,
            x_test,
            y_test,
        }
    }
}

/// The training methods compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Cross-entropy on the labelled points only.
    Supervised,
    /// The same with Gaussian input noise (the honest baseline).
    SupervisedNoise,
    /// Mean teacher, student and teacher inputs with independent Gaussian noise.
    MeanTeacherNoise,
    /// Mean teacher, student input perturbed adversarially against the teacher's prediction.
    MeanTeacherAdversarial,
    /// Virtual adversarial training: the student against its own (detached) prediction.
    Vat,
}

impl Method {
    /// All methods, in table order.
    pub const ALL: [Method; 5] = [
        Method::Supervised,
        Method::SupervisedNoise,
        Method::MeanTeacherNoise,
        Method::MeanTeacherAdversarial,
        Method::Vat,
    ];

    /// Column title.
    pub fn name(self) -> &'static str {
        match self {
            Method::Supervised => "supervised",
            Method::SupervisedNoise => "supervised + noise",
            Method::MeanTeacherNoise => "mean teacher + noise",
            Method::MeanTeacherAdversarial => "mean teacher + adversarial",
            Method::Vat => "VAT (no teacher)",
        }
    }

    fn uses_teacher(self) -> bool {
        matches!(
            self,
            Method::MeanTeacherNoise | Method::MeanTeacherAdversarial
        )
    }

    fn uses_unlabelled(self) -> bool {
        !matches!(self, Method::Supervised | Method::SupervisedNoise)
    }
}

/// Training settings (one set for every method; each method uses the fields it needs).
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    /// Optimizer steps (full batch of labelled points + a minibatch of unlabelled ones).
    pub steps: usize,
    /// Adam's learning rate (cosine ramp-down to 0 over the run).
    pub lr: f64,
    /// Unlabelled points per minibatch.
    pub batch: usize,
    /// Sd of the Gaussian input noise.
    pub input_noise: f64,
    /// Maximum consistency weight.
    pub consistency: f64,
    /// Length of the sigmoid ramp-up of the consistency weight, in steps.
    pub rampup: usize,
    /// EMA α_max of the teacher.
    pub alpha_max: f64,
    /// ξ of the adversarial perturbation.
    pub xi: f64,
    /// ε of the adversarial perturbation.
    pub eps: f64,
}

/// The settings of the demonstration, tuned on seeds 100–104 (data seeds 1100–1104).
impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 3000,
            lr: 0.01,
            batch: 100,
            input_noise: 0.15,
            consistency: 10.0,
            rampup: 1000,
            alpha_max: 0.9,
            xi: 1e-6,
            eps: 0.3,
        }
    }
}

/// Parameter ids of the MLP.
#[derive(Clone, Copy)]
pub struct Mlp {
    w: [ParamId; 3],
    b: [ParamId; 3],
}

impl Mlp {
    /// A 2-32-32-2 MLP with PyTorch's default `Linear` initialisation.
    pub fn new(store: &mut ParamStore, rng: &mut StdRng) -> Result<Self, Box<dyn Error>> {
        let sizes = [2, 32, 32, 2];
        let (mut w, mut b) = (Vec::new(), Vec::new());
        for l in 0..3 {
            let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
            let bound = (1.0 / fan_in as f64).sqrt();
            let init =
                Array2::from_shape_fn((fan_in, fan_out), |_| rng.random_range(-bound..bound));
            w.push(store.add(format!("w{l}"), init)?);
            let bias = Array1::from_shape_fn(fan_out, |_| rng.random_range(-bound..bound));
            b.push(store.add(format!("b{l}"), bias)?);
        }
        Ok(Mlp {
            w: [w[0], w[1], w[2]],
            b: [b[0], b[1], b[2]],
        })
    }

    /// Logits for the inputs `x` (rows), with tracked or constant parameters.
    pub fn forward<'t, P: Index<ParamId, Output = Tensor<'t>>>(
        &self,
        p: &P,
        x: Tensor<'t>,
    ) -> Result<Tensor<'t>, AdError> {
        let h = (x.matmul(p[self.w[0]])? + p[self.b[0]]).tanh();
        let h = (h.matmul(p[self.w[1]])? + p[self.b[1]]).tanh();
        Ok(h.matmul(p[self.w[2]])? + p[self.b[2]])
    }

    /// Logits of the network with the weights of `store`, without gradients.
    pub fn predict(&self, store: &ParamStore, x: &Array2<f64>) -> Result<Array2<f64>, AdError> {
        let tape = Tape::new();
        let p = Constants::bind(store, &tape);
        let z = self.forward(&p, tape.constant(x))?.value();
        Ok(z.into_dimensionality().expect("logits are a matrix"))
    }
}

/// Fraction of rows of `x` whose arg-max logit is the class in `y`.
pub fn accuracy(mlp: &Mlp, store: &ParamStore, x: &Array2<f64>, y: &[usize]) -> f64 {
    let z = mlp.predict(store, x).expect("shapes are fixed");
    let ok = y
        .iter()
        .enumerate()
        .filter(|&(i, &c)| usize::from(z[[i, 1]] > z[[i, 0]]) == c)
        .count();
    ok as f64 / y.len() as f64
}

/// A trained network: the MLP and the weights used for prediction (the teacher's for mean
/// teacher, the student's otherwise).
pub struct Trained {
    /// The network.
    pub mlp: Mlp,
    /// Its weights.
    pub weights: ParamStore,
}

/// Trains one MLP with `method` (seed `seed` for initial weights, minibatches and noise).
pub fn train(
    data: &Moons,
    method: Method,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<Trained, Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut student = ParamStore::new();
    let mlp = Mlp::new(&mut student, &mut rng)?;
    let ema = EmaSettings {
        alpha_max: cfg.alpha_max,
        ..EmaSettings::default()
    };
    let mut teacher = MeanTeacher::new(ema, &student)?;
    let mut adam = Adam::new(AdamConfig {
        lr: cfg.lr,
        ..AdamConfig::default()
    })?;
    let n_lab = data.x_lab.nrows();
    let n_unl = if method.uses_unlabelled() {
        cfg.batch
    } else {
        0
    };
    // Each batch: all labelled rows, then n_unl unlabelled rows (label None).
    let mut labels: Vec<Option<usize>> = data.y_lab.iter().map(|&y| Some(y)).collect();
    labels.resize(n_lab + n_unl, None);
    let mut x = Array2::<f64>::zeros((n_lab + n_unl, 2));
    x.slice_mut(ndarray::s![..n_lab, ..]).assign(&data.x_lab);
    let mut tape = Tape::new();
    for step in 0..cfg.steps {
        for r in n_lab..n_lab + n_unl {
            let j = rng.random_range(0..data.x_unl.nrows());
            x.row_mut(r).assign(&data.x_unl.row(j));
        }
        let noise = match method {
            Method::Supervised | Method::MeanTeacherAdversarial | Method::Vat => 0.0,
            _ => cfg.input_noise,
        };
        let x_student = gaussian_noise(&x, noise, &mut rng)?;
        let weight = cfg.consistency * sigmoid_rampup(step as f64, cfg.rampup as f64)?;
        // the adversarial methods: the target and r_adv (one extra forward + backward pass)
        let adversarial = match method {
            Method::MeanTeacherAdversarial | Method::Vat => {
                let target = if method == Method::Vat {
                    mlp.predict(&student, &x)?
                } else {
                    mlp.predict(teacher.teacher(), &x)?
                };
                let vat = virtual_adversarial(&x, &target, cfg.xi, cfg.eps, &mut rng, |t, i| {
                    mlp.forward(&Constants::bind(&student, t), i)
                })?;
                Some((target, x.clone() + vat.perturbation))
            }
            _ => None,
        };
        tape.clear();
        let s = student.bind(&tape);
        let logits = mlp.forward(&s, tape.constant(&x_student))?;
        let mut loss = masked_cross_entropy(logits, &labels)?;
        if method == Method::MeanTeacherNoise {
            let t = teacher.bind_teacher(&tape);
            let x_teacher = gaussian_noise(&x, noise, &mut rng)?;
            let teacher_logits = mlp.forward(&t, tape.constant(&x_teacher))?;
            loss = loss + kl_consistency(logits, teacher_logits)? * weight;
        }
        if let Some((target, x_adv)) = &adversarial {
            let adv_logits = mlp.forward(&s, tape.constant(x_adv))?;
            loss = loss + kl_consistency(adv_logits, tape.constant(target))? * weight;
        }
        loss.backward();
        student.zero_grads();
        student.accumulate_grads(&s)?;
        adam.set_lr(cfg.lr * cosine_rampdown(step as f64, cfg.steps as f64)?)?;
        adam.step(&mut student)?;
        if method.uses_teacher() {
            teacher.update(&student)?;
        }
    }
    let weights = if method.uses_teacher() {
        teacher.teacher().clone()
    } else {
        student
    };
    Ok(Trained { mlp, weights })
}

/// Test accuracy of one method on one data set.
pub fn run(
    data: &Moons,
    method: Method,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<f64, Box<dyn Error>> {
    let t = train(data, method, cfg, seed)?;
    Ok(accuracy(&t.mlp, &t.weights, &data.x_test, &data.y_test))
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}
