//! The boss stage: a real LoRA / QLoRA fine-tune, set up, fought live and looked back on.
//!
//! [`BossPhase`] runs Setup → Fight → After inside `Screen::Boss`. The stage reaches the trainer
//! only through its jobs — [`crate::trainer::run::start`] for the fight and
//! [`crate::trainer::answers::start`] for the before/after answers — and learns what happens
//! from their events, which [`pump`] hands to the plain-data [`Fight`] every frame. Leaving the
//! stage, or quitting, cancels a job that still runs; the adapter trained so far is kept.

mod after;
mod fight;
mod setup;
pub mod text;

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::winit::{UpdateMode, WinitSettings};

use super::draw_while;
use crate::content::Lang;
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::boss::{
    BenchRow, Cue, DeviceStatus, Fight, FightSetup, Phase, course_questions, default_model, device_status,
    system_prompt,
};
use crate::game::ui::heatmap::Heatmap;
use crate::game::ui::sprites::BossArt;
use crate::game::{GameData, Screen};
use crate::trainer::answers::{self, Answer, AnswerEvent, AnswersConfig, AnswersHandle};
use crate::trainer::run::{self, DeviceKind, RunHandle};

/// Where in the stage the player is.
#[derive(SubStates, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[source(Screen = Screen::Boss)]
pub enum BossPhase {
    #[default]
    Setup,
    Fight,
    After,
}

/// How many course questions the before/after view asks.
const QUESTIONS: usize = 3;

/// The stage's state while `Screen::Boss` is shown.
#[derive(Resource)]
pub struct BossStage {
    pub setup: FightSetup,
    /// The highlighted row of the setup panel, and whether its text is being typed.
    pub cursor: usize,
    pub editing: bool,
    /// Each device and whether it can be used here.
    pub devices: Vec<(DeviceKind, DeviceStatus)>,
    pub fight: Option<Fight>,
    run: Option<RunHandle>,
    answers: Option<AnswersHandle>,
    /// Questions asked so far and their answers (as they arrive).
    pub asked: Vec<(String, Option<Answer>)>,
    /// The player's own question being typed.
    pub typed: String,
    /// The adapter's folder.
    pub out_dir: PathBuf,
    /// When things happened on the stage clock (seconds): for the animations.
    pub hit_at: Option<f64>,
    pub defeated_at: Option<f64>,
    pub shots: Vec<f64>,
    pub cancelling: bool,
    /// A problem to show on the setup panel (e.g. the model is missing).
    pub notice: Option<String>,
    pub menu: usize,
}

impl BossStage {
    fn new(data: &GameData) -> BossStage {
        let lang = data.lang();
        let remembered = data.save.boss.setup.clone();
        let remembered_device = remembered.as_ref().map(|s| s.device);
        let model = default_model().map(|p| p.display().to_string());
        let mut setup = remembered.unwrap_or_else(|| FightSetup::defaults(model.clone().unwrap_or_default(), lang));
        if setup.model.is_empty() {
            setup.model = model.unwrap_or_default();
        }
        // The course data follows the game's language.
        if let crate::game::boss::Dataset::Course(l) = &mut setup.dataset {
            *l = lang;
        }
        // Best first: the GPUs, then the CPU (always ready).
        let devices: Vec<(DeviceKind, DeviceStatus)> =
            [DeviceKind::Cuda, DeviceKind::Metal, DeviceKind::Cpu].into_iter().map(|d| (d, device_status(d))).collect();
        let ready = |d: DeviceKind| devices.iter().any(|(k, s)| *k == d && *s == DeviceStatus::Ready);
        // A fresh setup takes the best device; a remembered one keeps its own while it is here.
        if remembered_device.is_none_or(|d| !ready(d)) {
            setup.device = devices.iter().find(|(_, s)| *s == DeviceStatus::Ready).map_or(DeviceKind::Cpu, |(d, _)| *d);
        }
        BossStage {
            setup,
            cursor: setup::FIGHT_ROW,
            editing: false,
            devices,
            fight: None,
            run: None,
            answers: None,
            asked: Vec::new(),
            typed: String::new(),
            out_dir: adapter_dir(data),
            hit_at: None,
            defeated_at: None,
            shots: Vec::new(),
            cancelling: false,
            notice: None,
            menu: 0,
        }
    }

    /// Starts the fight with the current setup.
    pub fn start_fight(&mut self, lang: Lang, now: f64) {
        let cfg = self.setup.train_config(lang, &self.out_dir);
        self.run = Some(run::start(cfg));
        self.fight = Some(Fight::new(self.setup.clone(), now));
        (self.hit_at, self.defeated_at, self.cancelling) = (None, None, false);
        self.shots.clear();
        self.asked.clear();
    }

    /// Asks the run to stop after its current step.
    pub fn cancel(&mut self) {
        if let Some(run) = &self.run {
            run.cancel();
            self.cancelling = true;
        }
    }

    /// Asks the base and the adapted model `questions` (after a fight that saved an adapter).
    pub fn ask(&mut self, lang: Lang, questions: Vec<String>) {
        if questions.is_empty() || self.answers.is_some() {
            return;
        }
        let Some(fight) = &self.fight else { return };
        self.asked.extend(questions.iter().map(|q| (q.clone(), None)));
        let course = matches!(fight.setup.dataset, crate::game::boss::Dataset::Course(_));
        self.answers = Some(answers::start(AnswersConfig {
            model: PathBuf::from(&fight.setup.model),
            adapter: self.out_dir.clone(),
            method: fight.setup.method,
            double_quant: true,
            device: fight.setup.device,
            questions,
            system_prompt: course.then(|| system_prompt(lang).to_string()),
            sampling: AnswersConfig::default_sampling(),
            threads: Some(crate::game::boss::compute_threads(fight.setup.device)),
        }));
    }

    /// Whether a job is running (the stage then redraws steadily).
    pub fn busy(&self) -> bool {
        self.run.is_some() || self.answers.is_some()
    }

    /// Stops whatever runs without making the game wait: the jobs finish their step and join on
    /// a thread of their own (the adapter trained so far is still saved).
    fn stop_jobs(&mut self) {
        let (run, answers) = (self.run.take(), self.answers.take());
        if let Some(r) = &run {
            r.cancel();
        }
        if let Some(a) = &answers {
            a.cancel();
        }
        if run.is_some() || answers.is_some() {
            std::thread::spawn(move || drop((run, answers)));
        }
    }
}

/// Where the fight's adapter is saved: beside the save file (without one, the temp folder).
fn adapter_dir(data: &GameData) -> PathBuf {
    let dir = data.store.as_ref().and_then(|s| s.path().parent().map(PathBuf::from));
    dir.unwrap_or_else(|| std::env::temp_dir().join("lora-arcade")).join("boss-adapter")
}

/// Rows of the benchmark table shown (the most recent).
const BENCH_ROWS: usize = 6;

/// The deck's "PRUEBAS DE RENDIMIENTO", from this machine's fights.
pub(super) fn bench_table(ui: &mut bevy_egui::egui::Ui, rows: &[BenchRow], lang: Lang) {
    use crate::game::ui::theme;
    use bevy_egui::egui::{Grid, RichText};
    Grid::new("boss-bench").striped(true).show(ui, |ui| {
        for name in text::Say::BenchHeader.tr(lang).split(" · ") {
            ui.label(RichText::new(name).color(theme::DIM).size(13.0));
        }
        ui.end_row();
        for r in rows.iter().rev().take(BENCH_ROWS) {
            for cell in [
                r.device.to_uppercase(),
                r.method.to_uppercase(),
                r.steps.to_string(),
                format!("{:.0} s", r.seconds),
                format!("{:.0}", r.tokens_per_s),
                format!("{:.0} MiB", r.peak_memory_mib),
                format!("{:.0} MiB", r.weight_mib),
            ] {
                ui.label(RichText::new(cell).size(15.0).color(theme::INK));
            }
            ui.end_row();
        }
    });
}

/// Textures the stage draws with (made on first use, kept until the stage is left).
#[derive(Resource, Default)]
pub struct BossViews {
    pub art: Option<Result<BossArt, String>>,
    pub a: Heatmap,
    pub b: Heatmap,
    pub delta: Heatmap,
}

/// `--screen boss-fight` / `boss-after`: the stage plays itself (a default fight started at once)
/// so that a screenshot can show it mid-fight or after it.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Autoplay {
    /// Ready once a few steps have drawn the curves and matrices.
    Fight,
    /// Ready once the fight is over and the course questions are answered.
    After,
}

/// Set by the stage when what [`Autoplay`] waits for is on screen (a screenshot waits for it).
#[derive(Resource, Default, Debug)]
pub struct ShowcaseReady(pub bool);

pub fn plugin(app: &mut App) {
    // The window's redraw requests (registered here too so the stage runs headless in tests).
    app.add_message::<bevy::window::RequestRedraw>();
    app.add_sub_state::<BossPhase>()
        .init_resource::<ShowcaseReady>()
        .add_systems(OnEnter(Screen::Boss), enter)
        .add_systems(OnExit(Screen::Boss), leave)
        .add_systems(Update, (autoplay, pump, redraw_while_busy).chain().run_if(in_state(Screen::Boss)));
    draw_while(
        app,
        Screen::Boss,
        (
            setup::ui.run_if(in_state(BossPhase::Setup)),
            fight::ui.run_if(in_state(BossPhase::Fight)),
            after::ui.run_if(in_state(BossPhase::After)),
        ),
    );
}

fn enter(mut commands: Commands, data: Res<GameData>) {
    commands.insert_resource(BossStage::new(&data));
    commands.insert_resource(BossViews::default());
}

fn leave(mut commands: Commands, stage: Option<ResMut<BossStage>>, mut winit: Option<ResMut<WinitSettings>>) {
    if let Some(mut stage) = stage {
        stage.stop_jobs();
    }
    commands.remove_resource::<BossStage>();
    commands.remove_resource::<BossViews>();
    if let Some(w) = winit.as_deref_mut().filter(|w| w.focused_mode != UpdateMode::Continuous) {
        *w = WinitSettings::desktop_app();
    }
}

/// Hands the jobs' events to the fight: cues become sounds and animations; a finished run is
/// recorded in the benchmark table and its adapter asked the course questions.
fn pump(
    time: Res<Time>,
    mut stage: ResMut<BossStage>,
    mut data: ResMut<GameData>,
    mut sfx: MessageWriter<PlaySfx>,
    mut next_phase: ResMut<NextState<BossPhase>>,
    mut redraw: MessageWriter<bevy::window::RequestRedraw>,
) {
    let now = time.elapsed_secs_f64();
    let lang = data.lang();
    // Whether the run's thread has ended, asked BEFORE reading its events: a thread that sends
    // its last event and ends between the two calls would otherwise be dropped with that event
    // (`Finished`) still unread, and the stage would wait for it forever.
    let ended = stage.run.as_ref().is_some_and(|r| r.is_finished());
    let events = stage.run.as_ref().map(|r| r.try_events()).unwrap_or_default();
    if !events.is_empty() {
        redraw.write(bevy::window::RequestRedraw);
    }
    for event in events {
        let cues = stage.fight.as_mut().map(|f| f.apply(event, now)).unwrap_or_default();
        for cue in cues {
            match cue {
                Cue::Appear => {
                    sfx.write(PlaySfx(Sfx::BossRoar));
                }
                Cue::Shot => {
                    stage.shots.push(now);
                    stage.hit_at = Some(now + fight::SHOT_FLIGHT);
                    sfx.write(PlaySfx(Sfx::BossHit));
                }
                Cue::Hurt => stage.hit_at = Some(now),
                Cue::Defeated => {
                    stage.defeated_at = Some(now);
                    sfx.write(PlaySfx(Sfx::BossVictory));
                }
                Cue::Survived | Cue::Failed => {
                    sfx.write(PlaySfx(Sfx::BossDefeat));
                }
            }
        }
    }
    stage.shots.retain(|t| now - t < fight::SHOT_FLIGHT);
    let finished = stage.fight.as_ref().map(|f| f.phase.clone());
    if ended {
        stage.run = None;
        stage.cancelling = false;
        if let Some(Phase::Finished { .. }) = finished {
            if let Some(row) = stage.fight.as_ref().and_then(|f| f.bench_row()) {
                data.save.boss.benchmarks.push(row);
            }
            data.save.boss.setup = Some(stage.setup.clone());
            data.persist();
            let questions = course_questions(lang, QUESTIONS);
            stage.ask(lang, questions);
            next_phase.set(BossPhase::After);
        }
    }
    if let Some(job) = &stage.answers {
        // Ended first, then the events (see above): the last answer is never dropped unread.
        let done = job.is_finished();
        let events = job.try_events();
        for event in events {
            if let AnswerEvent::Answered { answer, .. } = event
                && let Some(slot) = stage.asked.iter_mut().find(|(q, a)| a.is_none() && *q == answer.question)
            {
                slot.1 = Some(answer);
            }
        }
        if done {
            // An error (say the model vanished) leaves the questions unanswered: say so.
            if let Some(Err(e)) = stage.answers.take().map(|j| j.join()) {
                stage.notice = Some(e.to_string());
            }
        }
    }
}

/// Starts the default fight at once under [`Autoplay`] and says when the view is ready.
fn autoplay(
    mode: Option<Res<Autoplay>>,
    time: Res<Time>,
    data: Res<GameData>,
    mut stage: ResMut<BossStage>,
    mut ready: ResMut<ShowcaseReady>,
    phase: Res<State<BossPhase>>,
    mut next: ResMut<NextState<BossPhase>>,
) {
    let Some(mode) = mode else { return };
    if stage.fight.is_none() && *phase.get() == BossPhase::Setup {
        stage.start_fight(data.lang(), time.elapsed_secs_f64());
        next.set(BossPhase::Fight);
        return;
    }
    let fight = stage.fight.as_ref();
    ready.0 = match *mode {
        Autoplay::Fight => fight.is_some_and(|f| f.progress().0 >= 6 && f.valid_loss.len() >= 2),
        Autoplay::After => {
            *phase.get() == BossPhase::After && !stage.busy() && stage.asked.iter().all(|(_, a)| a.is_some())
        }
    };
}

/// The game draws only on input (0 % CPU at rest); while a job runs it redraws steadily so the
/// curves move: 60 times a second when a GPU trains, 20 when the CPU does (drawing then takes
/// cores from training; with Mesa's software renderer on 2 cores that is ~17 frames a second).
fn redraw_while_busy(stage: Res<BossStage>, mut winit: Option<ResMut<WinitSettings>>) {
    // Screenshot and benchmark runs draw continuously already.
    let Some(w) = winit.as_deref_mut().filter(|w| w.focused_mode != UpdateMode::Continuous) else { return };
    let on_gpu = stage.fight.as_ref().is_some_and(|f| f.setup.device != DeviceKind::Cpu);
    let steady = UpdateMode::reactive(std::time::Duration::from_millis(if on_gpu { 16 } else { 50 }));
    let wanted = match stage.busy() {
        true => WinitSettings { focused_mode: steady, unfocused_mode: steady },
        false => WinitSettings::desktop_app(),
    };
    if w.focused_mode != wanted.focused_mode {
        *w = wanted;
    }
}
