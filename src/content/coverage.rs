//! Whether the course teaches what its quizzes ask: each question names a slide and words that
//! slide draws on screen ([`TaughtOn`]); this finds the ones whose slide is missing or does not
//! show those words in Spanish or in English (presenter notes do not count: students never see them).

use super::schema::{Block, Items, Lang, Level, Slide, TaughtOn, Text};

/// Everything a slide draws as text in `lang`: its title, prose, formulas, callouts, tables and
/// figure captions, with runs of spaces (non-breaking ones too) folded into one. Presenter notes
/// and the explorable figures' own labels are left out.
pub fn visible_text(slide: &Slide, lang: Lang) -> String {
    let mut texts: Vec<&Text> = vec![&slide.title];
    for block in &slide.body {
        match block {
            Block::Paragraph(t) => texts.push(t),
            Block::Bullets(items) => texts.extend(items),
            Block::Callout(c) => texts.push(&c.text),
            Block::Table(table) => {
                texts.extend(table.header.iter().chain(table.rows.iter().flatten()));
                texts.extend(&table.caption);
            }
            Block::Formula(f) => texts.extend(&f.caption),
            Block::Matrix(m) => texts.extend(&m.caption),
            Block::Factorization(f) => texts.extend(&f.caption),
            Block::TrainableShare(t) => texts.extend(&t.caption),
            Block::Memory(m) => texts.extend(&m.caption),
            Block::Explore(_) => {}
        }
    }
    // Formulas are one string for both languages.
    let formulas = slide.body.iter().filter_map(|block| match block {
        Block::Formula(f) => Some(f.text.as_str()),
        _ => None,
    });
    let all: Vec<&str> = texts.iter().map(|t| t.get(lang)).chain(formulas).collect();
    fold_spaces(&all.join(" "))
}

/// Runs of whitespace (non-breaking spaces are whitespace too) folded into one space.
fn fold_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why `taught` is not taught by `slides`, or `None` when its slide shows its quote in both
/// languages.
pub fn not_taught<'a>(slides: impl IntoIterator<Item = &'a Slide>, taught: &TaughtOn) -> Option<String> {
    let Some(slide) = slides.into_iter().find(|s| s.id == taught.slide) else {
        return Some(format!("no lesson slide has the id `{}`", taught.slide));
    };
    let missing: Vec<String> = Lang::ALL
        .into_iter()
        .filter(|&lang| !visible_text(slide, lang).contains(&fold_spaces(taught.quote.get(lang))))
        .map(|lang| format!("“{}” ({})", taught.quote.get(lang), lang.code()))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "slide `{}` does not show {} on screen (presenter notes do not count)",
            taught.slide,
            missing.join(" nor ")
        )
    })
}

/// The slides of every lessons level in `levels`.
pub fn slides(levels: &[Level]) -> impl Iterator<Item = &Slide> {
    levels.iter().flat_map(|level| match &level.items {
        Items::Lessons(slides) => slides.as_slice(),
        _ => &[],
    })
}

/// One problem of [`untaught`]: the quiz level, the field path of the question's `taught_on`
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untaught {
    pub level: String,
    pub field: String,
    pub message: String,
}

/// The questions of `quizzes` whose `taught_on` is not on a slide of `lessons`. Questions
/// without a `taught_on` are not checked (an instructor's own questions may have none).
pub fn untaught(quizzes: &[Level], lessons: &[&Slide]) -> Vec<Untaught> {
    let mut found = Vec::new();
    for level in quizzes {
        let Items::Quiz(questions) = &level.items else { continue };
        for (i, question) in questions.iter().enumerate() {
            let Some(taught) = &question.taught_on else { continue };
            if let Some(message) = not_taught(lessons.iter().copied(), taught) {
                found.push(Untaught {
                    level: level.id.clone(),
                    field: format!("items[{i}].taught_on"),
                    message: format!("question `{}`: {message}", question.id),
                });
            }
        }
    }
    found
}

/// Where the slide with the id `slide` is: the index of its lessons level in `levels`, and its
/// index in that level.
pub fn locate(levels: &[Level], slide: &str) -> Option<(usize, usize)> {
    levels.iter().enumerate().find_map(|(l, level)| match &level.items {
        Items::Lessons(slides) => slides.iter().position(|s| s.id == slide).map(|i| (l, i)),
        _ => None,
    })
}

/// Where a slide is as a player reads it: its level's title, its number in that level (from 1)
/// and its title — what a player needs to find it again.
pub fn slide_place<'a>(levels: &'a [Level], slide: &str) -> Option<(&'a Text, usize, &'a Text)> {
    let (l, i) = locate(levels, slide)?;
    let Items::Lessons(slides) = &levels[l].items else { return None };
    Some((&levels[l].title, i + 1, &slides[i].title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_is_not_compared() {
        assert_eq!(fold_spaces(" 65\u{a0}536  tokens\u{202f}/s\n"), "65 536 tokens /s");
    }
}
