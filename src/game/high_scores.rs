//! High-score tables, one per scored level, with the players' initials: kept in the save
//! between games, shown on the results screen and in the title's attract loop. Plain Rust.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Entries kept per level.
pub const TABLE_SIZE: usize = 5;
/// Letters of a player's initials.
pub const INITIALS_LEN: usize = 3;
/// The letters an initial can take, in the order ▲ ▼ step through them.
pub const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// One line of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighScore {
    pub initials: String,
    pub score: u32,
    pub stars: u8,
}

/// Every level's table, and the initials last entered (offered again next time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HighScores {
    pub tables: BTreeMap<String, Vec<HighScore>>,
    pub last_initials: Option<String>,
}

impl HighScores {
    /// The table of a level, best first.
    pub fn table(&self, level_id: &str) -> &[HighScore] {
        self.tables.get(level_id).map_or(&[], Vec::as_slice)
    }

    /// Where `score` would enter the level's table (0 = top), if it makes it. A score of 0
    /// never does; a tie goes below the earlier entries.
    pub fn place_for(&self, level_id: &str, score: u32) -> Option<usize> {
        if score == 0 {
            return None;
        }
        let table = self.table(level_id);
        let place = table.iter().take_while(|e| e.score >= score).count();
        (place < TABLE_SIZE).then_some(place)
    }

    /// Enters a score; returns its place, or `None` when it did not make the table.
    pub fn enter(&mut self, level_id: &str, entry: HighScore) -> Option<usize> {
        let place = self.place_for(level_id, entry.score)?;
        self.last_initials = Some(entry.initials.clone());
        let table = self.tables.entry(level_id.to_owned()).or_default();
        table.insert(place, entry);
        table.truncate(TABLE_SIZE);
        Some(place)
    }

    /// The initials to offer: the last ones entered, else "AAA".
    pub fn offered_initials(&self) -> Initials {
        self.last_initials.as_deref().and_then(Initials::parse).unwrap_or_default()
    }

    /// Drops what a hand-edited save may hold that the game would not write: bad initials,
    /// unsorted or overlong tables.
    pub fn sanitize(&mut self) {
        for table in self.tables.values_mut() {
            table.retain(|e| Initials::parse(&e.initials).is_some() && e.score > 0);
            table.iter_mut().for_each(|e| e.initials.make_ascii_uppercase());
            table.sort_by_key(|e| std::cmp::Reverse(e.score));
            table.truncate(TABLE_SIZE);
        }
        self.tables.retain(|_, t| !t.is_empty());
        if self.last_initials.as_deref().and_then(Initials::parse).is_none() {
            self.last_initials = None;
        }
    }
}

/// Three letters being entered, arcade style: ▲ ▼ change the letter under the cursor, ◀ ▶ move,
/// a typed letter sets it and moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Initials {
    /// Indices into [`ALPHABET`].
    letters: [usize; INITIALS_LEN],
    pub cursor: usize,
}

impl Default for Initials {
    fn default() -> Self {
        Initials { letters: [0; INITIALS_LEN], cursor: 0 }
    }
}

impl Initials {
    /// Three letters of [`ALPHABET`] (either case), else `None`.
    pub fn parse(text: &str) -> Option<Initials> {
        let upper = text.to_ascii_uppercase();
        let letters: Vec<usize> = upper.chars().map(|c| ALPHABET.find(c)).collect::<Option<_>>()?;
        Some(Initials { letters: letters.try_into().ok()?, cursor: 0 })
    }

    pub fn text(&self) -> String {
        self.letters.iter().map(|&i| ALPHABET.as_bytes()[i] as char).collect()
    }

    /// ▲ (+1) / ▼ (−1): the next or previous letter, wrapping round.
    pub fn step(&mut self, delta: i32) {
        let n = ALPHABET.len() as i32;
        let slot = &mut self.letters[self.cursor];
        *slot = (*slot as i32 + delta).rem_euclid(n) as usize;
    }

    /// ◀ (−1) / ▶ (+1).
    pub fn move_cursor(&mut self, delta: i32) {
        self.cursor = (self.cursor as i32 + delta).clamp(0, INITIALS_LEN as i32 - 1) as usize;
    }

    /// A typed character: a letter or digit sets the slot and moves on; anything else is ignored.
    pub fn type_char(&mut self, ch: char) {
        if let Some(i) = ALPHABET.find(ch.to_ascii_uppercase()) {
            self.letters[self.cursor] = i;
            self.move_cursor(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(initials: &str, score: u32) -> HighScore {
        HighScore { initials: initials.into(), score, stars: 2 }
    }

    #[test]
    fn a_table_keeps_the_best_five_best_first() {
        let mut scores = HighScores::default();
        for (i, score) in [300, 900, 100, 500, 700, 800].into_iter().enumerate() {
            let initials = format!("P{i}A");
            scores.enter("quiz", entry(&initials, score));
        }
        let table: Vec<u32> = scores.table("quiz").iter().map(|e| e.score).collect();
        assert_eq!(table, [900, 800, 700, 500, 300], "100 fell off the bottom");
        assert_eq!(scores.place_for("quiz", 1000), Some(0));
        assert_eq!(scores.place_for("quiz", 600), Some(3));
        assert_eq!(scores.place_for("quiz", 300), None, "a tie with the last does not push it out");
        assert_eq!(scores.place_for("quiz", 0), None);
        assert_eq!(scores.place_for("other", 10), Some(0), "another level has its own table");
        assert_eq!(scores.enter("quiz", entry("TIE", 700)), Some(3), "a tie goes below the earlier entry");
        assert_eq!(scores.last_initials.as_deref(), Some("TIE"));
    }

    #[test]
    fn initials_are_entered_with_arrows_or_letters() {
        let mut initials = Initials::default();
        assert_eq!(initials.text(), "AAA");
        initials.step(-1);
        assert_eq!(initials.text(), "9AA", "▼ from A wraps to the end");
        initials.step(1);
        initials.step(1);
        initials.move_cursor(1);
        initials.type_char('z');
        assert_eq!(initials.text(), "BZA");
        assert_eq!(initials.cursor, 2);
        initials.type_char('!');
        initials.type_char('7');
        initials.type_char('Q');
        assert_eq!(initials.text(), "BZQ", "past the last slot a letter replaces it");
        initials.move_cursor(-5);
        assert_eq!(initials.cursor, 0);
        assert_eq!(Initials::parse("abc").map(|i| i.text()), Some("ABC".into()));
        assert_eq!(Initials::parse("AB"), None);
        assert_eq!(Initials::parse("A-C"), None);
    }

    #[test]
    fn a_hand_edited_save_is_cleaned_not_refused() {
        let mut scores = HighScores::default();
        scores.tables.insert(
            "quiz".into(),
            vec![entry("no!", 5), entry("LOW", 1), entry("TOP", 99), entry("ZER", 0), entry("abc", 50)],
        );
        scores.last_initials = Some("toolong".into());
        scores.sanitize();
        let table: Vec<(&str, u32)> = scores.table("quiz").iter().map(|e| (e.initials.as_str(), e.score)).collect();
        assert_eq!(table, [("TOP", 99), ("ABC", 50), ("LOW", 1)]);
        assert_eq!(scores.offered_initials().text(), "AAA");
    }
}
