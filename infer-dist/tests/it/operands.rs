//! Operands (issue 14 item 4): every family's constructor takes numbers, data arrays, `Var`s
//! and `Tensor`s. For each family, built from plain numbers and arrays:
//!
//! - its `log_prob_sum` and elementwise `log_prob` at a tracked value equal, bit for bit, those
//!   of the same family built from tape constants (`tape.constant(..)`), and the value's
//!   gradient is the same;
//! - a tracked first parameter with plain constants for the rest gives the same log density
//!   and the same gradient for that parameter as the family built from tape tensors only;
//! - a data value (`&ndarray`, and `&Vec<f64>`, `&[f64]` for vector values) gives the same
//!   result as `tape.constant(..)`; an all-constant distribution with a data value has no tape
//!   and says so (`DistError::Unbound`);
//! - an all-constant distribution's `entropy`, `mean` (and `rsample` where the family has it)
//!   return `DistError::Unbound`, its `sample` works and draws what the tape-bound family draws
//!   with the same seed, and `.on(&tape)` binds it;
//! - tensors of two tapes give `DifferentTapes`, in the constructor and between a distribution
//!   and its value.
//!
//! The expected values are those of the same family on tape tensors (the form the existing
//! suites check against independent references); the assertions are exact equalities: both
//! paths run the same kernel on the same numbers, so any difference is a defect in binding.

use infer_ad::Tape;
use infer_dist::*;
use ndarray::{ArrayD, arr0, array};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::is_different_tapes;

/// A parameter constant of a test case.
#[derive(Clone)]
enum C {
    S(f64),
    A(ArrayD<f64>),
}

fn s(x: f64) -> C {
    C::S(x)
}

fn a<D: ndarray::Dimension>(x: ndarray::Array<f64, D>) -> C {
    C::A(x.into_dyn())
}

impl C {
    fn array(&self) -> ArrayD<f64> {
        match self {
            C::S(x) => arr0(*x).into_dyn(),
            C::A(a) => a.clone(),
        }
    }
}

/// The constants as plain numbers and data arrays (no tape).
fn plain<'t>(cs: &[C]) -> Vec<Param<'t>> {
    cs.iter()
        .map(|c| match c {
            C::S(x) => Param::from(*x),
            C::A(a) => Param::from(a),
        })
        .collect()
}

/// The constants as untracked tape constants.
fn on_tape<'t>(cs: &[C], tape: &'t Tape) -> Vec<Param<'t>> {
    cs.iter()
        .map(|c| Param::from(tape.constant(&c.array())))
        .collect()
}

/// The constants as tracked tape tensors.
fn tracked<'t>(cs: &[C], tape: &'t Tape) -> Vec<Param<'t>> {
    cs.iter()
        .map(|c| Param::from(tape.tensor(&c.array())))
        .collect()
}

/// The first constant tracked on `tape`, the rest plain.
fn first_tracked<'t>(cs: &[C], tape: &'t Tape) -> Vec<Param<'t>> {
    let mut ps = plain(cs);
    ps[0] = Param::from(tape.tensor(&cs[0].array()));
    ps
}

fn is_unbound<T: std::fmt::Debug>(r: Result<T, DistError>) -> bool {
    matches!(r, Err(DistError::Unbound { .. }))
}

/// Exact equality of two slices, NaN-free (every case is inside the support).
fn same(what: &str, x: &[f64], y: &[f64]) {
    assert_eq!(x.len(), y.len(), "{what}: lengths");
    for (i, (u, v)) in x.iter().zip(y).enumerate() {
        assert!(u.is_finite(), "{what}[{i}] = {u} is not finite");
        assert_eq!(u.to_bits(), v.to_bits(), "{what}[{i}]: {u} vs {v}");
    }
}

/// Generates one test per family: `build` makes the family from a `Vec<Param>` named `p`;
/// `consts` are its parameters; `value` a value in the support; `vector` whether the value is
/// 1-D (then `&Vec<f64>` and `&[f64]` are tried too).
macro_rules! operands {
    ($(
        $test:ident: $ty:ident, |$p:ident| $build:expr, [$($c:expr),+ $(,)?],
        value: $v:expr, vector: $vec:expr, reparam: $r:expr;
    )*) => {$(
        #[test]
        fn $test() {
            fn build<'t>($p: Vec<Param<'t>>) -> Result<$ty<'t>, DistError> {
                $build
            }
            let consts: Vec<C> = vec![$($c),+];
            let value: ArrayD<f64> = $v.into_dyn();
            let name = stringify!($ty);

            // plain constants against tape constants, at a tracked value
            let (lp_c, lps_c, g_c) = {
                let tape = Tape::new();
                let d = build(plain(&consts)).expect("valid constants");
                assert!(d.tape().is_none(), "{name}: all-constant has no tape");
                let x = tape.tensor(&value);
                let lps = Distribution::log_prob(&d, x).expect("log_prob").to_vec();
                let lp = d.log_prob_sum(x).expect("log_prob_sum");
                lp.backward();
                (lp.value(), lps, x.grad().iter().copied().collect::<Vec<_>>())
            };
            let (lp_t, lps_t, g_t) = {
                let tape = Tape::new();
                let d = build(on_tape(&consts, &tape)).expect("valid tape constants");
                let x = tape.tensor(&value);
                let lps = Distribution::log_prob(&d, x).expect("log_prob").to_vec();
                let lp = d.log_prob_sum(x).expect("log_prob_sum");
                lp.backward();
                (lp.value(), lps, x.grad().iter().copied().collect::<Vec<_>>())
            };
            same(&format!("{name} log_prob_sum"), &[lp_c], &[lp_t]);
            same(&format!("{name} log_prob"), &lps_c, &lps_t);
            same(&format!("{name} value gradient"), &g_c, &g_t);

            // a tracked first parameter with plain constants against tape tensors only
            let (lp_m, g_m) = {
                let tape = Tape::new();
                let ps = first_tracked(&consts, &tape);
                let p0 = ps[0].as_tensor().expect("tracked");
                let d = build(ps).expect("valid mixed");
                assert!(d.tape().is_some(), "{name}: a tape handle binds the constants");
                let lp = d.log_prob_sum(&value).expect("log_prob_sum at data");
                lp.backward();
                (lp.value(), p0.grad().iter().copied().collect::<Vec<_>>())
            };
            let (lp_a, g_a) = {
                let tape = Tape::new();
                let ps = tracked(&consts, &tape);
                let p0 = ps[0].as_tensor().expect("tracked");
                let d = build(ps).expect("valid tracked");
                let lp = d.log_prob_sum(tape.constant(&value)).expect("log_prob_sum");
                lp.backward();
                (lp.value(), p0.grad().iter().copied().collect::<Vec<_>>())
            };
            same(&format!("{name} mixed log_prob_sum"), &[lp_m], &[lp_a]);
            same(&format!("{name} mixed parameter gradient"), &g_m, &g_a);
            same(&format!("{name} constants vs tracked"), &[lp_c], &[lp_a]);

            // a data value against tape.constant, on a distribution with a tape
            {
                let tape = Tape::new();
                let d = build(on_tape(&consts, &tape)).expect("valid");
                let want = d.log_prob_sum(tape.constant(&value)).expect("lps").value();
                let want_el = d.log_prob(tape.constant(&value)).expect("lp").to_vec();
                same(
                    &format!("{name} &ndarray value"),
                    &[d.log_prob_sum(&value).expect("data").value()],
                    &[want],
                );
                same(
                    &format!("{name} &ndarray log_prob"),
                    &d.log_prob(&value).expect("data").to_vec(),
                    &want_el,
                );
                if $vec {
                    let v: Vec<f64> = value.iter().copied().collect();
                    same(
                        &format!("{name} &Vec value"),
                        &[d.log_prob_sum(&v).expect("vec").value()],
                        &[want],
                    );
                    same(
                        &format!("{name} &[f64] value"),
                        &[d.log_prob_sum(v.as_slice()).expect("slice").value()],
                        &[want],
                    );
                }
            }

            // an all-constant distribution: no tape for the quantities that need one
            {
                let d = build(plain(&consts)).expect("valid");
                assert!(is_unbound(d.log_prob_sum(&value)), "{name}: data value, no tape");
                assert!(is_unbound(Distribution::entropy(&d)), "{name}: entropy");
                assert!(is_unbound(Distribution::mean(&d)), "{name}: mean");
                assert_eq!(Distribution::as_reparameterizable(&d).is_some(), $r, "{name}");
                if let Some(r) = Distribution::as_reparameterizable(&d) {
                    assert!(is_unbound(r.rsample(&mut StdRng::seed_from_u64(1))), "{name}");
                }
                let draw = Distribution::sample(&d, &mut StdRng::seed_from_u64(5))
                    .expect("sample from constants");
                let mut dims = Distribution::batch_shape(&d).dims().to_vec();
                dims.extend_from_slice(Distribution::event_shape(&d).dims());
                assert_eq!(draw.shape(), &dims[..], "{name}: draw shape");
                let tape = Tape::new();
                let dt = build(on_tape(&consts, &tape)).expect("valid");
                let draw_t = Distribution::sample(&dt, &mut StdRng::seed_from_u64(5))
                    .expect("sample on the tape");
                same(
                    &format!("{name} draws"),
                    draw.as_slice().expect("standard layout"),
                    draw_t.as_slice().expect("standard layout"),
                );
                assert_eq!(
                    Distribution::event_shape(&d).dims(),
                    Distribution::event_shape(&dt).dims()
                );
                assert_eq!(
                    Distribution::batch_shape(&d).dims(),
                    Distribution::batch_shape(&dt).dims()
                );
                // bound to a tape, the mean is computed or reported as not defined
                let on = d.on(&tape).expect("bind");
                assert!(on.tape().is_some());
                assert!(!is_unbound(Distribution::mean(&on)), "{name}: bound mean");
                let names: Vec<_> = Distribution::params(&d).iter().map(|p| p.0).collect();
                let names_t: Vec<_> = Distribution::params(&dt).iter().map(|p| p.0).collect();
                assert_eq!(names, names_t, "{name}: parameter names");
            }

            // two tapes: between the parameters, and between a distribution and its value
            {
                let (t1, t2) = (Tape::new(), Tape::new());
                let d1 = build(on_tape(&consts, &t1)).expect("valid");
                assert!(
                    is_different_tapes(Distribution::log_prob_sum(&d1, t2.tensor(&value))),
                    "{name}: value on another tape"
                );
                assert!(
                    is_different_tapes(d1.log_prob(t2.tensor(&value))),
                    "{name}: value on another tape (log_prob)"
                );
                if consts.len() >= 2 {
                    let mut ps = tracked(&consts, &t1);
                    ps[1] = Param::from(t2.tensor(&consts[1].array()));
                    assert!(is_different_tapes(build(ps)), "{name}: parameters on two tapes");
                }
            }
        }
    )*};
}

operands! {
    normal: Normal, |p| Normal::new(&p[0], &p[1]),
        [s(0.5), a(array![1.0, 2.0, 0.5])],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    normal_scalar: Normal, |p| Normal::new(&p[0], &p[1]), [s(0.5), s(1.5)],
        value: array![0.1, -0.3, 1.2, 4.0], vector: true, reparam: true;
    cauchy: Cauchy, |p| Cauchy::new(&p[0], &p[1]), [s(0.2), s(1.5)],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    log_normal: LogNormal, |p| LogNormal::new(&p[0], &p[1]), [a(array![0.1, -0.2, 0.0]), s(0.8)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    half_normal: HalfNormal, |p| HalfNormal::new(&p[0]), [s(1.5)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    half_cauchy: HalfCauchy, |p| HalfCauchy::new(&p[0]), [s(2.0)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    exponential: Exponential, |p| Exponential::new(&p[0]), [a(array![0.5, 1.0, 2.0])],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    gamma: Gamma, |p| Gamma::new(&p[0], &p[1]), [s(2.5), s(1.5)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    inverse_gamma: InverseGamma, |p| InverseGamma::new(&p[0], &p[1]), [s(3.0), s(2.0)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    beta: Beta, |p| Beta::new(&p[0], &p[1]), [s(2.0), a(array![3.0, 0.5, 1.0])],
        value: array![0.2, 0.5, 0.7], vector: true, reparam: true;
    student_t: StudentT, |p| StudentT::new(&p[0], &p[1], &p[2]), [s(4.0), s(0.5), s(1.5)],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    laplace: Laplace, |p| Laplace::new(&p[0], &p[1]), [s(0.0), s(1.0)],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    uniform: Uniform, |p| Uniform::new(&p[0], &p[1]), [s(-1.0), s(2.0)],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    gumbel: Gumbel, |p| Gumbel::new(&p[0], &p[1]), [s(0.5), s(2.0)],
        value: array![0.1, -0.3, 1.2], vector: true, reparam: true;
    weibull: Weibull, |p| Weibull::new(&p[0], &p[1]), [s(1.5), s(2.0)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    chi2: Chi2, |p| Chi2::new(&p[0]), [s(3.0)],
        value: array![0.5, 1.2, 2.0], vector: true, reparam: true;
    pareto: Pareto, |p| Pareto::new(&p[0], &p[1]), [s(0.5), s(2.0)],
        value: array![0.6, 1.2, 2.0], vector: true, reparam: true;
    kumaraswamy: Kumaraswamy, |p| Kumaraswamy::new(&p[0], &p[1]), [s(2.0), s(3.0)],
        value: array![0.2, 0.5, 0.7], vector: true, reparam: true;
    bernoulli_probs: Bernoulli, |p| Bernoulli::from_probs(&p[0]), [a(array![0.3, 0.9, 0.5])],
        value: array![1.0, 0.0, 1.0], vector: true, reparam: false;
    bernoulli_logits: Bernoulli, |p| Bernoulli::from_logits(&p[0]), [s(-0.4)],
        value: array![1.0, 0.0, 1.0], vector: true, reparam: false;
    binomial: Binomial, |p| Binomial::new(&p[0], &p[1]), [s(10.0), s(0.3)],
        value: array![2.0, 5.0, 0.0], vector: true, reparam: false;
    poisson: Poisson, |p| Poisson::new(&p[0]), [s(3.5)],
        value: array![0.0, 2.0, 7.0], vector: true, reparam: false;
    geometric: Geometric, |p| Geometric::new(&p[0]), [s(0.3)],
        value: array![0.0, 2.0, 7.0], vector: true, reparam: false;
    negative_binomial: NegativeBinomial, |p| NegativeBinomial::new(&p[0], &p[1]),
        [s(4.5), s(0.3)],
        value: array![0.0, 2.0, 7.0], vector: true, reparam: false;
    categorical_probs: Categorical, |p| Categorical::from_probs(&p[0]),
        [a(array![0.2, 0.3, 0.5])],
        value: array![0.0, 2.0, 1.0], vector: true, reparam: false;
    categorical_logits: Categorical, |p| Categorical::from_logits(&p[0]),
        [a(array![[0.1, -0.5, 1.0], [2.0, 0.0, -1.0]])],
        value: array![0.0, 2.0], vector: true, reparam: false;
    dirichlet: Dirichlet, |p| Dirichlet::new(&p[0]), [a(array![1.5, 2.0, 3.0])],
        value: array![[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], vector: false, reparam: true;
    multivariate_normal: MultivariateNormal, |p| MultivariateNormal::new(&p[0], &p[1]),
        [a(array![0.5, -0.2]), a(array![[1.0, 0.0], [0.3, 0.8]])],
        value: array![[0.1, 0.4], [1.0, -1.0]], vector: false, reparam: true;
    delta: Delta, |p| Delta::new(&p[0]), [a(array![0.5, 1.0, 2.0])],
        value: array![0.5, 1.0, 2.0], vector: true, reparam: true;
    multinomial_probs: Multinomial, |p| Multinomial::from_probs(4, &p[0]),
        [a(array![0.2, 0.3, 0.5])],
        value: array![1.0, 1.0, 2.0], vector: true, reparam: false;
    multinomial_logits: Multinomial, |p| Multinomial::from_logits(4, &p[0]),
        [a(array![0.2, -0.3, 0.5])],
        value: array![[1.0, 1.0, 2.0], [0.0, 4.0, 0.0]], vector: false, reparam: false;
    dirichlet_multinomial: DirichletMultinomial, |p| DirichletMultinomial::new(5, &p[0]),
        [a(array![1.5, 2.0, 0.5])],
        value: array![1.0, 3.0, 1.0], vector: true, reparam: false;
    lkj_cholesky: LkjCholesky, |p| LkjCholesky::new(2, &p[0]), [s(1.5)],
        value: array![[1.0, 0.0], [0.6, 0.8]], vector: false, reparam: false;
}

/// Mixture (its components are a boxed distribution, so its weights are handled by hand):
/// weights and components from plain numbers against tape constants, a data value, a tracked
/// weight, the tape checks.
#[test]
fn mixture() {
    let (w, locs, scales) = (array![0.3, 0.7], array![-1.0, 1.0], array![0.7, 1.2]);
    let value = array![0.0, -2.5, 1.1];
    // plain numbers everywhere against tape constants everywhere
    let run = |tape: &Tape, plain_params: bool| {
        let m = if plain_params {
            Mixture::new(&w, Normal::new(&locs, &scales).unwrap()).unwrap()
        } else {
            let c = Normal::new(tape.constant(&locs), tape.constant(&scales)).unwrap();
            Mixture::new(tape.constant(&w), c).unwrap()
        };
        let x = tape.tensor(&value);
        let lps = Distribution::log_prob(&m, x).unwrap().to_vec();
        let lp = m.log_prob_sum(x).unwrap();
        lp.backward();
        (
            lp.value(),
            lps,
            x.grad().iter().copied().collect::<Vec<_>>(),
        )
    };
    let (ta, tb) = (Tape::new(), Tape::new());
    let (lp_c, lps_c, g_c) = run(&ta, true);
    let (lp_t, lps_t, g_t) = run(&tb, false);
    same("Mixture log_prob_sum", &[lp_c], &[lp_t]);
    same("Mixture log_prob", &lps_c, &lps_t);
    same("Mixture value gradient", &g_c, &g_t);
    assert!(
        g_c.iter().all(|g| *g != 0.0),
        "the gradient reaches the value"
    );

    // plain weights with components on a tape: bound at construction; the weights' gradient
    // (through logits) and the value agree with tape tensors only
    let tape = Tape::new();
    let comps = Normal::new(tape.tensor(&locs), &scales).unwrap();
    let m = Mixture::from_logits(&w, comps).unwrap();
    assert!(
        m.param().as_tensor().is_some(),
        "constants bound to the components' tape"
    );
    let lp_data = m.log_prob_sum(&value).unwrap().value();
    let v: Vec<f64> = value.to_vec();
    same(
        "Mixture &ndarray value",
        &[lp_data],
        &[m.log_prob_sum(tape.constant(&value)).unwrap().value()],
    );
    same(
        "Mixture &Vec value",
        &[m.log_prob_sum(&v).unwrap().value()],
        &[lp_data],
    );
    same(
        "Mixture &[f64] value",
        &[m.log_prob_sum(v.as_slice()).unwrap().value()],
        &[lp_data],
    );
    let tape2 = Tape::new();
    let logits = tape2.tensor(&w);
    let m2 = Mixture::from_logits(
        logits,
        Normal::new(tape2.tensor(&locs), tape2.tensor(&scales)).unwrap(),
    )
    .unwrap();
    same(
        "Mixture mixed vs tracked",
        &[m2.log_prob_sum(tape2.constant(&value)).unwrap().value()],
        &[lp_data],
    );
    // a tracked weight with constant components: its gradient matches the all-tracked one
    let tape3 = Tape::new();
    let l3 = tape3.tensor(&w);
    let m3 = Mixture::from_logits(l3, Normal::new(&locs, &scales).unwrap()).unwrap();
    let lp3 = m3.log_prob_sum(&value).unwrap();
    lp3.backward();
    m2.log_prob_sum(tape2.constant(&value)).unwrap().backward();
    same("Mixture tracked logits", &[lp3.value()], &[lp_data]);
    same(
        "Mixture logits gradient",
        &l3.grad().iter().copied().collect::<Vec<_>>(),
        &logits.grad().iter().copied().collect::<Vec<_>>(),
    );

    // all constants: no tape for the mean or a data value; sampling works and matches
    let mc = Mixture::new(&w, Normal::new(&locs, &scales).unwrap()).unwrap();
    assert!(mc.tape().is_none());
    assert!(is_unbound(mc.log_prob_sum(&value)));
    assert!(is_unbound(Distribution::mean(&mc)));
    assert!(is_unbound(Distribution::variance(&mc)));
    let tape4 = Tape::new();
    let mt = Mixture::new(
        tape4.constant(&w),
        Normal::new(tape4.constant(&locs), tape4.constant(&scales)).unwrap(),
    )
    .unwrap();
    let d1 = Distribution::sample(&mc, &mut StdRng::seed_from_u64(9)).unwrap();
    let d2 = Distribution::sample(&mt, &mut StdRng::seed_from_u64(9)).unwrap();
    same(
        "Mixture draws",
        d1.as_slice().unwrap(),
        d2.as_slice().unwrap(),
    );
    let names: Vec<_> = Distribution::params(&mc).iter().map(|p| p.0).collect();
    assert_eq!(names, ["weights", "loc", "scale"]);

    // two tapes: weights against components, and a value on another tape
    let (t1, t2) = (Tape::new(), Tape::new());
    let r = Mixture::new(
        t1.tensor(&w),
        Normal::new(t2.tensor(&locs), &scales).unwrap(),
    );
    assert!(is_different_tapes(r));
    let m1 = Mixture::new(&w, Normal::new(t1.tensor(&locs), &scales).unwrap()).unwrap();
    assert!(is_different_tapes(m1.log_prob_sum(t2.tensor(&value))));
}

/// The example: `Normal::new(mu + tau * eta, &sigma)` with data as the value; the
/// gradients reach μ, τ and η: ∂/∂loc Σᵢ ln N(yᵢ | loc, σᵢ) = Σᵢ (yᵢ − loc)/σᵢ² (closed form),
/// times 1, η and τ. Tolerance 1e-14 relative (a few roundings).
#[test]
fn expression_operands_and_data() {
    let tape = Tape::new();
    let (mu, tau, eta) = (tape.var(0.5), tape.var(2.0), tape.var(0.3));
    let sigma = array![1.0, 2.0];
    let y = vec![0.0, 1.5];
    let lp = Normal::new(mu + tau * eta, &sigma)
        .unwrap()
        .log_prob_sum(&y)
        .unwrap();
    lp.backward();
    let loc = 0.5 + 2.0 * 0.3;
    let dloc: f64 = (0..2).map(|i| (y[i] - loc) / (sigma[i] * sigma[i])).sum();
    let want: f64 = (0..2)
        .map(|i| {
            let z = (y[i] - loc) / sigma[i];
            -0.5 * z * z - sigma[i].ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        })
        .sum();
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-14 * y.abs().max(1.0);
    assert!(close(lp.value(), want), "{} vs {want}", lp.value());
    assert!(close(mu.grad(), dloc), "{} vs {dloc}", mu.grad());
    assert!(close(tau.grad(), dloc * 0.3));
    assert!(close(eta.grad(), dloc * 2.0));
    // an all-number prior evaluated at a parameter
    let lp0 = Normal::new(0.0, 5.0).unwrap().log_prob_sum(mu).unwrap();
    let want0 = -0.5 * (0.5f64 / 5.0).powi(2) - 5f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(close(lp0.value(), want0));
}
