//! The `mfrnn` binary: see `mfrnn --help`.

fn main() -> std::process::ExitCode {
    mfrnn::cli::main()
}
