//! Integration tests of infer-mean-teacher (one binary; see STYLE.md 10).

mod consistency;
mod ema;
mod errors;
mod no_grad;
mod persist;
mod ramp;
mod two_moons;
