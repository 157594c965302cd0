//! Hostile input, two tapes (issue 13): parameters, or a value, on another tape than the rest
//! are a typed error.

use infer_ad::Tape;
use infer_dist::*;
use ndarray::{arr1, arr2};

use crate::common::is_different_tapes;

/// Parameters on two tapes are a typed error for every family with two or more parameter
/// handles, and a value on another tape than the parameters is a typed error for every
/// method that takes one (it used to be `Ok`, then panicked in `log_prob`).
#[test]
fn two_tapes_are_a_typed_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = |v: f64| t1.var(v).as_tensor();
    let b = |v: f64| t2.var(v).as_tensor();
    assert!(is_different_tapes(Normal::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Normal::new(b(0.0), a(1.0))));
    assert!(is_different_tapes(Cauchy::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(LogNormal::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Gamma::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(InverseGamma::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Beta::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(StudentT::new(a(3.0), a(0.0), b(1.0))));
    assert!(is_different_tapes(StudentT::new(b(3.0), a(0.0), a(1.0))));
    assert!(is_different_tapes(Laplace::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Uniform::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Gumbel::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Weibull::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Pareto::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Kumaraswamy::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Binomial::new(a(3.0), b(0.5))));
    assert!(is_different_tapes(NegativeBinomial::new(a(3.0), b(0.5))));
    assert!(is_different_tapes(MultivariateNormal::new(
        t1.tensor(&arr1(&[0.0, 0.0])),
        t2.tensor(&arr2(&[[1.0, 0.0], [0.0, 1.0]]))
    )));

    // a value on another tape than the parameters
    let x2 = b(0.5);
    let x2v = t2.tensor(&arr1(&[0.2, 0.3, 0.5]));
    let ds: Vec<Box<dyn Distribution<'_> + '_>> = vec![
        Box::new(Normal::new(a(0.0), a(1.0)).expect("valid")),
        Box::new(StudentT::new(a(3.0), a(0.0), a(1.0)).expect("valid")),
        Box::new(Gamma::new(a(2.0), a(1.0)).expect("valid")),
        Box::new(Beta::new(a(2.0), a(1.0)).expect("valid")),
        Box::new(Uniform::new(a(0.0), a(1.0)).expect("valid")),
        Box::new(Exponential::new(a(1.0)).expect("valid")),
        Box::new(Poisson::new(a(1.0)).expect("valid")),
        Box::new(Geometric::new(a(0.3)).expect("valid")),
        Box::new(Bernoulli::from_probs(a(0.3)).expect("valid")),
        Box::new(Delta::new(a(0.5)).expect("valid")),
        Box::new(Categorical::from_probs(t1.tensor(&arr1(&[0.2, 0.8]))).expect("valid")),
    ];
    for d in &ds {
        assert!(is_different_tapes(d.log_prob(x2)), "{} log_prob", d.name());
        assert!(
            is_different_tapes(d.log_prob_sum(x2)),
            "{} log_prob_sum",
            d.name()
        );
        match d.cdf(x2) {
            Err(DistError::NotDefined { .. }) => {}
            r => assert!(is_different_tapes(r), "{} cdf", d.name()),
        }
    }
    // the Normal's fast path (scalar parameters, a vector of values)
    let n = Normal::new(a(0.0), a(1.0)).expect("valid");
    assert!(is_different_tapes(n.log_prob_sum(x2v)));
    let dir = Dirichlet::new(t1.tensor(&arr1(&[1.0, 2.0, 3.0]))).expect("valid");
    assert!(is_different_tapes(dir.log_prob(x2v)));
    assert!(is_different_tapes(dir.log_prob_sum(x2v)));
    let mvn = MultivariateNormal::new(
        t1.tensor(&arr1(&[0.0, 0.0, 0.0])),
        t1.tensor(&arr2(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    )
    .expect("valid");
    assert!(is_different_tapes(mvn.log_prob(x2v)));
    assert!(is_different_tapes(mvn.log_prob_sum(x2v)));
}
