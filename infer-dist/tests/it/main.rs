//! infer-dist integration tests (one binary; run in release mode for the statistical ones).

mod bijector;
mod bijector_hostile;
mod common;
mod glm;
mod gof;
mod hostile;
mod kl;
mod kl_hostile;
mod pathwise;
mod props;
mod regress13;
mod special;
mod stability;
