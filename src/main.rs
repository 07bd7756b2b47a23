use std::process::ExitCode;

fn main() -> ExitCode {
    slbcert::cli::main()
}
