fn main() -> std::process::ExitCode {
    aoai_arch::cli::main()
}
