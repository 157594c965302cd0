//! Issue 14, item 7: a panic inside user model code is returned as a typed error with its
//! message and the user's file and line, never as a bare "chain N panicked".

use std::sync::{Arc, Barrier};

use infer_ad::{Tape, Tensor, Var};
use infer_dist::Constraint;
use infer_mcmc::model::{Model, Params};
use infer_mcmc::{
    FnDensity, LogDensity, LogDensityError, McmcError, PanicLocation, Sampler, SamplerSettings,
};

use super::common::runs;

fn settings(num_chains: usize) -> SamplerSettings {
    SamplerSettings {
        num_threads: num_chains,
        seed: 14,
        ..runs(num_chains, 20, 20)
    }
}

/// The line of the `a + b` in `add` (two lines below this constant's line).
const ADD_LINE: u32 = line!() + 2;
fn add<'t>(a: Tensor<'t>, b: Tensor<'t>) -> Tensor<'t> {
    a + b
}

/// A model whose log density adds a vector of 3 to a vector of 2: a bug in the user's code.
#[derive(Clone)]
struct Mismatched;

impl Model for Mismatched {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let a = p.vector("a", 3, Constraint::Real)?;
        let b = p.vector("b", 2, Constraint::Real)?;
        Ok(add(a, b).square().sum())
    }
}

/// The same bug in a hand-written density (a model's layout is learned by running it, which
/// would already panic outside the sampler's threads).
struct MismatchedDensity;

impl LogDensity for MismatchedDensity {
    fn dim(&self) -> usize {
        5
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        let tape = Tape::new();
        let a = tape.tensor_from_slice(&[3], &x[..3])?;
        let b = tape.tensor_from_slice(&[2], &x[3..])?;
        let lp = add(a, b).square().sum();
        lp.backward();
        g.fill(0.0);
        Ok(lp.value())
    }
}

fn expect_panic(err: &McmcError) -> (usize, &str, &PanicLocation) {
    match err {
        McmcError::ChainPanicked {
            chain,
            message,
            location: Some(location),
        } => (*chain, message, location),
        other => panic!("expected a located panic report, got {other:?}"),
    }
}

#[test]
fn shape_mismatch_in_log_density_names_shapes_and_the_users_line() {
    // Three chains on three threads: every chain panics; the first chain's report is returned.
    let err = Sampler::new(settings(3))
        .unwrap()
        .sample_model(&Mismatched)
        .unwrap_err();
    let (chain, message, location) = expect_panic(&err);
    assert_eq!(chain, 0);
    assert!(message.contains("shape mismatch in add"), "{message}");
    assert!(
        message.contains("[3]") && message.contains("[2]"),
        "{message}"
    );
    assert!(location.file.ends_with("panics.rs"), "{location}");
    assert_eq!(location.line, ADD_LINE, "{location}");
    let text = err.to_string();
    assert!(
        text.starts_with("chain 0: the model panicked at "),
        "{text}"
    );
    assert!(text.contains(&format!("panics.rs:{ADD_LINE}:")), "{text}");
    assert!(text.contains("[3]") && text.contains("[2]"), "{text}");
}

/// A model reading `x[chain + 2]` of its two coordinates: out of range for every chain.
struct OutOfRange {
    chain: usize,
}

/// The line of the indexing in `OutOfRange::logp_and_grad`.
const INDEX_LINE: u32 = line!() + 7;
impl LogDensity for OutOfRange {
    fn dim(&self) -> usize {
        2
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        g.fill(0.0);
        let v = x[self.chain + 2];
        Ok(-v * v)
    }
}

fn oob(chain: usize) -> OutOfRange {
    OutOfRange { chain }
}

#[test]
fn index_out_of_range_is_reported_with_message_and_line() {
    let err = Sampler::new(settings(2)).unwrap().sample(oob).unwrap_err();
    let (chain, message, location) = expect_panic(&err);
    assert_eq!(chain, 0);
    assert!(
        message.contains("index out of bounds") && message.contains("the index is 2"),
        "{message}"
    );
    assert_eq!(location.line, INDEX_LINE, "{location}");
    assert!(location.file.ends_with("panics.rs"), "{location}");
}

/// Only chain 1 panics: the error is chain 1's, with its own message.
#[test]
fn the_failing_chain_is_named() {
    let err = Sampler::new(settings(3))
        .unwrap()
        .sample(|chain| {
            FnDensity::new(1, move |x: &[f64], g: &mut [f64]| {
                assert!(chain != 1, "chain {chain} has a bug");
                g[0] = -x[0];
                Ok(-0.5 * x[0] * x[0])
            })
        })
        .unwrap_err();
    let (chain, message, location) = expect_panic(&err);
    assert_eq!((chain, message), (1, "chain 1 has a bug"));
    assert!(location.file.ends_with("panics.rs"), "{location}");
}

/// The line of the `panic!` in `Factory::make`.
const FACTORY_LINE: u32 = line!() + 3;
fn factory(chain: usize) -> MismatchedDensity {
    if chain == 0 {
        panic!("no data for chain {chain}");
    }
    MismatchedDensity
}

#[test]
fn a_panicking_model_factory_is_reported() {
    let err = Sampler::new(settings(2))
        .unwrap()
        .sample(factory)
        .unwrap_err();
    let (chain, message, location) = expect_panic(&err);
    assert_eq!((chain, message), (0, "no data for chain 0"));
    assert_eq!(location.line, FACTORY_LINE, "{location}");
}

/// Chains panicking at the same moment on several threads each get their own location: the
/// hook stores it per thread. Odd chains fail in `add` (shape mismatch), even chains in `oob`
/// (index out of range); a barrier lines the threads up so that the panics overlap.
#[test]
fn simultaneous_panics_on_threads_keep_their_own_locations() {
    let threads = 4;
    let sampler = Arc::new(Sampler::new(settings(threads)).unwrap());
    for _round in 0..5 {
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|c| {
                let (sampler, barrier) = (Arc::clone(&sampler), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let err = if c % 2 == 1 {
                        sampler.sample_chain(c, &mut MismatchedDensity).unwrap_err()
                    } else {
                        sampler.sample_chain(c, &mut oob(c)).unwrap_err()
                    };
                    let (chain, message, location) = expect_panic(&err);
                    (c, chain, message.to_owned(), location.line)
                })
            })
            .collect();
        for h in handles {
            let (c, chain, message, line) = h.join().expect("the panic was caught");
            assert_eq!(chain, c);
            if c % 2 == 1 {
                assert!(message.contains("shape mismatch"), "{message}");
                assert_eq!(line, ADD_LINE, "chain {c}: {message}");
            } else {
                assert!(message.contains("index out of bounds"), "{message}");
                assert_eq!(line, INDEX_LINE, "chain {c}: {message}");
            }
        }
    }
}
