//! A LoRA/QLoRA trainer for Llama-family models on candle. Never imports bevy.

pub mod bench;
pub mod config;
pub mod data;
pub mod eval;
pub mod generate;
pub mod load;
pub mod loss;
pub mod merge;
pub mod model;
pub mod optim;
pub mod peft;
pub mod run;
pub mod template;
pub mod tensorfile;
