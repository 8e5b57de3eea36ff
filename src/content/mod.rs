//! The course as data: serde types for levels, RON loading and validation, es/en strings, and
//! the one answer engine.
//!
//! - [`schema`]: the types of a level file (`levels/*.ron`) and [`Text`] (Spanish + English).
//! - [`load`]: RON → [`Level`], [`load_dir`], [`load_file`], [`builtin`] (embedded levels),
//!   [`load_course`] (built-in + an instructor's folder).
//! - [`answer`]: whether an answer is right — a player's at play time, a level's stored one at
//!   load time — by the maths, with one tolerance policy and one number format.
//! - [`validate`]: the semantic checks run after parsing, stored answers included.
//! - [`check`]: the `check-levels` command.
//! - [`Problem`]: a located problem (`file:line:col: field `path`: message`).

pub mod answer;
pub mod check;
pub mod coverage;
pub mod load;
pub mod problem;
pub mod schema;
pub mod source_map;
pub mod validate;

pub use answer::{GivenBy, Grade, MatrixAnswer, Nf4Answer, PuzzleTask};
pub use load::{LoadReport, builtin, load_course, load_dir, load_file, parse_level};
pub use problem::Problem;
pub use schema::*;
