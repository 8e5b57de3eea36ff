#!/usr/bin/env python3
"""Make the boss stage's retro sound effects: square, triangle and noise voices with envelopes.

Usage (Python 3.8+, standard library only):
    python3 scripts/make_boss_sounds.py          # writes assets/boss/{hit,roar,victory,defeat}.wav

16-bit mono PCM at 22050 Hz. Deterministic: no randomness except a fixed 15-bit LFSR (the
NES noise channel's), so every run writes the same bytes.

- hit.wav      ~0.2 s  a gradient shot hits: a falling square zap, a burst of noise, an icy "tink"
- roar.wav     ~1.2 s  the Frozen Giant appears: a low growling square with vibrato over rumbling noise
- victory.wav  ~1.5 s  the loss reached its target: a rising C-major arpeggio and a held, shimmering C
- defeat.wav   ~0.9 s  the run failed or was cancelled: four falling notes and a sagging "wah"
"""

import argparse
import math
import struct
import wave
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "boss"
RATE = 22050


def note(name):
    """'C5', 'F#4' -> Hz (A4 = 440)."""
    names = {"C": -9, "C#": -8, "D": -7, "D#": -6, "E": -5, "F": -4, "F#": -3, "G": -2, "G#": -1, "A": 0, "A#": 1, "B": 2}
    pitch, octave = name[:-1], int(name[-1])
    return 440.0 * 2 ** ((names[pitch] + 12 * (octave - 4)) / 12)


def silence(seconds):
    return [0.0] * int(round(seconds * RATE))


def mix_into(buf, part, at):
    """Add `part` into `buf` starting at `at` seconds, growing `buf` if needed."""
    start = int(round(at * RATE))
    if len(buf) < start + len(part):
        buf.extend([0.0] * (start + len(part) - len(buf)))
    for i, v in enumerate(part):
        buf[start + i] += v


def envelope(n, attack, decay_to_end=True, hold=0.0, curve=2.0):
    """Linear attack (s), optional hold (s), then a power-curve decay to 0 at the end."""
    a = max(1, int(attack * RATE))
    h = int(hold * RATE)
    out = []
    for i in range(n):
        if i < a:
            out.append(i / a)
        elif i < a + h or not decay_to_end:
            out.append(1.0)
        else:
            rest = max(1, n - a - h)
            out.append((1.0 - (i - a - h) / rest) ** curve)
    return out


def square(freq, seconds, duty=0.5, vibrato=0.0, vib_rate=6.0):
    """Square wave; freq may be a function of time t in seconds (for slides)."""
    n = int(round(seconds * RATE))
    phase, out = 0.0, []
    for i in range(n):
        t = i / RATE
        f = freq(t) if callable(freq) else freq
        f *= 1.0 + vibrato * math.sin(2 * math.pi * vib_rate * t)
        phase = (phase + f / RATE) % 1.0
        out.append(1.0 if phase < duty else -1.0)
    return out


def triangle(freq, seconds):
    n = int(round(seconds * RATE))
    phase, out = 0.0, []
    for i in range(n):
        f = freq(i / RATE) if callable(freq) else freq
        phase = (phase + f / RATE) % 1.0
        out.append(4.0 * abs(phase - 0.5) - 1.0)
    return out


def noise(seconds, rate_hz, short=False, seed=1):
    """NES-style noise: a 15-bit LFSR clocked at rate_hz (short mode: the metallic 93-step loop)."""
    n = int(round(seconds * RATE))
    reg, acc, out = seed or 1, 0.0, []
    tap = 6 if short else 1
    for _ in range(n):
        acc += rate_hz / RATE
        while acc >= 1.0:
            acc -= 1.0
            bit = (reg ^ (reg >> tap)) & 1
            reg = (reg >> 1) | (bit << 14)
        out.append(1.0 if reg & 1 else -1.0)
    return out


def lowpass(xs, cutoff):
    """One-pole low-pass, to round off the harshest edges."""
    k = 1.0 - math.exp(-2 * math.pi * cutoff / RATE)
    y, out = 0.0, []
    for x in xs:
        y += k * (x - y)
        out.append(y)
    return out


def apply(xs, env, gain=1.0):
    return [x * e * gain for x, e in zip(xs, env)]


def finish(buf, peak=0.8, fade=0.004):
    """Normalise to `peak` of full scale and fade the ends to avoid clicks."""
    m = max(1e-9, max(abs(v) for v in buf))
    f = max(1, int(fade * RATE))
    out = []
    for i, v in enumerate(buf):
        g = min(1.0, i / f, (len(buf) - 1 - i) / f)
        out.append(v / m * peak * g)
    return out


def write_wav(path, buf):
    data = b"".join(struct.pack("<h", max(-32767, min(32767, int(round(v * 32767))))) for v in buf)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data)


# ---------------------------------------------------------------- the effects


def hit():
    d = 0.2
    buf = silence(d)
    zap = square(lambda t: 1500 * math.exp(-t * 14) + 180, 0.13, duty=0.25)
    mix_into(buf, apply(zap, envelope(len(zap), 0.002, curve=1.5), 0.5), 0)
    crunch = lowpass(noise(0.07, 9000, seed=0x2A1), 5000)
    mix_into(buf, apply(crunch, envelope(len(crunch), 0.001, curve=2.5), 0.55), 0)
    tink = triangle(2637.0, 0.17)  # E7: ice
    mix_into(buf, apply(tink, envelope(len(tink), 0.001, curve=3.0), 0.35), 0.02)
    return finish(buf, 0.8)


def roar():
    d = 1.2
    buf = silence(d)

    def growl_f(t):
        return 82 - 30 * (t / d) + 4 * math.sin(2 * math.pi * 23 * t)  # a rough, jittery throat

    body = lowpass(square(growl_f, d, duty=0.4, vibrato=0.03, vib_rate=7.0), 1400)
    env = envelope(len(body), 0.18, hold=0.55, curve=1.6)
    mix_into(buf, apply(body, env, 0.6), 0)
    fifth = lowpass(square(lambda t: growl_f(t) * 1.498, d, duty=0.25, vibrato=0.03, vib_rate=7.0), 1000)
    mix_into(buf, apply(fifth, env, 0.25), 0)
    rumble = lowpass(noise(d, 1800, seed=0x7F1), 700)
    mix_into(buf, apply(rumble, envelope(len(rumble), 0.3, hold=0.45, curve=1.3), 0.6), 0)
    # an icy crackle as it wakes
    crack = lowpass(noise(0.25, 12000, short=True, seed=0x155), 6000)
    mix_into(buf, apply(crack, envelope(len(crack), 0.003, curve=3.0), 0.25), 0.05)
    return finish(buf, 0.85)


def victory():
    buf = silence(1.5)
    step = 0.09
    run = ["C5", "E5", "G5", "C6", "E6", "G6"]
    for k, n in enumerate(run):
        s = square(note(n), step * 1.6, duty=0.25)
        mix_into(buf, apply(s, envelope(len(s), 0.003, curve=1.4), 0.35), k * step)
    # the held final chord: C6 lead with vibrato, G5 under it, shimmering
    t0 = len(run) * step + 0.04
    held = 1.5 - t0 - 0.02
    lead = square(note("C6"), held, duty=0.5, vibrato=0.012, vib_rate=6.0)
    mix_into(buf, apply(lead, envelope(len(lead), 0.01, hold=0.35, curve=1.5), 0.32), t0)
    harm = square(note("G5"), held, duty=0.25, vibrato=0.012, vib_rate=6.0)
    mix_into(buf, apply(harm, envelope(len(harm), 0.01, hold=0.3, curve=1.8), 0.18), t0)
    # a triangle bass walking up C3 G3 C4
    for k, (n, at, ln) in enumerate([("C3", 0.0, 0.27), ("G3", 0.27, 0.27), ("C4", t0, held)]):
        b = triangle(note(n), ln)
        mix_into(buf, apply(b, envelope(len(b), 0.005, hold=ln * 0.4, curve=1.2), 0.5), at)
    # sparkle: short high noise ticks
    for k in range(4):
        tick = noise(0.03, 16000, short=True, seed=0x31 + k)
        mix_into(buf, apply(tick, envelope(len(tick), 0.001, curve=3.0), 0.08), t0 + 0.1 + 0.17 * k)
    return finish(buf[: int(1.5 * RATE)], 0.8)


def defeat():
    buf = silence(0.95)
    seq = ["G4", "F#4", "F4", "E4"]
    step = 0.14
    for k, n in enumerate(seq):
        f0 = note(n)
        s = square(lambda t, f0=f0: f0 * (1 - 0.04 * t / step), step * 0.95, duty=0.5)
        mix_into(buf, apply(s, envelope(len(s), 0.004, hold=step * 0.4, curve=1.3), 0.4), k * step)
    # the final "wah": a slow slide down from E3, fading
    t0 = len(seq) * step
    last = 0.95 - t0
    wah = square(lambda t: note("E3") * (1 - 0.3 * t / last), last, duty=0.25, vibrato=0.02, vib_rate=5.0)
    mix_into(buf, apply(lowpass(wah, 1800), envelope(len(wah), 0.01, hold=0.05, curve=1.2), 0.5), t0)
    return finish(buf[: int(0.95 * RATE)], 0.75)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in (("hit", hit), ("roar", roar), ("victory", victory), ("defeat", defeat)):
        write_wav(args.out / f"{name}.wav", make())


if __name__ == "__main__":
    main()
