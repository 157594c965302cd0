//! The seed's closure on a tape: [`StoreDensity`] (one evaluation) and [`Bridge`] (the
//! closure, its tape and the last state a [`StepSession`](super::StepSession) reached).

use crate::density::{TapeInputs, tape_logp_and_grad};
use crate::error::{BoxError, LogDensityError, McmcError};
use crate::{LogDensity, Position};
use infer_ad::{Bound, ParamStore, Tape, Var};

/// The seed's closure as a [`LogDensity`] (log p = −loss) at coordinates bound to the shapes
/// of `store`, through the crate's one tape bridge ([`tape_logp_and_grad`], which
/// [`TapeModel`](crate::model::TapeModel) uses too).
pub(super) struct StoreDensity<'a, F> {
    store: &'a ParamStore,
    tape: &'a mut Tape,
    closure: &'a mut F,
}

impl<F, E> LogDensity for StoreDensity<'_, F>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
{
    fn dim(&self) -> usize {
        self.store.num_elements()
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let StoreDensity {
            store,
            tape,
            closure,
        } = self;
        tape_logp_and_grad(tape, grad, |tape| {
            let bound = store.bind_flat(tape, x).map_err(LogDensityError::fatal)?;
            let loss = closure(tape, &bound).map_err(|e| LogDensityError::fatal(e))?;
            Ok((TapeInputs::Store(bound), -loss))
        })
    }
}

/// The closure, its tape and the last state the chain reached: the part of a
/// [`StepSession`](super::StepSession) that evaluates the model.
pub(super) struct Bridge<F> {
    pub(super) closure: F,
    pub(super) tape: Tape,
    /// The last position with its log density and gradient, if still valid.
    pub(super) position: Option<Position>,
    /// The shapes of the store `position` belongs to, in store order.
    pub(super) shapes: Vec<Vec<usize>>,
    /// The store's current values, read to compare them with `position`.
    pub(super) current: Vec<f64>,
}

impl<F, E> Bridge<F>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
{
    /// The density and the position at the store's current values: the kept position when
    /// the store still holds it bit for bit (no gradient), else a new evaluation.
    pub(super) fn prepare<'a>(
        &'a mut self,
        store: &'a ParamStore,
    ) -> Result<(StoreDensity<'a, F>, &'a mut Position), McmcError> {
        let n = store.num_elements();
        if n == 0 {
            self.position = None;
            return Err(McmcError::ZeroDimension);
        }
        let same_shapes = self.shapes.len() == store.len()
            && store
                .iter()
                .zip(&self.shapes)
                .all(|((_, v), s)| v.shape() == s.as_slice());
        if !same_shapes {
            self.position = None;
            self.shapes.clear();
            self.shapes
                .extend(store.iter().map(|(_, v)| v.shape().to_vec()));
        }
        self.current.resize(n, 0.0);
        store
            .read_flat(&mut self.current)
            .map_err(|e| McmcError::LogDensity(LogDensityError::fatal(e)))?;
        let Bridge {
            closure,
            tape,
            position,
            current,
            ..
        } = self;
        let mut density = StoreDensity {
            store,
            tape,
            closure,
        };
        let kept = position.as_ref().is_some_and(|p| {
            p.q()
                .iter()
                .zip(current.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        if !kept {
            // The first step, or the store was changed outside the session.
            let evaluated = match position.as_mut() {
                Some(p) => p.set_q(&mut density, current),
                None => Position::new(&mut density, current.clone()).map(|p| {
                    *position = Some(p);
                }),
            };
            if let Err(e) = evaluated {
                *position = None;
                return Err(e);
            }
        }
        let position = position.as_mut().expect("evaluated above");
        Ok((density, position))
    }

    /// Writes the position into the store, or forgets it on error.
    pub(super) fn finish<T>(
        &mut self,
        result: Result<T, McmcError>,
        store: &mut ParamStore,
    ) -> Result<T, McmcError> {
        let done = result.and_then(|t| {
            let q = self.position.as_ref().expect("prepared").q();
            store
                .write_flat(q)
                .map_err(|e| McmcError::LogDensity(LogDensityError::fatal(e)))?;
            Ok(t)
        });
        if done.is_err() {
            self.position = None;
        }
        done
    }
}
