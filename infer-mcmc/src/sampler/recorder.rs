//! A chain's output buffers and the RNG of its generated quantities.

use ndarray::Array2;

use rand::SeedableRng;

use crate::density::{Counted, LogDensity};
use crate::error::{LogDensityError, McmcError};
use crate::fit::{ChainRng, DrawStats};
use crate::hamiltonian::Position;
use crate::observer::Phase;
use crate::settings::SamplerSettings;
use crate::transition::Transition;

use super::splitmix64;

/// Mixed into a chain's seed for the RNG of its generated quantities.
const GQ_STREAM: u64 = 0x6765_6e65_7261_7465;

/// An empty vector with room for `rows × cols` values, reserved fallibly.
fn reserve<T>(
    rows: usize,
    cols: usize,
    name: &'static str,
    value: usize,
) -> Result<Vec<T>, McmcError> {
    let too_large = McmcError::OutputTooLarge { name, value };
    let n = rows.checked_mul(cols).ok_or(too_large)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| McmcError::OutputTooLarge { name, value })?;
    Ok(v)
}

/// A chain's output buffers, reserved before the first iteration (fallibly: a setting asking
/// for more than can be allocated is an error, not an abort hours later), and the RNG of its
/// generated quantities.
pub(super) struct Recorder {
    /// Generated quantities draw from a stream of their own: adding one to a model does not
    /// change its draws.
    pub(super) gq_rng: ChainRng,
    row: Vec<f64>,
    draws: Vec<f64>,
    stats: Vec<DrawStats>,
    warmup_draws: Vec<f64>,
    warmup_stats: Vec<DrawStats>,
}

impl Recorder {
    pub(super) fn new(s: &SamplerSettings, n_out: usize, rng_seed: u64) -> Result<Self, McmcError> {
        let n_keep = s.num_samples.div_ceil(s.thin);
        let n_warm = if s.save_warmup { s.num_warmup } else { 0 };
        Ok(Self {
            gq_rng: ChainRng::seed_from_u64(splitmix64(rng_seed ^ GQ_STREAM)),
            row: vec![0.0; n_out],
            draws: reserve(n_keep, n_out, "num_samples", s.num_samples)?,
            stats: reserve(n_keep, 1, "num_samples", s.num_samples)?,
            warmup_draws: reserve(n_warm, n_out, "num_warmup", s.num_warmup)?,
            warmup_stats: reserve(n_warm, 1, "num_warmup", s.num_warmup)?,
        })
    }

    /// Records the constrained draw (with its generated quantities) at `pos` and the
    /// transition's statistics, as a warmup or a sampling draw.
    pub(super) fn record<M: LogDensity + ?Sized>(
        &mut self,
        phase: Phase,
        model: &mut Counted<'_, M>,
        pos: &Position,
        t: &Transition,
    ) -> Result<(), LogDensityError> {
        model
            .inner
            .write_draw(pos.q(), &mut self.gq_rng, &mut self.row)?;
        let (draws, stats) = match phase {
            Phase::Warmup => (&mut self.warmup_draws, &mut self.warmup_stats),
            _ => (&mut self.draws, &mut self.stats),
        };
        draws.extend_from_slice(&self.row);
        stats.push(DrawStats::from_transition(t));
        Ok(())
    }

    /// The draws and warmup draws as (rows × outputs) arrays, with their statistics, and the
    /// generated quantities' RNG where it stopped.
    #[allow(clippy::type_complexity)]
    pub(super) fn finish(
        self,
    ) -> Result<
        (
            Array2<f64>,
            Vec<DrawStats>,
            Array2<f64>,
            Vec<DrawStats>,
            ChainRng,
        ),
        McmcError,
    > {
        let n_out = self.row.len();
        let to_array = |v: Vec<f64>, rows: usize| {
            Array2::from_shape_vec((rows, n_out), v).map_err(|_| McmcError::DimensionMismatch {
                name: "recorded draws",
                expected: rows * n_out,
                found: 0,
            })
        };
        let (n_draws, n_warm) = (self.stats.len(), self.warmup_stats.len());
        Ok((
            to_array(self.draws, n_draws)?,
            self.stats,
            to_array(self.warmup_draws, n_warm)?,
            self.warmup_stats,
            self.gq_rng,
        ))
    }
}
