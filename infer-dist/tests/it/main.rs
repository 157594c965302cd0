//! infer-dist integration tests (one binary; run in release mode for the statistical ones).

mod bijector;
mod bijector_hostile;
mod bijector_stan;
mod bijector_stan_hostile;
mod borrowed;
mod bounds;
mod common;
mod families14;
mod glm;
mod glm_dist;
mod gof;
mod hoisted;
mod hostile;
mod kl;
mod kl_hostile;
mod mixture14;
mod operands;
mod pathwise;
mod props;
mod regress13;
mod special;
mod stability;
mod studentt_hoisted;
