use clap::{Parser, Subcommand};

mod cli_train;

/// LoRA Arcade: learn LoRA and QLoRA as a retro arcade game, then fine-tune a real model.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune a LoRA adapter on a JSONL dataset.
    Train(cli_train::TrainArgs),
    /// Mean loss and perplexity on a JSONL dataset, with or without an adapter.
    Eval(cli_train::EvalArgs),
    /// Generate answers, with or without an adapter (--compare: both).
    Chat(cli_train::ChatArgs),
    /// Merge an adapter into its base: a full-precision Hugging Face folder.
    Merge(cli_train::MergeArgs),
    /// Training throughput and memory on random-init weights.
    Bench(cli_train::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Train(a)) => cli_train::train(a),
        Some(Command::Eval(a)) => cli_train::eval(a),
        Some(Command::Chat(a)) => cli_train::chat_cmd(a),
        Some(Command::Merge(a)) => cli_train::merge(a),
        Some(Command::Bench(a)) => cli_train::bench(a),
        None => Ok(()),
    }
}
