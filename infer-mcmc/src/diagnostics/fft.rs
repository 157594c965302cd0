//! An iterative radix-2 complex fast Fourier transform, used for autocovariances in
//! O(n log n).

use std::f64::consts::PI;

/// A forward discrete Fourier transform of one power-of-two length,
/// `X_k = Σ_j x_j exp(−2πi jk / n)`, with its twiddle factors precomputed.
#[derive(Debug, Clone)]
pub(crate) struct Fft {
    len: usize,
    /// Twiddles of every butterfly pass, stored contiguously per pass: the pass combining
    /// sub-transforms of length `h` into `2h` uses `exp(−πi j/h)` for `j < h`, at offsets
    /// `h − 1 .. 2h − 1`. None comes from a recurrence, so rounding errors do not accumulate
    /// along the table.
    tw_re: Vec<f64>,
    tw_im: Vec<f64>,
}

impl Fft {
    /// Plans a transform of length `len`, which must be a power of two (1 is allowed).
    pub(crate) fn new(len: usize) -> Self {
        debug_assert!(len.is_power_of_two());
        // The last pass's twiddles w_j = exp(−2πi j/len), j < len/2: the first quarter by
        // sin_cos, the second from w_{len/4 + k} = −i·w_k (exact). Earlier passes use every
        // (len/2h)-th of them.
        let half_len = len / 2;
        let quarter = len / 4;
        let mut last = vec![(1.0, 0.0); half_len];
        for j in 0..quarter.max(usize::from(half_len > 0)) {
            let (s, c) = (-2.0 * PI * j as f64 / len as f64).sin_cos();
            last[j] = (c, s);
        }
        for k in 0..quarter {
            let (c, s) = last[k];
            last[quarter + k] = (s, -c);
        }
        let mut tw_re = Vec::with_capacity(len);
        let mut tw_im = Vec::with_capacity(len);
        let mut half = 1;
        while half < len {
            let stride = half_len / half;
            for j in 0..half {
                let (c, s) = last[j * stride];
                tw_re.push(c);
                tw_im.push(s);
            }
            half *= 2;
        }
        Self { len, tw_re, tw_im }
    }

    /// The transform length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Transforms `(re, im)` in place; both slices must have the planned length.
    pub(crate) fn forward(&self, re: &mut [f64], im: &mut [f64]) {
        let n = self.len;
        assert!(
            re.len() == n && im.len() == n,
            "FFT buffers must have the planned length"
        );
        if n < 2 {
            return;
        }
        // Bit-reversal permutation.
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        // The first two passes together, as radix-4 butterflies whose twiddles are 1 and −i.
        let mut half = 1;
        if n >= 4 {
            for (r, i) in re.chunks_exact_mut(4).zip(im.chunks_exact_mut(4)) {
                let (r0, i0) = (r[0] + r[1], i[0] + i[1]);
                let (r1, i1) = (r[0] - r[1], i[0] - i[1]);
                let (r2, i2) = (r[2] + r[3], i[2] + i[3]);
                // (x₂ − x₃)·(−i)
                let (r3, i3) = (i[2] - i[3], r[3] - r[2]);
                r[0] = r0 + r2;
                i[0] = i0 + i2;
                r[2] = r0 - r2;
                i[2] = i0 - i2;
                r[1] = r1 + r3;
                i[1] = i1 + i3;
                r[3] = r1 - r3;
                i[3] = i1 - i3;
            }
            half = 4;
        }
        // Then radix-2 butterflies, doubling the sub-transform length each pass.
        while half < n {
            let size = 2 * half;
            let wr = &self.tw_re[half - 1..size - 1];
            let wi = &self.tw_im[half - 1..size - 1];
            for (block_re, block_im) in re.chunks_exact_mut(size).zip(im.chunks_exact_mut(size)) {
                let (ar, br) = block_re.split_at_mut(half);
                let (ai, bi) = block_im.split_at_mut(half);
                let lanes = ar
                    .iter_mut()
                    .zip(ai.iter_mut())
                    .zip(br.iter_mut().zip(bi.iter_mut()));
                for (((ar, ai), (br, bi)), (&wr, &wi)) in lanes.zip(wr.iter().zip(wi)) {
                    let tr = *br * wr - *bi * wi;
                    let ti = *br * wi + *bi * wr;
                    *br = *ar - tr;
                    *bi = *ai - ti;
                    *ar += tr;
                    *ai += ti;
                }
            }
            half = size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_direct_dft() {
        for n in [1, 2, 4, 8, 16, 64] {
            check(n);
        }
    }

    fn check(n: usize) {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 4.5).collect();
        let y: Vec<f64> = (0..n).map(|i| ((i * 5 + 1) % 13) as f64 * 0.25).collect();
        let (mut re, mut im) = (x.clone(), y.clone());
        Fft::new(n).forward(&mut re, &mut im);
        for k in 0..n {
            let (mut sr, mut si) = (0.0, 0.0);
            for j in 0..n {
                let (s, c) = (-2.0 * PI * (j * k) as f64 / n as f64).sin_cos();
                sr += x[j] * c - y[j] * s;
                si += x[j] * s + y[j] * c;
            }
            assert!((re[k] - sr).abs() < 1e-12, "re[{k}]");
            assert!((im[k] - si).abs() < 1e-12, "im[{k}]");
        }
    }
}
