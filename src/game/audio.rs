//! Sound effects synthesised at start-up: square-wave beeps written as 16-bit WAV bytes and
//! handed to bevy as `AudioSource`s. No sound files to ship; muted by the settings.

use std::sync::Arc;

use bevy::audio::{AudioPlayer, AudioSource, PlaybackSettings, Volume};
use bevy::prelude::*;

use super::GameData;

const SAMPLE_RATE: u32 = 22_050;

/// The effects the game plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sfx {
    Move,
    Select,
    Correct,
    Wrong,
    Win,
    GameOver,
    /// The boss appears (the model is loaded).
    BossRoar,
    /// A training step lands.
    BossHit,
    /// The boss is defeated.
    BossVictory,
    /// The fight ended without a win.
    BossDefeat,
}

impl Sfx {
    const ALL: [Sfx; 10] = [
        Sfx::Move,
        Sfx::Select,
        Sfx::Correct,
        Sfx::Wrong,
        Sfx::Win,
        Sfx::GameOver,
        Sfx::BossRoar,
        Sfx::BossHit,
        Sfx::BossVictory,
        Sfx::BossDefeat,
    ];

    /// The WAV bytes: the boss stage's recorded effects (assets/boss, made by
    /// scripts/make_boss_sounds.py), the others synthesised from [`Sfx::notes`].
    fn wav(self) -> Vec<u8> {
        match self {
            Sfx::BossRoar => include_bytes!("../../assets/boss/roar.wav").to_vec(),
            Sfx::BossHit => include_bytes!("../../assets/boss/hit.wav").to_vec(),
            Sfx::BossVictory => include_bytes!("../../assets/boss/victory.wav").to_vec(),
            Sfx::BossDefeat => include_bytes!("../../assets/boss/defeat.wav").to_vec(),
            _ => square_wave_wav(self.notes()),
        }
    }

    /// (frequency Hz, milliseconds) notes.
    fn notes(self) -> &'static [(f32, u32)] {
        match self {
            Sfx::Move => &[(880.0, 30)],
            Sfx::Select => &[(660.0, 40), (990.0, 60)],
            Sfx::Correct => &[(784.0, 70), (1047.0, 70), (1319.0, 110)],
            Sfx::Wrong => &[(196.0, 120), (147.0, 180)],
            Sfx::Win => &[(523.0, 90), (659.0, 90), (784.0, 90), (1047.0, 220)],
            Sfx::GameOver => &[(392.0, 160), (330.0, 160), (262.0, 160), (196.0, 320)],
            Sfx::BossRoar | Sfx::BossHit | Sfx::BossVictory | Sfx::BossDefeat => &[],
        }
    }
}

/// Ask for a sound effect; played unless sound is off.
#[derive(Message, Clone, Copy, Debug)]
pub struct PlaySfx(pub Sfx);

#[derive(Resource)]
struct SfxHandles(Vec<(Sfx, Handle<AudioSource>)>);

pub struct AudioPlugin;

impl Plugin for AudioPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<PlaySfx>().add_systems(Startup, make_sounds).add_systems(Update, play_sounds);
    }
}

fn make_sounds(mut commands: Commands, mut sources: ResMut<Assets<AudioSource>>) {
    let handles = Sfx::ALL.iter().map(|sfx| (*sfx, sources.add(AudioSource { bytes: Arc::from(sfx.wav()) }))).collect();
    commands.insert_resource(SfxHandles(handles));
}

fn play_sounds(
    mut commands: Commands,
    mut requests: MessageReader<PlaySfx>,
    handles: Option<Res<SfxHandles>>,
    data: Res<GameData>,
) {
    let Some(handles) = handles else { return };
    for PlaySfx(sfx) in requests.read() {
        if !data.save.settings.sound {
            continue;
        }
        if let Some((_, handle)) = handles.0.iter().find(|(s, _)| s == sfx) {
            commands.spawn((
                AudioPlayer(handle.clone()),
                PlaybackSettings { volume: Volume::Linear(0.35), ..PlaybackSettings::DESPAWN },
            ));
        }
    }
}

/// A mono 16-bit PCM WAV of square-wave notes with a short fade at each end (no clicks).
pub fn square_wave_wav(notes: &[(f32, u32)]) -> Vec<u8> {
    let mut samples: Vec<i16> = Vec::new();
    for &(freq, ms) in notes {
        let n = (SAMPLE_RATE * ms / 1000) as usize;
        let fade = (SAMPLE_RATE as usize / 200).min(n / 2).max(1);
        for i in 0..n {
            let phase = (i as f32 * freq / SAMPLE_RATE as f32).fract();
            let square = if phase < 0.5 { 1.0 } else { -1.0 };
            let envelope = (i.min(n - 1 - i) as f32 / fade as f32).min(1.0);
            samples.push((square * envelope * 0.5 * f32::from(i16::MAX)) as i16);
        }
    }
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    wav.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}
