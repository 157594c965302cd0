//! [`Svi`]: one optimization step of the seed's VI loop, with the tape cleared and reused.

use crate::LossError;
use crate::particles::mean_over_particles;
use infer_ad::optim::{LearningRate, LrSchedule, Optimizer};
use infer_ad::{Bound, ParamStore, Tape, Var};

/// The seed's training loop as a step function (Pyro's `SVI.step`): it owns an optimizer and
/// a tape, and each [`Svi::step`] clears the tape, binds the parameters, computes the loss
/// (averaged over [`Svi::num_particles`] calls of the loss closure), runs the backward pass,
/// collects the gradients and takes one optimizer step.
///
/// Clearing is the point: a hand-written loop that forgets `tape.clear()` keeps every earlier
/// step's recording, and since each backward pass walks the whole recording every step is
/// slower than the last (see [`infer_ad::Tape::binds_since_clear`]). The tape's buffers keep
/// their capacity, so a steady-state step allocates only what the loss closure does.
///
/// One step is exactly the hand-written loop of [`crate::vi_loss`]'s documentation: with one
/// particle, the same parameters, optimizer and draws give bit-identical results.
///
/// # Examples
/// The seed's loop, with a positive-constrained guide scale and a cosine schedule:
/// ```
/// use infer_ad::optim::{Adam, AdamConfig, CosineAnnealingLr, LrSchedule};
/// use infer_ad::{ParamConstraint, ParamStore};
/// use infer_dist::{Cauchy, Normal, Reparameterizable};
/// use infer_loss::{Svi, vi_loss};
/// use rand::SeedableRng;
/// let mut store = ParamStore::new();
/// let loc = store.add("loc", ndarray::arr1(&[1.0]))?;
/// let scale = store.add_constrained("scale", ndarray::arr1(&[1.0]), ParamConstraint::positive())?;
/// let schedule = CosineAnnealingLr::new(0.05, 500, 0.0)?;
/// let mut svi = Svi::new(Adam::new(AdamConfig::default())?).with_num_particles(4)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// for _ in 0..500 {
///     let lr = schedule.lr_at(svi.steps());
///     svi.optimizer_mut().set_lr(lr)?;
///     svi.step(&mut store, |tape, p| {
///         let prior = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
///         let q = Normal::new(p[loc], p[scale])?;
///         let x = q.rsample(&mut rng)?;
///         vi_loss(&[&prior], &[&q], &[x], &[false], 1.0)
///     })?;
/// }
/// // the Normal closest to Cauchy(0, 1) in KL(q ‖ p) has loc 0 and scale ≈ 1.6
/// assert!(store.value(loc)[0].abs() < 0.3);
/// assert!((store.constrained_value(scale)[0] - 1.6).abs() < 0.4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Svi<O> {
    tape: Tape,
    optimizer: O,
    num_particles: usize,
    steps: u64,
    /// Sets the optimizer's learning rate for an epoch ([`Svi::with_schedule`]).
    schedule: Option<ScheduleFn<O>>,
}

/// A learning-rate schedule applied to an optimizer `O` at an epoch.
type ScheduleFn<O> = Box<dyn Fn(&mut O, u64) -> Result<(), infer_ad::AdError> + Send + Sync>;

impl<O: std::fmt::Debug> std::fmt::Debug for Svi<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Svi")
            .field("tape", &self.tape)
            .field("optimizer", &self.optimizer)
            .field("num_particles", &self.num_particles)
            .field("steps", &self.steps)
            .field("schedule", &self.schedule.is_some())
            .finish()
    }
}

impl<O: Optimizer + LearningRate> Svi<O> {
    /// Sets the learning rate from `schedule` before every step: `schedule.lr_at(steps)`,
    /// `steps` counting the successful steps so far — exactly the hand-written loop
    /// `optimizer.set_lr(schedule.lr_at(svi.steps()))` before each [`Svi::step`] (same
    /// results, bit for bit).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig, StepLr};
    /// use infer_ad::ParamStore;
    /// let mut store = ParamStore::new();
    /// let w = store.add("w", ndarray::arr1(&[1.0]))?;
    /// let mut svi = infer_loss::Svi::new(Sgd::new(SgdConfig::default())?)
    ///     .with_schedule(StepLr::new(0.1, 1, 0.5)?);
    /// svi.step(&mut store, |_, p| Ok(p[w].square().sum()))?; // lr 0.1: w = 1 − 0.1·2
    /// svi.step(&mut store, |_, p| Ok(p[w].square().sum()))?; // lr 0.05
    /// assert_eq!(svi.optimizer().config().lr, 0.05);
    /// assert!((store.value(w)[0] - 0.8 * 0.9).abs() < 1e-15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_schedule(mut self, schedule: impl LrSchedule + Send + Sync + 'static) -> Self {
        self.schedule = Some(Box::new(move |opt: &mut O, epoch| {
            opt.set_learning_rate(schedule.lr_at(epoch))
        }));
        self
    }
}

impl<O: Optimizer> Svi<O> {
    /// A step helper with one particle.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig};
    /// let svi = infer_loss::Svi::new(Sgd::new(SgdConfig::default())?);
    /// assert_eq!((svi.num_particles(), svi.steps()), (1, 0));
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn new(optimizer: O) -> Self {
        Svi {
            tape: Tape::new(),
            optimizer,
            num_particles: 1,
            steps: 0,
            schedule: None,
        }
    }

    /// Averages each step's loss over `num_particles` calls of the loss closure (see
    /// [`crate::mean_over_particles`]).
    ///
    /// # Errors
    /// [`LossError::InvalidArgument`] for 0.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig};
    /// use infer_loss::{LossError, Svi};
    /// let svi = Svi::new(Adam::new(AdamConfig::default())?);
    /// assert!(matches!(svi.with_num_particles(0), Err(LossError::InvalidArgument { .. })));
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn with_num_particles(mut self, num_particles: usize) -> Result<Self, LossError> {
        if num_particles == 0 {
            return Err(LossError::InvalidArgument {
                name: "num_particles",
                value: 0.0,
                expected: "at least 1",
            });
        }
        self.num_particles = num_particles;
        Ok(self)
    }

    /// The number of particles per step.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig};
    /// let svi = infer_loss::Svi::new(Adam::new(AdamConfig::default())?).with_num_particles(8)?;
    /// assert_eq!(svi.num_particles(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn num_particles(&self) -> usize {
        self.num_particles
    }

    /// The number of steps taken (failed steps do not count): the epoch to pass to a
    /// learning-rate schedule ([`infer_ad::optim::LrSchedule::lr_at`]).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig};
    /// use infer_ad::ParamStore;
    /// let mut store = ParamStore::new();
    /// let w = store.add("w", ndarray::arr1(&[1.0]))?;
    /// let mut svi = infer_loss::Svi::new(Sgd::new(SgdConfig::default())?);
    /// svi.step(&mut store, |_, p| Ok(p[w].square().sum()))?;
    /// assert_eq!(svi.steps(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The optimizer.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig};
    /// let svi = infer_loss::Svi::new(Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() })?);
    /// assert_eq!(svi.optimizer().config().lr, 0.01);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutably (to set its learning rate from a schedule).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig, ExponentialLr, LrSchedule};
    /// let mut svi = infer_loss::Svi::new(Adam::new(AdamConfig::default())?);
    /// let decay = ExponentialLr::new(0.1, 0.5)?;
    /// let lr = decay.lr_at(svi.steps());
    /// svi.optimizer_mut().set_lr(lr)?;
    /// assert_eq!(svi.optimizer().config().lr, 0.1);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// The tape (for inspection: its capacity, its size after the last step).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig};
    /// use infer_ad::ParamStore;
    /// let mut store = ParamStore::new();
    /// let w = store.add("w", ndarray::arr1(&[1.0]))?;
    /// let mut svi = infer_loss::Svi::new(Sgd::new(SgdConfig::default())?);
    /// for _ in 0..3 {
    ///     svi.step(&mut store, |_, p| Ok(p[w].square().sum()))?;
    /// }
    /// assert_eq!(svi.tape().binds_since_clear(), 1); // cleared before every step
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// One optimization step: clear the tape, bind `store`'s parameters to it, call `loss`
    /// [`Svi::num_particles`] times and average, backward, replace the store's gradients by
    /// the loss's, and one optimizer step. `loss` receives the tape and the bound parameters
    /// (indexing gives constrained parameters on their constrained scale) and returns the
    /// loss of one particle; its `?` converts the errors of infer-ad and infer-dist. Returns
    /// the loss's value.
    ///
    /// # Errors
    /// The loss closure's error; [`LossError::NonFiniteLoss`] when the (averaged) loss is NaN
    /// or ±∞; [`LossError::Ad`] from the optimizer ([`infer_ad::AdError::NonFinite`] for a
    /// non-finite gradient or value) or from collecting the gradients. On any error the
    /// parameters, the optimizer's state and [`Svi::steps`] are unchanged.
    ///
    /// # Examples
    /// A guide that diverges is reported, not applied:
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig};
    /// use infer_ad::ParamStore;
    /// use infer_loss::{LossError, Svi};
    /// let mut store = ParamStore::new();
    /// let w = store.add("w", ndarray::arr1(&[-1.0]))?;
    /// let mut svi = Svi::new(Sgd::new(SgdConfig::default())?);
    /// let err = svi.step(&mut store, |_, p| Ok(p[w].sqrt().sum())); // √−1
    /// assert!(matches!(err, Err(LossError::NonFiniteLoss { step: 0, .. })));
    /// assert_eq!(store.value(w)[0], -1.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step<F>(&mut self, store: &mut ParamStore, mut loss: F) -> Result<f64, LossError>
    where
        F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, LossError>,
    {
        self.tape.clear();
        let tape = &self.tape;
        let bound = store.bind(tape);
        let total = mean_over_particles(self.num_particles, |_| loss(tape, &bound))?;
        let value = total.value();
        if !value.is_finite() {
            return Err(LossError::NonFiniteLoss {
                step: self.steps,
                value,
            });
        }
        total.backward();
        store.zero_grads();
        store.accumulate_grads(&bound)?;
        if let Some(set) = &self.schedule {
            set(&mut self.optimizer, self.steps)?;
        }
        self.optimizer.step(store)?;
        self.steps += 1;
        Ok(value)
    }
}
