//! Goodness of fit of every sampler (`sample`, and `rsample` where the family has it).
//!
//! Continuous families: a Kolmogorov–Smirnov test of 20 000 draws against the family's cdf
//! (a numeric cdf by quadrature of `exp(log_prob)` for Beta and StudentT, which have no cdf
//! method; the marginals for Dirichlet and MultivariateNormal). Discrete families: Pearson's
//! chi-square test with pooled tails. Every test rejects at p < 1e-4, so with the ~60 tests in
//! this file the false-failure rate of a correct sampler is about 6e-3 per fresh seed; the
//! seeds are fixed, so the outcome is deterministic.

use crate::common::{NumericCdf, chi2_pvalue, chi2_test, ks_pvalue, ks_statistic};
use infer_ad::Tape;
use infer_dist::*;
use ndarray::Array1;
use rand::SeedableRng;
use rand::rngs::StdRng;

const N: usize = 20_000;
const ALPHA: f64 = 1e-4;

type Make = for<'t> fn(&'t Tape) -> Box<dyn Distribution<'t> + 't>;

fn s<'t>(tape: &'t Tape, x: f64) -> infer_ad::Tensor<'t> {
    tape.var(x).as_tensor()
}

/// Draws N values (via `sample`, or `rsample` when `pathwise`), flattening component `comp`
/// of a vector event.
fn draws(d: &dyn Distribution<'_>, pathwise: bool, seed: u64, comp: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..N)
        .map(|_| {
            if pathwise {
                let r = d.as_reparameterizable().expect("reparameterizable");
                r.rsample(&mut rng).expect("rsample").to_vec()[comp]
            } else {
                d.sample(&mut rng)
                    .expect("sample")
                    .as_slice()
                    .expect("contiguous")[comp]
            }
        })
        .collect()
}

fn ks_against(name: &str, mut xs: Vec<f64>, cdf: impl Fn(&[f64]) -> Vec<f64>) {
    xs.sort_by(f64::total_cmp);
    let c = cdf(&xs);
    let d = ks_statistic(&c);
    let p = ks_pvalue(d, xs.len());
    assert!(p > ALPHA, "{name}: KS D = {d:.5}, p = {p:.2e}");
}

fn ks_family(name: &str, make: Make, seed: u64) {
    let tape = Tape::new();
    let d = make(&tape);
    let cdf = |xs: &[f64]| {
        d.cdf(tape.constant(&Array1::from(xs.to_vec())))
            .expect("cdf")
            .to_vec()
    };
    ks_against(
        &format!("{name} sample"),
        draws(d.as_ref(), false, seed, 0),
        cdf,
    );
    if d.as_reparameterizable().is_some() {
        ks_against(
            &format!("{name} rsample"),
            draws(d.as_ref(), true, seed + 1, 0),
            cdf,
        );
    }
}

macro_rules! ks_tests {
    ($($test:ident: $name:literal => |$t:ident| $e:expr;)*) => {
        $(
            #[test]
            fn $test() {
                fn make<'t>($t: &'t Tape) -> Box<dyn Distribution<'t> + 't> {
                    Box::new($e.expect("valid parameters"))
                }
                ks_family($name, make, 1000 + line!() as u64);
            }
        )*
    };
}

ks_tests! {
    ks_normal: "Normal" => |t| Normal::new(s(t, 1.5), s(t, 0.7));
    ks_cauchy: "Cauchy" => |t| Cauchy::new(s(t, -1.0), s(t, 2.0));
    ks_log_normal: "LogNormal" => |t| LogNormal::new(s(t, 0.3), s(t, 0.8));
    ks_half_normal: "HalfNormal" => |t| HalfNormal::new(s(t, 1.7));
    ks_half_cauchy: "HalfCauchy" => |t| HalfCauchy::new(s(t, 0.9));
    ks_exponential: "Exponential" => |t| Exponential::new(s(t, 2.5));
    ks_gamma_small: "Gamma(0.3)" => |t| Gamma::new(s(t, 0.3), s(t, 2.0));
    ks_gamma: "Gamma(4.2)" => |t| Gamma::new(s(t, 4.2), s(t, 0.5));
    ks_inverse_gamma: "InverseGamma" => |t| InverseGamma::new(s(t, 2.5), s(t, 1.5));
    ks_laplace: "Laplace" => |t| Laplace::new(s(t, 0.5), s(t, 1.2));
    ks_uniform: "Uniform" => |t| Uniform::new(s(t, -2.0), s(t, 3.0));
    ks_gumbel: "Gumbel" => |t| Gumbel::new(s(t, 1.0), s(t, 0.6));
    ks_weibull: "Weibull" => |t| Weibull::new(s(t, 2.0), s(t, 1.5));
    ks_chi2: "Chi2" => |t| Chi2::new(s(t, 3.3));
    ks_pareto: "Pareto" => |t| Pareto::new(s(t, 0.5), s(t, 2.5));
    ks_kumaraswamy: "Kumaraswamy" => |t| Kumaraswamy::new(s(t, 2.0), s(t, 0.7));
}

/// KS against a numeric cdf of `exp(log_prob)` tabulated on [lo, hi].
fn ks_numeric(name: &str, make: Make, lo: f64, hi: f64, seed: u64) {
    let tape = Tape::new();
    let d = make(&tape);
    let table = NumericCdf::new(
        |xs| {
            d.log_prob(tape.constant(&Array1::from(xs.to_vec())))
                .expect("log_prob")
                .to_vec()
        },
        lo,
        hi,
        40_000,
    );
    let cdf = |xs: &[f64]| xs.iter().map(|&x| table.cdf(x)).collect::<Vec<_>>();
    ks_against(
        &format!("{name} sample"),
        draws(d.as_ref(), false, seed, 0),
        cdf,
    );
    ks_against(
        &format!("{name} rsample"),
        draws(d.as_ref(), true, seed + 1, 0),
        cdf,
    );
}

#[test]
fn ks_beta() {
    fn make<'t>(t: &'t Tape) -> Box<dyn Distribution<'t> + 't> {
        Box::new(Beta::new(s(t, 2.5), s(t, 1.7)).expect("valid"))
    }
    fn make_small<'t>(t: &'t Tape) -> Box<dyn Distribution<'t> + 't> {
        Box::new(Beta::new(s(t, 0.6), s(t, 0.9)).expect("valid"))
    }
    ks_numeric("Beta(2.5, 1.7)", make, 0.0, 1.0, 11);
    ks_numeric("Beta(0.6, 0.9)", make_small, 0.0, 1.0, 13);
}

#[test]
fn ks_student_t() {
    fn make<'t>(t: &'t Tape) -> Box<dyn Distribution<'t> + 't> {
        Box::new(StudentT::new(s(t, 5.0), s(t, 1.0), s(t, 2.0)).expect("valid"))
    }
    // mass outside loc ± 200 scale is < 1e-10 for ν = 5
    ks_numeric("StudentT", make, 1.0 - 400.0, 1.0 + 400.0, 17);
}

#[test]
fn ks_dirichlet_marginals() {
    let alpha = [0.7, 2.0, 3.5];
    let a0: f64 = alpha.iter().sum();
    let tape = Tape::new();
    let d = Dirichlet::new(tape.tensor(&ndarray::arr1(&alpha))).expect("valid");
    for (i, &ai) in alpha.iter().enumerate() {
        // the i-th marginal is Beta(αᵢ, α₀ − αᵢ)
        let t2 = Tape::new();
        let m = Beta::new(s(&t2, ai), s(&t2, a0 - ai)).expect("valid");
        let table = NumericCdf::new(
            |xs| {
                m.log_prob(t2.constant(&Array1::from(xs.to_vec())))
                    .expect("log_prob")
                    .to_vec()
            },
            0.0,
            1.0,
            40_000,
        );
        let cdf = |xs: &[f64]| xs.iter().map(|&x| table.cdf(x)).collect::<Vec<_>>();
        ks_against("Dirichlet sample", draws(&d, false, 21 + i as u64, i), cdf);
        ks_against("Dirichlet rsample", draws(&d, true, 31 + i as u64, i), cdf);
    }
}

#[test]
fn ks_multivariate_normal_marginals() {
    let tape = Tape::new();
    let loc = tape.tensor(&ndarray::arr1(&[1.0, -2.0]));
    let l = tape.tensor(&ndarray::arr2(&[[1.5, 0.0], [0.8, 0.6]]));
    let d = MultivariateNormal::new(loc, l).expect("valid");
    let sd = [1.5, (0.64f64 + 0.36).sqrt()];
    for i in 0..2 {
        let t2 = Tape::new();
        let m = Normal::new(s(&t2, [1.0, -2.0][i]), s(&t2, sd[i])).expect("valid");
        let cdf = |xs: &[f64]| {
            m.cdf(t2.constant(&Array1::from(xs.to_vec())))
                .expect("cdf")
                .to_vec()
        };
        ks_against("MVN sample", draws(&d, false, 41 + i as u64, i), cdf);
        ks_against("MVN rsample", draws(&d, true, 51 + i as u64, i), cdf);
    }
}

#[test]
fn delta_samples_its_value() {
    let tape = Tape::new();
    let d = Delta::new(tape.var(2.5)).expect("valid");
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(d.sample(&mut rng).expect("sample").sum(), 2.5);
    assert_eq!(d.rsample(&mut rng).expect("rsample").to_vec(), vec![2.5]);
}

/// Chi-square of N draws against the pmf exp(log_prob(k)), k = 0..=max_k (+ pooled tail).
fn chi2_family(name: &str, make: Make, max_k: u64, seed: u64) {
    let tape = Tape::new();
    let d = make(&tape);
    let ks: Vec<f64> = (0..=max_k).map(|k| k as f64).collect();
    let lp = d
        .log_prob(tape.constant(&Array1::from(ks)))
        .expect("log_prob")
        .to_vec();
    let xs = draws(d.as_ref(), false, seed, 0);
    let (stat, df) = chi2_test(&xs, |k| lp[k as usize].exp(), max_k);
    let p = chi2_pvalue(stat, df);
    assert!(
        p > ALPHA,
        "{name}: chi2 = {stat:.2} on {df} df, p = {p:.2e}"
    );
}

macro_rules! chi2_tests {
    ($($test:ident: $name:literal, $max:expr => |$t:ident| $e:expr;)*) => {
        $(
            #[test]
            fn $test() {
                fn make<'t>($t: &'t Tape) -> Box<dyn Distribution<'t> + 't> {
                    Box::new($e.expect("valid parameters"))
                }
                chi2_family($name, make, $max, 2000 + line!() as u64);
            }
        )*
    };
}

chi2_tests! {
    chi2_bernoulli_probs: "Bernoulli(probs)", 1 => |t| Bernoulli::from_probs(s(t, 0.3));
    chi2_bernoulli_logits: "Bernoulli(logits)", 1 => |t| Bernoulli::from_logits(s(t, 0.8));
    chi2_binomial: "Binomial", 20 => |t| Binomial::new(s(t, 20.0), s(t, 0.35));
    chi2_poisson: "Poisson", 30 => |t| Poisson::new(s(t, 6.5));
    chi2_poisson_small: "Poisson(0.2)", 10 => |t| Poisson::new(s(t, 0.2));
    chi2_geometric: "Geometric", 40 => |t| Geometric::new(s(t, 0.25));
    chi2_negative_binomial: "NegativeBinomial", 60 => |t| NegativeBinomial::new(s(t, 3.5), s(t, 0.6));
    chi2_categorical: "Categorical", 3 => |t| Categorical::from_probs(t.tensor(&ndarray::arr1(&[0.1, 0.2, 0.3, 0.4])));
    chi2_categorical_logits: "Categorical(logits)", 2 => |t| Categorical::from_logits(t.tensor(&ndarray::arr1(&[0.5, -1.0, 2.0])));
}
