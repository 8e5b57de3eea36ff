//! `--bench-fight`: plays the default boss fight in a real window, redrawing only as the stage
//! asks (as a player sees it), and prints the fight's time, its loss drop and the frames drawn
//! while training: the overall rate and the worst second.

use std::time::Instant;

use bevy::prelude::*;

use crate::game::boss::Phase;
use crate::game::screens::boss::{Autoplay, BossStage, ShowcaseReady};

pub struct FightBenchPlugin;

impl Plugin for FightBenchPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Autoplay::After).init_resource::<FightBench>().add_systems(Last, measure);
    }
}

#[derive(Resource, Default)]
struct FightBench {
    started: Option<Instant>,
    /// The first training step's end, and the run's end.
    training_from: Option<Instant>,
    finished: Option<Instant>,
    /// Frames drawn while training, in total and in each whole second since `training_from`.
    frames: u64,
    per_second: Vec<u32>,
}

fn measure(
    stage: Option<Res<BossStage>>,
    ready: Res<ShowcaseReady>,
    mut bench: ResMut<FightBench>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(fight) = stage.as_ref().and_then(|s| s.fight.as_ref()) else { return };
    let now = Instant::now();
    bench.started.get_or_insert(now);
    match &fight.phase {
        Phase::Training if bench.finished.is_none() && fight.progress().0 >= 1 => {
            let from = *bench.training_from.get_or_insert(now);
            let second = (now - from).as_secs() as usize;
            if bench.per_second.len() <= second {
                bench.per_second.resize(second + 1, 0);
            }
            bench.per_second[second] += 1;
            bench.frames += 1;
        }
        Phase::Finished { .. } => {
            bench.finished.get_or_insert(now);
        }
        Phase::Failed(message) => {
            eprintln!("the fight failed: {message}");
            exit.write(AppExit::error());
        }
        _ => {}
    }
    let (Some(started), Some(from), Some(finished)) = (bench.started, bench.training_from, bench.finished) else {
        return;
    };
    if !ready.0 {
        return;
    }
    let training = (finished - from).as_secs_f64();
    // The last second is partial: leave it out of the worst one.
    let whole = &bench.per_second[..bench.per_second.len().saturating_sub(1)];
    println!("fight_seconds {:.1}", (finished - started).as_secs_f64());
    println!("answers_seconds {:.1}", finished.elapsed().as_secs_f64());
    if let Some(result) = &fight.result {
        println!("steps {}", result.steps_done);
        println!("train_tokens_per_s {:.1}", result.tokens_per_s);
    }
    if let (Some(first), Some(last)) = (fight.valid_loss.first(), fight.valid_loss.last()) {
        println!("valid_loss {:.3} -> {:.3} ({:.1} %)", first[1], last[1], 100.0 * (last[1] - first[1]) / first[1]);
    }
    println!("defeated {}", fight.defeated());
    println!("frames_while_training {} in {training:.1} s", bench.frames);
    println!("fps_while_training {:.1}", bench.frames as f64 / training.max(1e-9));
    println!("fps_worst_second {}", whole.iter().min().copied().unwrap_or(0));
    exit.write(AppExit::Success);
}
