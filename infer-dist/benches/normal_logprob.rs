//! Normal log-density benchmark (being written).

fn main() {}
