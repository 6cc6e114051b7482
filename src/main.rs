use clap::Parser;

fn main() -> std::process::ExitCode {
    tappass::cli::run(tappass::cli::Cli::parse())
}
