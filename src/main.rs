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
}

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Play(cli_play::PlayArgs::default())) {
        Command::Play(args) => cli_play::run(args, started),
    }
}
