//! Limited-memory BFGS on f = −log p: the two-loop recursion of Nocedal & Wright (2006),
//! *Numerical Optimization*, Algorithm 7.4, with the initial inverse Hessian γₖ I, γₖ =
//! sᵀy / yᵀy of the newest pair (eq. 7.20); steps from the strong-Wolfe line search of
//! [`linesearch`](super::linesearch); CmdStan's stopping rules and defaults.

use std::collections::VecDeque;

use super::linesearch::{self, Failure};
use super::{ApproxError, check, try_eval};
use crate::density::LogDensity;
use crate::linalg::dot;

/// L-BFGS settings; the defaults are CmdStan's `optimize algorithm=lbfgs` (whose
/// `iter` is 2000; Pathfinder's `max_lbfgs_iters` is 1000).
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::LbfgsOptions;
///
/// let o = LbfgsOptions::default();
/// assert_eq!((o.history_size, o.init_alpha, o.max_iterations), (5, 1e-3, 2000));
/// assert!(LbfgsOptions { history_size: 0, ..o }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsOptions {
    /// Correction pairs kept (Stan's `history_size`). Default 5.
    pub history_size: usize,
    /// Line-search step of the first iteration (and after a reset). Default 10⁻³.
    pub init_alpha: f64,
    /// Convergence when |Δ log p| < `tol_obj`. Default 10⁻¹².
    pub tol_obj: f64,
    /// Convergence when |Δ log p| / max(|log p|, |log p′|, 1) < `tol_rel_obj` · ε. Default 10⁴.
    pub tol_rel_obj: f64,
    /// Convergence when ‖∇ log p‖ < `tol_grad`. Default 10⁻⁸.
    pub tol_grad: f64,
    /// Convergence when gᵀ H g / max(|log p|, 1) < `tol_rel_grad` · ε (H the inverse-Hessian
    /// estimate). Default 10⁷.
    pub tol_rel_grad: f64,
    /// Convergence when ‖Δx‖ < `tol_param`. Default 10⁻⁸.
    pub tol_param: f64,
    /// Iterations before stopping unconverged. Default 2000.
    pub max_iterations: usize,
    /// Consecutive iterations on which a relative test (`tol_rel_obj`, `tol_rel_grad`) must
    /// hold before L-BFGS stops on it. Default 1 (CmdStan's rule: the first iteration on
    /// which it holds); Pathfinder's default is 20 (see
    /// [`PathfinderSettings`](super::PathfinderSettings)).
    ///
    /// Both relative tests measure one iteration's progress in the metric of the
    /// quasi-Newton estimate: the decrease of −log p, and the Newton decrement gᵀHg with H
    /// the two-loop inverse Hessian. Outside the span of the stored steps H is γI, γ = sᵀy /
    /// yᵀy of the newest pair — on a badly scaled posterior the stiffest direction's inverse
    /// curvature, orders of magnitude below the flat directions'. A step dominated by the
    /// stiff directions then decreases −log p by almost nothing and gᵀHg underestimates the
    /// decrement by up to the condition number, although the iterate is many posterior sds
    /// from the mode along a flat ridge (earn_height's intercept and slope, condition
    /// ≈ 10¹¹: ‖∇ log p‖ = 6·10⁻⁴ while 6 sds off; kilpisjarvi's: ‖∇ log p‖ = 1.2). The
    /// stall ends when a step has enough of a component along the ridge for a correction
    /// pair to carry its curvature (there: after 10–20 iterations); with the relative tests
    /// off L-BFGS reaches the mode in 35–70 iterations. Both tests also divide by
    /// max(|log p|, 1), which depends on the additive constant of an unnormalized log
    /// density (earn_height's −log p ≈ 1.2·10⁴ at the mode, from the data's units), so
    /// they are looser the larger that constant. The absolute tests (`tol_obj`,
    /// `tol_grad`, `tol_param`) are not delayed.
    pub rel_patience: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        Self {
            history_size: 5,
            init_alpha: 1e-3,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7,
            tol_param: 1e-8,
            max_iterations: 2000,
            rel_patience: 1,
        }
    }
}

impl LbfgsOptions {
    /// Checks every field: `history_size`, `max_iterations` and `rel_patience` ≥ 1,
    /// `init_alpha` finite and > 0, the tolerances ≥ 0 (NaN fails).
    ///
    /// # Errors
    ///
    /// [`ApproxError::InvalidSetting`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), ApproxError> {
        check(
            self.history_size >= 1,
            "history_size",
            self.history_size as f64,
            ">= 1",
        )?;
        check(
            self.init_alpha > 0.0 && self.init_alpha.is_finite(),
            "init_alpha",
            self.init_alpha,
            "finite and > 0",
        )?;
        for (name, v) in [
            ("tol_obj", self.tol_obj),
            ("tol_rel_obj", self.tol_rel_obj),
            ("tol_grad", self.tol_grad),
            ("tol_rel_grad", self.tol_rel_grad),
            ("tol_param", self.tol_param),
        ] {
            check(v >= 0.0, name, v, ">= 0")?;
        }
        check(
            self.max_iterations >= 1,
            "max_iterations",
            self.max_iterations as f64,
            ">= 1",
        )?;
        check(
            self.rel_patience >= 1,
            "rel_patience",
            self.rel_patience as f64,
            ">= 1",
        )
    }
}

/// Why L-BFGS stopped (the order of the checks is CmdStan's).
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::Convergence;
/// assert!(Convergence::AbsoluteGradient.converged());
/// assert!(!Convergence::MaxIterations.converged());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Convergence {
    /// |Δ log p| below `tol_obj`.
    AbsoluteObjective,
    /// ‖∇ log p‖ below `tol_grad`.
    AbsoluteGradient,
    /// ‖Δx‖ below `tol_param`.
    Parameter,
    /// `max_iterations` reached.
    MaxIterations,
    /// Relative change of log p below `tol_rel_obj` · ε.
    RelativeObjective,
    /// Relative gradient gᵀHg / max(|log p|, 1) below `tol_rel_grad` · ε.
    RelativeGradient,
}

impl Convergence {
    /// Whether a convergence criterion was met (everything but `MaxIterations`).
    #[must_use]
    pub fn converged(self) -> bool {
        self != Convergence::MaxIterations
    }
}

/// One correction pair: s = xₖ₊₁ − xₖ, y = ∇fₖ₊₁ − ∇fₖ and ρ = 1 / yᵀs.
#[derive(Clone, Debug)]
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
}

/// L-BFGS minimizing −log p of a [`LogDensity`], one iteration per [`step`](Self::step);
/// the density is passed to each call, so that the caller can evaluate it between
/// iterations (Pathfinder does).
///
/// # Examples
///
/// Rosenbrock's function f(x, y) = (1 − x)² + 100 (y − x²)² as log p = −f:
///
/// ```
/// use infer_mcmc::approx::{Lbfgs, LbfgsOptions};
/// use infer_mcmc::FnDensity;
///
/// let mut rosenbrock = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
///     let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
///     g[0] = 2.0 * a + 400.0 * x[0] * b;
///     g[1] = -200.0 * b;
///     Ok(-(a * a + 100.0 * b * b))
/// });
/// let mut opt = Lbfgs::new(&mut rosenbrock, vec![-1.2, 1.0], LbfgsOptions::default())?;
/// let stop = loop {
///     if let Some(stop) = opt.step(&mut rosenbrock)? {
///         break stop;
///     }
/// };
/// assert!(stop.converged());
/// assert!((opt.x()[0] - 1.0).abs() < 1e-4 && (opt.x()[1] - 1.0).abs() < 1e-4);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs {
    options: LbfgsOptions,
    x: Vec<f64>,
    /// f = −log p at `x`.
    f: f64,
    /// ∇f at `x`.
    g: Vec<f64>,
    history: VecDeque<Pair>,
    iterations: usize,
    /// Consecutive iterations on which a relative test held (see `rel_patience`).
    stalled: usize,
    evals: u64,
    /// Scratch: search direction, trial point and its gradient.
    p: Vec<f64>,
    x_trial: Vec<f64>,
    g_trial: Vec<f64>,
    /// Scratch of the two-loop recursion, one per pair.
    alphas: Vec<f64>,
}

impl Lbfgs {
    /// Starts at `x0` (one evaluation).
    ///
    /// # Errors
    ///
    /// [`ApproxError::InvalidSetting`] for invalid `options`;
    /// [`ApproxError::DimensionMismatch`] when `x0` does not have the density's dimension;
    /// [`ApproxError::NonFiniteInit`] when log p or its gradient is not finite at `x0`;
    /// [`ApproxError::LogDensity`] for a fatal failure.
    pub fn new<M: LogDensity + ?Sized>(
        density: &mut M,
        x0: Vec<f64>,
        options: LbfgsOptions,
    ) -> Result<Self, ApproxError> {
        options.validate()?;
        let n = density.dim();
        if x0.len() != n {
            return Err(ApproxError::DimensionMismatch {
                name: "x0",
                expected: n,
                found: x0.len(),
            });
        }
        let mut g = vec![0.0; n];
        let lp = match density.logp_and_grad(&x0, &mut g) {
            Ok(lp) if lp.is_finite() && g.iter().all(|v| v.is_finite()) => lp,
            Ok(lp) => {
                return Err(ApproxError::NonFiniteInit {
                    logp: lp,
                    reason: None,
                });
            }
            Err(crate::LogDensityError::Recoverable { reason }) => {
                return Err(ApproxError::NonFiniteInit {
                    logp: f64::NAN,
                    reason: Some(reason),
                });
            }
            Err(e) => return Err(e.into()),
        };
        g.iter_mut().for_each(|v| *v = -*v);
        Ok(Self {
            options,
            x: x0,
            f: -lp,
            g,
            history: VecDeque::with_capacity(options.history_size),
            iterations: 0,
            stalled: 0,
            evals: 1,
            p: vec![0.0; n],
            x_trial: vec![0.0; n],
            g_trial: vec![0.0; n],
            alphas: vec![0.0; options.history_size],
        })
    }

    /// The current point.
    #[must_use]
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// log p at the current point.
    #[must_use]
    pub fn log_p(&self) -> f64 {
        -self.f
    }

    /// ∇ log p at the current point.
    #[must_use]
    pub fn grad(&self) -> Vec<f64> {
        self.g.iter().map(|v| -v).collect()
    }

    /// Iterations done.
    #[must_use]
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Evaluations of log p and its gradient so far (the start included).
    #[must_use]
    pub fn gradient_evals(&self) -> u64 {
        self.evals
    }

    /// One iteration: a search direction from the correction pairs, a strong-Wolfe line
    /// search along it (when it fails, the pairs are dropped and a steepest-descent step of
    /// length `init_alpha` is searched, as Stan resets its Hessian estimate), the new pair,
    /// and the convergence checks. Returns why it stopped, or `None` to go on.
    ///
    /// # Errors
    ///
    /// [`ApproxError::LineSearch`] when the line search fails from the steepest-descent
    /// direction too (the current point is unchanged); [`ApproxError::LogDensity`] for a
    /// fatal failure.
    pub fn step<M: LogDensity + ?Sized>(
        &mut self,
        density: &mut M,
    ) -> Result<Option<Convergence>, ApproxError> {
        self.iterations += 1;
        let mut reset = self.history.is_empty();
        let f_new = loop {
            if reset {
                self.history.clear();
            }
            self.direction();
            let mut d0 = dot(&self.g, &self.p);
            if !(d0 < 0.0) {
                // not a descent direction (round-off in the pairs): steepest descent
                self.history.clear();
                reset = true;
                self.direction();
                d0 = dot(&self.g, &self.p);
            }
            let alpha0 = if reset { self.options.init_alpha } else { 1.0 };
            match self.line_search(density, d0, alpha0)? {
                Ok(found) => break found,
                Err(_) if !reset => reset = true,
                Err(Failure { reason, step }) => {
                    return Err(ApproxError::LineSearch {
                        iteration: self.iterations,
                        reason,
                        step,
                    });
                }
            }
        };
        // the accepted point is in the trial buffers
        let mut s = std::mem::take(&mut self.x_trial);
        let mut y = std::mem::take(&mut self.g_trial);
        for i in 0..s.len() {
            s[i] -= self.x[i];
            y[i] -= self.g[i];
        }
        // x ← x + s, g ← g + y (exactly the evaluated point: recomputed as α p would differ
        // in the last bits)
        for i in 0..s.len() {
            self.x[i] += s[i];
            self.g[i] += y[i];
        }
        let f_old = self.f;
        self.f = f_new;
        let step_norm = dot(&s, &s).sqrt();
        let sy = dot(&s, &y);
        self.x_trial = vec![0.0; s.len()];
        self.g_trial = vec![0.0; s.len()];
        // with a strong-Wolfe step yᵀs > 0; a pair failing it (round-off) is not stored
        if sy > 0.0 && sy.is_finite() {
            if self.history.len() == self.options.history_size {
                self.history.pop_front();
            }
            self.history.push_back(Pair {
                s,
                y,
                rho: 1.0 / sy,
            });
        }
        Ok(self.converged(f_old, step_norm))
    }

    /// CmdStan's checks, in its order; a relative test stops only after holding on
    /// `rel_patience` consecutive iterations.
    fn converged(&mut self, f_old: f64, step_norm: f64) -> Option<Convergence> {
        let o = &self.options;
        let df = (f_old - self.f).abs();
        if df < o.tol_obj {
            return Some(Convergence::AbsoluteObjective);
        }
        if dot(&self.g, &self.g).sqrt() < o.tol_grad {
            return Some(Convergence::AbsoluteGradient);
        }
        if step_norm < o.tol_param {
            return Some(Convergence::Parameter);
        }
        if self.iterations >= o.max_iterations {
            return Some(Convergence::MaxIterations);
        }
        let relative = if df / f_old.abs().max(self.f.abs()).max(1.0) < o.tol_rel_obj * f64::EPSILON
        {
            Some(Convergence::RelativeObjective)
        } else {
            self.direction();
            let rel_grad = -dot(&self.p, &self.g) / self.f.abs().max(1.0);
            (rel_grad < self.options.tol_rel_grad * f64::EPSILON)
                .then_some(Convergence::RelativeGradient)
        };
        match relative {
            Some(_) => self.stalled += 1,
            None => self.stalled = 0,
        }
        relative.filter(|_| self.stalled >= self.options.rel_patience)
    }

    /// p = −H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), H₀ = γ I with
    /// γ = sᵀy / yᵀy of the newest pair (eq. 7.20); p = −g without pairs.
    fn direction(&mut self) {
        let p = &mut self.p;
        let alphas = &mut self.alphas;
        for (pi, gi) in p.iter_mut().zip(&self.g) {
            *pi = -gi;
        }
        for (k, pair) in self.history.iter().enumerate().rev() {
            let a = pair.rho * dot(&pair.s, p);
            alphas[k] = a;
            for (pi, yi) in p.iter_mut().zip(&pair.y) {
                *pi -= a * yi;
            }
        }
        if let Some(last) = self.history.back() {
            let gamma = 1.0 / (last.rho * dot(&last.y, &last.y));
            p.iter_mut().for_each(|v| *v *= gamma);
        }
        for (k, pair) in self.history.iter().enumerate() {
            let b = pair.rho * dot(&pair.y, p);
            for (pi, si) in p.iter_mut().zip(&pair.s) {
                *pi += (alphas[k] - b) * si;
            }
        }
    }

    /// The line search along `self.p` from the current point; on success returns f and
    /// leaves the accepted point and its gradient (of f) in the trial buffers.
    fn line_search<M: LogDensity + ?Sized>(
        &mut self,
        density: &mut M,
        d0: f64,
        alpha0: f64,
    ) -> Result<Result<f64, Failure>, ApproxError> {
        let Self {
            x,
            p,
            x_trial,
            g_trial,
            evals,
            f,
            ..
        } = self;
        let mut f_at = f64::NAN;
        let found = linesearch::strong_wolfe(
            |alpha| {
                for i in 0..x.len() {
                    x_trial[i] = x[i] + alpha * p[i];
                }
                *evals += 1;
                let Some(lp) = try_eval(density, x_trial, g_trial)? else {
                    return Ok(None);
                };
                g_trial.iter_mut().for_each(|v| *v = -*v);
                f_at = -lp;
                Ok(Some((-lp, dot(g_trial, p))))
            },
            *f,
            d0,
            alpha0,
        )?;
        Ok(found.map(|_| f_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FnDensity;
    use crate::LogDensityError;

    /// log p = −Rosenbrock(x) in `n` dimensions (the chained form, minimum 0 at (1, …, 1)).
    fn rosenbrock(n: usize) -> impl LogDensity {
        FnDensity::new(n, move |x: &[f64], g: &mut [f64]| {
            g.fill(0.0);
            let mut f = 0.0;
            for i in 0..n - 1 {
                let (a, b) = (1.0 - x[i], x[i + 1] - x[i] * x[i]);
                f += a * a + 100.0 * b * b;
                g[i] += 2.0 * a + 400.0 * x[i] * b;
                g[i + 1] -= 200.0 * b;
            }
            Ok(-f)
        })
    }

    fn run(density: &mut impl LogDensity, x0: Vec<f64>) -> (Lbfgs, Convergence) {
        let mut opt = Lbfgs::new(density, x0, LbfgsOptions::default()).unwrap();
        loop {
            if let Some(stop) = opt.step(density).unwrap() {
                return (opt, stop);
            }
        }
    }

    /// The minimum of Rosenbrock's function is (1, …, 1) with f = 0: from the classic start
    /// (−1.2, 1) and from a 10-d start, L-BFGS converges there to 1e-4 in each coordinate.
    /// CmdStan's tolerances stop at a relative gradient gᵀHg / max(|f|, 1) below
    /// 10⁷ ε = 2.2·10⁻⁹, i.e. at ‖x − x*‖ in the Hessian's norm of about √(2.2·10⁻⁹) ≈ 5·10⁻⁵,
    /// more along the valley's flat direction.
    #[test]
    fn lbfgs_minimizes_rosenbrock() {
        let mut d = rosenbrock(2);
        let (opt, stop) = run(&mut d, vec![-1.2, 1.0]);
        assert!(stop.converged(), "{stop:?}");
        for xi in opt.x() {
            assert!((xi - 1.0).abs() < 1e-4, "{:?}", opt.x());
        }
        assert!(opt.log_p() > -1e-10);
        assert!(opt.iterations() < 100, "{} iterations", opt.iterations());
        let mut d = rosenbrock(10);
        let x0: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let (opt, stop) = run(&mut d, x0);
        assert!(stop.converged(), "{stop:?}");
        for xi in opt.x() {
            assert!((xi - 1.0).abs() < 1e-4, "{:?}", opt.x());
        }
    }

    /// On a quadratic −½ xᵀ A x + bᵀ x the optimum is A⁻¹ b, to 10⁻⁴ (the stopping rule's
    /// accuracy, see above).
    #[test]
    fn lbfgs_solves_a_quadratic() {
        let mut d = FnDensity::new(3, |x: &[f64], g: &mut [f64]| {
            let a = [[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]];
            let b = [1.0, -2.0, 0.5];
            let mut lp = 0.0;
            for i in 0..3 {
                let ax: f64 = (0..3).map(|j| a[i][j] * x[j]).sum();
                g[i] = b[i] - ax;
                lp += b[i] * x[i] - 0.5 * x[i] * ax;
            }
            Ok(lp)
        });
        let (opt, _) = run(&mut d, vec![3.0, 3.0, -3.0]);
        // A⁻¹ b = (10, −19, 10) / 21 (Cramer's rule, det A = 21)
        let want = [10.0 / 21.0, -19.0 / 21.0, 10.0 / 21.0];
        for (x, w) in opt.x().iter().zip(want) {
            assert!((x - w).abs() < 1e-4, "{:?}", opt.x());
        }
    }

    #[test]
    fn non_finite_start_is_a_typed_error() {
        let mut d = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
            if x[0] < 0.0 {
                return Err(LogDensityError::recoverable("x must be >= 0"));
            }
            g[0] = f64::NAN;
            Ok(0.0)
        });
        let e = Lbfgs::new(&mut d, vec![-1.0], LbfgsOptions::default()).unwrap_err();
        assert!(
            matches!(e, ApproxError::NonFiniteInit { reason: Some(r), .. } if r.contains(">= 0")),
            "{e}"
        );
        let e = Lbfgs::new(&mut d, vec![1.0], LbfgsOptions::default()).unwrap_err();
        assert!(matches!(e, ApproxError::NonFiniteInit { .. }), "{e}");
        let e = Lbfgs::new(&mut d, vec![1.0, 2.0], LbfgsOptions::default()).unwrap_err();
        assert!(matches!(e, ApproxError::DimensionMismatch { .. }), "{e}");
    }

    /// A gradient that lies (it points uphill) leaves no step of sufficient decrease: the
    /// line search fails from the steepest-descent direction too, as a typed error.
    #[test]
    fn line_search_failure_is_a_typed_error() {
        let mut d = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
            g[0] = x[0];
            g[1] = x[1];
            Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
        });
        let mut opt = Lbfgs::new(&mut d, vec![1.0, -1.0], LbfgsOptions::default()).unwrap();
        let e = opt.step(&mut d).unwrap_err();
        assert!(
            matches!(e, ApproxError::LineSearch { iteration: 1, .. }),
            "{e}"
        );
        assert_eq!(opt.x(), [1.0, -1.0]);
    }
}
