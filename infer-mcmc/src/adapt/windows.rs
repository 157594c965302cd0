//! Stan's warmup schedule: an initial buffer, doubling metric windows, a terminal buffer.

/// The windowed schedule of metric adaptation (Stan's `windowed_adaptation`).
///
/// With the defaults (init buffer 75, base window 25, term buffer 50) and 1000 warmup
/// iterations the metric windows are 25, 50, 100, 200 and 500 iterations: each window doubles
/// and the last one is stretched to end where the terminal buffer starts. When
/// init + base + term exceeds the warmup, the buffers become 15% and 10% of it and the single
/// window takes the remaining 75%. With fewer than 20 warmup iterations the metric is not
/// adapted.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::WarmupWindows;
///
/// let w = WarmupWindows::new(1000, 75, 50, 25);
/// assert_eq!(w.windows(), vec![(75, 100), (100, 150), (150, 250), (250, 450), (450, 950)]);
/// let small = WarmupWindows::new(100, 75, 50, 25);
/// assert_eq!(small.windows(), vec![(15, 90)]);
/// ```
///
/// # References
///
/// Stan Development Team, *Stan Reference Manual*, "HMC algorithm parameters: automatic
/// parameter tuning".
#[derive(Clone, Debug)]
pub struct WarmupWindows {
    num_warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    base_window: usize,
    counter: usize,
    window_size: usize,
    next_window: usize,
    enabled: bool,
}

impl WarmupWindows {
    /// The schedule for `num_warmup` iterations.
    #[must_use]
    pub fn new(
        num_warmup: usize,
        init_buffer: usize,
        term_buffer: usize,
        base_window: usize,
    ) -> Self {
        let (mut init_buffer, mut term_buffer, mut base_window) =
            (init_buffer, term_buffer, base_window);
        let enabled = num_warmup >= 20;
        // An overflowing sum certainly exceeds the warmup.
        let schedule = init_buffer
            .checked_add(base_window)
            .and_then(|s| s.checked_add(term_buffer));
        if enabled && schedule.is_none_or(|total| total > num_warmup) {
            init_buffer = (0.15 * num_warmup as f64) as usize;
            term_buffer = (0.1 * num_warmup as f64) as usize;
            base_window = num_warmup - (init_buffer + term_buffer);
        }
        let mut w = Self {
            num_warmup,
            init_buffer,
            term_buffer,
            base_window: base_window.max(1),
            counter: 0,
            window_size: 0,
            next_window: 0,
            enabled,
        };
        w.restart();
        w
    }

    /// Back to iteration 0.
    pub fn restart(&mut self) {
        self.counter = 0;
        self.window_size = self.base_window;
        // Saturating: with the metric adaptation disabled (fewer than 20 warmup iterations)
        // the buffers are kept as given and may be huge.
        self.next_window = self
            .init_buffer
            .saturating_add(self.window_size)
            .saturating_sub(1);
    }

    fn term_start(&self) -> usize {
        self.num_warmup.saturating_sub(self.term_buffer)
    }

    /// Whether the current iteration's draw feeds the metric estimator.
    #[must_use]
    pub fn in_window(&self) -> bool {
        self.enabled
            && self.counter >= self.init_buffer
            && self.counter < self.term_start()
            && self.counter != self.num_warmup
    }

    /// Whether the current iteration closes a window (the metric is updated after it).
    #[must_use]
    pub fn end_of_window(&self) -> bool {
        self.enabled && self.counter == self.next_window && self.counter != self.num_warmup
    }

    fn compute_next_window(&mut self) {
        let last = self.term_start().saturating_sub(1);
        if self.next_window == last {
            return;
        }
        self.window_size = self.window_size.saturating_mul(2);
        self.next_window = self.counter.saturating_add(self.window_size);
        if self.next_window != last {
            let boundary = self
                .next_window
                .saturating_add(self.window_size.saturating_mul(2));
            if boundary >= self.term_start() {
                self.next_window = last;
            }
        }
    }

    /// Advances one iteration. Returns `(in_window, end_of_window)` for the iteration just
    /// finished: whether its draw is to be added to the estimator, and whether the metric is
    /// to be updated after adding it.
    pub fn advance(&mut self) -> (bool, bool) {
        let add = self.in_window();
        let end = self.end_of_window();
        if end {
            self.compute_next_window();
        }
        self.counter += 1;
        (add, end)
    }

    /// All metric windows as half-open iteration ranges `(start, end)`.
    #[must_use]
    pub fn windows(&self) -> Vec<(usize, usize)> {
        let mut w = self.clone();
        w.restart();
        let mut out = Vec::new();
        let mut start = None;
        for _ in 0..self.num_warmup {
            let it = w.counter;
            let (add, end) = w.advance();
            if add && start.is_none() {
                start = Some(it);
            }
            if end {
                out.push((start.unwrap_or(it), it + 1));
                start = None;
            }
        }
        out
    }
}
