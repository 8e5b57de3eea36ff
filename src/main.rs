use clap::{Parser, Subcommand};

/// LoRA Arcade: learn LoRA and QLoRA as a retro arcade game, then fine-tune a real model.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
