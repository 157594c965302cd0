//! Site batching: the pathwise ELBO of many scalar sites in a few fused nodes.
//!
//! The seed's layout gives every latent scalar its own prior and its own q (`vi_loss` over
//! K sites), so evaluating `Σᵢ ln qᵢ(xᵢ) − ln pᵢ(xᵢ)` site by site records 2K log-density
//! nodes, each with its own shape checks. Here scalar sites that share one prior *object*
//! and whose q's are of the same location–scale family are evaluated together: the values,
//! locations and scales are gathered into K-vectors (one gather node each), q is rebuilt as
//! one K-element distribution of its family, and each group costs one `log_prob_sum` of p
//! and one of q. The result equals the per-site sum up to rounding, with the same gradients
//! (the gathers route them back to every site's parameters and value).

use crate::LossError;
use crate::elbo::elbo_loss;
use crate::prior::prior_loss;
use crate::util::{add, is_delta};
use infer_ad::{Tape, Tensor, Var};
use infer_dist::{Cauchy, Distribution, Family, Gumbel, Laplace, LogNormal, Normal};

/// The location–scale families whose q's are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Cauchy,
    Laplace,
    Gumbel,
    LogNormal,
}

/// `(kind, loc, scale)` of a scalar location–scale q.
fn loc_scale<'t>(q: &dyn Distribution<'t>) -> Option<(Kind, Var<'t>, Var<'t>)> {
    let (kind, loc, scale) = match q.family() {
        Family::Normal(d) => (Kind::Normal, d.loc(), d.scale()),
        Family::Cauchy(d) => (Kind::Cauchy, d.loc(), d.scale()),
        Family::Laplace(d) => (Kind::Laplace, d.loc(), d.scale()),
        Family::Gumbel(d) => (Kind::Gumbel, d.loc(), d.scale()),
        Family::LogNormal(d) => (Kind::LogNormal, d.loc(), d.scale()),
        _ => return None,
    };
    // a guide built from constants has no tape handles to fuse: the general path takes it
    Some((
        kind,
        loc.as_tensor()?.item().ok()?,
        scale.as_tensor()?.item().ok()?,
    ))
}

/// One group: sites sharing a prior object and a q family.
struct Group<'a, 't> {
    p: &'a dyn Distribution<'t>,
    kind: Kind,
    xs: Vec<Var<'t>>,
    locs: Vec<Var<'t>>,
    scales: Vec<Var<'t>>,
}

fn rebuild<'t>(
    kind: Kind,
    loc: Tensor<'t>,
    scale: Tensor<'t>,
) -> Result<Box<dyn Distribution<'t> + 't>, LossError> {
    Ok(match kind {
        Kind::Normal => Box::new(Normal::new(loc, scale)?),
        Kind::Cauchy => Box::new(Cauchy::new(loc, scale)?),
        Kind::Laplace => Box::new(Laplace::new(loc, scale)?),
        Kind::Gumbel => Box::new(Gumbel::new(loc, scale)?),
        Kind::LogNormal => Box::new(LogNormal::new(loc, scale)?),
    })
}

/// Whether `a` and `b` are the same distribution object: the same address and the same
/// family (a value and its first field share an address but not a type).
fn same_object(a: &dyn Distribution<'_>, b: &dyn Distribution<'_>) -> bool {
    std::ptr::addr_eq(a, b)
        && std::mem::discriminant(&a.family()) == std::mem::discriminant(&b.family())
        && a.name() == b.name()
}

/// `Σᵢ elbo_loss(pᵢ, qᵢ, xᵢ)` (Delta q's: `prior_loss`) over the sites with
/// `skip[i] == false`, batching what can be batched. Lengths must have been checked.
pub(crate) fn elbo_sum<'a, 't>(
    p_dists: &[&'a dyn Distribution<'t>],
    q_dists: &[&'a dyn Distribution<'t>],
    values: &[Tensor<'t>],
    skip: &[bool],
) -> Result<Option<Var<'t>>, LossError> {
    let mut acc = None;
    let mut groups: Vec<Group<'a, 't>> = Vec::new();
    for i in 0..p_dists.len() {
        if skip[i] {
            continue;
        }
        let (p, q, x) = (p_dists[i], q_dists[i], values[i]);
        if is_delta(q) {
            acc = add(acc, prior_loss(p, q, x)?)?;
            continue;
        }
        let scalar_p = p.batch_shape().numel() == 1 && p.event_shape().numel() == 1;
        let batchable = if scalar_p && x.numel() == 1 {
            loc_scale(q)
        } else {
            None
        };
        let Some((kind, loc, scale)) = batchable else {
            acc = add(acc, elbo_loss(p, q, x)?)?;
            continue;
        };
        let xv = x.item()?;
        match groups
            .iter_mut()
            .find(|g| g.kind == kind && same_object(g.p, p))
        {
            Some(g) => {
                g.xs.push(xv);
                g.locs.push(loc);
                g.scales.push(scale);
            }
            None => {
                // Room for every remaining site: no regrowth in the common single-group case.
                let cap = p_dists.len() - i;
                let mut g = Group {
                    p,
                    kind,
                    xs: Vec::with_capacity(cap),
                    locs: Vec::with_capacity(cap),
                    scales: Vec::with_capacity(cap),
                };
                g.xs.push(xv);
                g.locs.push(loc);
                g.scales.push(scale);
                groups.push(g);
            }
        }
    }
    for g in &groups {
        let tape: &'t Tape = g.xs[0].tape();
        let x = tape.stack_vars(&g.xs)?;
        let q = rebuild(
            g.kind,
            tape.stack_vars(&g.locs)?,
            tape.stack_vars(&g.scales)?,
        )?;
        let lq = q.log_prob_sum(x)?;
        let lp = g.p.log_prob_sum(x)?;
        acc = add(acc, lq - lp)?;
    }
    Ok(acc)
}
