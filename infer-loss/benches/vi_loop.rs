//! VI loop benchmark (being written).

fn main() {}
