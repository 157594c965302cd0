//! Ordinary differential equations on the tape: `dy/dt = f(t, y, θ)` solved at given output
//! times, with the gradient of every output value with respect to the initial state and the
//! parameters by **forward sensitivities**.
//!
//! The right-hand side is written once, on [`Var`]s, like any other model code; its Jacobians
//! ∂f/∂y and ∂f/∂θ come from a scratch tape (one backward pass per state component). The
//! state is augmented with the sensitivities S_y0 = ∂y/∂y₀ (when y₀ is tracked) and
//! S_θ = ∂y/∂θ (when θ is tracked), which obey dS/dt = (∂f/∂y) S (+ ∂f/∂θ), and the augmented
//! system is integrated by the explicit Runge–Kutta pair of Dormand and Prince, order 5(4)
//! (Dormand & Prince 1980, "A family of embedded Runge-Kutta formulae", J. Comput. Appl. Math.
//! 6(1); the tableau and the step-size controller as in Hairer, Nørsett & Wanner, *Solving
//! Ordinary Differential Equations I*, II.4 and II.5), with the error of the sensitivities
//! controlled as well as that of the state (as CVODES does with `errconS`). Each output time is
//! reached by a step that ends on it.
//!
//! Explicit steps suit non-stiff systems; a stiff one shows up as
//! [`AdError::OdeTooManySteps`] (the step size stays limited by stability), which a sampler
//! treats as a rejected point.
//!
//! ```
//! use infer_ad::{Tape, ode::{OdeOptions, ode_solve}};
//! // dy/dt = −k y, y(0) = 2: y(t) = 2 e^{−kt}, ∂y/∂k = −t y(t)
//! let tape = Tape::new();
//! let k = tape.tensor(&ndarray::array![0.7]);
//! let y0 = tape.constant(&ndarray::array![2.0]);
//! let y = ode_solve(&tape, |_, _t, y, th| Ok(vec![-(th[0] * y[0])]), y0, 0.0, &[1.0, 2.0], k,
//!                   &OdeOptions::default())?;
//! let exact = 2.0 * (-0.7f64 * 2.0).exp();
//! assert!((y.to_vec()[1] - exact).abs() < 1e-6 * exact);
//! y.sum().backward();
//! let dk = -(2.0 * (-0.7f64).exp()) - 2.0 * exact; // Σ −t y(t)
//! assert!((k.grad()[[0]] - dk).abs() < 1e-5 * dk.abs());
//! # Ok::<(), infer_ad::AdError>(())
//! ```

use crate::{AdError, Tape, Tensor, Var, check_same_tape};

/// Tolerances and limits of [`ode_solve`]. The defaults are Stan's for its ODE solvers:
/// relative and absolute tolerance 1e-6; at most 100,000 steps per call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OdeOptions {
    /// Relative tolerance of each step's local error.
    pub rtol: f64,
    /// Absolute tolerance of each step's local error.
    pub atol: f64,
    /// Accepted and rejected steps allowed over the whole call.
    pub max_steps: usize,
}

impl Default for OdeOptions {
    fn default() -> Self {
        OdeOptions {
            rtol: 1e-6,
            atol: 1e-6,
            max_steps: 100_000,
        }
    }
}

// Dormand–Prince 5(4): nodes, coefficients, 5th-order weights (the last stage is evaluated at
// the new point, first-same-as-last) and the error weights b − b̂.
const C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// The augmented right-hand side: f and, through a scratch tape, its Jacobians.
struct Augmented<'f, F> {
    f: &'f F,
    theta: Vec<f64>,
    n: usize,
    /// Sensitivity columns: n for y₀ (if tracked), then p for θ (if tracked).
    with_y0: bool,
    with_theta: bool,
    scratch: Tape,
    /// One row of ∂f/∂y, reused by every evaluation (the solver's inner loop).
    jy: Vec<f64>,
}

impl<F> Augmented<'_, F>
where
    F: for<'s> Fn(&'s Tape, f64, &[Var<'s>], &[Var<'s>]) -> Result<Vec<Var<'s>>, AdError>,
{
    fn cols(&self) -> usize {
        (if self.with_y0 { self.n } else { 0 }) + if self.with_theta { self.theta.len() } else { 0 }
    }

    /// dz/dt for z = [y, S] (S row-major n × cols).
    fn eval(&mut self, t: f64, z: &[f64], dz: &mut [f64]) -> Result<(), AdError> {
        let (n, m) = (self.n, self.cols());
        self.scratch.clear();
        let tape = &self.scratch;
        let y: Vec<Var<'_>> = z[..n].iter().map(|&v| tape.var(v)).collect();
        let th: Vec<Var<'_>> = self.theta.iter().map(|&v| tape.var(v)).collect();
        let out = (self.f)(tape, t, &y, &th)?;
        if out.len() != n {
            return Err(AdError::LengthMismatch {
                shape: crate::Shape::vector(n),
                len: out.len(),
            });
        }
        for (i, o) in out.iter().enumerate() {
            check_same_tape("ode_solve", tape, o.tape)?;
            dz[i] = o.value();
        }
        if m == 0 {
            return Ok(());
        }
        let s = &z[n..];
        let ds = &mut dz[n..];
        for i in 0..n {
            tape.backward(out[i])?;
            self.jy.clear();
            self.jy.extend(y.iter().map(|v| v.grad()));
            // (J_y S)ᵢ,c = Σⱼ J_y[i][j] S[j][c]
            for c in 0..m {
                let mut acc = 0.0;
                for (j, &g) in self.jy.iter().enumerate() {
                    if g != 0.0 {
                        acc += g * s[j * m + c];
                    }
                }
                ds[i * m + c] = acc;
            }
            if self.with_theta {
                let off = if self.with_y0 { n } else { 0 };
                for (q, v) in th.iter().enumerate() {
                    ds[i * m + off + q] += v.grad();
                }
            }
        }
        Ok(())
    }
}

/// Solves `dy/dt = f(t, y, θ)` from `y(t0) = y0` and returns y at each of `times` (a tensor of
/// shape `[times.len(), n]`), with the gradients of every value with respect to `y0` and
/// `theta` (each when tracked) from forward sensitivities. `f` receives a scratch tape, the
/// time, the state and the parameters as [`Var`]s of that tape, and returns dy/dt (n values).
///
/// # Errors
/// [`AdError::DifferentTapes`] for `y0` or `theta` from another tape (or an `f` that returns
/// handles of another tape); [`AdError::WrongRank`] unless both are vectors;
/// [`AdError::OdeInvalid`] for output times that are not finite and strictly increasing after
/// `t0` or a tolerance that is not finite and > 0; [`AdError::OdeNotFinite`] for a non-finite
/// initial state, parameter or solution;
/// [`AdError::OdeTooManySteps`] when `max_steps` steps do not reach the last time (a stiff or
/// exploding system); [`AdError::OdeStepSizeUnderflow`] when the step size falls below the
/// resolution of t; any error of `f`.
pub fn ode_solve<'t, F>(
    tape: &'t Tape,
    f: F,
    y0: Tensor<'t>,
    t0: f64,
    times: &[f64],
    theta: Tensor<'t>,
    opts: &OdeOptions,
) -> Result<Tensor<'t>, AdError>
where
    F: for<'s> Fn(&'s Tape, f64, &[Var<'s>], &[Var<'s>]) -> Result<Vec<Var<'s>>, AdError>,
{
    check_same_tape("ode_solve", tape, y0.tape())?;
    check_same_tape("ode_solve", tape, theta.tape())?;
    for (t, what) in [(y0, "ode_solve (y0)"), (theta, "ode_solve (theta)")] {
        if t.ndim() != 1 {
            return Err(AdError::wrong_rank(what, 1, t.shape()));
        }
    }
    let invalid = |reason: &'static str, value: f64| AdError::OdeInvalid { reason, value };
    if !(opts.rtol > 0.0 && opts.rtol.is_finite()) {
        return Err(invalid("rtol must be finite and > 0", opts.rtol));
    }
    if !(opts.atol > 0.0 && opts.atol.is_finite()) {
        return Err(invalid("atol must be finite and > 0", opts.atol));
    }
    if !t0.is_finite() {
        return Err(invalid("t0 must be finite", t0));
    }
    let mut prev = t0;
    for &t in times {
        if !(t.is_finite() && t > prev) {
            return Err(invalid(
                "output times must be finite and increase after t0",
                t,
            ));
        }
        prev = t;
    }
    let n = y0.numel();
    let mut aug = Augmented {
        f: &f,
        theta: theta.to_vec(),
        n,
        with_y0: y0.is_tracked(),
        with_theta: theta.is_tracked(),
        scratch: Tape::new(),
        jy: Vec::with_capacity(n),
    };
    let m = aug.cols();
    let len = n * (1 + m);
    let mut z = vec![0.0; len];
    z[..n].copy_from_slice(&y0.to_vec());
    if aug.with_y0 {
        for i in 0..n {
            z[n + i * m + i] = 1.0;
        }
    }
    if let Some(v) = z.iter().chain(&aug.theta).find(|v| !v.is_finite()) {
        return Err(AdError::OdeNotFinite {
            what: "the initial state or a parameter",
            t: t0,
            value: *v,
        });
    }
    // stage derivatives, and the outputs (value and sensitivity rows) at each time
    let mut k = vec![vec![0.0; len]; 7];
    let mut tmp = vec![0.0; len];
    let mut out = Vec::with_capacity(times.len() * len);
    let mut t = t0;
    aug.eval(t, &z, &mut k[0])?;
    let span = times.last().map_or(0.0, |&tl| tl - t0);
    // an initial step from the scale of the solution and its derivative (Hairer et al. II.4)
    let scale = |z: &[f64], i: usize| opts.atol + opts.rtol * z[i].abs();
    let d0 = rms((0..len).map(|i| z[i] / scale(&z, i)));
    let d1 = rms((0..len).map(|i| k[0][i] / scale(&z, i)));
    let mut h = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    }
    .min(span);
    let mut steps = 0usize;
    for &t_out in times {
        while t < t_out {
            if steps >= opts.max_steps {
                return Err(AdError::OdeTooManySteps {
                    t,
                    steps: opts.max_steps,
                });
            }
            steps += 1;
            let last = t + h >= t_out;
            let hh = if last { t_out - t } else { h };
            if !(hh > 0.0) || t + hh == t {
                return Err(AdError::OdeStepSizeUnderflow { t, h: hh });
            }
            for s in 1..7 {
                for i in 0..len {
                    let mut acc = z[i];
                    for (r, a) in A[s][..s].iter().enumerate() {
                        if *a != 0.0 {
                            acc += hh * a * k[r][i];
                        }
                    }
                    tmp[i] = acc;
                }
                aug.eval(t + C[s] * hh, &tmp, &mut k[s])?;
            }
            // tmp holds the 5th-order solution (stage 7's argument); the error estimate
            let mut err = 0.0;
            for i in 0..len {
                let mut e = 0.0;
                for (r, w) in E.iter().enumerate() {
                    e += w * k[r][i];
                }
                let sc = opts.atol + opts.rtol * z[i].abs().max(tmp[i].abs());
                err += (hh * e / sc).powi(2);
            }
            let err = (err / len as f64).sqrt();
            if !err.is_finite() {
                // a step into a region where f is not finite: retry smaller
                h = hh * 0.2;
                continue;
            }
            let factor = if err == 0.0 {
                5.0
            } else {
                (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
            };
            if err <= 1.0 {
                t = if last { t_out } else { t + hh };
                z.copy_from_slice(&tmp);
                let (first, rest) = k.split_at_mut(1);
                first[0].copy_from_slice(&rest[5]);
                // a step cut short to land on an output time does not shrink the next one
                h = if last {
                    h.max(hh * factor)
                } else {
                    hh * factor
                };
            } else {
                h = hh * factor.min(1.0);
            }
        }
        if let Some(v) = z.iter().find(|v| !v.is_finite()) {
            return Err(AdError::OdeNotFinite {
                what: "the solution",
                t,
                value: *v,
            });
        }
        out.extend_from_slice(&z);
    }
    // one scalar per output value, with its sensitivity row as the partials
    let p = theta.numel();
    let mut vars = Vec::with_capacity(times.len() * n);
    for zk in out.chunks_exact(len) {
        for i in 0..n {
            let row = &zk[n + i * m..n + (i + 1) * m];
            let (ry, rt) = if aug.with_y0 {
                (&row[..n], &row[n..])
            } else {
                (&row[..0], row)
            };
            let mut inputs: Vec<(Tensor<'t>, &[f64])> = Vec::with_capacity(2);
            if aug.with_y0 {
                inputs.push((y0, ry));
            }
            if aug.with_theta && p > 0 {
                inputs.push((theta, rt));
            }
            vars.push(tape.scalar_with_gradients(zk[i], &inputs)?);
        }
    }
    tape.stack_vars(&vars)?.reshape(&[times.len(), n])
}

fn rms(it: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0, 0usize);
    for v in it {
        s += v * v;
        c += 1;
    }
    if c == 0 { 0.0 } else { (s / c as f64).sqrt() }
}
