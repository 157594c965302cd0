//! Autocovariances of several chains at every lag, by FFT in O(n log n).

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use super::chains::{Chains, mean};

/// The autocovariance of each chain at every lag `t < n`, averaged over the chains:
/// `γ̂_t = (1/m) Σ_c (1/n) Σ_{j<n−t} (x_{c,j} − x̄_c)(x_{c,j+t} − x̄_c)`
/// (the biased estimator, dividing by `n`, as Stan and ArviZ use).
///
/// Each chain is centred and zero-padded to a power of two of at least `2n`, so that the
/// circular correlation computed through the FFT equals the linear one. Two real chains are
/// transformed at once as the real and imaginary parts of one complex sequence `z = x + iy`:
/// the real part of the inverse transform of `|Z_k|²` is the sum of the two autocorrelation
/// sums, and since only the mean over chains is needed, the power spectra of all pairs are
/// summed before a single inverse transform.
///
/// The transforms are `rustfft`'s (measured against the hand-written radix-2 transform this
/// replaced, on 8 split chains × 500 and × 12,500 draws: 33 µs against 61 µs, 2.2 ms against
/// 4.2 ms; the autocovariances agree to 3·10⁻¹⁶ of γ̂₀).
pub(crate) fn mean_autocovariance(chains: &Chains) -> Vec<f64> {
    let m = chains.chains();
    let n = chains.draws();
    let len = (2 * n).next_power_of_two();
    let fft = FftPlanner::new().plan_fft_forward(len);
    let zero = Complex::new(0.0, 0.0);
    let mut scratch = vec![zero; fft.get_inplace_scratch_len()];
    let mut power = vec![0.0; len];
    let mut z = vec![zero; len];
    let mut chain = 0;
    while chain < m {
        z.fill(zero);
        centre_into(chains.row(chain), z.iter_mut().map(|z| &mut z.re));
        if chain + 1 < m {
            centre_into(chains.row(chain + 1), z.iter_mut().map(|z| &mut z.im));
        }
        fft.process_with_scratch(&mut z, &mut scratch);
        for (p, z) in power.iter_mut().zip(&z) {
            *p += z.re * z.re + z.im * z.im;
        }
        chain += 2;
    }
    // The inverse transform of a real, even sequence is real: compute it as a forward one.
    for (z, &p) in z.iter_mut().zip(&power) {
        *z = Complex::new(p, 0.0);
    }
    fft.process_with_scratch(&mut z, &mut scratch);
    let scale = 1.0 / (len as f64 * n as f64 * m as f64);
    z[..n].iter().map(|z| z.re * scale).collect()
}

/// The first `lags` entries of [`mean_autocovariance`], summed directly in O(m n lags): cheaper
/// than the FFT when Geyer's sequence truncates early, as it does for well-mixing chains.
pub(crate) fn mean_autocovariance_prefix(chains: &Chains, lags: usize) -> Vec<f64> {
    let m = chains.chains();
    let n = chains.draws();
    let lags = lags.min(n);
    let mut out = vec![0.0; lags];
    let mut centred = vec![0.0; n];
    for chain in 0..m {
        centre_into(chains.row(chain), &mut centred);
        for (t, o) in out.iter_mut().enumerate() {
            let s: f64 = centred[..n - t]
                .iter()
                .zip(&centred[t..])
                .map(|(a, b)| a * b)
                .sum();
            *o += s;
        }
    }
    let scale = 1.0 / (n as f64 * m as f64);
    for o in &mut out {
        *o *= scale;
    }
    out
}

/// Writes `row` minus its mean into the first `row.len()` places of `out`.
fn centre_into<'a>(row: &[f64], out: impl IntoIterator<Item = &'a mut f64>) {
    let mu = mean(row);
    for (o, &x) in out.into_iter().zip(row) {
        *o = x - mu;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(chains: &Chains) -> Vec<f64> {
        let (m, n) = (chains.chains(), chains.draws());
        let mut out = vec![0.0; n];
        for c in 0..m {
            let row = chains.row(c);
            let mu = mean(row);
            for t in 0..n {
                let s: f64 = (0..n - t).map(|j| (row[j] - mu) * (row[j + t] - mu)).sum();
                out[t] += s / n as f64 / m as f64;
            }
        }
        out
    }

    #[test]
    fn fft_matches_direct_for_odd_and_even_chain_counts() {
        for m in [1, 2, 3] {
            let n = 37;
            let data: Vec<f64> = (0..m * n)
                .map(|i| ((i * 7919) % 101) as f64 / 10.0 + (i as f64 * 0.3).sin())
                .collect();
            let chains = Chains::from_parts(data, m, n);
            let fast = mean_autocovariance(&chains);
            let prefix = mean_autocovariance_prefix(&chains, 10);
            let slow = direct(&chains);
            for t in 0..n {
                assert!((fast[t] - slow[t]).abs() < 1e-12, "m={m} lag {t}");
            }
            for t in 0..10 {
                assert!((prefix[t] - slow[t]).abs() < 1e-12, "m={m} lag {t}");
            }
        }
    }
}
