//! EMA benchmark (being written).

fn main() {}
