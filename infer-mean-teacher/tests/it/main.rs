//! Integration tests of infer-mean-teacher (one binary, so that they link once).

#[path = "../../examples/common/moons.rs"]
#[allow(dead_code)]
mod moons;

mod consistency;
mod cross_entropy;
mod ema;
mod errors;
mod hostile;
mod no_grad;
mod persist;
mod persist_json;
mod persist_v1;
mod ramp;
mod two_moons;
mod vat;
