//! The train/eval/chat/merge/bench subcommands end to end on a tiny model, and their errors.

mod cli_support;

use std::process::{Command, Output};

use cli_support::{p, stderr, stdout, tiny_model_and_data};
use lora_arcade::trainer::fixture::write_tiny_model_folder;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lora-arcade")).args(args).output().unwrap()
}

#[test]
fn train_eval_chat_merge_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = tiny_model_and_data(
        dir.path(),
        "{\"prompt\": \"the cat sat on\", \"completion\": \"the mat\"}\n{\"text\": \"one two three four five\"}\n",
    );
    let out = dir.path().join("out");
    let o = cli(&[
        "train",
        "--model",
        p(&model),
        "--data",
        p(&data),
        "--valid",
        p(&data),
        "--out",
        p(&out),
        "--steps",
        "4",
        "--rank",
        "2",
        "--targets",
        "all-linear",
        "--lr",
        "1e-2",
        "--batch",
        "2",
        "--save-every",
        "2",
        "--eval-every",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let steps: Vec<&serde_json::Value> = lines.iter().filter(|l| l["event"] == "step").collect();
    assert_eq!(steps.len(), 4);
    for s in &steps {
        for k in ["step", "loss", "lr", "tokens_per_s"] {
            assert!(s.get(k).is_some_and(|v| v.is_number()), "missing {k} in {s}");
        }
    }
    let evals: Vec<u64> = lines.iter().filter(|l| l["event"] == "eval").map(|l| l["step"].as_u64().unwrap()).collect();
    assert_eq!(evals, [0, 2, 4]);
    assert!(out.join("checkpoint-4/optimizer.safetensors").is_file());
    assert!(out.join("adapter_config.json").is_file());

    let o = cli(&["eval", "--model", p(&model), "--data", p(&data), "--adapter", p(&out), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last: serde_json::Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    let (loss, ppl) = (last["loss"].as_f64().unwrap(), last["perplexity"].as_f64().unwrap());
    assert!((ppl - loss.exp()).abs() < 1e-9 * ppl && last["tokens"].as_u64().unwrap() > 0);

    let o = cli(&[
        "chat",
        "--model",
        p(&model),
        "--adapter",
        p(&out),
        "--prompt",
        "the cat",
        "--max-new-tokens",
        "4",
        "--compare",
        "--temperature",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("── base ──") && stdout(&o).contains("── with adapter ──"));

    let merged = dir.path().join("merged");
    let o = cli(&["merge", "--model", p(&model), "--adapter", p(&out), "--out", p(&merged)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cli(&["eval", "--model", p(&merged), "--data", p(&data), "--json"]);
    let merged_loss = serde_json::from_str::<serde_json::Value>(stdout(&o).lines().last().unwrap()).unwrap()["loss"]
        .as_f64()
        .unwrap();
    assert!((merged_loss - loss).abs() < 1e-4, "merged {merged_loss} vs adapter {loss}");

    let o = cli(&["bench", "--model", "tiny", "--rank", "2", "--seq", "8", "--batch", "2", "--steps", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(b["tokens_per_s"].as_f64().unwrap() > 0.0 && b["peak_rss_mib"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_cli_inputs_fail_with_messages_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model_folder(&model, 5).unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(&data, "{\"text\": \"the cat\"}\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["train", "--model", "/nonexistent/m", "--data", p(&data)], "nonexistent"),
        (vec!["train", "--model", p(&model), "--data", "/nonexistent/d.jsonl"], "d.jsonl"),
        (vec!["train", "--model", p(&model), "--data", p(&data), "--targets", "q_proj,banana"], "banana"),
        (vec!["train", "--model", p(&model), "--data", p(&data), "--rank", "100"], "rank 100"),
        (vec!["train", "--model", p(&model), "--data", p(&data), "--device", "cuda"], "CUDA"),
        (vec!["eval", "--model", p(&model), "--data", p(&data), "--adapter", "/nonexistent/a"], "adapter_config.json"),
        (vec!["chat", "--model", p(&model), "--compare", "--prompt", "hi"], "--adapter"),
        (vec!["bench", "--model", "gpt5"], "gpt5"),
    ];
    for (args, needle) in cases {
        let o = cli(&args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

/// QLoRA from the command line: train over the 4-bit base, evaluate and chat over it, merge into
/// the full-precision base (which the merge says), and `bench --compare` prints both rows.
#[test]
fn qlora_train_eval_chat_merge_and_bench_compare() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model_folder(&model, 5).unwrap();
    let data = dir.path().join("train.jsonl");
    std::fs::write(&data, "{\"prompt\": \"the cat sat on\", \"completion\": \"the mat\"}\n").unwrap();
    let out = dir.path().join("qlora");
    let o = cli(&[
        "train",
        "--model",
        p(&model),
        "--data",
        p(&data),
        "--out",
        p(&out),
        "--method",
        "qlora",
        "--steps",
        "3",
        "--rank",
        "2",
        "--targets",
        "all-linear",
        "--lr",
        "1e-2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loaded: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!((loaded["event"].as_str(), loaded["method"].as_str()), (Some("loaded"), Some("qlora")));
    let bytes_per_weight =
        loaded["projection_bytes"].as_f64().unwrap() / loaded["projection_weights"].as_f64().unwrap();
    assert!(bytes_per_weight < 0.6, "{bytes_per_weight}");

    let eval = |method: &str| {
        let o = cli(&[
            "eval",
            "--model",
            p(&model),
            "--data",
            p(&data),
            "--adapter",
            p(&out),
            "--method",
            method,
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
        v["loss"].as_f64().unwrap()
    };
    let (on_4_bit, on_f32) = (eval("qlora"), eval("lora"));
    assert!(on_4_bit.is_finite() && on_f32.is_finite() && on_4_bit != on_f32, "{on_4_bit} {on_f32}");

    let o = cli(&[
        "chat",
        "--model",
        p(&model),
        "--adapter",
        p(&out),
        "--method",
        "qlora",
        "--prompt",
        "the cat",
        "--max-new-tokens",
        "3",
        "--compare",
        "--temperature",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cli(&["merge", "--model", p(&model), "--adapter", p(&out), "--out", p(&dir.path().join("merged"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("QLoRA") && stdout(&o).contains("full-precision"), "{}", stdout(&o));

    let o = cli(&[
        "bench",
        "--model",
        "tiny",
        "--rank",
        "2",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--seq",
        "16",
        "--compare",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["lora", "qlora"]);
    assert!(rows[1]["weight_mib"].as_f64() < rows[0]["weight_mib"].as_f64(), "{rows:?}");
}
