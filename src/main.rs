use std::process::ExitCode;

// mimalloc: glibc's malloc took about a tenth of the server's CPU under upload load (arena
// locking, consolidation of the many kilobyte-sized buffers a request makes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    slbcert::cli::main()
}
