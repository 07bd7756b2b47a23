mod http;
mod pki;
fn main() {}
