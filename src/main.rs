use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// LoRA Arcade: learn LoRA and QLoRA as a retro arcade game, then fine-tune a real model.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate level files: syntax, translations, and every answer re-derived by the maths.
    CheckLevels {
        /// Folder of `*.ron` level files, or one level file [default: levels]
        dir: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::CheckLevels { dir }) => lora_arcade::content::check::main(dir),
        None => Ok(()),
    }
}
