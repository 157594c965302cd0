//! The seed's VI model, shared by the loop tests (`vi_loop`, `svi`): K Cauchy(0, 1) priors and
//! K Normal(params[2i], params[2i+1]) approximations with the raw parameter as the scale.

use infer_ad::optim::Optimizer;
use infer_ad::{AdError, Bound, ParamId, ParamStore, Tape, Var};
use infer_dist::{Cauchy, Distribution, Normal, Reparameterizable};
use infer_loss::{LossError, vi_loss};
use rand::rngs::StdRng;

/// The store of the seed's 2K one-element parameters, all initialized at 1.
pub fn params(k: usize) -> Result<(ParamStore, Vec<ParamId>), AdError> {
    let mut store = ParamStore::new();
    let params = (0..2 * k)
        .map(|i| store.add(format!("param{i}"), ndarray::arr1(&[1.0])))
        .collect::<Result<_, _>>()?;
    Ok((store, params))
}

/// The seed's loss: one `rsample` of each q, `vi_loss` with every site latent.
pub fn loss<'t>(
    tape: &'t Tape,
    bound: &Bound<'t>,
    params: &[ParamId],
    rng: &mut StdRng,
) -> Result<Var<'t>, LossError> {
    let k = params.len() / 2;
    let prior = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
    let q_dists = (0..k)
        .map(|i| Normal::new(bound[params[2 * i]], bound[params[2 * i + 1]]))
        .collect::<Result<Vec<_>, _>>()?;
    let values = q_dists
        .iter()
        .map(|q| q.rsample(rng))
        .collect::<Result<Vec<_>, _>>()?;
    let p_refs: Vec<&dyn Distribution> = vec![&prior; k];
    let q_refs: Vec<&dyn Distribution> = q_dists.iter().map(|q| q as _).collect();
    vi_loss(&p_refs, &q_refs, &values, &vec![false; k], 1.0)
}

/// The rest of a hand-written step: backward, the gradients into the store, one optimizer
/// step; returns the loss.
pub fn update(
    loss: Var<'_>,
    bound: &Bound<'_>,
    store: &mut ParamStore,
    opt: &mut impl Optimizer,
) -> Result<f64, AdError> {
    let value = loss.value();
    loss.backward();
    store.zero_grads();
    store.accumulate_grads(bound)?;
    opt.step(store)?;
    Ok(value)
}
