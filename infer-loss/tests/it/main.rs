//! Integration tests of `infer-loss` (one binary).

mod api;
mod convergence;
mod hostile;
mod prop;
mod unbiased;
mod vi_loop;
