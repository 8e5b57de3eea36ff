//! The serde types of a level file (`levels/*.ron`).
//!
//! One file is one *level pack*: a header (`id`, `order`, `title`, `summary`) and `items`, whose
//! variant says the kind of the pack (`Lessons`, `Quiz`, `Matrix`, `Nf4`). Every player-facing
//! string is a [`Text`] with both Spanish and English. Every struct denies unknown fields, so a
//! typo in a field name is reported instead of silently ignored.
//!
//! The loader enables RON's `implicit_some` and `unwrap_variant_newtypes` extensions, so an
//! optional field is written without `Some(..)` and a newtype variant without double parentheses:
//!
//! ```ron
//! (
//!     id: "quiz-lora",
//!     order: 20,
//!     title: (es: "Preguntas de LoRA", en: "LoRA questions"),
//!     summary: (es: "…", en: "…"),
//!     items: Quiz([
//!         (
//!             id: "q-freeze",
//!             topic: Lora,
//!             difficulty: Easy,
//!             prompt: (es: "¿Qué se entrena en LoRA?", en: "What does LoRA train?"),
//!             choices: [(es: "W", en: "W"), (es: "A y B", en: "A and B")],
//!             answer: 1,
//!             explanation: (es: "…", en: "…"),
//!         ),
//!     ]),
//! )
//! ```

mod lang;
mod lessons;
mod level;
mod puzzles;

pub use lang::*;
pub use lessons::*;
pub use level::*;
pub use puzzles::*;
