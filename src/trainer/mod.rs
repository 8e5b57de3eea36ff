//! A LoRA/QLoRA trainer for Llama-family models on candle. Never imports bevy.

pub mod answers;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod defaults;
pub mod eval;
pub mod fixture;
pub mod generate;
pub mod job;
pub mod kernels;
pub mod load;
pub mod loss;
pub mod merge;
pub mod model;
pub mod nf4_file;
pub mod optim;
pub mod out_dir;
pub mod peft;
pub mod run;
pub mod runtime;
pub mod template;
pub mod tensorfile;
pub mod training;
