//! The trainer never loses or silently bends what the user has: output folders, resume, options
//! that make no sense, closed pipes, broken files. Each case through the command line, where a
//! user meets it.

mod cli_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cli_support::{p, stderr, stdout, tiny_model_and_data};
use rand::{Rng, SeedableRng};

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lora-arcade"));
    // A user's environment: a backtrace request must not turn a clean error into a crash dump.
    c.args(args).env("RUST_BACKTRACE", "1").env("HF_HUB_OFFLINE", "1").env_remove("RUST_LOG");
    c
}

fn cli(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// Fails unless the command failed cleanly with `needle` in its message (no panic, no backtrace).
#[track_caller]
fn assert_refused(o: &Output, needle: &str) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "should have failed; stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace") && !err.contains("Caused by"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a piped stderr: {err:?}");
    err
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(o.status.success(), "stderr: {}", stderr(o));
}

/// A tiny model, a small dataset and a scratch folder.
struct Setup {
    dir: tempfile::TempDir,
    model: PathBuf,
    data: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (model, data) = tiny_model_and_data(
            dir.path(),
            "{\"prompt\": \"the cat sat on\", \"completion\": \"the mat\"}\n{\"text\": \"one two three four five\"}\n\
             {\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello there\"}]}\n",
        );
        Self { dir, model, data }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `train` on the tiny model with small settings (those `extra` does not set), then `extra`.
    fn train(&self, out: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["train", "--model", p(&self.model), "--data", p(&self.data), "--out", p(out)];
        for (flag, value) in [("--rank", "2"), ("--lr", "1e-2"), ("--batch", "2"), ("--targets", "q_proj,v_proj")] {
            if !extra.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        args.extend(extra);
        cli(&args)
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn adapter_config(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("adapter_config.json"))).unwrap()
}

/// Losses a checkpoint recorded.
fn checkpoint_losses(dir: &Path) -> Vec<f64> {
    let state: serde_json::Value = serde_json::from_slice(&read(&dir.join("trainer_state.json"))).unwrap();
    state["losses"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

// ── Data lost ──────────────────────────────────────────────────────────────────────────────

#[test]
fn merge_never_writes_over_its_inputs_or_a_users_folder() {
    let s = Setup::new();
    let adapter = s.path("adapter");
    assert_ok(&s.train(&adapter, &["--steps", "1"]));
    let base_weights = read(&s.model.join("model.safetensors"));
    let merge = |out: &Path, force: bool| {
        let mut args = vec!["merge", "--model", p(&s.model), "--adapter", p(&adapter), "--out", p(out)];
        if force {
            args.push("--force");
        }
        cli(&args)
    };
    // The base's own folder, the folder holding it, the adapter's folder: refused even with --force.
    assert_refused(&merge(&s.model, true), "is the --model");
    assert_refused(&merge(s.dir.path(), true), "a folder holding the --model");
    assert_refused(&merge(&adapter, true), "is the --adapter");
    assert_eq!(read(&s.model.join("model.safetensors")), base_weights, "the base is untouched");
    // A folder of the user's: refused without --force; with it, only the merge's files are written.
    let users = s.path("users");
    std::fs::create_dir_all(&users).unwrap();
    std::fs::write(users.join("notes.txt"), "mine").unwrap();
    assert_refused(&merge(&users, false), "notes.txt");
    assert!(!users.join("model.safetensors").exists());
    assert_ok(&merge(&users, true));
    assert_eq!(read(&users.join("notes.txt")), b"mine");
    // Our own earlier merge is ours to replace.
    let merged = s.path("merged");
    assert_ok(&merge(&merged, false));
    assert_ok(&merge(&merged, false));
}

#[test]
fn train_leaves_a_users_files_alone_and_refuses_up_front() {
    let s = Setup::new();
    let out = s.path("out");
    std::fs::create_dir_all(out.join("checkpoint-2")).unwrap();
    std::fs::write(out.join("checkpoint-2/README"), "my notes").unwrap();
    std::fs::write(out.join("results.csv"), "1,2").unwrap();
    let err = assert_refused(&s.train(&out, &["--steps", "2", "--save-every", "1", "--json"]), "results.csv");
    assert!(err.contains("checkpoint-2/"), "{err}");
    assert_eq!(read(&out.join("checkpoint-2/README")), b"my notes");
    assert!(!out.join("adapter_model.safetensors").exists(), "nothing written");

    // Our own checkpoints of an earlier run: a new run (not --resume) does not mix with them.
    let ours = s.path("ours");
    assert_ok(&s.train(&ours, &["--steps", "2", "--save-every", "1"]));
    let before = read(&ours.join("checkpoint-2/adapter_model.safetensors"));
    assert_refused(&s.train(&ours, &["--steps", "2", "--save-every", "1"]), "--resume");
    assert_eq!(read(&ours.join("checkpoint-2/adapter_model.safetensors")), before);
    // A finished run without checkpoints is ours to train over (the boss stage fights again).
    let plain = s.path("plain");
    assert_ok(&s.train(&plain, &["--steps", "1"]));
    assert_ok(&s.train(&plain, &["--steps", "1"]));
}

#[test]
fn an_out_that_cannot_be_written_is_refused_before_the_first_step() {
    let s = Setup::new();
    let file = s.path("a-file");
    std::fs::write(&file, "x").unwrap();
    for out in [file.join("out"), file.clone()] {
        let o = s.train(&out, &["--steps", "2", "--json"]);
        assert_refused(&o, "--out");
        assert!(!stdout(&o).contains("\"step\""), "no step ran: {}", stdout(&o));
    }
}

#[test]
fn a_closed_stdout_does_not_cost_the_run() {
    let s = Setup::new();
    let out = s.path("out");
    let mut args = vec!["train", "--model", p(&s.model), "--data", p(&s.data), "--out", p(&out)];
    args.extend(["--rank", "2", "--steps", "6", "--json"]);
    let mut child = command(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    assert!(first.contains("\"event\""), "{first}");
    drop(lines); // `| head -1`
    let o = child.wait_with_output().unwrap();
    assert_ok(&o);
    assert!(!stderr(&o).contains("Broken pipe"), "{}", stderr(&o));
    assert!(out.join("adapter_model.safetensors").is_file(), "the adapter is written");
}

#[test]
fn one_shot_commands_end_quietly_on_a_closed_stdout() {
    let mut child = command(&["bench", "--model", "tiny", "--steps", "1", "--warmup", "0", "--compare"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // `| head -0`
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

// ── Silently bent ──────────────────────────────────────────────────────────────────────────

#[test]
fn resume_continues_only_its_own_run() {
    let s = Setup::new();
    let out = s.path("out");
    assert_ok(&s.train(&out, &["--steps", "4", "--save-every", "2", "--rank", "4"]));
    let adapter = read(&out.join("adapter_model.safetensors"));
    // Options that make another run are refused, named.
    let other_data = s.path("other.jsonl");
    std::fs::write(&other_data, "{\"text\": \"a different corpus\"}\n").unwrap();
    let mut with_other_data = vec!["train", "--model", p(&s.model), "--data", p(&other_data), "--out", p(&out)];
    with_other_data.extend(["--resume", p(&out)]);
    assert_refused(&cli(&with_other_data), "--data");
    for (extra, needle) in [
        (vec!["--rank", "8"], "--rank 4 there, 8 now"),
        (vec!["--alpha", "3"], "--alpha"),
        (vec!["--targets", "all-linear"], "--targets"),
        (vec!["--dropout", "0.2"], "--dropout"),
        (vec!["--seed", "7"], "--seed"),
        (vec!["--lr", "1e-3"], "--lr"),
        (vec!["--schedule", "constant"], "--schedule"),
        (vec!["--seq", "64"], "--seq"),
        (vec!["--rslora"], "--rslora"),
        (vec!["--steps", "2"], "past the 2 steps"),
    ] {
        let mut args = vec!["--resume", p(&out)];
        args.extend(extra);
        // `Setup::train` passes --rank 2, which the checkpoint (rank 4) refuses: build by hand.
        let mut all = vec!["train", "--model", p(&s.model), "--data", p(&s.data), "--out", p(&out)];
        all.extend(args);
        assert_refused(&cli(&all), needle);
    }
    assert_eq!(read(&out.join("adapter_model.safetensors")), adapter, "nothing was overwritten");
    // Left out, the options are the checkpoint's: it goes on to step 6 at rank 4.
    let mut go_on = vec!["train", "--model", p(&s.model), "--data", p(&s.data), "--out", p(&out)];
    go_on.extend(["--resume", p(&out), "--steps", "6", "--save-every", "2", "--json"]);
    let o = cli(&go_on);
    assert_ok(&o);
    assert!(stdout(&o).contains("\"start_step\":4"), "{}", stdout(&o));
    assert_eq!(adapter_config(&out)["r"], 4);
}

#[test]
fn an_initial_adapter_brings_its_settings_and_refuses_others() {
    let s = Setup::new();
    let first = s.path("first");
    assert_ok(&s.train(&first, &["--steps", "1", "--rank", "4", "--alpha", "8"]));
    let second = s.path("second");
    let base = ["train", "--model", p(&s.model), "--data", p(&s.data), "--steps", "1"];
    let mut asked = base.to_vec();
    asked.extend(["--out", p(&second), "--init-adapter", p(&first), "--rank", "8"]);
    let err = assert_refused(&cli(&asked), "--rank 4");
    assert!(err.contains("--rank 8"), "{err}");
    let mut left_out = base.to_vec();
    left_out.extend(["--out", p(&second), "--init-adapter", p(&first)]);
    assert_ok(&cli(&left_out));
    let config = adapter_config(&second);
    assert_eq!((config["r"].as_u64(), config["lora_alpha"].as_f64()), (Some(4), Some(8.0)));
}

#[test]
fn options_no_run_can_use_are_refused_while_parsing() {
    let s = Setup::new();
    let out = s.path("out");
    for (flag, value) in [
        ("--alpha", "nan"),
        ("--alpha", "inf"),
        ("--alpha", "-16"),
        ("--lr", "NaN"),
        ("--max-grad-norm", "-1"),
        ("--weight-decay", "-5"),
        ("--dropout", "1.5"),
        ("--epochs", "0"),
        ("--batch", "0"),
        ("--rank", "0"),
    ] {
        let arg = format!("{flag}={value}");
        let o = s.train(&out, &[&arg]);
        let err = assert_refused(&o, flag);
        assert_eq!(o.status.code(), Some(2), "a usage error: {err}");
    }
    assert!(!out.exists(), "nothing was created");
    let o = cli(&["eval", "--model", p(&s.model), "--data", p(&s.data), "--batch", "0"]);
    assert_refused(&o, "--batch");
    let o = s.train(&out, &["--targets", "q_proj,v_proj,q"]);
    assert_refused(&o, "q_proj is named twice");
}

#[test]
fn a_chat_role_we_do_not_know_names_its_line() {
    let s = Setup::new();
    let data = s.path("roles.jsonl");
    std::fs::write(
        &data,
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}\n\
         {\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"robot\", \"content\": \"beep\"}]}\n",
    )
    .unwrap();
    let o = cli(&["train", "--model", p(&s.model), "--data", p(&data), "--out", p(&s.path("o")), "--steps", "1"]);
    let err = assert_refused(&o, "roles.jsonl:2");
    assert!(err.contains("\"robot\""), "{err}");
}

#[test]
fn a_sequence_longer_than_the_model_knows_is_warned_about() {
    let s = Setup::new();
    // The tiny model has max_position_embeddings 128; its tokenizer reads this text byte by byte.
    let long = s.path("long.jsonl");
    std::fs::write(&long, format!("{{\"text\": \"{}\"}}\n", "abc ".repeat(60))).unwrap();
    let run = |seq: &str| {
        cli(&[
            "train",
            "--model",
            p(&s.model),
            "--data",
            p(&long),
            "--out",
            p(&s.path("o")),
            "--seq",
            seq,
            "--steps",
            "1",
        ])
    };
    let o = run("200");
    assert_ok(&o);
    assert!(stderr(&o).contains("max_position_embeddings (128)"), "{}", stderr(&o));
    // Within the model's positions (or a long --seq no example reaches), nothing to say.
    assert!(!stderr(&run("100")).contains("max_position_embeddings"));
    assert!(!stderr(&s.train(&s.path("short"), &["--steps", "1", "--seq", "4000"])).contains("max_position"));
    assert!(!stderr(&o).contains('\u{1b}'), "no colour codes when stderr is a pipe");
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_good_adapter() {
    let s = Setup::new();
    let out = s.path("out");
    assert_ok(&s.train(&out, &["--steps", "2"]));
    let good = read(&out.join("adapter_model.safetensors"));
    // A learning rate this large blows the adapter up in its first update: step 2's loss is not
    // a number. The run stops there, keeps checkpoint-1 and the adapter already in the folder.
    let o = s.train(&out, &["--steps", "6", "--save-every", "1", "--lr", "1e38"]);
    let err = assert_refused(&o, "step 2: the loss is");
    assert!(err.contains("training stopped before updating the adapter"), "{err}");
    assert!(out.join("checkpoint-1").is_dir() && !out.join("checkpoint-2").exists());
    assert_eq!(read(&out.join("adapter_model.safetensors")), good, "the good adapter is kept");
}

#[test]
fn a_missing_local_model_is_not_found_not_a_network_error() {
    let s = Setup::new();
    let models = s.path("models");
    std::fs::create_dir_all(&models).unwrap();
    let run = |model: &str| {
        command(&["train", "--model", model, "--data", p(&s.data), "--out", "o", "--steps", "1"])
            .current_dir(s.dir.path())
            .output()
            .unwrap()
    };
    let err = assert_refused(&run("models/nothere"), "models/nothere: not found");
    assert!(err.contains("hf:models/nothere"), "says how to ask the Hub: {err}");
    assert!(!err.to_lowercase().contains("network") && !err.contains("offline"), "{err}");
    assert_refused(&run("./nothere"), "./nothere: not found");
    assert_refused(&run("nothere.gguf"), "nothere.gguf: not found");
    // An id with no folder of that name here is still a Hub id (offline here, so it says that).
    assert_refused(&run("someone/model"), "offline");
}

// ── Clearer errors ─────────────────────────────────────────────────────────────────────────

#[test]
fn a_truncated_newest_checkpoint_falls_back_to_the_previous_one() {
    let s = Setup::new();
    let out = s.path("out");
    assert_ok(&s.train(&out, &["--steps", "4", "--save-every", "2"]));
    let weights = out.join("checkpoint-4/adapter_model.safetensors");
    let bytes = read(&weights);
    std::fs::write(&weights, &bytes[..bytes.len() - 10]).unwrap();
    let mut args = vec!["train", "--model", p(&s.model), "--data", p(&s.data), "--out", p(&out)];
    args.extend(["--resume", p(&out), "--steps", "4", "--save-every", "2", "--json"]);
    let o = cli(&args);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(err.contains("checkpoint-4") && err.contains("truncated or not a safetensors file"), "{err}");
    assert!(stdout(&o).contains("\"start_step\":2"), "resumed from checkpoint-2: {}", stdout(&o));
}

#[test]
fn broken_files_and_missing_ones_say_what_they_are_once() {
    let s = Setup::new();
    // Not UTF-8 on line 2.
    let latin1 = s.path("latin1.jsonl");
    std::fs::write(&latin1, b"{\"text\": \"fine\"}\n{\"text\": \"ni\xf1o\"}\n").unwrap();
    let o = cli(&["train", "--model", p(&s.model), "--data", p(&latin1), "--out", p(&s.path("o")), "--steps", "1"]);
    assert_refused(&o, "latin1.jsonl:2: byte 13 of the line is not UTF-8");
    // A missing file: its cause once.
    let o = cli(&["eval", "--model", p(&s.model), "--data", p(&s.path("missing.jsonl"))]);
    let err = assert_refused(&o, "missing.jsonl");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    // A truncated model file.
    let weights = s.model.join("model.safetensors");
    let bytes = read(&weights);
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let o = cli(&["eval", "--model", p(&s.model), "--data", p(&s.data)]);
    assert_refused(&o, "truncated or not a safetensors file");
}

#[test]
fn bench_runs_the_tiny_model_with_its_defaults() {
    let o = cli(&["bench", "--model", "tiny", "--steps", "2", "--warmup", "1", "--json"]);
    assert_ok(&o);
    let row: serde_json::Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert!(row["tokens_per_s"].as_f64().unwrap() > 0.0, "{row}");
}

#[test]
fn only_the_newest_checkpoints_are_kept() {
    let s = Setup::new();
    let out = s.path("out");
    assert_ok(&s.train(&out, &["--steps", "6", "--save-every", "1", "--keep-checkpoints", "2"]));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    names.sort();
    assert_eq!(names, ["checkpoint-5", "checkpoint-6"]);
    let all = s.path("all");
    assert_ok(&s.train(&all, &["--steps", "3", "--save-every", "1", "--keep-checkpoints", "0"]));
    assert!((1..=3).all(|n| all.join(format!("checkpoint-{n}")).is_dir()));
}

/// kill -9 at random moments, then `--resume`: the losses and the adapter are exactly the
/// uninterrupted run's.
#[test]
fn killed_at_random_moments_a_resumed_run_equals_the_uninterrupted_one() {
    let s = Setup::new();
    let steps = ["--steps", "8", "--save-every", "1"];
    let whole = s.path("whole");
    let started = std::time::Instant::now();
    assert_ok(&s.train(&whole, &steps));
    let full_ms = started.elapsed().as_millis() as u64;
    let expected_losses = checkpoint_losses(&whole.join("checkpoint-8"));
    let expected_adapter = read(&whole.join("adapter_model.safetensors"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for round in 0..6 {
        let out = s.path(&format!("killed-{round}"));
        let mut args = vec!["train", "--model", p(&s.model), "--data", p(&s.data), "--out", p(&out)];
        args.extend(["--rank", "2", "--lr", "1e-2", "--batch", "2", "--targets", "q_proj,v_proj"]);
        args.extend(steps);
        let mut child = command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(full_ms / 4..full_ms.max(8))));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let resumable = std::fs::read_dir(&out)
            .is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("checkpoint-")));
        let mut again = args.clone();
        if resumable {
            again.extend(["--resume", p(&out)]);
        }
        assert_ok(&cli(&again));
        assert_eq!(checkpoint_losses(&out.join("checkpoint-8")), expected_losses, "round {round}");
        assert_eq!(read(&out.join("adapter_model.safetensors")), expected_adapter, "round {round}");
    }
}
