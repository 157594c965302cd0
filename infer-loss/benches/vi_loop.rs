//! The seed's VI training loop as a benchmark: K Cauchy(0, 1) priors, K Normal q's, one
//! `vi_loss`, one backward pass and one Adam step per iteration, the tape cleared and reused.
//!
//! * `seed/K`: the seed's layout — 2K one-element parameters, K scalar Normal q's, K sites.
//! * `seed_flat/K`: the seed's K scalar q's and K sites, with the parameters stored as two
//!   K-element arrays (one `bind` leaf and one Adam update each) and read with `flat(i)`.
//! * `batched/K`: the same model vectorized — one Normal q with K-element loc and scale
//!   tensors, one Cauchy prior over a K-vector, a single site.
//!
//! Throughput is reported in steps/s. Run: `cargo bench -p infer-loss --bench vi_loop`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{Bound, ParamId, ParamStore, Tape, Var};
use infer_dist::{Cauchy, Distribution, Normal, Reparameterizable};
use infer_loss::vi_loss;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

/// The seed's loop state: 2K scalar parameters.
struct SeedLoop {
    k: usize,
    store: ParamStore,
    params: Vec<ParamId>,
    adam: Adam,
    rng: StdRng,
    tape: Tape,
    observed: Vec<bool>,
}

impl SeedLoop {
    fn new(k: usize) -> Self {
        let mut store = ParamStore::new();
        let params = (0..2 * k)
            .map(|i| {
                store
                    .add(format!("param{i}"), ndarray::arr1(&[1.0]))
                    .expect("add")
            })
            .collect();
        SeedLoop {
            k,
            store,
            params,
            adam: Adam::new(AdamConfig::default()).expect("adam"),
            rng: StdRng::seed_from_u64(1),
            tape: Tape::new(),
            observed: vec![false; k],
        }
    }

    fn step(&mut self) -> f64 {
        self.tape.clear();
        let tape = &self.tape;
        let bound = self.store.bind(tape);
        let prior = Cauchy::new(tape.var(0.0), tape.var(1.0)).expect("prior");
        let q_dists: Vec<Normal> = (0..self.k)
            .map(|i| {
                Normal::new(bound[self.params[2 * i]], bound[self.params[2 * i + 1]]).expect("q")
            })
            .collect();
        let loss = sites_loss(&prior, &q_dists, &mut self.rng, &self.observed);
        update(loss, &bound, &mut self.store, &mut self.adam)
    }
}

/// The seed's K scalar sites, parameters in two K-element arrays.
struct SeedFlatLoop {
    k: usize,
    inner: BatchedLoop,
    observed: Vec<bool>,
}

impl SeedFlatLoop {
    fn new(k: usize) -> Self {
        SeedFlatLoop {
            k,
            inner: BatchedLoop::new(k),
            observed: vec![false; k],
        }
    }

    fn step(&mut self) -> f64 {
        let s = &mut self.inner;
        s.tape.clear();
        let tape = &s.tape;
        let bound = s.store.bind(tape);
        let (loc, scale) = (bound[s.loc], bound[s.scale]);
        let prior = Cauchy::new(tape.var(0.0), tape.var(1.0)).expect("prior");
        let q_dists: Vec<Normal> = (0..self.k)
            .map(|i| {
                Normal::new(loc.flat(i).expect("i < k"), scale.flat(i).expect("i < k")).expect("q")
            })
            .collect();
        let loss = sites_loss(&prior, &q_dists, &mut s.rng, &self.observed);
        update(loss, &bound, &mut s.store, &mut s.adam)
    }
}

/// The vectorized loop: one K-element loc and one K-element scale parameter.
struct BatchedLoop {
    store: ParamStore,
    loc: ParamId,
    scale: ParamId,
    adam: Adam,
    rng: StdRng,
    tape: Tape,
}

impl BatchedLoop {
    fn new(k: usize) -> Self {
        let mut store = ParamStore::new();
        let loc = store
            .add("loc", ndarray::Array1::from_elem(k, 1.0))
            .expect("add");
        let scale = store
            .add("scale", ndarray::Array1::from_elem(k, 1.0))
            .expect("add");
        BatchedLoop {
            store,
            loc,
            scale,
            adam: Adam::new(AdamConfig::default()).expect("adam"),
            rng: StdRng::seed_from_u64(1),
            tape: Tape::new(),
        }
    }

    fn step(&mut self) -> f64 {
        self.tape.clear();
        let tape = &self.tape;
        let bound = self.store.bind(tape);
        let prior = Cauchy::new(tape.var(0.0), tape.var(1.0)).expect("prior");
        let q = Normal::new(bound[self.loc], bound[self.scale]).expect("q");
        let x = q.rsample(&mut self.rng).expect("rsample");
        let loss = vi_loss(&[&prior], &[&q], &[x], &[false], 1.0).expect("loss");
        update(loss, &bound, &mut self.store, &mut self.adam)
    }
}

/// The seed's loss over K scalar sites: one draw of each q, the same prior at every site.
fn sites_loss<'t>(
    prior: &Cauchy<'t>,
    q_dists: &[Normal<'t>],
    rng: &mut StdRng,
    observed: &[bool],
) -> Var<'t> {
    let values: Vec<_> = q_dists
        .iter()
        .map(|q| q.rsample(rng).expect("rsample"))
        .collect();
    let p_refs: Vec<&dyn Distribution> = vec![prior; q_dists.len()];
    let q_refs: Vec<&dyn Distribution> = q_dists.iter().map(|q| q as _).collect();
    vi_loss(&p_refs, &q_refs, &values, observed, 1.0).expect("loss")
}

/// The end of every loop's step: backward, the gradients into the store, one Adam step;
/// returns the loss.
fn update(loss: Var<'_>, bound: &Bound<'_>, store: &mut ParamStore, adam: &mut Adam) -> f64 {
    let value = loss.value();
    loss.backward();
    store.zero_grads();
    store.accumulate_grads(bound).expect("own binding");
    adam.step(store).expect("finite gradients");
    value
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("vi_loop");
    g.throughput(Throughput::Elements(1));
    for k in [5, 100] {
        let mut seed = SeedLoop::new(k);
        g.bench_function(format!("seed/{k}"), |b| b.iter(|| black_box(seed.step())));
        let mut flat = SeedFlatLoop::new(k);
        g.bench_function(format!("seed_flat/{k}"), |b| {
            b.iter(|| black_box(flat.step()))
        });
        let mut batched = BatchedLoop::new(k);
        g.bench_function(format!("batched/{k}"), |b| {
            b.iter(|| black_box(batched.step()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
