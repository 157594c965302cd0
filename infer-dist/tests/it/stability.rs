//! Value stability: the first draws of every sampler for a fixed seed are pinned, so that a
//! change of sampling algorithm (here or in rand_distr) is noticed.

use infer_ad::Tape;
use infer_dist::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn first_draws(d: &dyn Distribution<'_>) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(42);
    (0..3)
        .flat_map(|_| d.sample(&mut rng).expect("sample").into_iter().collect::<Vec<_>>())
        .collect()
}

fn all(tape: &Tape) -> Vec<Box<dyn Distribution<'_> + '_>> {
    let s = |v: f64| tape.var(v).as_tensor();
    vec![
        Box::new(Normal::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Cauchy::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(LogNormal::new(s(0.5), s(0.5)).expect("ok")),
        Box::new(HalfNormal::new(s(2.0)).expect("ok")),
        Box::new(HalfCauchy::new(s(2.0)).expect("ok")),
        Box::new(Exponential::new(s(2.0)).expect("ok")),
        Box::new(Gamma::new(s(2.5), s(2.0)).expect("ok")),
        Box::new(Gamma::new(s(0.5), s(2.0)).expect("ok")),
        Box::new(InverseGamma::new(s(2.5), s(2.0)).expect("ok")),
        Box::new(Beta::new(s(2.0), s(3.0)).expect("ok")),
        Box::new(StudentT::new(s(4.0), s(1.0), s(2.0)).expect("ok")),
        Box::new(Laplace::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Uniform::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Gumbel::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Weibull::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Chi2::new(s(3.0)).expect("ok")),
        Box::new(Pareto::new(s(1.0), s(2.0)).expect("ok")),
        Box::new(Kumaraswamy::new(s(2.0), s(3.0)).expect("ok")),
        Box::new(Bernoulli::from_probs(s(0.4)).expect("ok")),
        Box::new(Binomial::new(s(10.0), s(0.4)).expect("ok")),
        Box::new(Poisson::new(s(3.5)).expect("ok")),
        Box::new(Geometric::new(s(0.3)).expect("ok")),
        Box::new(NegativeBinomial::new(s(2.5), s(0.4)).expect("ok")),
        Box::new(Categorical::from_probs(tape.tensor(&ndarray::arr1(&[0.2, 0.3, 0.5]))).expect("ok")),
        Box::new(Dirichlet::new(tape.tensor(&ndarray::arr1(&[1.0, 2.0, 3.0]))).expect("ok")),
        Box::new(
            MultivariateNormal::new(
                tape.tensor(&ndarray::arr1(&[1.0, 2.0])),
                tape.tensor(&ndarray::arr2(&[[1.0, 0.0], [0.5, 2.0]])),
            )
            .expect("ok"),
        ),
        Box::new(Delta::new(s(1.5)).expect("ok")),
    ]
}

const PINNED: &[(&str, &[f64])] = &[];

#[test]
fn value_stability() {
    let tape = Tape::new();
    let ds = all(&tape);
    if std::env::var_os("INFER_PRINT_PINNED").is_some() {
        for d in &ds {
            println!("    (\"{}\", &{:?}),", d.name(), first_draws(d.as_ref()));
        }
        return;
    }
    assert_eq!(ds.len(), PINNED.len(), "one pinned row per sampler");
    for (d, (name, want)) in ds.iter().zip(PINNED) {
        assert_eq!(d.name(), *name);
        let got = first_draws(d.as_ref());
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{name}: {got:?} vs {want:?}");
        }
    }
}
