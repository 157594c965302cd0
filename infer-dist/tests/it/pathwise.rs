//! Pathwise gradients: for every reparameterizable family, the Monte Carlo mean of the rsample
//! gradients of E[f(x)] (f(x) = x and x², or a bounded f for the heavy-tailed Cauchy family)
//! over 20 000 draws matches the exact derivative of the closed-form expectation within 4
//! standard errors. Exact derivatives are central differences (h = 1e-6) of the closed forms,
//! accurate to ~1e-9, far below the Monte Carlo error. A correct implementation fails one
//! comparison with probability ≈ 6e-5; with ~100 comparisons here the false-failure rate is
//! ≈ 6e-3 per fresh seed (the seeds are fixed, so runs are deterministic).

use infer_ad::scalar::lgamma;
use infer_ad::{Tape, Var};
use infer_dist::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const M: usize = 20_000;
const EULER: f64 = 0.577_215_664_901_532_9;

type Make = for<'t> fn(&'t Tape, &[Var<'t>]) -> Box<dyn Distribution<'t> + 't>;
/// A test function f with its derivative, and the exact E[f(x)] as a function of the parameters.
type TestFn = (fn(f64) -> (f64, f64), fn(&[f64]) -> f64);

struct Case {
    name: &'static str,
    params: &'static [f64],
    make: Make,
    /// Which element of the draw to test (vector events).
    comp: usize,
    /// Test functions with their derivative, and the exact expectation E[f(x)] as a function of
    /// the parameters.
    funcs: &'static [TestFn],
}

fn ident(x: f64) -> (f64, f64) {
    (x, 1.0)
}
fn square(x: f64) -> (f64, f64) {
    (x * x, 2.0 * x)
}
fn bounded(x: f64) -> (f64, f64) {
    let q = 1.0 + x * x;
    (1.0 / q, -2.0 * x / (q * q))
}
fn gamma_fn(x: f64) -> f64 {
    lgamma(x).exp()
}

fn check(case: &Case, seed: u64) {
    let k = case.params.len();
    let nf = case.funcs.len();
    // running sums of the per-draw gradient and its square, per (function, parameter)
    let mut sum = vec![0.0; nf * k];
    let mut sum2 = vec![0.0; nf * k];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tape = Tape::new();
    for _ in 0..M {
        tape.clear();
        let vars: Vec<Var<'_>> = case.params.iter().map(|&p| tape.var(p)).collect();
        let d = (case.make)(&tape, &vars);
        let r = d.as_reparameterizable().expect("reparameterizable");
        let x = r
            .rsample(&mut rng)
            .expect("rsample")
            .flat(case.comp)
            .expect("component");
        x.backward();
        let xv = x.value();
        for (fi, (f, _)) in case.funcs.iter().enumerate() {
            let df = f(xv).1;
            for (j, v) in vars.iter().enumerate() {
                let g = df * v.grad();
                sum[fi * k + j] += g;
                sum2[fi * k + j] += g * g;
            }
        }
    }
    let m = M as f64;
    for (fi, (_, exact)) in case.funcs.iter().enumerate() {
        for j in 0..k {
            let mean = sum[fi * k + j] / m;
            let var = (sum2[fi * k + j] / m - mean * mean).max(0.0);
            let se = (var / m).sqrt();
            let mut p = case.params.to_vec();
            let h = 1e-6 * p[j].abs().max(1.0);
            p[j] += h;
            let up = exact(&p);
            p[j] -= 2.0 * h;
            let down = exact(&p);
            let want = (up - down) / (2.0 * h);
            assert!(
                (mean - want).abs() <= 4.0 * se + 1e-9,
                "{}: d E[f{fi}]/d param {j}: Monte Carlo {mean} ± {se}, exact {want}",
                case.name
            );
        }
    }
}

macro_rules! make {
    (|$t:ident, $v:ident| $e:expr) => {{
        fn f<'t>($t: &'t Tape, $v: &[Var<'t>]) -> Box<dyn Distribution<'t> + 't> {
            let _ = $t;
            Box::new($e.expect("valid parameters"))
        }
        f as Make
    }};
}

#[test]
fn location_scale_families() {
    let cases = [
        Case {
            name: "Normal",
            params: &[0.7, 1.3],
            make: make!(|t, v| Normal::new(v[0], v[1])),
            comp: 0,
            funcs: &[(ident, |p| p[0]), (square, |p| p[0] * p[0] + p[1] * p[1])],
        },
        Case {
            name: "Laplace",
            params: &[-0.4, 0.9],
            make: make!(|t, v| Laplace::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[0]),
                (square, |p| p[0] * p[0] + 2.0 * p[1] * p[1]),
            ],
        },
        Case {
            name: "Gumbel",
            params: &[0.5, 1.4],
            make: make!(|t, v| Gumbel::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[0] + p[1] * EULER),
                (square, |p| {
                    let m = p[0] + p[1] * EULER;
                    m * m + std::f64::consts::PI.powi(2) / 6.0 * p[1] * p[1]
                }),
            ],
        },
        Case {
            name: "Uniform",
            params: &[-1.0, 2.5],
            make: make!(|t, v| Uniform::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| 0.5 * (p[0] + p[1])),
                (square, |p| (p[1] * p[1] + p[0] * p[1] + p[0] * p[0]) / 3.0),
            ],
        },
        Case {
            name: "Cauchy",
            params: &[0.6, 0.8],
            make: make!(|t, v| Cauchy::new(v[0], v[1])),
            comp: 0,
            // E[1/(1 + X²)] = (1 + γ)/((1 + γ)² + μ²) (no moments exist)
            funcs: &[(bounded, |p| {
                (1.0 + p[1]) / ((1.0 + p[1]).powi(2) + p[0] * p[0])
            })],
        },
        Case {
            name: "HalfCauchy",
            params: &[1.3],
            make: make!(|t, v| HalfCauchy::new(v[0])),
            comp: 0,
            funcs: &[(bounded, |p| 1.0 / (1.0 + p[0]))],
        },
        Case {
            name: "HalfNormal",
            params: &[1.6],
            make: make!(|t, v| HalfNormal::new(v[0])),
            comp: 0,
            funcs: &[
                (ident, |p| p[0] * (2.0 / std::f64::consts::PI).sqrt()),
                (square, |p| p[0] * p[0]),
            ],
        },
        Case {
            name: "LogNormal",
            params: &[0.2, 0.4],
            make: make!(|t, v| LogNormal::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| (p[0] + 0.5 * p[1] * p[1]).exp()),
                (square, |p| (2.0 * p[0] + 2.0 * p[1] * p[1]).exp()),
            ],
        },
        Case {
            name: "Exponential",
            params: &[1.7],
            make: make!(|t, v| Exponential::new(v[0])),
            comp: 0,
            funcs: &[(ident, |p| 1.0 / p[0]), (square, |p| 2.0 / (p[0] * p[0]))],
        },
        Case {
            name: "Weibull",
            params: &[1.5, 2.2],
            make: make!(|t, v| Weibull::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[0] * gamma_fn(1.0 + 1.0 / p[1])),
                (square, |p| p[0] * p[0] * gamma_fn(1.0 + 2.0 / p[1])),
            ],
        },
        Case {
            name: "Pareto",
            params: &[0.8, 6.0],
            make: make!(|t, v| Pareto::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[1] * p[0] / (p[1] - 1.0)),
                (square, |p| p[1] * p[0] * p[0] / (p[1] - 2.0)),
            ],
        },
        Case {
            name: "Kumaraswamy",
            params: &[1.8, 2.6],
            make: make!(|t, v| Kumaraswamy::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| kuma_moment(p, 1.0)),
                (square, |p| kuma_moment(p, 2.0)),
            ],
        },
        Case {
            name: "Delta",
            params: &[0.3],
            make: make!(|t, v| Delta::new(v[0])),
            comp: 0,
            funcs: &[(ident, |p| p[0]), (square, |p| p[0] * p[0])],
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        check(c, 100 + i as u64);
    }
}

fn kuma_moment(p: &[f64], n: f64) -> f64 {
    let (a, b) = (p[0], p[1]);
    (b.ln() + lgamma(1.0 + n / a) + lgamma(b) - lgamma(1.0 + b + n / a)).exp()
}

/// Gamma(α, β) at `params`: E[x] = α/β, E[x²] = α(α + 1)/β².
fn gamma_case(name: &'static str, params: &'static [f64]) -> Case {
    Case {
        name,
        params,
        make: make!(|t, v| Gamma::new(v[0], v[1])),
        comp: 0,
        funcs: &[
            (ident, |p| p[0] / p[1]),
            (square, |p| p[0] * (p[0] + 1.0) / (p[1] * p[1])),
        ],
    }
}

#[test]
fn gamma_based_families() {
    let cases = [
        gamma_case("Gamma(2.3, 1.4)", &[2.3, 1.4]),
        gamma_case("Gamma(0.4, 0.7)", &[0.4, 0.7]),
        Case {
            name: "InverseGamma",
            params: &[6.0, 2.0],
            make: make!(|t, v| InverseGamma::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[1] / (p[0] - 1.0)),
                (square, |p| p[1] * p[1] / ((p[0] - 1.0) * (p[0] - 2.0))),
            ],
        },
        Case {
            name: "Chi2",
            params: &[3.4],
            make: make!(|t, v| Chi2::new(v[0])),
            comp: 0,
            funcs: &[(ident, |p| p[0]), (square, |p| p[0] * p[0] + 2.0 * p[0])],
        },
        Case {
            name: "Beta",
            params: &[1.6, 0.7],
            make: make!(|t, v| Beta::new(v[0], v[1])),
            comp: 0,
            funcs: &[
                (ident, |p| p[0] / (p[0] + p[1])),
                (square, |p| {
                    let s = p[0] + p[1];
                    p[0] * (p[0] + 1.0) / (s * (s + 1.0))
                }),
            ],
        },
        Case {
            name: "StudentT",
            params: &[7.0, 0.5, 1.2],
            make: make!(|t, v| StudentT::new(v[0], v[1], v[2])),
            comp: 0,
            funcs: &[
                (ident, |p| p[1]),
                (square, |p| p[1] * p[1] + p[2] * p[2] * p[0] / (p[0] - 2.0)),
            ],
        },
        Case {
            name: "Dirichlet",
            params: &[1.2, 0.5, 2.8],
            make: make!(|t, v| Dirichlet::new(t.stack_vars(v).expect("one tape"))),
            comp: 0,
            funcs: &[
                (ident, |p| p[0] / (p[0] + p[1] + p[2])),
                (square, |p| {
                    let s = p[0] + p[1] + p[2];
                    p[0] * (p[0] + 1.0) / (s * (s + 1.0))
                }),
            ],
        },
        Case {
            name: "MultivariateNormal",
            // loc (2), then scale_tril row-major (L01 = 0 stays on the tape as a zero)
            params: &[0.4, -1.0, 1.3, 0.0, 0.6, 0.9],
            make: make!(|t, v| {
                let loc = t.stack_vars(&v[..2]).expect("one tape");
                let l = t
                    .stack_vars(&v[2..])
                    .expect("one tape")
                    .reshape(&[2, 2])
                    .expect("2×2");
                MultivariateNormal::new(loc, l)
            }),
            comp: 1,
            funcs: &[
                (ident, |p| p[1]),
                (square, |p| p[1] * p[1] + p[4] * p[4] + p[5] * p[5]),
            ],
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        check(c, 200 + i as u64);
    }
}
