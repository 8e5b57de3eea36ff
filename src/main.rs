use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod cli_nf4;
mod cli_play;
mod cli_train;
mod cli_values;

/// LoRA Arcade: learn LoRA and QLoRA as a retro arcade game, then fine-tune a real model.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Play the arcade (the default).
    Play(cli_play::PlayArgs),
    /// Validate level files: syntax, translations, and every answer re-derived by the maths.
    CheckLevels {
        /// Folder of `*.ron` level files, or one level file [default: levels]
        dir: Option<PathBuf>,
    },
    /// Fine-tune a LoRA adapter on a JSONL dataset.
    Train(cli_train::TrainArgs),
    /// Mean loss and perplexity on a JSONL dataset, with or without an adapter.
    Eval(cli_train::EvalArgs),
    /// Generate answers, with or without an adapter (--compare: both).
    Chat(cli_train::ChatArgs),
    /// Merge an adapter into its base: a full-precision Hugging Face folder.
    Merge(cli_train::MergeArgs),
    /// Training throughput and memory on random-init weights (--compare: LoRA and QLoRA).
    Bench(cli_train::BenchArgs),
    /// NF4 (QLoRA's 4-bit format) for safetensors files.
    #[command(subcommand)]
    Nf4(cli_nf4::Nf4Command),
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings). The game installs its own
/// subscriber through bevy's LogPlugin, so this is only for the command-line tools.
/// Colours only on a terminal: a log file or a pipe gets plain text.
fn init_cli_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// The error and its causes on one line, each cause once: many errors already quote their
/// source in their own message, and a backtrace (`RUST_BACKTRACE=1`) is for panics, not for
/// a clean refusal.
fn error_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // candle's element-wise pool spins ~25k rounds after every op before it parks; on a small
    // machine that spinning thread takes a core from rayon's workers running the training
    // kernels (`lora-arcade bench`, 2 cores: ~10 % more tokens/s with a short spin).
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        // SAFETY: the first statement of the program, before any other thread exists.
        unsafe { std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "200") };
    }
    // The matches are kept: `train --resume` needs to know which options were typed.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = cli.command.unwrap_or(Command::Play(cli_play::PlayArgs::default()));
    if !matches!(command, Command::Play(_)) {
        init_cli_logging();
    }
    // Rust ignores SIGPIPE, so a closed stdout makes `println!` panic. The one-shot commands
    // take the Unix default instead (`eval | head -1` ends quietly); `train` keeps it ignored
    // and stops printing on a closed pipe without stopping the run.
    #[cfg(unix)]
    if !matches!(command, Command::Play(_) | Command::Train(_)) {
        // SAFETY: setting a signal's disposition to its default has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match command {
        Command::Play(args) => cli_play::run(args, started),
        Command::CheckLevels { dir } => lora_arcade::content::check::main(dir),
        Command::Train(a) => cli_train::train(a, matches.subcommand_matches("train").expect("parsed as train")),
        Command::Eval(a) => cli_train::eval(a),
        Command::Chat(a) => cli_train::chat_cmd(a),
        Command::Merge(a) => cli_train::merge(a),
        Command::Bench(a) => cli_train::bench(a),
        Command::Nf4(c) => cli_nf4::run(c),
    }
}
