//! Two moons, a 2-32-32-2 tanh MLP on infer-ad, and supervised-only vs mean-teacher training
//! (Tarvainen & Valpola 2017). Shared by `examples/two_moons.rs` and the integration test.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{ParamId, ParamStore, Tape, Tensor};
use infer_mean_teacher::{
    Constants, EmaSettings, MeanTeacher, cosine_rampdown, kl_consistency, sigmoid_rampup,
    softmax_mse,
};
use ndarray::{Array1, Array2, s};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, StandardNormal};
use std::error::Error;
use std::ops::Index;
use std::sync::Arc;

/// The data of one experiment.
pub struct Moons {
    /// Labelled inputs (rows) and their classes.
    pub x_lab: Array2<f64>,
    /// Classes of the labelled inputs.
    pub y_lab: Vec<usize>,
    /// Unlabelled inputs.
    pub x_unl: Array2<f64>,
    /// Test inputs.
    pub x_test: Arc<Array2<f64>>,
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
            x_test: Arc::new(x_test),
            y_test,
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Unlabelled points per minibatch (the labelled points are always all in it).
    pub unlabelled_batch: usize,
    /// Sd of the Gaussian input noise (augmentation), drawn independently for student and
    /// teacher.
    pub input_noise: f64,
    /// Maximum consistency weight (0 = supervised only).
    pub consistency: f64,
    /// Length of the sigmoid ramp-up of the consistency weight, in steps.
    pub rampup: usize,
    /// α_max during the ramp-up.
    pub alpha_max: f64,
    /// α_max after the ramp-up.
    pub alpha_max_late: f64,
    /// Anneal the learning rate to 0 with a cosine ramp-down over the run (the paper's code).
    pub lr_rampdown: bool,
    /// Use KL(teacher ‖ student) instead of the squared error of the softmax outputs.
    pub kl: bool,
}

/// Test accuracies of one run.
#[derive(Debug, Clone, Copy)]
pub struct Accuracies {
    /// The student's.
    pub student: f64,
    /// The teacher's (EMA of the student).
    pub teacher: f64,
}

/// Parameter ids of the MLP.
#[derive(Clone, Copy)]
struct Mlp {
    w: [ParamId; 3],
    b: [ParamId; 3],
}

impl Mlp {
    fn new(store: &mut ParamStore, rng: &mut StdRng) -> Result<Self, Box<dyn Error>> {
        let sizes = [2, 32, 32, 2];
        let mut w = Vec::new();
        let mut b = Vec::new();
        for l in 0..3 {
            let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
            // PyTorch's default for `nn.Linear`: U(−1/√fan_in, 1/√fan_in) for weights and biases.
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
    fn forward<'t, P: Index<ParamId, Output = Tensor<'t>>>(
        &self,
        tape: &'t Tape,
        p: &P,
        x: &Arc<Array2<f64>>,
    ) -> Result<Tensor<'t>, Box<dyn Error>> {
        let h = (tape.data_matmul(x, p[self.w[0]])? + p[self.b[0]]).tanh();
        let h = (h.matmul(p[self.w[1]])? + p[self.b[1]]).tanh();
        Ok(h.matmul(p[self.w[2]])? + p[self.b[2]])
    }
}

fn accuracy(
    mlp: &Mlp,
    store: &ParamStore,
    tape: &mut Tape,
    data: &Moons,
) -> Result<f64, Box<dyn Error>> {
    tape.clear();
    let p = Constants::bind(store, tape);
    let logits = mlp.forward(tape, &p, &data.x_test)?.value();
    let correct = data
        .y_test
        .iter()
        .enumerate()
        .filter(|&(i, &y)| {
            let pred = usize::from(logits[[i, 1]] > logits[[i, 0]]);
            pred == y
        })
        .count();
    Ok(correct as f64 / data.y_test.len() as f64)
}

fn gauss(rng: &mut StdRng) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    z
}

fn noisy(x: &Array2<f64>, sd: f64, rng: &mut StdRng) -> Arc<Array2<f64>> {
    Arc::new(x.mapv(|v| v + sd * gauss(rng)))
}

/// Trains one MLP with seed `seed` and returns the test accuracies of student and teacher.
/// With `cfg.consistency == 0` this is supervised-only training (the teacher is still tracked,
/// for reference, but does not influence the student).
pub fn train(data: &Moons, cfg: &TrainConfig, seed: u64) -> Result<Accuracies, Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut student = ParamStore::new();
    let mlp = Mlp::new(&mut student, &mut rng)?;
    let settings = EmaSettings {
        alpha_max: cfg.alpha_max,
        ..EmaSettings::default()
    };
    let mut teacher = MeanTeacher::new(settings, &student)?;
    let mut adam = Adam::new(AdamConfig {
        lr: cfg.lr,
        ..AdamConfig::default()
    })?;
    let n_lab = data.x_lab.nrows();
    let unl = if cfg.consistency > 0.0 {
        cfg.unlabelled_batch
    } else {
        0
    };
    let rows = n_lab + unl;
    // Cross-entropy targets: one-hot rows for the labelled points, zero rows for the rest.
    let mut onehot = Array2::<f64>::zeros((rows, 2));
    for (i, &y) in data.y_lab.iter().enumerate() {
        onehot[[i, y]] = 1.0;
    }
    let mut batch = Array2::<f64>::zeros((rows, 2));
    batch.slice_mut(s![..n_lab, ..]).assign(&data.x_lab);
    let mut tape = Tape::new();
    for step in 0..cfg.steps {
        for r in n_lab..rows {
            let j = rng.random_range(0..data.x_unl.nrows());
            batch.row_mut(r).assign(&data.x_unl.row(j));
        }
        let x_student = noisy(&batch, cfg.input_noise, &mut rng);
        tape.clear();
        let p = student.bind(&tape);
        let logits = mlp.forward(&tape, &p, &x_student)?;
        let targets = tape.constant(&onehot);
        let ce = (targets * logits.log_softmax(1)?).sum() * (-1.0 / n_lab as f64);
        let loss = if cfg.consistency > 0.0 {
            let x_teacher = noisy(&batch, cfg.input_noise, &mut rng);
            let t = teacher.bind_teacher(&tape);
            let teacher_logits = mlp.forward(&tape, &t, &x_teacher)?;
            let w = cfg.consistency * sigmoid_rampup(step as f64, cfg.rampup as f64)?;
            let cons = if cfg.kl {
                kl_consistency(logits, teacher_logits)?
            } else {
                softmax_mse(logits, teacher_logits)?
            };
            ce + cons * w
        } else {
            ce
        };
        loss.backward();
        student.zero_grads();
        student.accumulate_grads(&p);
        if cfg.lr_rampdown {
            adam.set_lr(cfg.lr * cosine_rampdown(step as f64, cfg.steps as f64)?);
        }
        adam.step(&mut student);
        if step == cfg.rampup {
            teacher.set_alpha_max(cfg.alpha_max_late)?;
        }
        teacher.update(&student)?;
    }
    Ok(Accuracies {
        student: accuracy(&mlp, &student, &mut tape, data)?,
        teacher: accuracy(&mlp, teacher.teacher(), &mut tape, data)?,
    })
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}
