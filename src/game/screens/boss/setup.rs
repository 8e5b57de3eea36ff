//! Before the fight: one key starts it with the defaults; the panel beside it changes the
//! model, LoRA / QLoRA, rank, α, targets, steps, learning rate, data and device, showing what
//! the choice trains (parameters counted by the maths module) as it changes.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, RichText};

use super::text::Say;
use super::{BossPhase, BossStage};
use crate::content::Lang;
use crate::game::boss::{BenchRow, Dataset, DeviceStatus};
use crate::game::ui::keys::TypingText;
use crate::game::ui::sprites::{BossArt, boss_frame};
use crate::game::ui::{ScreenUi, decimal, fixed, theme};
use crate::math::Target;
use crate::trainer::load::{is_hub_id, load_config};
use crate::trainer::run::{DeviceKind, Duration, Method};

const RANKS: [usize; 6] = [2, 4, 8, 16, 32, 64];
const ALPHAS: [f64; 6] = [4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
const DURATIONS: [Duration; 8] = [
    Duration::Steps(12),
    Duration::Steps(20),
    Duration::Steps(48),
    Duration::Steps(96),
    Duration::Steps(200),
    Duration::Epochs(1.0),
    Duration::Epochs(2.0),
    Duration::Epochs(3.0),
];
const LEARNING_RATES: [f64; 6] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2];
/// The target presets: PEFT's default, attention, every linear layer.
const TARGET_SETS: [&[Target]; 3] =
    [&Target::PEFT_DEFAULT, &[Target::Q, Target::K, Target::V, Target::O], &Target::ALL];

/// The panel's rows, in order; the last one starts the fight.
const ROWS: usize = 11;
pub const FIGHT_ROW: usize = ROWS - 1;
const MODEL_ROW: usize = 0;
const DATA_ROW: usize = 7;
const DEVICE_ROW: usize = 8;
const LAYER_ROW: usize = 9;

/// The next entry of `options` after (or before, `step < 0`) the one equal to `current`.
fn cycle<T: PartialEq + Copy>(options: &[T], current: T, step: i32) -> T {
    let i = options.iter().position(|o| *o == current).unwrap_or(0) as i32;
    options[(i + step).rem_euclid(options.len() as i32) as usize]
}

/// Whether `model` names something the trainer can load: a folder or file, or a Hub id.
fn model_found(model: &str) -> bool {
    !model.is_empty() && (std::path::Path::new(model).exists() || is_hub_id(model))
}

impl BossStage {
    /// Changes the highlighted row's value by `step` (`layers`: the model's, when known).
    fn change(&mut self, step: i32, lang: Lang, layers: Option<usize>) {
        let s = &mut self.setup;
        match self.cursor {
            1 => s.method = if s.method == Method::Lora { Method::Qlora } else { Method::Lora },
            2 => s.rank = cycle(&RANKS, s.rank, step),
            3 => s.alpha = cycle(&ALPHAS, s.alpha, step),
            4 => {
                let i = TARGET_SETS.iter().position(|t| *t == s.targets.as_slice()).unwrap_or(0) as i32;
                s.targets = TARGET_SETS[(i + step).rem_euclid(TARGET_SETS.len() as i32) as usize].to_vec();
            }
            5 => s.duration = cycle(&DURATIONS, s.duration, step),
            6 => s.lr = cycle(&LEARNING_RATES, s.lr, step),
            DATA_ROW => {
                s.dataset = match &s.dataset {
                    Dataset::Course(_) => Dataset::Jsonl(Default::default()),
                    Dataset::Jsonl(_) => Dataset::Course(lang),
                }
            }
            LAYER_ROW => {
                let layers = layers.unwrap_or(s.watch_layer + 1).max(1) as i32;
                s.watch_layer = (s.watch_layer as i32 + step).rem_euclid(layers) as usize;
            }
            DEVICE_ROW => {
                let usable: Vec<DeviceKind> =
                    self.devices.iter().filter(|(_, s)| *s == DeviceStatus::Ready).map(|(d, _)| *d).collect();
                if !usable.is_empty() {
                    s.device = cycle(&usable, s.device, step);
                }
            }
            _ => {}
        }
    }

    /// Checks the setup and starts the fight, or says what is missing.
    fn try_start(&mut self, lang: Lang, now: f64, next: &mut NextState<BossPhase>) {
        if !model_found(&self.setup.model) {
            self.notice = Some(Say::ModelMissing.tr(lang).to_string());
            self.cursor = MODEL_ROW;
            return;
        }
        if let Dataset::Jsonl(path) = &self.setup.dataset
            && !path.is_file()
        {
            self.notice = Some(format!("{}: {}", Say::Dataset.tr(lang), path.display()));
            self.cursor = DATA_ROW;
            return;
        }
        self.notice = None;
        self.start_fight(lang, now);
        next.set(BossPhase::Fight);
    }
}

/// Edits a string with this frame's typed text and Backspace.
fn edit(text: &mut String, typed: &str, backspace: bool) {
    if backspace {
        text.pop();
    }
    text.extend(typed.chars().filter(|c| !c.is_control()));
}

#[allow(clippy::too_many_arguments)]
pub(super) fn ui(
    mut screen: ScreenUi,
    mut cap: ResMut<crate::game::ui::ZoomCap>,
    mut stage: ResMut<BossStage>,
    mut typing: ResMut<TypingText>,
    mut views: ResMut<super::BossViews>,
    time: Res<Time>,
    mut next: ResMut<NextState<BossPhase>>,
    mut config_cache: Local<Option<(String, Option<crate::trainer::config::LlamaConfig>)>>,
) -> Result {
    let benchmarks = screen.data().save.boss.benchmarks.clone();
    let frame = screen.frame()?;
    let (lang, keys) = (frame.lang, &frame.keys);
    if views.art.is_none() {
        views.art = Some(BossArt::load(&frame.ctx));
    }
    let now = time.elapsed_secs_f64();
    // The model's shape, read once per model path, for the parameter count.
    if config_cache.as_ref().is_none_or(|(m, _)| *m != stage.setup.model) {
        let config = std::path::Path::new(&stage.setup.model)
            .exists()
            .then(|| load_config(std::path::Path::new(&stage.setup.model)).ok())
            .flatten();
        *config_cache = Some((stage.setup.model.clone(), config));
    }
    let config = config_cache.as_ref().and_then(|(_, c)| c.clone());
    let layers = config.as_ref().map(|c| c.num_hidden_layers);
    if stage.editing {
        let backspace = keys.pressed(Key::Backspace);
        let done = keys.any(&[Key::Enter, Key::Escape, Key::Tab]);
        match (stage.cursor, &mut stage.setup.dataset) {
            (MODEL_ROW, _) => edit(&mut stage.setup.model, &keys.text, backspace),
            (DATA_ROW, Dataset::Jsonl(path)) => {
                let mut s = path.display().to_string();
                edit(&mut s, &keys.text, backspace);
                *path = s.into();
            }
            _ => {}
        }
        stage.editing = !done;
    } else {
        let step = keys.vertical();
        stage.cursor = (stage.cursor as i32 + step).rem_euclid(ROWS as i32) as usize;
        if keys.any(&[Key::ArrowLeft, Key::A]) {
            stage.change(-1, lang, layers);
        }
        if keys.any(&[Key::ArrowRight, Key::D]) {
            stage.change(1, lang, layers);
        }
        if keys.pressed(Key::Enter) {
            let text_row = stage.cursor == MODEL_ROW
                || (stage.cursor == DATA_ROW && matches!(stage.setup.dataset, Dataset::Jsonl(_)));
            match text_row {
                true => stage.editing = true,
                false => stage.try_start(lang, now, &mut next),
            }
        }
    }
    typing.0 = stage.editing;

    // In front of a room (presenter zoom on a 720p projector) the panel is drawn smaller rather
    // than run into its footer.
    // Setup, fight and after are three pages of the stage, each fitted on its own.
    frame.show_fitted(&mut cap, 0, |ui| {
        ui.vertical_centered(|ui| {
            ui.label(theme::big(Say::Title.tr(lang), 40.0, theme::ACCENT));
            ui.label(RichText::new(Say::Subtitle.tr(lang)).color(theme::DIM).size(18.0));
        });
        ui.add_space(10.0);
        ui.columns(2, |cols| {
            rows(&mut cols[0], &mut stage, lang, now, &mut next);
            let art = views.art.as_ref().and_then(|a| a.as_ref().ok());
            teaser(&mut cols[1], art, &benchmarks, lang, now);
            preview(&mut cols[1], &stage, config.as_ref(), lang);
        });
        let overflow = crate::game::ui::overflow_below(ui, crate::game::ui::FOOTER_ROOM);
        let hint = if stage.editing { Say::EditHint } else { Say::SetupKeys };
        theme::footer(ui, hint.tr(lang));
        overflow
    });
    Ok(())
}

/// The setup rows: label, value, ◀ ▶ (mouse) — the highlighted one in the accent colour.
fn rows(ui: &mut egui::Ui, stage: &mut BossStage, lang: Lang, now: f64, next: &mut NextState<BossPhase>) {
    let s = &stage.setup;
    let device_line = |d: DeviceKind| {
        let name = format!("{d:?}").to_uppercase();
        match stage.devices.iter().find(|(k, _)| *k == d).map(|(_, s)| s) {
            Some(DeviceStatus::Ready) | None => name,
            Some(_) => format!("{name} ({})", Say::Unavailable.tr(lang)),
        }
    };
    let targets = s.targets.iter().map(|t| t.name().trim_end_matches("_proj")).collect::<Vec<_>>().join(",");
    let data = match &s.dataset {
        Dataset::Course(_) => Say::CourseData.tr(lang).to_string(),
        Dataset::Jsonl(p) => format!("{}: {}", Say::OwnData.tr(lang), p.display()),
    };
    let model = match s.model.is_empty() {
        true => "—".to_string(),
        false => s.model.rsplit(['/', '\\']).next().unwrap_or(&s.model).to_string(),
    };
    let values: [(Say, String); ROWS - 1] = [
        (Say::Model, model),
        (Say::Method, if s.method == Method::Lora { "LoRA".into() } else { "QLoRA (NF4 + DQ)".into() }),
        (Say::Rank, s.rank.to_string()),
        (Say::Alpha, format!("{} (α/r = {})", decimal(s.alpha, 4, lang), decimal(s.alpha / s.rank as f64, 4, lang))),
        (Say::Targets, targets),
        (Say::Length, duration_text(s.duration, lang)),
        (Say::LearningRate, format!("{:.0e}", s.lr)),
        (Say::Dataset, data),
        (Say::Device, device_line(s.device)),
        (Say::Watched, format!("{} · q_proj", s.watch_layer)),
    ];
    let mut clicked = None;
    for (i, (label, value)) in values.iter().enumerate() {
        let selected = i == stage.cursor;
        let color = if selected { theme::ACCENT } else { theme::INK };
        let editing = selected && stage.editing;
        let shown = if editing { format!("{value}▏") } else { value.clone() };
        ui.horizontal(|ui| {
            let marker = if selected { "▶" } else { " " };
            let r = ui.add(
                egui::Label::new(RichText::new(format!("{marker} {}", label.tr(lang))).color(color).size(20.0))
                    .sense(egui::Sense::click()),
            );
            if r.clicked() {
                clicked = Some(i);
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.label(RichText::new(&shown).color(if editing { theme::GOOD } else { color }).size(20.0));
            });
        });
    }
    ui.add_space(12.0);
    let fight = theme::menu_item(ui, Say::StartDefault.tr(lang), stage.cursor == FIGHT_ROW, true);
    if let Some(i) = clicked {
        stage.cursor = i;
    }
    if fight.clicked() {
        stage.try_start(lang, now, next);
    }
    if let Some(notice) = &stage.notice {
        ui.add_space(8.0);
        ui.label(RichText::new(notice).color(theme::BAD).size(18.0));
    }
    if stage.setup.model.is_empty() || !model_found(&stage.setup.model) {
        ui.label(RichText::new(Say::ModelMissing.tr(lang)).color(theme::BAD).size(16.0));
    }
}

/// What the choice trains: LoRA's parameters against the model's, from the maths module.
fn preview(ui: &mut egui::Ui, stage: &BossStage, config: Option<&crate::trainer::config::LlamaConfig>, lang: Lang) {
    theme::boxed(theme::GOOD).show(ui, |ui| {
        ui.label(theme::big(Say::Setup.tr(lang), 26.0, theme::GOOD));
        let s = &stage.setup;
        if let Some(c) = config {
            let shape = c.shape();
            let trainable = shape.lora_params(&s.targets, s.rank as u64);
            let total = shape.total_params() + trainable;
            let adapters = match lang {
                Lang::Es => "adaptadores, cada uno con r·(d_in + d_out) parámetros",
                Lang::En => "adapters, each with r·(d_in + d_out) parameters",
            };
            ui.label(
                RichText::new(format!(
                    "{} {} × {} = {} {adapters}",
                    c.num_hidden_layers,
                    match lang {
                        Lang::Es => "capas",
                        Lang::En => "layers",
                    },
                    s.targets.len(),
                    s.targets.len() * c.num_hidden_layers,
                ))
                .size(16.0)
                .color(theme::DIM),
            );
            ui.label(theme::big(
                &format!(
                    "{} / {} = {} %",
                    crate::game::ui::thousands(trainable, lang),
                    crate::game::ui::thousands(total, lang),
                    fixed(100.0 * trainable as f64 / total as f64, 2, lang)
                ),
                24.0,
                theme::ACCENT,
            ));
            let (q_out, q_in) = c.projection_shape(Target::Q);
            ui.label(RichText::new(format!("q_proj: A {}×{q_in}, B {q_out}×{}", s.rank, s.rank)).size(18.0));
        }
        ui.add_space(8.0);
        for (d, status) in &stage.devices {
            let why = match status {
                DeviceStatus::Ready => continue,
                DeviceStatus::NotBuilt if *d == DeviceKind::Metal => Say::NotBuiltMetal.tr(lang).to_string(),
                DeviceStatus::NotBuilt => Say::NotBuilt.tr(lang).to_string(),
                DeviceStatus::Missing(why) => why.clone(),
            };
            let name = format!("{d:?}").to_uppercase();
            ui.label(RichText::new(format!("{name}: {why}")).size(14.0).color(theme::DIM));
        }
    });
}

/// The boss waiting, and this machine's past fights: what the player is about to take on.
fn teaser(ui: &mut egui::Ui, art: Option<&BossArt>, benchmarks: &[BenchRow], lang: Lang, now: f64) {
    ui.horizontal(|ui| {
        if let Some(art) = art {
            ui.add(art.boss.image(boss_frame(1.0, None, None, now as f32), egui::Vec2::splat(160.0)));
        }
        ui.vertical(|ui| {
            ui.add_space(40.0);
            // A slow pulse: the giant is waiting.
            let glow = 0.6 + 0.4 * (now * 3.0).sin().abs() as f32;
            ui.label(theme::big(Say::Ready.tr(lang), 34.0, theme::ACCENT.gamma_multiply(glow)));
        });
    });
    if !benchmarks.is_empty() {
        ui.label(RichText::new(Say::PastFights.tr(lang)).color(theme::GOOD).size(16.0));
        super::bench_table(ui, benchmarks, lang);
    }
    ui.add_space(8.0);
}

/// "24 steps" / "2 epochs", in the language.
fn duration_text(duration: Duration, lang: Lang) -> String {
    match (duration, lang) {
        (Duration::Steps(n), Lang::Es) => format!("{n} pasos"),
        (Duration::Steps(n), Lang::En) => format!("{n} steps"),
        (Duration::Epochs(e), Lang::Es) => format!("{e} época{}", if e == 1.0 { "" } else { "s" }),
        (Duration::Epochs(e), Lang::En) => format!("{e} epoch{}", if e == 1.0 { "" } else { "s" }),
    }
}
