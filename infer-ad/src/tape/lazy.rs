//! Lazy initialization of the adjoint vector during one backward pass, a block of [`BLK`]
//! slots at a time (see [`Lazy`]).

/// Adjoints per block of the backward pass's lazy initialization (512 bytes).
pub(super) const BLK: usize = 64;

/// The adjoint vector of one backward pass with its block bits (see `Inner::backward` in
/// `sweep.rs`). A block whose bit is clear holds stale values and stands for zeros; `LAZY`
/// false (a small tape, zero-filled up front) makes every method a no-op or a plain access.
pub(super) struct Lazy<'a, const LAZY: bool> {
    pub(super) adj: &'a mut [f64],
    pub(super) live: &'a mut [u64],
    /// Every slot from `top` up holds an adjoint of this pass (the blocks above it are all
    /// live): the common case — a sweep descending through the tape — needs no bit test.
    pub(super) top: usize,
}

impl<const LAZY: bool> Lazy<'_, LAZY> {
    #[inline(always)]
    fn block_live(&self, b: usize) -> bool {
        (self.live[b / 64] >> (b % 64)) & 1 != 0
    }

    #[inline(always)]
    fn set_live(&mut self, b: usize) {
        self.live[b / 64] |= 1 << (b % 64);
        while self.top > 0 && self.block_live((self.top - 1) / BLK) {
            self.top = (self.top - 1) / BLK * BLK;
        }
    }

    /// The slots of block `b` (the last block may be short).
    #[inline(always)]
    fn block_range(&self, b: usize) -> (usize, usize) {
        let lo = b * BLK;
        (lo, (lo + BLK).min(self.adj.len()))
    }

    /// Whether slot `s` holds an adjoint of this pass (otherwise its adjoint is zero).
    #[inline(always)]
    pub(super) fn is_live(&self, s: usize) -> bool {
        !LAZY || s >= self.top || self.block_live(s / BLK)
    }

    /// Whether any slot of `[a, a + n)` may hold a non-zero adjoint: always when not lazy,
    /// else whether a live block holds a non-zero (or NaN) adjoint within the range.
    #[inline(always)]
    pub(super) fn any_live(&self, a: usize, n: usize) -> bool {
        if !LAZY || a + n > self.top {
            return true;
        }
        n > 0
            && (a / BLK..=(a + n - 1) / BLK).any(|b| {
                let (lo, hi) = self.block_range(b);
                self.block_live(b) && self.adj[lo.max(a)..hi.min(a + n)].iter().any(|&v| v != 0.0)
            })
    }

    /// Makes slot `s` hold an adjoint (zeroing its block on first use).
    #[inline(always)]
    pub(super) fn touch(&mut self, s: usize) {
        if LAZY && s < self.top && !self.block_live(s / BLK) {
            self.touch_block(s / BLK);
        }
    }

    #[cold]
    #[inline(never)]
    fn touch_block(&mut self, b: usize) {
        let (lo, hi) = self.block_range(b);
        self.adj[lo..hi].fill(0.0);
        self.set_live(b);
    }

    /// Makes every slot of `[a, a + n)` hold an adjoint.
    pub(super) fn touch_range(&mut self, a: usize, n: usize) {
        if !LAZY || n == 0 || a >= self.top {
            return;
        }
        for b in a / BLK..=(a + n - 1) / BLK {
            if !self.block_live(b) {
                self.touch_block(b);
            }
        }
    }

    /// Prepares `[a, a + n)` for one contribution to every slot: calls `f(adj, lo, hi, fresh)`
    /// over consecutive runs covering the range in order, where a *fresh* run consists of
    /// whole blocks that held nothing yet (the caller must write every slot of it) and any
    /// other run holds adjoints (the caller adds to them).
    pub(super) fn claim(
        &mut self,
        a: usize,
        n: usize,
        mut f: impl FnMut(&mut [f64], usize, usize, bool),
    ) {
        let end = a + n;
        if !LAZY || a >= self.top {
            f(self.adj, a, end, false);
            return;
        }
        let (mut s, mut run_lo) = (a, a);
        let mut run: Option<bool> = None;
        while s < end {
            let b = s / BLK;
            let (lo, hi) = self.block_range(b);
            let seg_hi = hi.min(end);
            let fresh = !self.block_live(b) && s == lo && seg_hi == hi;
            if fresh {
                self.set_live(b);
            } else if !self.block_live(b) {
                self.touch_block(b);
            }
            if let Some(prev) = run
                && prev != fresh
            {
                f(self.adj, run_lo, s, prev);
                run_lo = s;
            }
            run = Some(fresh);
            s = seg_hi;
        }
        if let Some(prev) = run {
            f(self.adj, run_lo, end, prev);
        }
    }

    /// Zeroes every block no contribution reached, so that all adjoints can be read.
    pub(super) fn finish(&mut self) {
        if !LAZY {
            return;
        }
        for b in 0..self.top.div_ceil(BLK) {
            if !self.block_live(b) {
                let (lo, hi) = self.block_range(b);
                self.adj[lo..hi].fill(0.0);
            }
        }
    }
}
