//! Integration tests of `infer-loss` (one binary).

mod api;
mod constrained;
mod convergence;
mod hostile;
mod logistic;
mod predictive;
mod prop;
mod seed;
mod svi;
mod unbiased;
mod vi_loop;
