//! The course as data: serde types for levels, RON loading and validation, es/en strings.
