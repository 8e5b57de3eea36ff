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
