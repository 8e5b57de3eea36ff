//! The level map: every level with its stars, locks and what opens them, and the boss door.
//!
//! Input (`MapInput`), the cursor's move, and the drawing (which reports the card clicked)
//! are apart; the system ties them together and sends the command.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, RichText, Sense, Vec2};

use super::{draw_while, with_menu};
use crate::content::{Lang, Level, LevelKind};
use crate::game::i18n::Tr;
use crate::game::progress::{MapEntry, Progress, Settings};
use crate::game::ui::{Keys, MenuCursor, ScreenUi, ZoomCap, overflow_below, theme, thousands};
use crate::game::{Course, GameCommand, NewlyUnlocked, Screen};

pub fn plugin(app: &mut App) {
    // Announced once: leaving the map forgets what the last level opened.
    app.add_systems(OnExit(Screen::Map), |mut unlocked: ResMut<NewlyUnlocked>| *unlocked = NewlyUnlocked::default());
    with_menu::<LevelMap, _>(app, Screen::Map);
    draw_while(app, Screen::Map, map_ui);
}

/// The map's state: its [`MenuCursor`] is the selected card (the boss door is the last).
#[derive(Component, Default)]
pub struct LevelMap;

const COLUMNS: usize = 3;

pub fn kind_name(kind: LevelKind, lang: Lang) -> String {
    kind.title().get(lang).to_uppercase()
}

pub fn kind_color(kind: LevelKind) -> egui::Color32 {
    match kind {
        LevelKind::Lessons => theme::INK,
        LevelKind::Quiz => theme::ACCENT,
        LevelKind::Matrix => theme::GOOD,
        LevelKind::Nf4 => theme::HEART,
    }
}

/// What the keys ask of the map this frame.
struct MapInput {
    /// Cards to move by: ±1 across, ±[`COLUMNS`] down and up.
    step: i32,
    open: bool,
    back: bool,
}

impl MapInput {
    fn read(keys: &Keys) -> MapInput {
        let step = if keys.any(&[Key::ArrowRight, Key::D]) {
            1
        } else if keys.any(&[Key::ArrowLeft, Key::A]) {
            -1
        } else if keys.any(&[Key::ArrowDown, Key::S]) {
            COLUMNS as i32
        } else if keys.any(&[Key::ArrowUp, Key::W]) {
            -(COLUMNS as i32)
        } else {
            0
        };
        MapInput { step, open: keys.confirm(), back: keys.pressed(Key::Backspace) }
    }
}

/// "» OPEN NOW: …" for what the last finished level unlocked (`None` when nothing).
pub fn unlocked_line(course: &Course, unlocked: &NewlyUnlocked, lang: Lang) -> Option<String> {
    let mut names: Vec<String> = unlocked
        .levels
        .iter()
        .filter_map(|&i| course.levels.get(i))
        .map(|l| format!("{} · {}", kind_name(l.kind(), lang), l.title.get(lang)))
        .collect();
    if unlocked.boss {
        names.push(Tr::BossDoorOpen.tr(lang).to_owned());
    }
    (!names.is_empty()).then(|| format!("» {}: {}", Tr::NowOpen.tr(lang), names.join("  ·  ")))
}

/// Moves the cursor by `step` cards, stopping at the first and the last.
fn moved(cursor: usize, step: i32, slots: usize) -> usize {
    (cursor as i32 + step).clamp(0, slots as i32 - 1) as usize
}

/// Everything a card needs to be drawn.
struct MapView<'a> {
    course: &'a Course,
    map: Vec<MapEntry>,
    progress: &'a Progress,
    settings: &'a Settings,
    lang: Lang,
    /// What the level just finished opened, said above the cards.
    announce: Option<String>,
}

fn map_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    unlocked: Res<NewlyUnlocked>,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<LevelMap>>,
    mut cap: ResMut<ZoomCap>,
) -> Result {
    let frame = screen.frame()?;
    let data = screen.data();
    let view = MapView {
        course: &course,
        map: course.map(),
        progress: &data.save.progress,
        settings: &data.save.settings,
        lang: frame.lang,
        announce: unlocked_line(&course, &unlocked, frame.lang),
    };
    let slots = view.map.len() + 1;

    let input = MapInput::read(&frame.keys);
    cursor.0 = moved(cursor.0, input.step, slots);
    let mut open = input.open.then_some(cursor.0);
    if input.back {
        commands.write(GameCommand::Goto(Screen::Title));
    }

    // Cards that would need scrolling at the player's zoom (a projector's) are drawn smaller.
    frame.show_fitted(&mut cap, 0, |ui| {
        let drawn = draw_map(ui, &view, cursor.0, input.step != 0);
        if let Some(clicked) = drawn.clicked {
            cursor.0 = clicked;
            open = Some(clicked);
        }
        drawn.overflow
    });

    if let Some(slot) = open {
        commands.write(if slot < view.map.len() { GameCommand::OpenLevel(slot) } else { GameCommand::OpenBoss });
    }
    Ok(())
}

/// What drawing the map found: the card clicked, and how much taller than the window the map
/// would be with every card shown (≤ 1 when nothing needs scrolling).
struct MapDrawn {
    clicked: Option<usize>,
    overflow: f32,
}

/// Room kept under the road for the footer (two lines on a narrow window).
const UNDER_ROAD: f32 = 58.0;

/// The header, a grid of cards and the footer.
fn draw_map(ui: &mut egui::Ui, view: &MapView, selected: usize, moved: bool) -> MapDrawn {
    let lang = view.lang;
    ui.horizontal(|ui| {
        theme::title(ui, Tr::LevelMap.tr(lang));
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(theme::big(&format!("{} ★", view.progress.total_stars()), 28.0, theme::ACCENT));
            ui.add_space(16.0);
            ui.label(theme::big(
                &format!("{} {}", Tr::TotalScore.tr(lang), thousands(view.progress.total_score(), lang)),
                28.0,
                theme::INK,
            ));
        });
    });
    if let Some(line) = &view.announce {
        ui.label(theme::big(line, 22.0, theme::GOOD));
    }
    ui.add_space(6.0);
    let card = Vec2::new((ui.available_width() - 24.0) / COLUMNS as f32, 104.0);
    let mut clicked = None;
    // The road takes what the cards leave (the cards scroll only when even a short road leaves
    // them too little: an instructor's long course).
    let cards =
        egui::ScrollArea::vertical().max_height(ui.available_height() - UNDER_ROAD - PATH_MIN_HEIGHT).show(ui, |ui| {
            egui::Grid::new("levels").spacing(Vec2::new(12.0, 10.0)).show(ui, |ui| {
                for slot in 0..=view.map.len() {
                    let is_selected = slot == selected;
                    let response = match view.course.levels.get(slot) {
                        Some(level) => level_card(ui, view, slot, level, card, is_selected),
                        None => boss_card(ui, view, card, is_selected),
                    };
                    if is_selected && moved {
                        response.scroll_to_me(Some(Align::Center));
                    }
                    if response.clicked() {
                        clicked = Some(slot);
                    }
                    if (slot + 1) % COLUMNS == 0 {
                        ui.end_row();
                    }
                }
            });
        });
    let hidden = (cards.content_size.y - cards.inner_rect.height()).max(0.0);
    ui.add_space(8.0);
    let path_height = (ui.available_height() - UNDER_ROAD).clamp(PATH_MIN_HEIGHT, PATH_HEIGHT);
    if let Some(slot) = draw_path(ui, view, selected, path_height) {
        clicked = Some(slot);
    }
    let overflow = overflow_below(ui, UNDER_ROAD + hidden);
    theme::footer(ui, &format!("{}   ·   {}", Tr::ControlsMenus.tr(lang), Tr::ControlsGlobal.tr(lang)));
    MapDrawn { clicked, overflow }
}

/// Height of the path strip under the cards: at most, and at least.
const PATH_HEIGHT: f32 = 170.0;
const PATH_MIN_HEIGHT: f32 = 80.0;

/// Where each stop of the path sits in `rect`: left to right, rising and falling like a road
/// on an arcade's world map, the boss door last.
pub fn path_stops(rect: egui::Rect, stops: usize) -> Vec<egui::Pos2> {
    let step = rect.width() / stops.max(1) as f32;
    (0..stops)
        .map(|i| {
            let wave = if i % 2 == 0 { -1.0 } else { 1.0 };
            egui::pos2(rect.left() + step * (i as f32 + 0.5), rect.center().y + wave * rect.height() * 0.18)
        })
        .collect()
}

/// The levels as stops on a dotted road to the boss door: passed stops lit with their stars,
/// locked ones padlocked, the selected one marked. Returns the stop clicked.
fn draw_path(ui: &mut egui::Ui, view: &MapView, selected: usize, height: f32) -> Option<usize> {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    let stops = path_stops(rect.shrink2(Vec2::new(0.0, 24.0)), view.map.len() + 1);
    let node = (rect.width() / stops.len() as f32 * 0.42).min(44.0).min(height * 0.3);
    let progress = view.progress;
    let passed = |slot: usize| view.map.get(slot).is_some_and(|e| progress.passed(&e.id));
    // The road: dots, lit up to the last stop passed.
    for (i, pair) in stops.windows(2).enumerate() {
        let (from, to) = (pair[0], pair[1]);
        let dots = ((to - from).length() / 14.0) as usize;
        let color = if passed(i) { theme::ACCENT } else { theme::DIM };
        for d in 1..dots {
            let at = from + (to - from) * (d as f32 / dots as f32);
            painter.rect_filled(egui::Rect::from_center_size(at, Vec2::splat(5.0)), 0.0, color);
        }
    }
    let mut clicked = None;
    for (slot, &at) in stops.iter().enumerate() {
        let boss = slot == view.map.len();
        let size = if boss { node * 1.4 } else { node };
        let square = egui::Rect::from_center_size(at, Vec2::splat(size));
        let open = if boss {
            progress.boss_unlocked(&view.map, view.settings)
        } else {
            progress.is_unlocked(&view.map, slot, view.settings)
        };
        let color = match view.map.get(slot) {
            _ if !open => theme::DIM,
            Some(entry) => kind_color(entry.kind),
            None => theme::ACCENT,
        };
        painter.rect_filled(square, 0.0, if open { theme::PANEL } else { theme::PANEL_DARK });
        painter.rect_stroke(square, 0.0, egui::Stroke::new(theme::BORDER, color), egui::StrokeKind::Inside);
        let glyph = match () {
            _ if !open => "🔒".to_owned(),
            _ if boss => "☠".to_owned(),
            _ => (slot + 1).to_string(),
        };
        let font = egui::FontId::proportional(size * 0.5);
        painter.text(square.center(), egui::Align2::CENTER_CENTER, glyph, font, color);
        if passed(slot) {
            let stars = theme::stars(progress.stars(&view.map[slot].id));
            let below = egui::pos2(at.x, square.bottom() + 12.0);
            painter.text(below, egui::Align2::CENTER_CENTER, stars, egui::FontId::proportional(16.0), theme::ACCENT);
        }
        if slot == selected {
            // The player's marker above the selected stop.
            let tip = egui::pos2(at.x, square.top() - 6.0);
            painter.text(tip, egui::Align2::CENTER_BOTTOM, "▼", egui::FontId::proportional(22.0), theme::ACCENT);
            painter.rect_stroke(
                square.expand(5.0),
                0.0,
                egui::Stroke::new(2.0, theme::ACCENT),
                egui::StrokeKind::Outside,
            );
        }
        let id = ui.id().with(("path-stop", slot));
        if ui.interact(square, id, Sense::click()).clicked() {
            clicked = Some(slot);
        }
    }
    clicked
}

/// A level: its kind, stars or lock, title, and its summary or what opens it.
fn level_card(
    ui: &mut egui::Ui,
    view: &MapView,
    slot: usize,
    level: &Level,
    size: Vec2,
    selected: bool,
) -> egui::Response {
    let (lang, progress) = (view.lang, view.progress);
    let unlocked = progress.is_unlocked(&view.map, slot, view.settings);
    let color = if unlocked { kind_color(level.kind()) } else { theme::DIM };
    card_frame(ui, size, selected, color, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new(kind_name(level.kind(), lang)).size(16.0).color(color));
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if unlocked {
                    ui.label(RichText::new(theme::stars(progress.stars(&level.id))).size(20.0).color(theme::ACCENT));
                } else {
                    ui.label(RichText::new(format!("🔒 {}", Tr::Locked.tr(lang))).size(16.0).color(theme::DIM));
                }
            });
        });
        let ink = if unlocked { theme::INK } else { theme::DIM };
        ui.label(RichText::new(level.title.get(lang)).size(22.0).color(ink));
        if !unlocked && let Some(req) = progress.unlock_requirement(&view.map, slot) {
            let title = view.course.levels.iter().find(|l| l.id == req.id).map_or("?", |l| l.title.get(lang));
            ui.label(RichText::new(format!("{} {title}", Tr::LockedNeeds.tr(lang))).size(15.0).color(theme::DIM));
        } else {
            ui.label(RichText::new(level.summary.get(lang)).size(15.0).color(theme::DIM));
        }
    })
}

/// The boss door: open, or which kinds of level still need a pass.
fn boss_card(ui: &mut egui::Ui, view: &MapView, size: Vec2, selected: bool) -> egui::Response {
    let lang = view.lang;
    let open = view.progress.boss_unlocked(&view.map, view.settings);
    let color = if open { theme::ACCENT } else { theme::BAD };
    card_frame(ui, size, selected, color, |ui| {
        let icon = if open { "🔓" } else { "🔒" };
        ui.label(RichText::new(format!("{icon} {}", Tr::BossDoor.tr(lang))).size(22.0).color(color));
        if open {
            ui.label(RichText::new(Tr::BossOpen.tr(lang)).size(16.0));
        } else {
            ui.label(RichText::new(Tr::BossLocked.tr(lang)).size(15.0).color(theme::DIM));
            let missing: Vec<String> =
                view.progress.boss_missing(&view.map).into_iter().map(|k| kind_name(k, lang)).collect();
            ui.label(RichText::new(format!("✖ {}", missing.join(" · "))).size(15.0).color(theme::BAD));
        }
    })
}

fn card_frame(
    ui: &mut egui::Ui,
    size: Vec2,
    selected: bool,
    color: egui::Color32,
    add: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    let stroke = if selected { egui::Stroke::new(theme::BORDER, theme::ACCENT) } else { egui::Stroke::new(2.0, color) };
    let inner = egui::Frame::new()
        .fill(if selected { theme::PANEL } else { theme::PANEL_DARK })
        .stroke(stroke)
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            // The frame adds its margin and its stroke round the content: take both off, so a
            // card is `size` whether it is selected (thicker stroke) or not, and a row of them
            // is exactly as wide as the room.
            let content = size - Vec2::splat(20.0 + 2.0 * stroke.width);
            ui.set_min_size(content);
            ui.set_max_width(content.x);
            ui.vertical(add);
        });
    ui.interact(inner.response.rect, inner.response.id.with("card"), Sense::click())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_runs_left_to_right_inside_its_strip() {
        let rect = egui::Rect::from_min_size(egui::pos2(36.0, 400.0), Vec2::new(1208.0, 150.0));
        let stops = path_stops(rect, 6);
        assert_eq!(stops.len(), 6);
        assert!(stops.windows(2).all(|w| w[1].x > w[0].x), "{stops:?}");
        assert!(stops.iter().all(|p| rect.contains(*p)));
        assert!(stops.windows(2).all(|w| w[0].y != w[1].y), "it rises and falls");
    }

    /// The map part-way along (two levels passed, what they opened announced), fresh, and with
    /// every level passed and the boss door open: every card shown without scrolling at every
    /// size and zoom (shrunk as the game does where needed), and its Spanish free of English
    /// words and decimal points.
    #[test]
    fn the_map_fits_and_reads_in_spanish() {
        use crate::game::ui::layout_check::check_every_size;
        let course = Course::new(crate::content::builtin().levels);
        let passed = |count: usize| {
            let mut progress = Progress::default();
            for level in course.levels.iter().take(count) {
                let stars = if level.kind() == crate::content::LevelKind::Lessons { 0 } else { 2 };
                let record = crate::game::progress::LevelRecord { stars, best_score: 12_345 };
                progress.levels.insert(level.id.clone(), record);
            }
            progress
        };
        let mut failures = Vec::new();
        for (name, done, unlocked) in [
            ("fresh", 0, NewlyUnlocked::default()),
            ("part-way", 2, NewlyUnlocked { levels: vec![2, 3], boss: false }),
            ("all", course.levels.len(), NewlyUnlocked { levels: vec![], boss: true }),
        ] {
            let progress = passed(done);
            failures.extend(check_every_size(&format!("map {name}"), |ui, lang, presenter| {
                let settings = Settings { presenter, ..Settings::default() };
                let view = MapView {
                    course: &course,
                    map: course.map(),
                    progress: &progress,
                    settings: &settings,
                    lang,
                    announce: unlocked_line(&course, &unlocked, lang),
                };
                draw_map(ui, &view, done.min(view.map.len()), false).overflow
            }));
        }
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
