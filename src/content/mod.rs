//! The course as data: serde types for levels, RON loading and validation, es/en strings.
//!
//! - [`schema`]: the types of a level file (`levels/*.ron`) and [`Text`] (Spanish + English).
//! - [`load`]: RON → [`Level`], [`load_dir`], [`load_file`], [`builtin`] (embedded levels),
//!   [`load_course`] (built-in + an instructor's folder).
//! - [`validate`]: the semantic checks run after parsing.
//! - [`answers`]: every stored answer re-derived with [`crate::math`].
//! - [`grade`]: a player's answer graded at play time with the same maths.
//! - [`check`]: the `check-levels` command.
//! - [`Problem`]: a located problem (`file:line:col: field `path`: message`).

pub mod answers;
pub mod check;
pub mod grade;
pub mod load;
pub mod problem;
pub mod schema;
pub mod source_map;
pub mod validate;

pub use grade::{Grade, MatrixAnswer, Nf4Answer};
pub use load::{LoadReport, builtin, load_course, load_dir, load_file, parse_level};
pub use problem::Problem;
pub use schema::*;
