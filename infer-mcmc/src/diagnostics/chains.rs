//! Validated chains × draws storage, and the split and fold transforms of Vehtari et al. (2021).

use ndarray::ArrayView2;

use super::DiagnosticsError;

/// The fewest draws per chain the diagnostics accept (as ArviZ does: after the split each
/// half-chain still has two draws, the least an autocovariance at lag 1 needs).
pub(crate) const MIN_DRAWS: usize = 4;

/// Draws of one scalar quantity, chains × draws, stored row-major (one chain per row).
#[derive(Debug, Clone)]
pub(crate) struct Chains {
    data: Vec<f64>,
    chains: usize,
    draws: usize,
}

impl Chains {
    /// Copies a view after checking that it is non-empty, has at least [`MIN_DRAWS`] draws per
    /// chain and holds only finite values.
    pub(crate) fn from_view(view: ArrayView2<'_, f64>) -> Result<Self, DiagnosticsError> {
        let (chains, draws) = view.dim();
        if chains == 0 || draws == 0 {
            return Err(DiagnosticsError::Empty { chains, draws });
        }
        if draws < MIN_DRAWS {
            return Err(DiagnosticsError::TooFewDraws { draws });
        }
        let mut data = Vec::with_capacity(chains * draws);
        for (chain, row) in view.outer_iter().enumerate() {
            for (draw, &value) in row.iter().enumerate() {
                if !value.is_finite() {
                    return Err(DiagnosticsError::NonFinite { chain, draw, value });
                }
                data.push(value);
            }
        }
        Ok(Self {
            data,
            chains,
            draws,
        })
    }

    /// Builds chains from row-major data; `data.len()` must be `chains * draws`.
    pub(crate) fn from_parts(data: Vec<f64>, chains: usize, draws: usize) -> Self {
        debug_assert_eq!(data.len(), chains * draws);
        Self {
            data,
            chains,
            draws,
        }
    }

    /// Number of chains (rows).
    pub(crate) fn chains(&self) -> usize {
        self.chains
    }

    /// Number of draws per chain (columns).
    pub(crate) fn draws(&self) -> usize {
        self.draws
    }

    /// All values, chain after chain.
    pub(crate) fn values(&self) -> &[f64] {
        &self.data
    }

    /// The draws of one chain.
    pub(crate) fn row(&self, chain: usize) -> &[f64] {
        &self.data[chain * self.draws..(chain + 1) * self.draws]
    }

    /// Applies `f` to every value, keeping the shape.
    pub(crate) fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Self::from_parts(
            self.data.iter().map(|&x| f(x)).collect(),
            self.chains,
            self.draws,
        )
    }

    /// Replaces the values (same shape), for transforms computed over the pooled draws.
    pub(crate) fn with_values(&self, data: Vec<f64>) -> Self {
        Self::from_parts(data, self.chains, self.draws)
    }

    /// Splits every chain into its first and last `draws / 2` draws, giving `2 × chains`
    /// chains (a middle draw of an odd-length chain is dropped). The first halves come first,
    /// then the second halves, as ArviZ stacks them.
    pub(crate) fn split(&self) -> Self {
        let half = self.draws / 2;
        let mut data = Vec::with_capacity(2 * self.chains * half);
        for chain in 0..self.chains {
            data.extend_from_slice(&self.row(chain)[..half]);
        }
        for chain in 0..self.chains {
            data.extend_from_slice(&self.row(chain)[self.draws - half..]);
        }
        Self::from_parts(data, 2 * self.chains, half)
    }

    /// Folds the values around their pooled median: `|x − median|`.
    pub(crate) fn fold(&self) -> Self {
        let median = median(&self.data);
        self.map(|x| (x - median).abs())
    }
}

/// Sample mean; `NaN` for an empty slice.
pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample variance with `ddof` degrees of freedom removed, computed in two passes.
pub(crate) fn variance(values: &[f64], ddof: usize) -> f64 {
    let m = mean(values);
    let ss: f64 = values.iter().map(|&x| (x - m) * (x - m)).sum();
    ss / (values.len() as f64 - ddof as f64)
}

/// Median of the values (the average of the two middle ones for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    let (below, &mut middle, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        middle
    } else {
        // The lower middle value is the largest of those below the upper one.
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + middle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn split_stacks_first_halves_then_second_halves() {
        let a = array![[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]];
        let s = Chains::from_view(a.view()).unwrap().split();
        assert_eq!((s.chains(), s.draws()), (4, 2));
        assert_eq!(s.values(), &[1.0, 2.0, 6.0, 7.0, 4.0, 5.0, 9.0, 10.0]);
    }

    #[test]
    fn validation_names_the_offending_value() {
        let a = array![[1.0, 2.0, f64::INFINITY, 4.0]];
        match Chains::from_view(a.view()) {
            Err(DiagnosticsError::NonFinite { chain, draw, value }) => {
                assert_eq!((chain, draw), (0, 2));
                assert_eq!(value, f64::INFINITY);
            }
            other => panic!("unexpected {other:?}"),
        }
        let short = array![[1.0, 2.0, 3.0]];
        assert_eq!(
            Chains::from_view(short.view()).unwrap_err(),
            DiagnosticsError::TooFewDraws { draws: 3 }
        );
    }

    #[test]
    fn median_and_variance() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[5.0, 5.0, 1.0, 9.0, 5.0, 0.0]), 5.0);
        assert!((variance(&[1.0, 2.0, 3.0, 4.0], 1) - 5.0 / 3.0).abs() < 1e-15);
    }
}
