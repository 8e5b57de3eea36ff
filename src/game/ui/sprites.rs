//! The boss stage's pixel art (assets/boss, drawn by scripts/make_boss_art.py): PNG sprite sheets
//! decoded once into egui textures, and frames picked by name from `sheet.json`.

use std::collections::HashMap;

use bevy_egui::egui::{self, ColorImage, Rect, TextureHandle, TextureOptions, Vec2, pos2};

/// One sheet: a texture and its frames as texture coordinates.
pub struct SpriteSheet {
    texture: TextureHandle,
    frames: HashMap<String, Rect>,
    /// One frame's size in texels.
    pub frame_size: Vec2,
}

/// The decoded RGBA pixels of a PNG (palette and transparency expanded).
pub fn decode_png(bytes: &[u8]) -> Result<ColorImage, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("PNG too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let (w, h) = (info.width as usize, info.height as usize);
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buf[..w * h * 4].to_vec(),
        png::ColorType::GrayscaleAlpha => buf[..w * h * 2].chunks(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
        other => return Err(format!("unexpected PNG colour type {other:?} after expansion")),
    };
    Ok(ColorImage::from_rgba_unmultiplied([w, h], &rgba))
}

impl SpriteSheet {
    /// Loads `png` with the frames `(name, x, y, w, h)` in texels.
    pub fn load(
        ctx: &egui::Context,
        name: &str,
        png: &[u8],
        frames: impl IntoIterator<Item = (String, [f32; 4])>,
        frame_size: Vec2,
    ) -> Result<SpriteSheet, String> {
        let image = decode_png(png)?;
        let (w, h) = (image.size[0] as f32, image.size[1] as f32);
        let frames = frames
            .into_iter()
            .map(|(n, [x, y, fw, fh])| (n, Rect::from_min_max(pos2(x / w, y / h), pos2((x + fw) / w, (y + fh) / h))))
            .collect();
        let texture = ctx.load_texture(name, image, TextureOptions::NEAREST);
        Ok(SpriteSheet { texture, frames, frame_size })
    }

    /// Frame `name` scaled to `size` (an empty image for an unknown name).
    pub fn image(&self, name: &str, size: Vec2) -> egui::Image<'static> {
        let uv = self.frames.get(name).copied().unwrap_or(Rect::NOTHING);
        egui::Image::new((self.texture.id(), size)).uv(uv)
    }
}

/// The boss, the player's ship and the gradient shot.
pub struct BossArt {
    pub boss: SpriteSheet,
    pub player: SpriteSheet,
    pub shot: SpriteSheet,
}

impl BossArt {
    pub fn load(ctx: &egui::Context) -> Result<BossArt, String> {
        let sheet: serde_json::Value =
            serde_json::from_str(include_str!("../../../assets/boss/sheet.json")).map_err(|e| e.to_string())?;
        let frames_of = |v: &serde_json::Value| -> Vec<(String, [f32; 4])> {
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(n, f)| {
                            let at = |k: &str| f[k].as_f64().unwrap_or(0.0) as f32;
                            (n.clone(), [at("x"), at("y"), at("w"), at("h")])
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let size = |v: &serde_json::Value| {
            Vec2::new(v["w"].as_f64().unwrap_or(1.0) as f32, v["h"].as_f64().unwrap_or(1.0) as f32)
        };
        let boss_png = include_bytes!("../../../assets/boss/boss.png");
        let player_png = include_bytes!("../../../assets/boss/player.png");
        let shot_png = include_bytes!("../../../assets/boss/shot.png");
        let shot_size = size(&sheet["shot"]["frame_size"]);
        Ok(BossArt {
            boss: SpriteSheet::load(ctx, "boss", boss_png, frames_of(&sheet["frames"]), size(&sheet["frame_size"]))?,
            player: SpriteSheet::load(
                ctx,
                "boss-player",
                player_png,
                frames_of(&sheet["player"]["frames"]),
                size(&sheet["player"]["frame_size"]),
            )?,
            shot: SpriteSheet::load(
                ctx,
                "boss-shot",
                shot_png,
                [("shot".to_string(), [0.0, 0.0, shot_size.x, shot_size.y])],
                shot_size,
            )?,
        })
    }
}

/// The boss's frame at `t` seconds into its current state: flashing after a hit, cracked as its
/// health falls, shattering once defeated (`since` = seconds since that happened).
pub fn boss_frame(health: f32, defeated_since: Option<f32>, hit_since: Option<f32>, t: f32) -> &'static str {
    if let Some(since) = defeated_since {
        return match since {
            s if s < 0.4 => "defeated_0",
            s if s < 0.55 => "defeated_1",
            s if s < 0.8 => "defeated_2",
            _ => "defeated_3",
        };
    }
    if let Some(since) = hit_since.filter(|s| *s < 0.12) {
        return if since < 0.06 { "hit_0" } else { "hit_1" };
    }
    match health {
        h if h < 0.1 => "hurt_10",
        h if h < 0.33 => "hurt_33",
        h if h < 0.66 => "hurt_66",
        _ => ["idle_0", "idle_1", "idle_2", "idle_3"][((t / 0.23) as usize) % 4],
    }
}
