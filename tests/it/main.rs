//! Integration tests of the `infer` facade (one binary).

mod end_to_end;
mod seed_api;
