//! Variational-inference and likelihood losses built on `infer-dist` (under construction:
//! [`hard_negative_mining`] is in; the ELBO family follows).

#![forbid(unsafe_code)]

mod error;
mod hard_negative_mining;

pub use error::LossError;
pub use hard_negative_mining::hard_negative_mining;
