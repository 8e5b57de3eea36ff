//! Compute-and-predict quiz questions whose numbers change every play: the right answer comes
//! from the maths ([`crate::math`]) and the wrong ones from real misconceptions (the full matrix
//! instead of the adapter, B·A formed, A's shape for B, bits for bytes, r/α for α/r, w not
//! divided by absmax). Added after each pack's written questions.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::content::{Difficulty, Lang, Question, TaughtOn, Text, Topic};
use crate::game::puzzle::nf4_code_of;
use crate::game::ui::{fixed, thousands};
use crate::math::lora;
use crate::math::memory::{Precision, gigabytes, weight_bytes};

/// What a generated question is about (and so which pack it joins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trainable parameters of one adapted layer.
    LoraParams,
    /// The shape of B.
    ShapeOfB,
    /// The factor B·A·x is multiplied by.
    Scale,
    /// Weight memory of a model at a precision.
    WeightMemory,
    /// The NF4 code of a weight in a block.
    Nf4Code,
    /// The absmax's bits per weight, with and without double quantization.
    AbsmaxBits,
}

/// The generators of the LoRA pack and of the QLoRA pack.
pub const LORA_KINDS: [Kind; 3] = [Kind::LoraParams, Kind::ShapeOfB, Kind::Scale];
pub const QLORA_KINDS: [Kind; 3] = [Kind::WeightMemory, Kind::Nf4Code, Kind::AbsmaxBits];
/// Generated questions of each kind added to a pack.
pub const PER_KIND: usize = 2;

/// The generated questions for a pack whose written questions are `written`: the QLoRA
/// generators when most of it is about QLoRA, NF4 or memory, the LoRA ones otherwise.
pub fn for_pack(written: &[Question], rng: &mut impl Rng) -> Vec<Question> {
    let qlora = written.iter().filter(|q| matches!(q.topic, Topic::Qlora | Topic::Nf4 | Topic::Memory)).count();
    let kinds = if 2 * qlora > written.len() { QLORA_KINDS } else { LORA_KINDS };
    (0..PER_KIND)
        .flat_map(|round| kinds.iter().map(move |k| (round, *k)))
        .map(|(round, kind)| generate(kind, round, rng))
        .collect()
}

fn both(es: String, en: String) -> Text {
    Text::new(&es, &en)
}

/// A number in both languages' digit grouping.
fn n(x: u64) -> (String, String) {
    (thousands(x, Lang::Es), thousands(x, Lang::En))
}

/// Decimal comma in Spanish, point in English.
fn d(x: f64, decimals: usize) -> (String, String) {
    (fixed(x, decimals, Lang::Es), fixed(x, decimals, Lang::En))
}

/// Four choices, the right one first; shuffled when asked (see `QuizRun`). Duplicate wrong
/// values are replaced by the fallbacks so the four stay distinct.
fn choices(right: (String, String), wrong: Vec<(String, String)>) -> Vec<Text> {
    let mut all = vec![right];
    for w in wrong {
        if !all.contains(&w) && all.len() < 4 {
            all.push(w);
        }
    }
    all.into_iter().map(|(es, en)| both(es, en)).collect()
}

/// One question of `kind` (its id carries the round, so two of a kind differ).
pub fn generate(kind: Kind, round: usize, rng: &mut impl Rng) -> Question {
    let (topic, difficulty, prompt, choices, explanation) = match kind {
        Kind::LoraParams => {
            let d_in = *[512u64, 768, 1024, 2048, 4096].choose(rng).unwrap();
            let d_out = *[512u64, 1024, 1536, 2048, 4096, 11008].choose(rng).unwrap();
            let r = *[4u64, 8, 16, 32].choose(rng).unwrap();
            let right = lora::lora_params(d_in, d_out, r);
            let full = lora::full_params(d_in, d_out);
            let (din, dout) = (n(d_in), n(d_out));
            (
                Topic::Lora,
                Difficulty::Hard,
                both(
                    format!("Una capa de {} → {} con LoRA de rango r = {r}: ¿cuántos números entrena?", din.0, dout.0),
                    format!(
                        "A {} → {} layer with LoRA at rank r = {r}: how many numbers does it train?",
                        din.1, dout.1
                    ),
                ),
                choices(n(right), vec![n(full), n(r * full), n(r * d_out), n(r * d_in)]),
                both(
                    format!(
                        "r·(d_in + d_out) = {r}·({} + {}) = {}. {} sería entrenar la matriz entera.",
                        din.0,
                        dout.0,
                        n(right).0,
                        n(full).0
                    ),
                    format!(
                        "r·(d_in + d_out) = {r}·({} + {}) = {}. {} would be training the whole matrix.",
                        din.1,
                        dout.1,
                        n(right).1,
                        n(full).1
                    ),
                ),
            )
        }
        Kind::ShapeOfB => {
            let d_in = *[256u64, 768, 2048].choose(rng).unwrap();
            let d_out = *[512u64, 1024, 3072].choose(rng).unwrap();
            let r = *[4u64, 8, 16].choose(rng).unwrap();
            let shape = |rows: u64, cols: u64| (format!("{rows} × {cols}"), format!("{rows} × {cols}"));
            (
                Topic::Lora,
                Difficulty::Medium,
                both(
                    format!("W es {d_out} × {d_in} (d_out × d_in) y r = {r}. ¿Qué forma tiene B?"),
                    format!("W is {d_out} × {d_in} (d_out × d_in) and r = {r}. What shape is B?"),
                ),
                choices(shape(d_out, r), vec![shape(r, d_in), shape(d_in, r), shape(r, d_out)]),
                both(
                    format!(
                        "B·A debe tener la forma de W: B es d_out × r = {d_out} × {r} y A es r × d_in = {r} × {d_in}."
                    ),
                    format!(
                        "B·A must have W's shape: B is d_out × r = {d_out} × {r} and A is r × d_in = {r} × {d_in}."
                    ),
                ),
            )
        }
        Kind::Scale => {
            let r = *[2u64, 4, 8, 16, 32].choose(rng).unwrap();
            let alpha = r * *[1u64, 2, 4].choose(rng).unwrap();
            let right = lora::Scaling::Standard.factor(alpha as f64, r as usize);
            let value = |x: f64| d(x, if x.fract() == 0.0 { 0 } else { 3 });
            (
                Topic::Lora,
                Difficulty::Medium,
                both(
                    format!("α = {alpha}, r = {r}. ¿Por cuánto multiplica LoRA la salida B·A·x?"),
                    format!("α = {alpha}, r = {r}. What does LoRA multiply the output B·A·x by?"),
                ),
                choices(
                    value(right),
                    vec![
                        value(r as f64 / alpha as f64),
                        value((alpha * r) as f64),
                        value(alpha as f64),
                        value(alpha as f64 / (r as f64).sqrt()),
                        value(alpha as f64 + r as f64),
                    ],
                ),
                both(
                    format!(
                        "s = α/r = {alpha}/{r} = {}: fijado α, cambiar r no cambia el tamaño de la actualización.",
                        value(right).0
                    ),
                    format!(
                        "s = α/r = {alpha}/{r} = {}: with α fixed, changing r does not change the update's size.",
                        value(right).1
                    ),
                ),
            )
        }
        Kind::WeightMemory => {
            let billions = *[1u64, 3, 7, 8, 13, 34, 70].choose(rng).unwrap();
            let params = billions * 1_000_000_000;
            let precision = *[Precision::Bf16, Precision::Int8, Precision::Nf4DoubleQuant].choose(rng).unwrap();
            let gb = |p: Precision| gigabytes(weight_bytes(params, p));
            let value = |x: f64| {
                let (es, en) = d(x, if x >= 10.0 { 1 } else { 2 });
                (format!("{es} GB"), format!("{en} GB"))
            };
            let bits_as_bytes = params as f64 * precision.bits_per_weight() / 1e9;
            let others: Vec<(String, String)> =
                [Precision::Fp32, Precision::Bf16, Precision::Int8, Precision::Nf4DoubleQuant]
                    .into_iter()
                    .filter(|p| *p != precision)
                    .map(|p| value(gb(p)))
                    .collect();
            let mut wrong = vec![value(bits_as_bytes)];
            wrong.extend(others);
            (
                Topic::Memory,
                Difficulty::Hard,
                both(
                    format!(
                        "¿Cuántos GB (10⁹ bytes) ocupan solo los pesos de un modelo de {billions} mil millones de parámetros en {}?",
                        precision.label()
                    ),
                    format!(
                        "How many GB (10⁹ bytes) do the weights alone of a {billions}-billion-parameter model take in {}?",
                        precision.label()
                    ),
                ),
                choices(value(gb(precision)), wrong),
                both(
                    format!(
                        "{billions}·10⁹ × {} bits / 8 = {}. Falta sumar adaptadores, gradientes, optimizador y activaciones.",
                        d(precision.bits_per_weight(), 3).0,
                        value(gb(precision)).0
                    ),
                    format!(
                        "{billions}·10⁹ × {} bits / 8 = {}. Adapters, gradients, optimizer and activations come on top.",
                        d(precision.bits_per_weight(), 3).1,
                        value(gb(precision)).1
                    ),
                ),
            )
        }
        Kind::Nf4Code => {
            let absmax = *[0.5f64, 0.8, 1.0, 2.0].choose(rng).unwrap();
            let w = (rng.random_range(-1.0..1.0) * absmax * 100.0_f64).round() / 100.0;
            let right = nf4_code_of(w, absmax);
            let unnormalized = nf4_code_of(w.clamp(-1.0, 1.0), 1.0);
            let code = |c: u8| (c.to_string(), c.to_string());
            let wrong = vec![
                code(unnormalized),
                code(right.saturating_add(1).min(15)),
                code(right.saturating_sub(1)),
                code(if right >= 8 { right - 4 } else { right + 4 }),
                code(15 - right),
            ];
            let (ws, am) = (d(w, 2), d(absmax, 1));
            (
                Topic::Nf4,
                Difficulty::Hard,
                both(
                    format!(
                        "Bloque con absmax = {}. ¿Qué código NF4 (0–15) recibe w = {}? (escalera: 7 = 0, 15 = +1, 0 = −1)",
                        am.0, ws.0
                    ),
                    format!(
                        "A block with absmax = {}. Which NF4 code (0–15) does w = {} get? (ladder: 7 = 0, 15 = +1, 0 = −1)",
                        am.1, ws.1
                    ),
                ),
                choices(code(right), wrong),
                both(
                    format!(
                        "Primero w / absmax = {}, luego el código más cercano: {right}. Sin dividir por absmax saldría otro.",
                        d(w / absmax, 3).0
                    ),
                    format!(
                        "First w / absmax = {}, then the nearest code: {right}. Without dividing by absmax it would be another.",
                        d(w / absmax, 3).1
                    ),
                ),
            )
        }
        Kind::AbsmaxBits => {
            let double = rng.random_bool(0.5);
            // One f32 absmax per 64 weights; with double quantization an 8-bit absmax per 64 and
            // one f32 scale per 256 blocks.
            let right = if double { 8.0 / 64.0 + 32.0 / (64.0 * 256.0) } else { 32.0 / 64.0 };
            let bits = |x: f64| {
                let (es, en) = d(x, 3);
                (format!("{es} bits"), format!("{en} bits"))
            };
            let (es_q, en_q) = if double {
                (
                    "con doble cuantización (absmax de 8 bits, una escala f32 cada 256 bloques)",
                    "with double quantization (8-bit absmax, one f32 scale per 256 blocks)",
                )
            } else {
                (
                    "sin doble cuantización (un absmax f32 por bloque)",
                    "without double quantization (one f32 absmax per block)",
                )
            };
            (
                Topic::Qlora,
                Difficulty::Hard,
                both(
                    format!("Bloques de 64 pesos {es_q}: ¿cuántos bits por peso cuestan las escalas?"),
                    format!("Blocks of 64 weights {en_q}: how many bits per weight do the scales cost?"),
                ),
                choices(bits(right), vec![bits(32.0 / 64.0 + 8.0 / 64.0), bits(0.127), bits(32.0 / 64.0), bits(4.0), bits(8.0 / 64.0)]),
                both(
                    "Sin DQ: 32/64 = 0,5 bits. Con DQ: 8/64 + 32/(64·256) ≈ 0,127 bits: de 4,5 a ≈ 4,127 bits por peso.".to_owned(),
                    "Without DQ: 32/64 = 0.5 bits. With DQ: 8/64 + 32/(64·256) ≈ 0.127 bits: from 4.5 to ≈ 4.127 bits per weight.".to_owned(),
                ),
            )
        }
    };
    Question {
        id: format!("generated-{kind:?}-{round}").to_lowercase(),
        topic,
        difficulty,
        prompt,
        choices,
        answer: 0,
        explanation,
        taught_on: Some(kind.taught_on()),
    }
}

impl Kind {
    /// The slide that teaches what this kind of question asks, and words it shows.
    pub fn taught_on(self) -> TaughtOn {
        let (slide, es, en) = match self {
            Kind::LoraParams => {
                ("trainable-share", "añade r·(d_in + d_out) parámetros", "adds r·(d_in + d_out) parameters")
            }
            Kind::ShapeOfB => ("down-up", "B (d_out × r)", "B (d_out × r)"),
            Kind::Scale => ("forward", "α/r escala la corrección", "α/r scales the correction"),
            Kind::WeightMemory => ("sixty-five-b", "65·10⁹ × 4,127 / 8", "65·10⁹ × 4.127 / 8"),
            Kind::Nf4Code => ("explore-nf4", "Recorre un bloque paso a paso", "Walk a block through, step by step"),
            Kind::AbsmaxBits => (
                "qlora",
                "el coste baja de 4,5 a unos 4,127 bits por peso",
                "the cost drops from 4.5 to about 4.127 bits per weight",
            ),
        };
        TaughtOn { slide: slide.to_owned(), quote: Text::new(es, en) }
    }
}
