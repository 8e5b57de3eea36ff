//! The boss stage: the fight as plain data fed the trainer's events (health, defeat, the time
//! left, ΔW and its singular values, the NF4 view, the benchmark row), then the stage itself
//! without a window, playing a real fine-tune of the tiny model to its before/after answers.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use nalgebra::DMatrix;

use lora_arcade::content::{Lang, builtin};
use lora_arcade::game::boss::{
    BenchRow, Cue, Dataset, Fight, FightSetup, Nf4View, Phase, TARGET_DROP, course_questions, system_prompt,
};
use lora_arcade::game::save::SaveStore;
use lora_arcade::game::screens::ScreensPlugin;
use lora_arcade::game::screens::boss::{Autoplay, BossPhase, BossStage, ShowcaseReady};
use lora_arcade::game::{Course, GameCommand, GameData, Screen};
use lora_arcade::math::Target;
use lora_arcade::math::nf4::NF4_CODE;
use lora_arcade::trainer::fixture::write_tiny_model_folder;
use lora_arcade::trainer::run::{
    Duration, LoadedInfo, LoraSnapshot, Method, RunResult, StepStats, TrainEvent, WeightSample,
};

fn setup(dataset: Dataset) -> FightSetup {
    FightSetup { dataset, ..FightSetup::defaults("model".into(), Lang::En) }
}

fn loaded(total_steps: usize, sample: Option<Vec<f32>>) -> TrainEvent {
    TrainEvent::Loaded(LoadedInfo {
        model: "models/tiny".into(),
        method: Method::Qlora,
        layers: 2,
        projection_bytes: 3 * 1024 * 1024,
        projection_weights: 6_000_000,
        trainable_params: 1000,
        base_params: 100_000,
        train_examples: 10,
        valid_examples: 2,
        start_step: 0,
        total_steps,
        weight_sample: sample.map(|values| WeightSample { layer: 0, module: Target::Q, values }),
    })
}

fn step(step: usize, loss: f64, snapshot: Option<LoraSnapshot>) -> TrainEvent {
    TrainEvent::Step(StepStats {
        step,
        total_steps: 10,
        loss,
        lr: 1e-3,
        grad_norm: 1.0,
        tokens_per_s: 100.0,
        memory_bytes: 1 << 30,
        snapshot,
    })
}

fn eval(step: usize, loss: f64) -> TrainEvent {
    TrainEvent::Eval { step, loss, perplexity: loss.exp() }
}

fn finished(steps_done: usize, cancelled: bool) -> TrainEvent {
    TrainEvent::Finished(RunResult {
        steps_done,
        total_steps: 10,
        final_loss: Some(2.0),
        final_valid_loss: Some(2.0),
        adapter_dir: PathBuf::from("out"),
        cancelled,
        tokens_per_s: 123.0,
        train_seconds: 45.0,
        peak_memory_bytes: 900 * 1024 * 1024,
        losses: Vec::new(),
    })
}

#[test]
fn health_follows_the_validation_loss_down_to_the_target_drop() {
    let mut fight = Fight::new(setup(Dataset::Course(Lang::En)), 0.0);
    assert_eq!(fight.apply(loaded(10, None), 1.0), [Cue::Appear]);
    assert_eq!(fight.phase, Phase::Training);
    assert_eq!(fight.health(), 1.0, "full health before any loss is measured");

    assert!(fight.apply(eval(0, 4.0), 1.0).is_empty(), "the first loss sets the scale");
    let target = 4.0 * (1.0 - TARGET_DROP);
    assert_eq!(fight.target_loss(), Some(target));
    assert_eq!(fight.health(), 1.0);

    // The training loss does not move the bar when validation data exists.
    assert_eq!(fight.apply(step(1, 1.0, None), 2.0), [Cue::Shot]);
    assert_eq!(fight.health(), 1.0);

    assert_eq!(fight.apply(eval(3, 3.6), 3.0), [Cue::Hurt]);
    let expected = ((3.6 - target) / (4.0 - target)) as f32;
    assert!((fight.health() - expected).abs() < 1e-6, "{} vs {expected}", fight.health());

    // A loss that rises again heals it a little and is no hit.
    assert!(fight.apply(eval(6, 3.7), 4.0).is_empty());
    assert!(fight.health() > expected);

    assert_eq!(fight.apply(eval(9, target - 0.01), 5.0), [Cue::Hurt, Cue::Defeated]);
    assert_eq!(fight.health(), 0.0);
    assert!(fight.defeated());
    // Falling further is another hit, not another defeat.
    assert_eq!(fight.apply(eval(10, target - 0.1), 6.0), [Cue::Hurt]);

    fight.apply(finished(10, false), 7.0);
    assert_eq!(fight.phase, Phase::Finished { defeated: true, cancelled: false });
}

#[test]
fn without_validation_data_the_training_loss_is_the_health() {
    let mut fight = Fight::new(setup(Dataset::Jsonl("mine.jsonl".into())), 0.0);
    fight.apply(loaded(10, None), 0.0);
    assert_eq!(fight.apply(step(1, 5.0, None), 1.0), [Cue::Shot]);
    fight.apply(step(2, 4.5, None), 2.0);
    assert!((fight.health() - 0.5).abs() < 1e-6, "halfway from 5.0 to 4.0: {}", fight.health());
    assert_eq!(fight.apply(step(3, 3.9, None), 3.0), [Cue::Shot, Cue::Defeated]);
}

#[test]
fn a_run_that_ends_above_the_target_leaves_the_boss_standing() {
    let mut fight = Fight::new(setup(Dataset::Course(Lang::Es)), 0.0);
    fight.apply(loaded(10, None), 0.0);
    fight.apply(eval(0, 4.0), 0.0);
    fight.apply(eval(3, 3.9), 1.0);
    assert_eq!(fight.apply(finished(3, true), 2.0), [Cue::Survived]);
    assert_eq!(fight.phase, Phase::Finished { defeated: false, cancelled: true });
    let mut failed = Fight::new(setup(Dataset::Course(Lang::Es)), 0.0);
    assert_eq!(failed.apply(TrainEvent::Failed { message: "no model".into() }, 1.0), [Cue::Failed]);
    assert_eq!(failed.phase, Phase::Failed("no model".into()));
    assert_eq!(failed.bench_row(), None, "a failed run has no benchmark");
}

#[test]
fn time_left_comes_from_the_pace_of_the_steps() {
    let mut fight = Fight::new(setup(Dataset::Course(Lang::En)), 100.0);
    fight.apply(loaded(10, None), 105.0);
    fight.apply(step(1, 3.0, None), 110.0);
    assert_eq!(fight.eta_seconds(), None, "one step gives no pace (the first one warms up)");
    fight.apply(step(2, 3.0, None), 112.0);
    fight.apply(step(3, 3.0, None), 114.0);
    // 2 s a step after the first, 7 steps left.
    assert_eq!(fight.eta_seconds(), Some(14.0));
    assert_eq!(fight.progress(), (3, 10));
    assert_eq!(fight.elapsed(), 14.0);
}

#[test]
fn the_finished_run_becomes_a_benchmark_row() {
    let mut fight = Fight::new(setup(Dataset::Course(Lang::En)), 0.0);
    fight.setup.method = Method::Qlora;
    fight.apply(loaded(10, None), 0.0);
    fight.apply(finished(10, false), 50.0);
    let row = fight.bench_row().expect("a finished run has a row");
    assert_eq!(
        row,
        BenchRow {
            device: "cpu".into(),
            method: "qlora".into(),
            model: "tiny".into(),
            steps: 10,
            seconds: 45.0,
            tokens_per_s: 123.0,
            peak_memory_mib: 900.0,
            weight_mib: 3.0,
        }
    );
}

#[test]
fn the_snapshot_gives_delta_w_and_its_singular_values() {
    let mut fight = Fight::new(setup(Dataset::Course(Lang::En)), 0.0);
    fight.setup.rank = 2;
    fight.setup.alpha = 6.0;
    // A is 2×3, B is 4×2 (row-major), both full rank.
    let a = vec![1.0, 2.0, 0.0, 0.0, 1.0, -1.0];
    let b = vec![1.0, 0.0, 0.0, 1.0, 2.0, 1.0, -1.0, 3.0];
    let snapshot =
        LoraSnapshot { layer: 0, module: Target::Q, a: a.clone(), b: b.clone(), a_shape: (2, 3), b_shape: (4, 2) };
    fight.apply(step(1, 3.0, Some(snapshot)), 1.0);
    let (delta, shape) = fight.delta_w.clone().expect("ΔW after a snapshot");
    assert_eq!(shape, (4, 3));
    let expected =
        DMatrix::from_row_slice(4, 2, &b).cast::<f64>() * DMatrix::from_row_slice(2, 3, &a).cast::<f64>() * 3.0;
    for i in 0..4 {
        for j in 0..3 {
            assert_eq!(delta[i * 3 + j], expected[(i, j)] as f32, "ΔW[{i},{j}]");
        }
    }
    // ΔW's singular values are those of the full matrix: two of them (rank 2), largest first.
    let full = expected.svd(false, false).singular_values;
    assert_eq!(fight.singular_values.len(), 2);
    for (k, s) in fight.singular_values.iter().enumerate() {
        assert!((s - full[k]).abs() < 1e-9 * full[0], "σ{k}: {s} vs {}", full[k]);
    }
    assert!(full[2].abs() < 1e-9 * full[0], "the third is zero");
}

#[test]
fn the_nf4_view_quantizes_the_real_weights_in_blocks_of_64() {
    let values: Vec<f32> = (0..128).map(|i| ((i * 37 % 101) as f32 - 50.0) / 500.0).collect();
    let mut fight = Fight::new(setup(Dataset::Course(Lang::En)), 0.0);
    fight.apply(loaded(10, Some(values.clone())), 0.0);
    let view = fight.nf4.clone().expect("the sample is quantized");
    assert_eq!(view, Nf4View::of(&values).unwrap());
    assert_eq!(view.histogram.iter().sum::<usize>(), values.len());
    assert_eq!(view.absmax.len(), 2, "two blocks of 64");
    for (block, absmax) in values.chunks(64).zip(&view.absmax) {
        assert_eq!(*absmax, block.iter().fold(0.0f32, |m, v| m.max(v.abs())));
    }
    // Each value dequantizes to the nearest code times its block's absmax.
    for (i, (v, d)) in values.iter().zip(&view.dequantized).enumerate() {
        let absmax = view.absmax[i / 64];
        let nearest =
            NF4_CODE.iter().map(|c| c * absmax).min_by(|x, y| (x - v).abs().total_cmp(&(y - v).abs())).unwrap();
        assert!((d - nearest).abs() < 1e-6, "value {i}: {v} → {d}, nearest code {nearest}");
    }
    let worst = values.iter().zip(&view.dequantized).map(|(v, d)| (v - d).abs()).fold(0.0, f32::max);
    assert_eq!(view.max_error, worst);
    assert!(view.mean_abs_error <= view.max_error && view.mean_abs_error > 0.0);
}

#[test]
fn the_course_questions_come_from_the_training_file_in_the_language() {
    for lang in [Lang::Es, Lang::En] {
        let questions = course_questions(lang, 3);
        assert_eq!(questions.len(), 3, "{lang:?}");
        let (train, valid) = Dataset::Course(lang).files();
        assert!(valid.is_some_and(|v| v.is_file()), "the course has a validation file");
        let text = std::fs::read_to_string(train).unwrap();
        for q in &questions {
            assert!(text.contains(&serde_json::to_string(q).unwrap()), "{q:?} is asked in the training file");
        }
        let mut unique = questions.clone();
        unique.dedup();
        assert_eq!(unique.len(), 3, "three different questions: {questions:?}");
    }
    assert_ne!(course_questions(Lang::Es, 3), course_questions(Lang::En, 3));
}

#[test]
fn the_setup_becomes_the_trainer_config() {
    let dir = Path::new("out");
    let mut s = FightSetup::defaults("m.gguf".into(), Lang::Es);
    s.method = Method::Qlora;
    s.duration = Duration::Steps(30);
    let cfg = s.train_config(Lang::Es, dir);
    assert_eq!(cfg.method, Method::Qlora);
    assert_eq!(cfg.lora.rank, 16);
    assert_eq!(cfg.lora.alpha, 32.0);
    assert_eq!(cfg.lora.targets, Target::ALL.to_vec());
    assert!(matches!(cfg.duration, Duration::Steps(30)));
    assert_eq!(cfg.eval_every, 10, "three validation losses (the boss's health) during the fight");
    assert_eq!(cfg.system_prompt.as_deref(), Some(system_prompt(Lang::Es)));
    assert_eq!(cfg.snapshot, Some((0, Target::Q)));
    assert!(cfg.valid.is_some());
    cfg.validate().expect("the defaults are a valid run");

    s.dataset = Dataset::Jsonl("mine.jsonl".into());
    let cfg = s.train_config(Lang::Es, dir);
    assert_eq!((cfg.valid, cfg.system_prompt), (None, None), "the player's data is trained as it is");

    // Epochs of the course: 153 examples in batches of 4 → 39 steps an epoch.
    s.dataset = Dataset::Course(Lang::En);
    s.duration = Duration::Epochs(2.0);
    assert_eq!(s.planned_steps(), 78);
    let cfg = s.train_config(Lang::En, dir);
    assert!(matches!(cfg.duration, Duration::Epochs(2.0)));
    assert_eq!(cfg.eval_every, 26);
}

// ---- The stage without a window ----

/// The game with its screens, saving into `dir`, on the boss stage with a tiny-model setup.
fn stage_app(dir: &Path, model: &Path, data: &Path) -> App {
    let mut app = common::headless(Course::new(builtin().levels), dir);
    app.add_plugins(ScreensPlugin);
    app.update();
    common::send(&mut app, GameCommand::Goto(Screen::Boss));
    assert_eq!(*app.world().resource::<State<BossPhase>>().get(), BossPhase::Setup);
    let mut stage = app.world_mut().resource_mut::<BossStage>();
    stage.setup.model = model.display().to_string();
    stage.setup.dataset = Dataset::Jsonl(data.to_path_buf());
    stage.setup.rank = 4;
    stage.setup.alpha = 8.0;
    stage.setup.duration = Duration::Steps(6);
    stage.setup.lr = 1e-2;
    app
}

fn tiny_files(dir: &Path) -> (PathBuf, PathBuf) {
    let model = dir.join("model");
    write_tiny_model_folder(&model, 5).unwrap();
    let data = dir.join("mine.jsonl");
    let lines = [
        r#"{"prompt": "the cat sat on", "completion": "the mat"}"#,
        r#"{"prompt": "lora rank", "completion": "low rank adapter"}"#,
        r#"{"text": "the big red dog ate a bone"}"#,
    ];
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    (model, data)
}

/// Updates until `done` or the time runs out (the trainer works on its own thread).
fn update_until(app: &mut App, what: &str, done: impl Fn(&mut App) -> bool) {
    let start = std::time::Instant::now();
    while !done(app) {
        if start.elapsed().as_secs() >= 300 {
            let phase = *app.world().resource::<State<BossPhase>>().get();
            let stage = app.world().resource::<BossStage>();
            let fight = stage.fight.as_ref().map(|f| format!("{:?}", f.phase));
            panic!("timed out waiting for {what}: stage {phase:?}, fight {fight:?}, asked {}", stage.asked.len());
        }
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn the_stage_plays_a_real_fight_to_the_before_and_after_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = tiny_files(dir.path());
    let mut app = stage_app(dir.path(), &model, &data);
    app.insert_resource(Autoplay::After);
    update_until(&mut app, "the answers", |app| app.world().resource::<ShowcaseReady>().0);

    assert_eq!(*app.world().resource::<State<BossPhase>>().get(), BossPhase::After);
    let stage = app.world().resource::<BossStage>();
    let fight = stage.fight.as_ref().unwrap();
    assert!(matches!(fight.phase, Phase::Finished { cancelled: false, .. }), "{:?}", fight.phase);
    assert_eq!(fight.train_loss.len(), 6, "one point per step");
    assert!(fight.delta_w.is_some() && fight.nf4.is_some(), "the live views had real data");
    assert!(!fight.singular_values.is_empty() && fight.singular_values.len() <= 4);
    // Three course questions, each answered by the base and the adapted model.
    assert_eq!(stage.asked.len(), 3);
    for (question, answer) in &stage.asked {
        let answer = answer.as_ref().unwrap();
        assert_eq!(&answer.question, question);
    }
    let adapter = stage.out_dir.clone();
    assert!(adapter.join("adapter_model.safetensors").is_file(), "saved in {}", adapter.display());
    assert!(adapter.starts_with(dir.path()), "the adapter lives beside the save");

    // The run is in the benchmark table and the setup is remembered, on disk too.
    let save = &app.world().resource::<GameData>().save;
    assert_eq!(save.boss.benchmarks.len(), 1);
    assert_eq!(save.boss.benchmarks[0].steps, 6);
    let on_disk = SaveStore::in_dir(dir.path()).load().data;
    assert_eq!(on_disk.boss.benchmarks, save.boss.benchmarks);
    assert_eq!(on_disk.boss.setup.as_ref().map(|s| s.duration), Some(Duration::Steps(6)));
}

/// The stage with a fight of `steps` started and its first step done.
fn fight_under_way(dir: &Path, model: &Path, data: &Path, steps: usize) -> App {
    let mut app = stage_app(dir, model, data);
    app.world_mut().resource_mut::<BossStage>().setup.duration = Duration::Steps(steps);
    app.insert_resource(Autoplay::Fight);
    let stepped =
        |app: &mut App| app.world().resource::<BossStage>().fight.as_ref().is_some_and(|f| f.progress().0 >= 1);
    update_until(&mut app, "the first step", stepped);
    app
}

#[test]
fn cancelling_stops_the_fight_and_keeps_the_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = tiny_files(dir.path());
    let mut app = fight_under_way(dir.path(), &model, &data, 500);
    app.world_mut().resource_mut::<BossStage>().cancel();
    update_until(&mut app, "the end", |app| *app.world().resource::<State<BossPhase>>().get() == BossPhase::After);
    let stage = app.world().resource::<BossStage>();
    let fight = stage.fight.as_ref().unwrap();
    assert_eq!(fight.phase, Phase::Finished { defeated: fight.defeated(), cancelled: true });
    assert!(fight.progress().0 < 500);
    assert!(stage.out_dir.join("adapter_model.safetensors").is_file());
}

#[test]
fn a_missing_model_fails_the_fight_with_the_reason_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = tiny_files(dir.path());
    let missing = dir.path().join("no-such-model");
    let mut app = stage_app(dir.path(), &missing, &data);
    app.insert_resource(Autoplay::Fight);
    let failed = |app: &mut App| {
        app.world().resource::<BossStage>().fight.as_ref().is_some_and(|f| matches!(f.phase, Phase::Failed(_)))
    };
    update_until(&mut app, "the failure", failed);
    for _ in 0..3 {
        app.update();
    }
    let stage = app.world().resource::<BossStage>();
    let Phase::Failed(message) = &stage.fight.as_ref().unwrap().phase else { unreachable!() };
    assert!(message.contains("no-such-model"), "the reason names the path: {message}");
    assert_eq!(*app.world().resource::<State<BossPhase>>().get(), BossPhase::Fight, "stays to show why");
    assert!(app.world().resource::<GameData>().save.boss.benchmarks.is_empty());
}

#[test]
fn leaving_mid_fight_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = tiny_files(dir.path());
    let mut app = fight_under_way(dir.path(), &model, &data, 100_000);
    common::send(&mut app, GameCommand::Goto(Screen::Map));
    assert!(app.world().get_resource::<BossStage>().is_none(), "the stage's state left with it");
    // The cancelled run still saves what it trained, soon (not after 100 000 steps).
    let adapter = dir.path().join("boss-adapter").join("adapter_model.safetensors");
    let start = std::time::Instant::now();
    while !adapter.is_file() {
        assert!(start.elapsed().as_secs() < 120, "the run did not stop");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_bad_dataset_line_fails_the_fight_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = tiny_files(dir.path());
    std::fs::write(&data, "{\"text\": \"fine\"}\n{\"text\": oops}\n").unwrap();
    let mut app = stage_app(dir.path(), &model, &data);
    app.insert_resource(Autoplay::Fight);
    let failed = |app: &mut App| {
        app.world().resource::<BossStage>().fight.as_ref().is_some_and(|f| matches!(f.phase, Phase::Failed(_)))
    };
    update_until(&mut app, "the failure", failed);
    let stage = app.world().resource::<BossStage>();
    let Phase::Failed(message) = &stage.fight.as_ref().unwrap().phase else { unreachable!() };
    assert!(message.contains("mine.jsonl:2"), "the message names the file and line: {message}");
}
