use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod cli_play;

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
}

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Play(cli_play::PlayArgs::default())) {
        Command::Play(args) => cli_play::run(args, started),
        Command::CheckLevels { dir } => lora_arcade::content::check::main(dir),
    }
}
