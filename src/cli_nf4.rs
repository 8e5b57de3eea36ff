//! `lora-arcade nf4 quantize|dequantize`: safetensors files to and from bitsandbytes' NF4 layout.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use lora_arcade::trainer::nf4_file::{FileReport, dequantize_file, quantize_file};

#[derive(Subcommand, Debug)]
pub enum Nf4Command {
    /// Quantize every 2-D float tensor to NF4 (blocks of 64, double quantization by default),
    /// byte for byte as bitsandbytes' quantize_4bit; other tensors are copied.
    Quantize(QuantizeArgs),
    /// Turn a file made by `nf4 quantize` back into float tensors of the original shapes.
    Dequantize(DequantizeArgs),
}

#[derive(Args, Debug)]
pub struct QuantizeArgs {
    #[arg(long = "in")]
    input: PathBuf,
    #[arg(long = "out")]
    output: PathBuf,
    /// Keep one f32 absmax per block instead of 8-bit codes (4.5 instead of ≈4.13 bits a weight).
    #[arg(long)]
    no_double_quant: bool,
}

#[derive(Args, Debug)]
pub struct DequantizeArgs {
    #[arg(long = "in")]
    input: PathBuf,
    #[arg(long = "out")]
    output: PathBuf,
}

pub fn run(command: Nf4Command) -> anyhow::Result<()> {
    let (verb, report) = match command {
        Nf4Command::Quantize(a) => ("quantized", quantize_file(&a.input, &a.output, !a.no_double_quant)?),
        Nf4Command::Dequantize(a) => ("dequantized", dequantize_file(&a.input, &a.output)?),
    };
    print_report(verb, &report);
    Ok(())
}

fn print_report(verb: &str, r: &FileReport) {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "{verb} {} tensor(s), copied {}: {:.2} MiB → {:.2} MiB",
        r.converted.len(),
        r.copied.len(),
        mib(r.bytes_in),
        mib(r.bytes_out)
    );
}
