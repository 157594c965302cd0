//! Issue 14, item 1: the seed's step API on one tape bridge. A `StepSession` keeps its tape,
//! kernel and last gradient between steps, so a loop costs one gradient per leapfrog step
//! (+ 1 at the first step, + 1 after the store is changed outside it); the free functions
//! cost one gradient more per call, as documented, and make the same draws bit for bit.

use std::cell::Cell;

use infer_ad::{AdError, Bound, ParamStore, Tape, Var};
use infer_mcmc::NutsOptions;
use infer_mcmc::step::{
    StepSession, closure, find_reasonable_epsilon, hmc_step, nuts_step, nuts_step_details,
};
use infer_mcmc::{McmcError, Transition};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::common::{SeedSchedule, store};

/// The loss of a small non-isotropic, non-Gaussian target: ½ Σ cᵢ xᵢ² + ¼ x₀⁴ + x₀ x₁ / 4,
/// counting its evaluations in `count`.
fn counted<'c>(
    count: &'c Cell<usize>,
) -> impl for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, AdError> + Copy + 'c {
    closure(move |t: &Tape, p: &Bound<'_>| {
        count.set(count.get() + 1);
        let x = p.leaves()[0];
        let scales = t.constant(&ndarray::arr1(&[1.0, 4.0, 0.25]));
        let quad = (x.square() * scales).sum() * 0.5;
        let (x0, x1) = (x.at(&[0])?, x.at(&[1])?);
        Ok(quad + x0.square().square() * 0.25 + x0 * x1 * 0.25)
    })
}

/// ½ |x|², +∞ where x₀ > 1, counting its evaluations in `count`.
fn wall<'c>(
    count: &'c Cell<usize>,
) -> impl for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, AdError> + Copy + 'c {
    closure(move |_: &Tape, p: &Bound<'_>| {
        count.set(count.get() + 1);
        let x = p.leaves()[0];
        let loss = x.square().sum() * 0.5;
        Ok(if x.at(&[0])?.value() > 1.0 {
            loss + f64::INFINITY
        } else {
            loss
        })
    })
}

fn same_transition(a: &Transition, b: &Transition) {
    assert_eq!(
        a.accept_stat.to_bits(),
        b.accept_stat.to_bits(),
        "{a:?} {b:?}"
    );
    assert_eq!(a.energy.to_bits(), b.energy.to_bits(), "{a:?} {b:?}");
    assert_eq!(a.logp.to_bits(), b.logp.to_bits(), "{a:?} {b:?}");
    assert_eq!(
        (a.n_leapfrog, a.tree_depth, a.divergent),
        (b.n_leapfrog, b.tree_depth, b.divergent)
    );
}

fn bits(p: &ParamStore) -> Vec<u64> {
    p.to_flat().iter().map(|v| v.to_bits()).collect()
}

/// The seed's loop (step-size heuristic, dual averaging for the first half, then NUTS at the
/// adapted step size) with the free functions and with a session, from the same seed: the
/// same draws and transitions bit for bit, and the session saves exactly one gradient per
/// step after the first.
#[test]
fn session_and_free_functions_make_the_same_draws() {
    let (free_count, session_count) = (Cell::new(0), Cell::new(0));
    let nll = counted(&free_count);
    let mut session = StepSession::new(counted(&session_count));
    let (mut a, mut b) = (store(&[1.0, -0.5, 2.0]), store(&[1.0, -0.5, 2.0]));
    let (mut ra, mut rb) = (StdRng::seed_from_u64(21), StdRng::seed_from_u64(21));
    let fa = find_reasonable_epsilon(&mut a, nll, &mut ra).unwrap();
    let fb = session.find_reasonable_epsilon(&mut b, &mut rb).unwrap();
    assert_eq!(fa, fb);
    assert_eq!(free_count.get(), session_count.get());
    let (mut leapfrog, steps) = (0, 400);
    let mut schedule = SeedSchedule::new(fa, steps / 2);
    let mut eps = schedule.initial();
    let (free_before, session_before) = (free_count.get(), session_count.get());
    for i in 1..=steps {
        let ta = nuts_step_details(eps, &mut a, nll, NutsOptions::default(), &mut ra).unwrap();
        let tb = session
            .nuts_step_details(eps, &mut b, NutsOptions::default(), &mut rb)
            .unwrap();
        same_transition(&ta, &tb);
        assert_eq!(bits(&a), bits(&b), "step {i}");
        leapfrog += ta.n_leapfrog;
        eps = schedule.next(i, ta.accept_stat);
    }
    // The session started from the gradient the heuristic computed at the same point.
    assert_eq!(session_count.get() - session_before, leapfrog);
    assert_eq!(free_count.get() - free_before, leapfrog + steps);
}

/// HMC: a session's N steps of L leapfrog steps cost N·L + 1 gradients, the free function's
/// N·(L + 1); the draws agree bit for bit, also when the step size changes between steps.
#[test]
fn hmc_session_costs_its_leapfrog_steps() {
    let (free_count, session_count) = (Cell::new(0), Cell::new(0));
    let nll = counted(&free_count);
    let mut session = StepSession::new(counted(&session_count));
    let (mut a, mut b) = (store(&[0.5, 0.5, 0.5]), store(&[0.5, 0.5, 0.5]));
    let (mut ra, mut rb) = (StdRng::seed_from_u64(3), StdRng::seed_from_u64(3));
    let (n, l) = (100, 7);
    for i in 0..n {
        let eps = if i % 2 == 0 { 0.1 } else { 0.15 };
        let pa = hmc_step(eps, l, &mut a, nll, &mut ra).unwrap();
        let t = session.hmc_step_details(eps, l, &mut b, &mut rb).unwrap();
        assert_eq!(pa.to_bits(), t.accept_stat.to_bits());
        assert!(!t.divergent);
        assert_eq!(t.n_leapfrog, l);
        assert_eq!(bits(&a), bits(&b));
    }
    assert_eq!(session_count.get(), n * l + 1);
    assert_eq!(free_count.get(), n * (l + 1));
}

/// Divergent trajectories (into a region where the loss is +∞) cost their leapfrog steps
/// too, and a session keeps the draws of the free functions there.
#[test]
fn divergences_cost_their_leapfrog_steps() {
    let (free_count, session_count) = (Cell::new(0), Cell::new(0));
    let nll = wall(&free_count);
    let mut session = StepSession::new(wall(&session_count));
    let (mut a, mut b) = (store(&[0.0, 0.0]), store(&[0.0, 0.0]));
    let (mut ra, mut rb) = (StdRng::seed_from_u64(9), StdRng::seed_from_u64(9));
    let (mut leapfrog, mut divergent, steps) = (0, 0, 300);
    for _ in 0..steps {
        let ta = nuts_step_details(0.9, &mut a, nll, NutsOptions::default(), &mut ra).unwrap();
        let tb = session
            .nuts_step_details(0.9, &mut b, NutsOptions::default(), &mut rb)
            .unwrap();
        same_transition(&ta, &tb);
        assert_eq!(bits(&a), bits(&b));
        leapfrog += ta.n_leapfrog;
        divergent += usize::from(ta.divergent);
    }
    assert!(
        divergent > 10,
        "{divergent} divergences: the test needs some"
    );
    assert_eq!(session_count.get(), leapfrog + 1);
    assert_eq!(free_count.get(), leapfrog + steps);
}

/// A store changed outside the session (new values, or another store with other shapes) is
/// noticed: the session evaluates there (+ 1 gradient) and goes on as the free function
/// does. Writing back the same values bit for bit costs nothing.
#[test]
fn a_store_changed_outside_is_evaluated_again() {
    let (free_count, session_count) = (Cell::new(0), Cell::new(0));
    let nll = counted(&free_count);
    let mut session = StepSession::new(counted(&session_count));
    let (mut a, mut b) = (store(&[0.2, 0.1, -0.3]), store(&[0.2, 0.1, -0.3]));
    let (mut ra, mut rb) = (StdRng::seed_from_u64(5), StdRng::seed_from_u64(5));
    let opts = NutsOptions::default();
    let mut step = |a: &mut ParamStore, b: &mut ParamStore, session: &mut StepSession<_>| {
        let before = session_count.get();
        let ta = nuts_step_details(0.4, a, nll, opts, &mut ra).unwrap();
        let tb = session.nuts_step_details(0.4, b, opts, &mut rb).unwrap();
        same_transition(&ta, &tb);
        assert_eq!(bits(a), bits(b));
        (session_count.get() - before, tb.n_leapfrog)
    };
    let (cost, n) = step(&mut a, &mut b, &mut session);
    assert_eq!(cost, n + 1, "first step");
    let (cost, n) = step(&mut a, &mut b, &mut session);
    assert_eq!(cost, n, "kept gradient");
    // The same values written back: still the kept gradient.
    let same = b.to_flat();
    b.write_flat(&same).unwrap();
    let (cost, n) = step(&mut a, &mut b, &mut session);
    assert_eq!(cost, n, "same values");
    // New values (one coordinate, by one ulp): evaluated again.
    let mut moved = a.to_flat();
    moved[2] = f64::from_bits(moved[2].to_bits() + 1);
    a.write_flat(&moved).unwrap();
    b.write_flat(&moved).unwrap();
    let (cost, n) = step(&mut a, &mut b, &mut session);
    assert_eq!(cost, n + 1, "changed values");
    let (cost, n) = step(&mut a, &mut b, &mut session);
    assert_eq!(cost, n, "kept again");
    // Another store holding the same numbers in other shapes: evaluated again (a closure
    // that reads any shape).
    let count = Cell::new(0);
    let mut session = StepSession::new(|_: &Tape, p: &Bound<'_>| {
        count.set(count.get() + 1);
        Ok::<_, AdError>(p.leaves()[0].square().sum() * 0.5)
    });
    let flat = a.to_flat();
    let mut b2 = ParamStore::new();
    b2.add("x", ndarray::Array2::from_shape_vec((1, 3), flat).unwrap())
        .unwrap();
    let t = session
        .nuts_step_details(0.4, &mut b, opts, &mut rb)
        .unwrap();
    assert_eq!(count.get(), t.n_leapfrog + 1);
    let values = b.to_flat();
    b2.write_flat(&values).unwrap();
    let before = count.get();
    let t = session
        .nuts_step_details(0.4, &mut b2, opts, &mut rb)
        .unwrap();
    assert_eq!(count.get() - before, t.n_leapfrog + 1, "other shapes");
}

/// After the closure changes what it computes (a new "minibatch"), `invalidate` makes the
/// session evaluate again: it then agrees with the free function given the new closure. The
/// session that is not told keeps the old gradient and its draws differ: the reason the
/// free functions do not cache.
#[test]
fn invalidate_forgets_the_kept_gradient() {
    let centre = Cell::new(0.0);
    let shifted = closure(|_: &Tape, p: &Bound<'_>| {
        Ok::<_, AdError>((p.leaves()[0] - centre.get()).square().sum() * 0.5)
    });
    let mut told = StepSession::new(shifted);
    let mut untold = StepSession::new(shifted);
    let (mut a, mut b, mut c) = (store(&[0.1, 0.2]), store(&[0.1, 0.2]), store(&[0.1, 0.2]));
    let seed = |s| StdRng::seed_from_u64(s);
    let (mut ra, mut rb, mut rc) = (seed(4), seed(4), seed(4));
    let opts = NutsOptions::default();
    for _ in 0..5 {
        nuts_step(0.5, &mut a, shifted, opts, &mut ra).unwrap();
        told.nuts_step(0.5, &mut b, opts, &mut rb).unwrap();
        untold.nuts_step(0.5, &mut c, opts, &mut rc).unwrap();
    }
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(&a), bits(&c));
    centre.set(2.0);
    told.invalidate();
    for _ in 0..5 {
        let ta = nuts_step_details(0.5, &mut a, shifted, opts, &mut ra).unwrap();
        let tb = told.nuts_step_details(0.5, &mut b, opts, &mut rb).unwrap();
        same_transition(&ta, &tb);
        assert_eq!(bits(&a), bits(&b));
        untold.nuts_step(0.5, &mut c, opts, &mut rc).unwrap();
    }
    assert_ne!(bits(&a), bits(&c));
}

/// Errors: bad settings before anything else (as the free functions), an empty store, a
/// closure failing; after a failure the session evaluates again and goes on.
#[test]
fn session_errors_and_recovery() {
    let fail = Cell::new(false);
    let count = Cell::new(0);
    let nll = closure(|_: &Tape, p: &Bound<'_>| {
        count.set(count.get() + 1);
        if fail.get() {
            return Err(AdError::Empty { op: "test failure" });
        }
        Ok(p.leaves()[0].square().sum() * 0.5)
    });
    let mut session = StepSession::new(nll);
    let opts = NutsOptions::default();
    let mut rng = StdRng::seed_from_u64(1);
    let mut empty = ParamStore::new();
    assert!(matches!(
        session.nuts_step(f64::NAN, &mut empty, opts, &mut rng),
        Err(McmcError::InvalidSetting { .. })
    ));
    assert!(matches!(
        session.nuts_step(0.5, &mut empty, opts, &mut rng),
        Err(McmcError::ZeroDimension)
    ));
    assert!(matches!(
        session.hmc_step(0.5, 0, &mut empty, &mut rng),
        Err(McmcError::InvalidSetting { .. })
    ));
    assert!(matches!(
        session.find_reasonable_epsilon(&mut empty, &mut rng),
        Err(McmcError::ZeroDimension)
    ));
    let mut params = store(&[0.3, -0.3]);
    session.nuts_step(0.5, &mut params, opts, &mut rng).unwrap();
    let kept = bits(&params);
    fail.set(true);
    assert!(matches!(
        session.nuts_step(0.5, &mut params, opts, &mut rng),
        Err(McmcError::LogDensity(_))
    ));
    assert_eq!(bits(&params), kept, "a failed step leaves the store");
    fail.set(false);
    let before = count.get();
    let t = session
        .nuts_step_details(0.5, &mut params, opts, &mut rng)
        .unwrap();
    assert_eq!(count.get() - before, t.n_leapfrog + 1, "evaluated again");
}
