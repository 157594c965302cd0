//! [`MeanTeacher`]: the state of the teacher's exponential moving average.

use crate::error::MeanTeacherError;
use crate::params::{ParameterSet, check_layout};
use crate::settings::{EmaSettings, check_alpha, ema_alpha};
use ndarray::{ArrayD, Zip};

/// The teacher of mean-teacher training: an exponential moving average (EMA) of the student's
/// weights, `θ'ₜ = α θ'ₜ₋₁ + (1 − α) θₜ` with `α = min(1 − 1/(t + 1), α_max)`
/// (Tarvainen & Valpola 2017).
///
/// Call [`MeanTeacher::update`] after each optimizer step of the student; read the teacher's
/// weights with [`MeanTeacher::teacher`] (a parameter set of the same type as the student,
/// usable in any forward pass), or evaluate a model with them in place of the student's with
/// [`MeanTeacher::with_teacher`]. The teacher is never handed out mutably, so it never
/// receives gradients. [`EmaSettings`] are fixed at construction (except `alpha_max`, which the
/// paper raises after the ramp-up: [`MeanTeacher::set_alpha_max`]); this struct holds the
/// mutable state. [`MeanTeacher::save`] / [`MeanTeacher::load`] persist it.
///
/// The update is computed as `θ' ← θ' + w (θ − θ')` with `w = 1 − α` (or the bias-corrected
/// weight), and as a plain copy when `w = 1`: the teacher equals the student bit for bit when
/// `α_max = 0`, and a constant student stays exactly constant.
///
/// # Examples
/// ```
/// use infer_ad::ParamStore;
/// use infer_mean_teacher::{EmaSettings, MeanTeacher};
/// let mut student = ParamStore::new();
/// let w = student.add("w", ndarray::arr1(&[0.0]))?;
/// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
/// student.value_mut(w)[0] = 1.0; // an optimizer step
/// mt.update(&student)?; // first update: α = 1/2
/// assert_eq!(mt.teacher().value(w)[0], 0.5);
/// assert_eq!(mt.step(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models: weight-averaged
/// consistency targets improve semi-supervised deep learning results. NeurIPS.
#[derive(Debug, Clone)]
pub struct MeanTeacher<P> {
    pub(crate) settings: EmaSettings,
    pub(crate) teacher: P,
    /// Optimizer steps seen (calls of `update`).
    pub(crate) step: u64,
    /// EMA updates applied (the `t` of the α schedule).
    pub(crate) ema_updates: u64,
    /// Product of the decays applied so far (for bias correction).
    pub(crate) decay_product: f64,
}

/// What one call of [`MeanTeacher::update`] did.
///
/// # Examples
/// ```
/// use infer_mean_teacher::{EmaSettings, MeanTeacher, UpdateOutcome};
/// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
/// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
/// assert_eq!(mt.update(&student)?, UpdateOutcome::Averaged { alpha: 0.5, weight: 0.5 });
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpdateOutcome {
    /// The student was copied into the teacher (before `start_after` steps).
    Copied,
    /// The EMA was applied with decay `alpha`; `weight` is the weight the student received
    /// (`1 − alpha`, or the bias-corrected weight).
    Averaged {
        /// The decay α used.
        alpha: f64,
        /// Weight given to the student's new values.
        weight: f64,
    },
    /// Not an update step (`update_every > 1`); only the step counter moved.
    Skipped,
}

impl<P: ParameterSet + Clone> MeanTeacher<P> {
    /// A teacher starting as a copy of `student` (the paper's initialisation).
    ///
    /// # Errors
    /// As [`EmaSettings::validate`].
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0, 2.0]).into_dyn())];
    /// let mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// assert_eq!(mt.teacher(), &student);
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn new(settings: EmaSettings, student: &P) -> Result<Self, MeanTeacherError> {
        settings.validate()?;
        Ok(Self::starting_from(settings, student.clone()))
    }
}

impl<P: ParameterSet> MeanTeacher<P> {
    /// A teacher starting from independent weights `teacher` (same names and shapes as
    /// `student`, in the same order). With `bias_correction` the first EMA update overwrites
    /// them with the student's, as an average started from zero does.
    ///
    /// # Errors
    /// As [`EmaSettings::validate`]; [`MeanTeacherError::CountMismatch`],
    /// [`MeanTeacherError::NameMismatch`] or [`MeanTeacherError::ShapeMismatch`] when the
    /// layouts differ.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let teacher = vec![("w".to_string(), ndarray::arr1(&[3.0]).into_dyn())];
    /// let mut mt = MeanTeacher::with_teacher_weights(EmaSettings::default(), &student, teacher)?;
    /// mt.update(&student)?;
    /// assert_eq!(mt.teacher()[0].1[0], 2.0);
    /// let wrong = vec![("v".to_string(), ndarray::arr1(&[3.0]).into_dyn())];
    /// assert!(MeanTeacher::with_teacher_weights(EmaSettings::default(), &student, wrong).is_err());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn with_teacher_weights(
        settings: EmaSettings,
        student: &P,
        teacher: P,
    ) -> Result<Self, MeanTeacherError> {
        settings.validate()?;
        check_layout(student, &teacher)?;
        Ok(Self::starting_from(settings, teacher))
    }

    /// A teacher at step 0 from the weights `teacher` (auxiliary state reset), for settings
    /// already validated.
    fn starting_from(settings: EmaSettings, mut teacher: P) -> Self {
        teacher.reset_auxiliary();
        MeanTeacher {
            settings,
            teacher,
            step: 0,
            ema_updates: 0,
            decay_product: 1.0,
        }
    }

    /// Records one optimizer step of the student and updates the teacher as the settings
    /// say: a copy before `start_after` steps, then `θ' ← α θ' + (1 − α) θ` every
    /// `update_every` steps with `α = min(1 − 1/(t + 1), α_max)`, `t` counting EMA updates
    /// from 1 (bias-corrected weight `(1 − α)/(1 − Π αᵢ)` when enabled).
    ///
    /// # Errors
    /// [`MeanTeacherError::CountMismatch`], [`MeanTeacherError::NameMismatch`] or
    /// [`MeanTeacherError::ShapeMismatch`] when `student` does not match the teacher;
    /// [`MeanTeacherError::CounterExhausted`] when a step counter is at `u64::MAX` (only a
    /// restored state can get there). Nothing changes then.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher, UpdateOutcome};
    /// let mut student = vec![("w".to_string(), ndarray::arr1(&[0.0]).into_dyn())];
    /// let settings = EmaSettings { update_every: 2, ..EmaSettings::default() };
    /// let mut mt = MeanTeacher::new(settings, &student)?;
    /// student[0].1[0] = 4.0;
    /// assert_eq!(mt.update(&student)?, UpdateOutcome::Skipped);
    /// assert!(matches!(mt.update(&student)?, UpdateOutcome::Averaged { alpha, .. } if alpha == 0.5));
    /// assert_eq!(mt.teacher()[0].1[0], 2.0);
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn update(&mut self, student: &P) -> Result<UpdateOutcome, MeanTeacherError> {
        check_layout(student, &self.teacher)?;
        // Counters never wrap: a wrapped `step` would restart the copy phase and the α
        // schedule silently. Both are checked before anything changes.
        let step = self
            .step
            .checked_add(1)
            .ok_or(MeanTeacherError::CounterExhausted {
                counter: "step",
                value: self.step,
            })?;
        let s = self.settings;
        let averages =
            step > s.start_after && (step - s.start_after).is_multiple_of(s.update_every);
        if averages && self.ema_updates == u64::MAX {
            return Err(MeanTeacherError::CounterExhausted {
                counter: "ema_updates",
                value: self.ema_updates,
            });
        }
        self.step = step;
        if step <= s.start_after {
            self.blend_all(student, 1.0);
            return Ok(UpdateOutcome::Copied);
        }
        if !averages {
            return Ok(UpdateOutcome::Skipped);
        }
        self.ema_updates += 1;
        let alpha = ema_alpha(self.ema_updates, s.alpha_max);
        let weight = if s.bias_correction {
            // EMA from zero divided by 1 − Π α, written as one blend of the corrected value:
            // θ'ₜ = (1 − β) θ'ₜ₋₁ + β θₜ with β = (1 − α)/(1 − Π₁..ₜ α).
            let before = self.decay_product;
            self.decay_product *= alpha;
            let denom = 1.0 - self.decay_product;
            if before == 1.0 || denom <= 0.0 {
                1.0
            } else {
                ((1.0 - alpha) / denom).min(1.0)
            }
        } else {
            self.decay_product *= alpha;
            1.0 - alpha
        };
        self.blend_all(student, weight);
        Ok(UpdateOutcome::Averaged { alpha, weight })
    }

    fn blend_all(&mut self, student: &P, weight: f64) {
        for i in 0..student.num_arrays() {
            blend(self.teacher.array_mut(i), student.array(i).1, weight);
        }
    }

    /// The teacher's weights, with the student's names, shapes and order.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher, ParameterSet};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// assert_eq!(mt.teacher().array(0).0, "w");
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn teacher(&self) -> &P {
        &self.teacher
    }

    /// Consumes the state and returns the teacher's weights.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// let weights = mt.into_teacher();
    /// assert_eq!(weights, student);
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn into_teacher(self) -> P {
        self.teacher
    }

    /// The settings in force (with the current `alpha_max`).
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// assert_eq!(mt.settings(), &EmaSettings::default());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn settings(&self) -> &EmaSettings {
        &self.settings
    }

    /// Number of optimizer steps recorded by [`MeanTeacher::update`].
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let settings = EmaSettings { update_every: 2, ..EmaSettings::default() };
    /// let mut mt = MeanTeacher::new(settings, &student)?;
    /// mt.update(&student)?;
    /// assert_eq!((mt.step(), mt.num_ema_updates()), (1, 0));
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Number of EMA updates applied (the `t` of `α = min(1 − 1/(t + 1), α_max)`).
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let settings = EmaSettings { start_after: 1, ..EmaSettings::default() };
    /// let mut mt = MeanTeacher::new(settings, &student)?;
    /// mt.update(&student)?; // a copy
    /// mt.update(&student)?; // the first EMA update
    /// assert_eq!(mt.num_ema_updates(), 1);
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn num_ema_updates(&self) -> u64 {
        self.ema_updates
    }

    /// The decay the next EMA update will use.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// assert_eq!(mt.next_alpha(), 0.5);
    /// mt.update(&student)?;
    /// assert!((mt.next_alpha() - 2.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn next_alpha(&self) -> f64 {
        ema_alpha(self.ema_updates + 1, self.settings.alpha_max)
    }

    /// Changes `alpha_max` from now on (the paper uses 0.99 during the consistency ramp-up
    /// and 0.999 afterwards). Saved with the state.
    ///
    /// # Errors
    /// [`MeanTeacherError::InvalidAlpha`] when `alpha_max` is outside `[0, 1)`.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// mt.set_alpha_max(0.999)?;
    /// assert_eq!(mt.settings().alpha_max, 0.999);
    /// assert!(mt.set_alpha_max(1.5).is_err());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn set_alpha_max(&mut self, alpha_max: f64) -> Result<(), MeanTeacherError> {
        check_alpha("alpha_max", alpha_max)?;
        self.settings.alpha_max = alpha_max;
        Ok(())
    }

    /// Runs `f` with the teacher's weights in the student's place and puts the student's
    /// weights back afterwards, also when `f` panics. The arrays of student and teacher are
    /// swapped (O(1) each, nothing is copied) and swapped back; `f` sees a parameter set of the
    /// student's type — for a [`ParamStore`](infer_ad::ParamStore), the student's `ParamId`s —
    /// and only immutably, so the teacher's weights cannot receive gradients.
    ///
    /// # Errors
    /// [`MeanTeacherError::CountMismatch`], [`MeanTeacherError::NameMismatch`] or
    /// [`MeanTeacherError::ShapeMismatch`] when `student` does not match the teacher (`f` is
    /// not called).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let mut student = ParamStore::new();
    /// let w = student.add("w", ndarray::arr1(&[2.0]))?;
    /// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// student.value_mut(w)[0] = 5.0;
    /// let teacher_out = mt.with_teacher(&mut student, |p| p.value(w)[0] * 10.0)?;
    /// assert_eq!(teacher_out, 20.0);
    /// assert_eq!(student.value(w)[0], 5.0);
    /// assert_eq!(mt.teacher().value(w)[0], 2.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_teacher<R>(
        &mut self,
        student: &mut P,
        f: impl FnOnce(&P) -> R,
    ) -> Result<R, MeanTeacherError> {
        check_layout(student, &self.teacher)?;
        let guard = SwapGuard::new(student, &mut self.teacher);
        Ok(f(&*guard.student))
    }
}

/// Swaps the arrays of two parameter sets of the same layout on creation and again on drop
/// (so a panic inside the closure of [`MeanTeacher::with_teacher`] still restores them).
struct SwapGuard<'a, P: ParameterSet> {
    student: &'a mut P,
    teacher: &'a mut P,
}

impl<'a, P: ParameterSet> SwapGuard<'a, P> {
    fn new(student: &'a mut P, teacher: &'a mut P) -> Self {
        swap_all(student, teacher);
        SwapGuard { student, teacher }
    }
}

impl<P: ParameterSet> Drop for SwapGuard<'_, P> {
    fn drop(&mut self) {
        swap_all(self.student, self.teacher);
    }
}

fn swap_all<P: ParameterSet>(a: &mut P, b: &mut P) {
    for i in 0..a.num_arrays() {
        std::mem::swap(a.array_mut(i), b.array_mut(i));
    }
}

/// `t ← t + w (s − t)`, or `t ← s` when `w == 1`.
pub(crate) fn blend(t: &mut ArrayD<f64>, s: &ArrayD<f64>, w: f64) {
    if t.strides() == s.strides()
        && let (Some(ts), Some(ss)) = (t.as_slice_memory_order_mut(), s.as_slice_memory_order())
    {
        blend_slices(ts, ss, w);
        return;
    }
    if w == 1.0 {
        t.assign(s);
    } else {
        Zip::from(t).and(s).for_each(|t, &s| *t += w * (s - *t));
    }
}

/// The contiguous kernel: one pass, reading both slices and writing `t`.
#[inline]
pub(crate) fn blend_slices(t: &mut [f64], s: &[f64], w: f64) {
    if w == 1.0 {
        t.copy_from_slice(s);
        return;
    }
    for (t, &s) in t.iter_mut().zip(s) {
        *t += w * (s - *t);
    }
}
