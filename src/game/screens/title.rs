//! Title: the game's name, START, settings, quit, and the save warning if there is one; left
//! alone, an attract loop (high scores, how LoRA works) plays for a while, then it rests.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Color32, Layout, Pos2, Rect, RichText, Stroke, Vec2};

use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bevy::winit::{EventLoopProxyWrapper, WinitUserEvent};

use super::{draw_while, with_menu};
use crate::content::Lang;
use crate::game::high_scores::HighScores;
use crate::game::i18n::Tr;
use crate::game::ui::{FOOTER_ROOM, MenuCursor, ScreenUi, ZoomCap, menu, overflow_below, theme, thousands};
use crate::game::{Course, GameCommand, Screen};

pub fn plugin(app: &mut App) {
    with_menu::<TitleMenu, _>(app, Screen::Title);
    app.add_systems(OnEnter(Screen::Title), |mut commands: Commands| {
        commands.spawn((Attract::default(), DespawnOnExit(Screen::Title)));
    })
    .add_systems(OnEnter(Screen::Title), start_attract_clock)
    .add_systems(OnExit(Screen::Title), stop_attract_clock);
    draw_while(app, Screen::Title, title_ui);
}

/// Seconds of no input on the title before the attract loop starts, per page, and its cycles:
/// it then rests on the title, so an idle game goes quiet again.
const ATTRACT_AFTER: f64 = 15.0;
const PAGE_SECONDS: f64 = 7.0;
const ATTRACT_CYCLES: usize = 2;
/// Frames per second while the attract loop plays (a retro pace, and cheap).
const ATTRACT_FPS: u64 = 10;

/// The title's attract loop, as arcade cabinets show when nobody plays: the high scores and
/// how LoRA works, in turn with the title.
#[derive(Component, Default, Debug)]
pub struct Attract {
    /// When the last key or mouse move came. Wall-clock time: bevy's clocks stand still while
    /// the game sleeps between inputs, which is exactly the time measured here.
    idle_since: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttractPage {
    HighScores,
    HowItWorks,
}

impl Attract {
    /// The attract page `idle` seconds after the last input, and the seconds into it; `None`
    /// shows the title (before the loop, between its pages, and once it has rested).
    pub fn page(idle: f64) -> Option<(AttractPage, f64)> {
        let into = idle - ATTRACT_AFTER;
        if into < 0.0 {
            return None;
        }
        let turn = (into / PAGE_SECONDS) as usize;
        let within = into - turn as f64 * PAGE_SECONDS;
        match (turn < 3 * ATTRACT_CYCLES, turn % 3) {
            (true, 0) => Some((AttractPage::HighScores, within)),
            (true, 1) => Some((AttractPage::HowItWorks, within)),
            _ => None,
        }
    }

    /// Whether the loop is still running (the title pages inside it included).
    pub fn running(idle: f64) -> bool {
        idle >= ATTRACT_AFTER && idle < ATTRACT_AFTER + 3.0 * ATTRACT_CYCLES as f64 * PAGE_SECONDS
    }
}

/// When the title needs its next frame without input, from now: at the attract loop's start,
/// at [`ATTRACT_FPS`] while it runs, and only on input once it has rested (`None`).
pub fn attract_wake(idle: f64) -> Option<Duration> {
    if idle < ATTRACT_AFTER {
        Some(Duration::from_secs_f64(ATTRACT_AFTER - idle + 0.02))
    } else if Attract::running(idle) {
        Some(Duration::from_millis(1000 / ATTRACT_FPS))
    } else {
        None
    }
}

/// Wakes the game for the attract loop's frames: the game waits for input and draws nothing
/// otherwise, so a small thread sends winit a wake-up when the title asked for one. Stopped
/// when the title closes.
#[derive(Resource)]
struct AttractClock {
    /// Milliseconds since the Unix epoch of the next wake-up (`u64::MAX`: none).
    next_wake: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn start_attract_clock(mut commands: Commands, proxy: Option<Res<EventLoopProxyWrapper>>) {
    let Some(proxy) = proxy else { return };
    let proxy = (**proxy).clone();
    let clock = AttractClock { next_wake: Arc::new(AtomicU64::new(u64::MAX)), stop: Arc::new(AtomicBool::new(false)) };
    let (next_wake, stop) = (clock.next_wake.clone(), clock.stop.clone());
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
            let due = next_wake.load(Ordering::Relaxed);
            if epoch_ms() >= due {
                next_wake.store(u64::MAX, Ordering::Relaxed);
                if proxy.send_event(WinitUserEvent::WakeUp).is_err() {
                    break;
                }
            }
        }
    });
    commands.insert_resource(clock);
}

fn stop_attract_clock(mut commands: Commands, clock: Option<Res<AttractClock>>) {
    if let Some(clock) = clock {
        clock.stop.store(true, Ordering::Relaxed);
        commands.remove_resource::<AttractClock>();
    }
}

/// The title's menu: START, settings, quit.
#[derive(Component, Default)]
pub struct TitleMenu;

fn title_ui(
    mut screen: ScreenUi,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<TitleMenu>>,
    mut attract: Single<&mut Attract>,
    course: Res<Course>,
    clock: Option<Res<AttractClock>>,
    mut cap: ResMut<ZoomCap>,
) -> Result {
    let mut frame = screen.frame()?;
    let lang = frame.lang;
    let idle_since = *attract.idle_since.get_or_insert_with(Instant::now);
    let input = !frame.keys.typed.is_empty() || frame.ctx.input(|i| i.pointer.is_moving() || i.pointer.any_down());
    if input {
        // A key during an attract page only brings the title back.
        if Attract::page(idle_since.elapsed().as_secs_f64()).is_some() {
            frame.keys = Default::default();
        }
        attract.idle_since = Some(Instant::now());
    }
    let idle = attract.idle_since.map_or(0.0, |t| t.elapsed().as_secs_f64());
    if let Some(clock) = clock {
        let next = attract_wake(idle).map_or(u64::MAX, |wait| epoch_ms() + wait.as_millis() as u64);
        clock.next_wake.store(next, Ordering::Relaxed);
    }
    // Each page is fitted to the window on its own (a projector's zoom cut the title's menu off).
    if let Some((page, t)) = Attract::page(idle) {
        frame.show_fitted(&mut cap, 1 + page as usize, |ui| {
            match page {
                AttractPage::HighScores => high_scores_page(ui, &course, &screen.data().save.high_scores, lang, t),
                AttractPage::HowItWorks => how_it_works_page(ui, lang, t),
            }
            overflow_below(ui, 0.0)
        });
        return Ok(());
    }
    let warning = screen.data().warning.as_deref();
    frame.show_fitted(&mut cap, 0, |ui| {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(24.0);
            ui.label(theme::big("LORA", 96.0, theme::ACCENT));
            // The deck's title is "LoRA y QLoRA"; the conjunction follows the language.
            let and = match lang {
                Lang::Es => "Y",
                Lang::En => "AND",
            };
            ui.label(theme::big(and, 40.0, theme::INK));
            ui.label(theme::big("QLORA", 96.0, theme::GOOD));
            ui.add_space(8.0);
            factorization_picture(ui);
            ui.add_space(16.0);
            let items = vec![
                (Tr::Start.tr(lang).to_owned(), true),
                (Tr::Settings.tr(lang).to_owned(), true),
                (Tr::Quit.tr(lang).to_owned(), true),
            ];
            ui.allocate_ui(Vec2::new(420.0, 200.0), |ui| {
                ui.with_layout(Layout::top_down(Align::Center), |ui| {
                    let command = match menu(ui, &frame.keys, &mut cursor, &items) {
                        Some(0) => Some(GameCommand::Start),
                        Some(1) => Some(GameCommand::Pause),
                        Some(2) => Some(GameCommand::Quit),
                        _ => None,
                    };
                    if let Some(command) = command {
                        commands.write(command);
                    }
                });
            });
            ui.add_space(8.0);
            ui.label(RichText::new(Tr::PressStart.tr(lang)).size(20.0).color(theme::DIM));
            if let Some(warning) = warning {
                ui.add_space(8.0);
                theme::boxed(theme::BAD).show(ui, |ui| {
                    ui.label(RichText::new(format!("⚠ {}", Tr::SaveWarning.tr(lang))).color(theme::BAD));
                    ui.label(RichText::new(warning).size(16.0));
                });
            }
        });
        let overflow = overflow_below(ui, FOOTER_ROOM);
        theme::footer(ui, Tr::ControlsGlobal.tr(lang));
        overflow
    });
    Ok(())
}

/// Attract page: every scored level's best three.
fn high_scores_page(ui: &mut egui::Ui, course: &Course, scores: &HighScores, lang: Lang, t: f64) {
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space(20.0);
        theme::title(ui, Tr::HighScores.tr(lang));
        ui.add_space(10.0);
        let scored = course.levels.iter().filter(|l| l.kind() != crate::content::LevelKind::Lessons);
        for level in scored {
            ui.add_space(6.0);
            ui.label(theme::big(level.title.get(lang), 26.0, super::map::kind_color(level.kind())));
            let table = scores.table(&level.id);
            let lines: Vec<String> = table
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, e)| {
                    format!("{}. {}  {}  {}", i + 1, e.initials, thousands(e.score.into(), lang), theme::stars(e.stars))
                })
                .collect();
            let text = if lines.is_empty() { "---".to_owned() } else { lines.join("      ") };
            ui.label(theme::big(&text, 24.0, if lines.is_empty() { theme::DIM } else { theme::INK }));
        }
        if scores.tables.is_empty() {
            ui.add_space(12.0);
            ui.label(theme::big(Tr::NoHighScores.tr(lang), 22.0, theme::DIM));
        }
        press_any_key(ui, lang, t);
    });
}

/// Attract page: ΔW = B·A built cell by cell from one column of B and one row of A.
fn how_it_works_page(ui: &mut egui::Ui, lang: Lang, t: f64) {
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space(40.0);
        ui.label(theme::big(Tr::AttractHow.tr(lang), 30.0, theme::ACCENT));
        ui.add_space(24.0);
        // The 36 cells of ΔW light up over the first five seconds of the page.
        let lit = ((t / 5.0) * 36.0).min(36.0) as usize;
        factorization_blocks(ui, 22.0, lit);
        ui.add_space(24.0);
        ui.label(theme::big(Tr::AttractHowDetail.tr(lang), 24.0, theme::INK));
        press_any_key(ui, lang, t);
    });
}

/// "PRESS ANY KEY", blinking twice a second.
fn press_any_key(ui: &mut egui::Ui, lang: Lang, t: f64) {
    ui.add_space(30.0);
    let color = if ((t * 2.0) as u64).is_multiple_of(2) { theme::ACCENT } else { theme::PANEL };
    ui.label(theme::big(Tr::AttractPress.tr(lang), 28.0, color));
}

/// ΔW = B × A drawn as blocks: a tall thin B, a wide flat A, a square product.
fn factorization_picture(ui: &mut egui::Ui) {
    factorization_blocks(ui, 12.0, 36);
}

/// The factorization picture at `cell` points a block, with the first `lit` cells of ΔW in
/// colour (the rest dim).
fn factorization_blocks(ui: &mut egui::Ui, cell: f32, lit: usize) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(30.0 * cell, 6.0 * cell), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let origin = rect.min;
    let block = |col: f32, row: f32, color: Color32| {
        let min = Pos2::new(origin.x + col * cell, origin.y + row * cell);
        painter.rect_filled(Rect::from_min_size(min, Vec2::splat(cell - 2.0)), 0.0, color);
    };
    // ΔW: 6×6
    for r in 0..6 {
        for c in 0..6 {
            let shade = match () {
                _ if r * 6 + c >= lit => theme::PANEL,
                _ if (r + c) % 2 == 0 => theme::ACCENT,
                _ => Color32::from_rgb(200, 160, 40),
            };
            block(c as f32, r as f32, shade);
        }
    }
    let sign = |col: f32, text: &str| {
        painter.text(
            Pos2::new(origin.x + col * cell, origin.y + 3.0 * cell),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(3.0 * cell),
            theme::INK,
        );
    };
    sign(7.5, "=");
    // B: 6×1
    for r in 0..6 {
        block(9.0, r as f32, theme::GOOD);
    }
    sign(11.5, "×");
    // A: 1×6
    for c in 0..6 {
        block(13.0 + c as f32, 2.5, theme::HEART);
    }
    painter.rect_stroke(rect.shrink(1.0), 0.0, Stroke::NONE, egui::StrokeKind::Inside);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attract_loop_starts_when_idle_turns_its_pages_and_rests() {
        assert_eq!(Attract::page(0.0), None);
        assert_eq!(Attract::page(ATTRACT_AFTER - 0.1), None);
        assert!(!Attract::running(ATTRACT_AFTER - 0.1));
        assert_eq!(Attract::page(ATTRACT_AFTER + 1.0).map(|p| p.0), Some(AttractPage::HighScores));
        assert_eq!(Attract::page(ATTRACT_AFTER + PAGE_SECONDS + 1.0).map(|p| p.0), Some(AttractPage::HowItWorks));
        assert_eq!(Attract::page(ATTRACT_AFTER + 2.0 * PAGE_SECONDS + 1.0), None, "the title between");
        assert!(Attract::running(ATTRACT_AFTER + 2.0 * PAGE_SECONDS + 1.0));
        let second = ATTRACT_AFTER + 3.0 * PAGE_SECONDS + 0.5;
        assert_eq!(Attract::page(second).map(|p| p.0), Some(AttractPage::HighScores), "a second cycle");
        let done = ATTRACT_AFTER + 3.0 * ATTRACT_CYCLES as f64 * PAGE_SECONDS;
        assert_eq!(Attract::page(done + 1.0), None);
        assert!(!Attract::running(done + 1.0), "then it rests: no more frames");
        assert!(!Attract::running(done + 3600.0));
        // Woken for the loop's start, then at its pace, then only by input.
        assert!(attract_wake(5.0).is_some_and(|w| (w.as_secs_f64() - (ATTRACT_AFTER - 5.0)).abs() < 0.1));
        assert_eq!(attract_wake(ATTRACT_AFTER + 1.0), Some(Duration::from_millis(1000 / ATTRACT_FPS)));
        assert_eq!(attract_wake(done + 1.0), None);
    }
}
