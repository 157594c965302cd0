//! infer-dist integration tests (one binary; run in release mode for the statistical ones).

mod bijector;
mod common;
mod glm;
mod gof;
mod kl;
mod pathwise;
mod props;
mod special;
mod stability;
