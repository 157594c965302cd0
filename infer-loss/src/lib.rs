//! Variational-inference and likelihood losses built on `infer-dist` (under construction).
#![forbid(unsafe_code)]
