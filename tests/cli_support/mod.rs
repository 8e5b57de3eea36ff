//! What the command-line tests share: a command's output as text, a path as an argument.

use std::path::{Path, PathBuf};
use std::process::Output;

use lora_arcade::trainer::fixture::write_tiny_model_folder;

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A tiny model folder and a training file with `lines` in `dir`.
pub fn tiny_model_and_data(dir: &Path, lines: &str) -> (PathBuf, PathBuf) {
    let model = dir.join("model");
    write_tiny_model_folder(&model, 5).unwrap();
    let data = dir.join("train.jsonl");
    std::fs::write(&data, lines).unwrap();
    (model, data)
}
