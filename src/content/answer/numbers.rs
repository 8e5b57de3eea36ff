//! How close is close enough, and how a number is written: one policy for the game, `check-levels`
//! and the tests.

use nalgebra::DMatrix;

use crate::content::schema::Lang;

/// How far a number may be from the maths' value and still count as that value:
/// |given − expected| ≤ `absolute` + `relative` · |expected|.
///
/// Who wrote the number decides which one applies (see [`super::GivenBy`]):
/// - a player types it: [`Tolerance::TYPED`], widened (never narrowed) by a puzzle's own tolerance;
/// - a level file stores it: [`Tolerance::STORED`] (or the puzzle's own tolerance, where the level
///   says its answer is rounded);
/// - a slide shows it rounded: [`Tolerance::FIGURE`];
/// - codes, counts, ranks and choices are whole things: [`Tolerance::EXACT`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub absolute: f64,
    pub relative: f64,
}

impl Tolerance {
    /// Whole things: codes, counts, ranks, choices.
    pub const EXACT: Tolerance = Tolerance::absolute(0.0);
    /// A number a player types. The game shows [`SHOWN_DECIMALS`] decimals and a hand calculation
    /// rounded to two decimals is still right: half a hundredth either way counts, a wrong digit
    /// does not.
    pub const TYPED: Tolerance = Tolerance::absolute(0.005);
    /// A number stored in a level file against the maths recomputing it: authors write exact
    /// values (at most [`REPORTED_DECIMALS`] decimals), so only floating-point noise is forgiven.
    pub const STORED: Tolerance = Tolerance::absolute(1e-6);
    /// A figure on a slide, rounded for display (a trainable share, gigabytes): within 1 %.
    pub const FIGURE: Tolerance = Tolerance { absolute: 0.0, relative: 0.01 };

    pub const fn absolute(absolute: f64) -> Tolerance {
        Tolerance { absolute, relative: 0.0 }
    }

    /// This tolerance, but at least `absolute` wide: a puzzle's own tolerance can widen what a
    /// player may type, never narrow it below what the game shows.
    pub fn at_least(self, absolute: f64) -> Tolerance {
        Tolerance { absolute: self.absolute.max(absolute), ..self }
    }

    /// This tolerance times `factor` (for matrices compared on the scale of their norm).
    pub fn scaled(self, factor: f64) -> Tolerance {
        Tolerance { absolute: self.absolute * factor, relative: self.relative * factor }
    }

    /// Whether `given` counts as `expected`. Never for NaN.
    pub fn accepts(self, expected: f64, given: f64) -> bool {
        (given - expected).abs() <= self.absolute + self.relative * expected.abs()
    }

    /// Same length, and every entry accepted.
    pub fn accepts_all(self, expected: &[f64], given: &[f64]) -> bool {
        expected.len() == given.len() && expected.iter().zip(given).all(|(&e, &g)| self.accepts(e, g))
    }

    /// Per cell of two matrices of the same shape: whether `given` counts as `expected`.
    pub fn cells(self, expected: &DMatrix<f64>, given: &DMatrix<f64>) -> DMatrix<bool> {
        debug_assert_eq!(expected.shape(), given.shape());
        expected.zip_map(given, |e, g| self.accepts(e, g))
    }
}

/// Decimals the game shows in its grids, facts and feedback; a player types no more than these.
pub const SHOWN_DECIMALS: usize = 4;
/// Decimals `check-levels` reports: enough to see a difference [`Tolerance::STORED`] rejects.
pub const REPORTED_DECIMALS: usize = 6;

/// A number as a student writes it: at most `decimals` decimals, no trailing zeros, a whole
/// number without a point, and never "-0".
pub fn format_number(x: f64, decimals: usize) -> String {
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// Text the maths wrote with English numbers, as a reader of `lang` writes it: in Spanish every
/// decimal point becomes a comma, thousands grouped with commas are grouped as [`thousands`]
/// does, and where a decimal comma appeared list items are separated by "; " so that "(0,5; 1)"
/// stays readable. The one place numbers change notation:
/// only for text whose points are decimal points (Spanish thousands groups are never passed here).
pub fn in_notation(en: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return en.to_owned();
    }
    let chars: Vec<char> = en.chars().collect();
    let separator_at = |i: usize| {
        matches!(chars[i], '.' | ',')
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
    };
    let mut es = String::with_capacity(en.len());
    let mut commas = false;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            es.push(chars[i]);
            i += 1;
            continue;
        }
        // One number: digits, thousands commas and a decimal point, as English writes them.
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || separator_at(i)) {
            i += 1;
        }
        let number: String = chars[start..i].iter().collect();
        let (whole, fraction) = number.split_once('.').map_or((number.as_str(), None), |(w, f)| (w, Some(f)));
        match whole.contains(',') {
            // Grouped in English, so grouped in Spanish too (with the Spanish rules).
            true => {
                es.push_str(&whole.replace(',', "").parse::<u64>().map_or(whole.to_owned(), |n| thousands(n, lang)))
            }
            false => es.push_str(whole),
        }
        if let Some(fraction) = fraction {
            es.push(',');
            es.push_str(fraction);
            commas = true;
        }
    }
    if commas { es.replace(", ", "; ") } else { es }
}

/// `n` with its thousands grouped as `lang` writes them: 134,515,008 in English; in Spanish
/// 134 515 008 with non-breaking spaces (the RAE's rule: a point would read as a decimal one
/// beside decimal commas), and four digits kept together (4096).
pub fn thousands(n: u64, lang: Lang) -> String {
    let digits = n.to_string();
    let separator = match lang {
        Lang::Es if digits.len() <= 4 => return digits,
        Lang::Es => '\u{a0}',
        Lang::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// `x` with at most `decimals` decimals and no trailing zeros ([`format_number`]), in `lang`'s notation.
pub fn decimal(x: f64, decimals: usize, lang: Lang) -> String {
    in_notation(&format_number(x, decimals), lang)
}

/// `x` with exactly `decimals` decimals, in `lang`'s notation.
pub fn fixed(x: f64, decimals: usize, lang: Lang) -> String {
    in_notation(&format!("{x:.decimals$}"), lang)
}

/// A number as the game shows it ([`SHOWN_DECIMALS`]).
pub fn shown(x: f64) -> String {
    format_number(x, SHOWN_DECIMALS)
}

/// A number as `check-levels` reports it ([`REPORTED_DECIMALS`]).
pub fn reported(x: f64) -> String {
    format_number(x, REPORTED_DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_numbers_become_spanish_ones() {
        let es = |en: &str| in_notation(en, Lang::Es);
        assert_eq!(es("ŵ = (0.5, -1, 2.25)"), "ŵ = (0,5; -1; 2,25)");
        assert_eq!(es("(1, 2)"), "(1, 2)");
        assert_eq!(es("65,536 / 16,777,216 = 0.39 %"), "65\u{a0}536 / 16\u{a0}777\u{a0}216 = 0,39 %");
        assert_eq!(es("4,096 weights"), "4096 weights", "four digits stay together");
        assert_eq!(es("max |w−ŵ| = 0.0312  (absmax 2)"), "max |w−ŵ| = 0,0312  (absmax 2)");
        assert_eq!(in_notation("65,536 = 0.5", Lang::En), "65,536 = 0.5");
    }

    #[test]
    fn numbers_are_written_as_a_student_would() {
        assert_eq!(shown(3.0), "3");
        assert_eq!(shown(-2.5), "-2.5");
        assert_eq!(shown(1.0 / 3.0), "0.3333");
        assert_eq!(shown(1.99999999), "2");
        assert_eq!(shown(-0.00001), "0");
        assert_eq!(shown(7.0e9), "7000000000");
        assert_eq!(reported(1.0 / 3.0), "0.333333");
        assert_eq!(format_number(100.0, 0), "100");
    }

    #[test]
    fn the_edge_of_a_tolerance_is_inside_it() {
        // Binary-exact values, so the edge is exactly the tolerance.
        let t = Tolerance::absolute(0.25);
        assert!(t.accepts(1.0, 1.25));
        assert!(t.accepts(1.0, 0.75));
        assert!(!t.accepts(1.0, 1.25 + 1e-12));
        assert!(!t.accepts(1.0, f64::NAN));
        assert!(Tolerance::FIGURE.accepts(200.0, 202.0));
        assert!(!Tolerance::FIGURE.accepts(200.0, 202.5));
        assert_eq!(Tolerance::TYPED.at_least(0.5).absolute, 0.5);
        assert_eq!(Tolerance::TYPED.at_least(0.001), Tolerance::TYPED);
    }
}
