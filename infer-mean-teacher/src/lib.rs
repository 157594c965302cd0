//! # infer-mean-teacher: weight-averaged consistency targets (mean teacher)
//!
//! Mean teacher (Tarvainen & Valpola 2017) trains a *student* network on labelled data plus a
//! consistency cost between its predictions and those of a *teacher* whose weights are an
//! exponential moving average of the student's:
//!
//! * [`MeanTeacher`] holds the teacher: `θ'ₜ = α θ'ₜ₋₁ + (1 − α) θₜ` after each optimizer
//!   step, `α = min(1 − 1/(t + 1), α_max)` ([`ema_alpha`]), configured by [`EmaSettings`]
//!   (α_max, bias correction, update every N steps, start after S steps). It works over any
//!   [`ParameterSet`]: infer-ad's [`ParamStore`](infer_ad::ParamStore), a
//!   `BTreeMap<String, ArrayD<f64>>` or a `Vec<(String, ArrayD<f64>)>`.
//! * The teacher is read with [`MeanTeacher::teacher`], placed on a tape as untracked
//!   constants with [`MeanTeacher::bind_teacher`] (it never receives gradients), or swapped
//!   into the student's place for one evaluation with [`MeanTeacher::with_teacher`].
//! * Consistency costs on the tape, teacher side detached: [`softmax_mse`] (the paper's squared
//!   error of class probabilities divided by the number of classes) and [`kl_consistency`]
//!   (KL(teacher ‖ student)); weight schedules [`sigmoid_rampup`] (`exp(−5 (1 − t/T)²)`),
//!   [`cosine_rampdown`] and [`linear_rampup`].
//! * Perturbations of the student's input for the consistency term ([`Perturbation`]):
//!   [`gaussian_noise`] and the virtual adversarial perturbation [`virtual_adversarial`]
//!   (Miyato et al. 2018; one extra forward and backward pass per batch); the supervised
//!   term [`masked_cross_entropy`] (labelled rows only, from log-softmax).
//! * [`MeanTeacher::save`] / [`MeanTeacher::load`] persist the state for bit-identical resumption
//!   (a versioned JSON document written with `serde`; states of the older binary format still
//!   load).
//!
//! ```
//! use infer_ad::{ParamStore, Tape, optim::{Adam, AdamConfig, Optimizer}};
//! use infer_mean_teacher::{EmaSettings, MeanTeacher, sigmoid_rampup, softmax_mse};
//! use std::sync::Arc;
//!
//! let mut student = ParamStore::new();
//! let w = student.add("w", ndarray::array![[0.5, -0.5], [0.1, 0.2]])?;
//! let mut teacher = MeanTeacher::new(EmaSettings::default(), &student)?;
//! let mut adam = Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() })?;
//! let x = Arc::new(ndarray::array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
//! let mut tape = Tape::new();
//! for step in 0..10 {
//!     tape.clear();
//!     let s = student.bind(&tape);
//!     let t = teacher.bind_teacher(&tape); // constants: no gradient reaches the teacher
//!     let student_logits = tape.data_matmul(&x, s[w])?;
//!     let teacher_logits = tape.data_matmul(&x, t[w])?;
//!     let weight = 10.0 * sigmoid_rampup(step as f64, 5.0)?;
//!     let loss = softmax_mse(student_logits, teacher_logits)? * weight;
//!     loss.backward();
//!     student.zero_grads();
//!     student.accumulate_grads(&s)?;
//!     adam.step(&mut student)?;
//!     teacher.update(&student)?;
//! }
//! assert_eq!(teacher.step(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models: weight-averaged
//! consistency targets improve semi-supervised deep learning results. NeurIPS.
#![forbid(unsafe_code)]

mod consistency;
mod ema;
mod error;
mod params;
mod persist;
mod perturb;
mod ramp;
mod settings;
mod teacher;

pub use consistency::{kl_consistency, masked_cross_entropy, softmax_mse};
pub use ema::{MeanTeacher, UpdateOutcome};
pub use error::MeanTeacherError;
pub use params::ParameterSet;
pub use perturb::{Perturbation, VatStep, gaussian_noise, kl_and_grad, virtual_adversarial};
pub use ramp::{cosine_rampdown, linear_rampup, sigmoid_rampup};
pub use settings::{EmaSettings, ema_alpha};
pub use teacher::Constants;
