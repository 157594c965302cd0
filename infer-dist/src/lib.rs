//! Probability distributions differentiable through the `infer-ad` tape (under construction).
#![forbid(unsafe_code)]
