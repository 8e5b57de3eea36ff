//! A LoRA/QLoRA trainer for Llama-family models on candle. Never imports bevy.

pub mod config;
pub mod data;
pub mod load;
pub mod loss;
pub mod model;
pub mod template;
