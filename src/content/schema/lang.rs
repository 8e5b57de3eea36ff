//! The two languages, and a player-facing string in both.

use serde::{Deserialize, Serialize};

/// The two languages every player-facing string is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Spanish, the language of the original deck.
    #[default]
    Es,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Spanish first.
    pub const ALL: [Lang; 2] = [Lang::Es, Lang::En];

    /// Parses a language code: `"es"`, `"en"` (case-insensitive; a region such as `es-MX` or
    /// `en_GB.UTF-8` is accepted too). `None` for any other language.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_', '.', '@']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "es" | "spa" | "spanish" | "español" => Some(Lang::Es),
            "en" | "eng" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language for a locale string such as `es-ES` or `en_US.UTF-8`: Spanish for any Spanish
    /// locale, English for everything else (English is the better guess for a non-Spanish reader).
    pub fn from_locale(locale: &str) -> Lang {
        Lang::parse(locale).unwrap_or(Lang::En)
    }

    /// The language of the operating system's locale (English when it cannot be read).
    pub fn from_system() -> Lang {
        sys_locale::get_locale().map(|locale| Lang::from_locale(&locale)).unwrap_or(Lang::En)
    }

    /// The two-letter code: `"es"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// The other language (for a language toggle).
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A player-facing string in Spanish and English. Both are required and must not be blank.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub es: String,
    pub en: String,
}

impl Text {
    pub fn new(es: impl Into<String>, en: impl Into<String>) -> Text {
        Text { es: es.into(), en: en.into() }
    }

    /// The string in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Es => &self.es,
            Lang::En => &self.en,
        }
    }
}

/// English words that slipped into Spanish screens before (the deck's "deck", grid labels,
/// the boss stage's "loss"…): none may appear on a Spanish screen. START and GAME OVER are the
/// deck's arcade words and "(fine-tuning)" names the term once, in brackets, so neither is here.
pub const ENGLISH_WORDS: [&str; 24] = [
    "the",
    "and",
    "with",
    "of",
    "params",
    "parameters",
    "targets",
    "weights",
    "weight",
    "rank",
    "code",
    "deck",
    "loss",
    "step",
    "steps",
    "score",
    "level",
    "hint",
    "tries",
    "press",
    "trainable",
    "memory",
    "layer",
    "slide",
];

/// What is wrong with a Spanish string as a player would see it: English words from
/// [`ENGLISH_WORDS`], and decimal points where Spanish writes commas (a point between digits,
/// unless it is part of a model's name such as TinyLlama-1.1B).
pub fn spanish_slips(text: &str) -> Vec<String> {
    let mut slips = Vec::new();
    let prose = text.replace("(fine-tuning)", "");
    for token in prose.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        // Code names are not prose: print_trainable_parameters, lora_B.weight.
        if token.contains(['_', '.']) {
            continue;
        }
        for word in token.split(|c: char| !c.is_alphanumeric() && c != '-') {
            if ENGLISH_WORDS.contains(&word.to_lowercase().as_str()) {
                slips.push(format!("English word {word:?}"));
            }
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '.' || i == 0 || !chars[i - 1].is_ascii_digit() || !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            continue;
        }
        let end = chars[i + 1..].iter().position(|c| !c.is_ascii_digit()).map_or(chars.len(), |n| i + 1 + n);
        let start = chars[..i].iter().rposition(|c| !c.is_ascii_digit()).map_or(0, |n| n + 1);
        let in_a_name = chars.get(end).is_some_and(char::is_ascii_alphabetic);
        if !in_a_name {
            slips.push(format!("decimal point in “{}”", chars[start..end].iter().collect::<String>()));
        }
    }
    slips
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_slips_are_english_words_and_decimal_points() {
        assert!(spanish_slips("Pulsa ENTER: 0,5 GB y 134\u{a0}515\u{a0}008 parámetros").is_empty());
        assert!(spanish_slips("TinyLlama-1.1B tiene 1\u{a0}100\u{a0}048\u{a0}384 parámetros").is_empty());
        assert_eq!(spanish_slips("error 0.0312"), ["decimal point in “0.0312”"]);
        assert!(spanish_slips("como lo imprime print_trainable_parameters").is_empty());
        assert!(spanish_slips("¿Qué forma tiene lora_B.weight?").is_empty());
        assert_eq!(spanish_slips("los weights."), ["English word \"weights\""]);
        assert_eq!(spanish_slips("rank 2"), ["English word \"rank\""]);
        assert!(spanish_slips("Ajuste fino (fine-tuning)").is_empty());
    }
}
