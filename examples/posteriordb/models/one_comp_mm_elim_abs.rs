//! posteriordb `one_comp_mm_elim_abs`: a one-compartment pharmacokinetic model with first-order
//! absorption and Michaelis–Menten elimination, an ODE solved at the measurement times with
//! its parameter sensitivities ([`infer::ad::ode::ode_solve`]; Stan uses `integrate_ode_bdf`).
//!
//! Model code: 34 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 17 lines of the Stan program's parameters, transformed parameters and
//! model blocks (2.0×).
//! ```stan
//! functions {
//!   array[] real one_comp_mm_elim_abs(real t, array[] real y, array[] real theta,
//!                                     array[] real x_r, array[] int x_i) {
//!     array[1] real dydt;
//!     real k_a = theta[1]; real K_m = theta[2]; real V_m = theta[3];
//!     real D = x_r[1]; real V = x_r[2];
//!     real dose = 0;
//!     real elim = (V_m / V) * y[1] / (K_m + y[1]);
//!     if (t > 0) dose = exp(-k_a * t) * D * k_a / V;
//!     dydt[1] = dose - elim;
//!     return dydt;
//!   }
//! }
//! data {
//!   real t0; real D; real V; int<lower=1> N_t; array[N_t] real times; array[N_t] real C_hat;
//! }
//! transformed data { array[1] real C0 = {0.0}; array[2] real x_r = {D, V}; array[0] int x_i; }
//! parameters {
//!   real<lower=0> k_a; real<lower=0> K_m; real<lower=0> V_m; real<lower=0> sigma;
//! }
//! transformed parameters {
//!   array[N_t, 1] real C;
//!   {
//!     array[3] real theta = {k_a, K_m, V_m};
//!     C = integrate_ode_bdf(one_comp_mm_elim_abs, C0, t0, times, theta, x_r, x_i);
//!   }
//! }
//! model {
//!   k_a ~ cauchy(0, 1); K_m ~ cauchy(0, 1); V_m ~ cauchy(0, 1); sigma ~ cauchy(0, 1);
//!   for (n in 1 : N_t) C_hat[n] ~ lognormal(log(C[n, 1]), sigma);
//! }
//! generated quantities {
//!   array[N_t] real C_ppc;
//!   for (n in 1 : N_t) C_ppc[n] = lognormal_rng(log(C[n, 1]), sigma);
//! }
//! ```

use infer::ad::ode::{OdeOptions, ode_solve};
use infer::prelude::*;
use ndarray::{Array1, array};

pub struct OneCompMmElimAbs {
    t0: f64,
    dose: f64,
    volume: f64,
    times: Vec<f64>,
    c_hat: Array1<f64>,
}

impl OneCompMmElimAbs {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N_t")?;
        Ok(OneCompMmElimAbs {
            t0: d.real("t0")?,
            dose: d.real("D")?,
            volume: d.real("V")?,
            times: d.vector_of("times", n)?.to_vec(),
            c_hat: d.vector_of("C_hat", n)?,
        })
    }
}

impl Model for OneCompMmElimAbs {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let k_a = p.scalar("k_a", Constraint::Positive)?;
        let k_m = p.scalar("K_m", Constraint::Positive)?;
        let v_m = p.scalar("V_m", Constraint::Positive)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let (dose, volume) = (self.dose, self.volume);
        let theta = tape.stack_vars(&[k_a, k_m, v_m])?;
        let c = ode_solve(
            tape,
            |_, t, y, th| {
                let elim = th[2] / volume * y[0] / (th[1] + y[0]);
                let input = if t > 0.0 {
                    (-(th[0] * t)).exp() * th[0] * (dose / volume)
                } else {
                    th[0] * 0.0
                };
                Ok(vec![input - elim])
            },
            tape.constant(&array![0.0]),
            self.t0,
            &self.times,
            theta,
            &OdeOptions::default(),
        )?;
        let c = p.transformed("C", c)?;
        let log_c = c.ln().reshape(&[self.times.len()])?;
        p.generated("C_ppc", |rng| LogNormal::new(log_c, sigma)?.sample(rng))?;
        Ok(HalfCauchy::new(1.0)?.log_prob_sum(k_a)?
            + HalfCauchy::new(1.0)?.log_prob_sum(k_m)?
            + HalfCauchy::new(1.0)?.log_prob_sum(v_m)?
            + HalfCauchy::new(1.0)?.log_prob_sum(sigma)?
            + LogNormal::new(log_c, sigma)?.log_prob_sum(&self.c_hat)?)
    }
}
