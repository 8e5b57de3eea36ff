//! A problem found in a level file: where it is and what is wrong.

use std::fmt;
use std::path::PathBuf;

/// One problem in one level file. Displayed as `file:line:column: field `path`: message`
/// (line, column and field only where known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// Field path inside the file, e.g. `items[3].explanation.en`.
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    /// A problem about the whole file (no position, no field).
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Problem {
        Problem { file: file.into(), line: None, column: None, field: None, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}
