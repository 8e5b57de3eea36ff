//! A LoRA/QLoRA trainer for Llama-family models on candle. Never imports bevy.

pub mod config;
pub mod data;
pub mod load;
pub mod loss;
pub mod model;
pub mod template;
pub mod optim;
pub mod tensorfile;
pub mod peft;
pub mod eval;
pub mod run;
pub mod generate;
pub mod merge;
pub mod bench;
