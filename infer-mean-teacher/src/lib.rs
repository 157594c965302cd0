//! Mean-teacher weight smoothing: exponential moving averages over parameter sets (under construction).
#![forbid(unsafe_code)]
