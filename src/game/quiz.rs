//! A quiz run: hearts, score, streak, a countdown, and missed questions asked again later.
//! Plain Rust: the quiz screen draws it and feeds it keys and time.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::content::Question;

/// Hearts a quiz run starts with.
pub const START_HEARTS: u8 = 3;
/// Seconds per question (no countdown in presenter mode).
pub const SECONDS_PER_QUESTION: f32 = 25.0;
/// Extra points per answer in a streak, up to [`MAX_STREAK_BONUS_STEPS`] steps.
pub const STREAK_BONUS: u32 = 25;
pub const MAX_STREAK_BONUS_STEPS: u32 = 4;

/// One question waiting in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asked {
    /// Index into the level's questions.
    pub question: usize,
    /// Asked again after a miss: worth half.
    pub retry: bool,
}

/// What happened to the last answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Correct {
        points: u32,
    },
    Wrong {
        chosen: usize,
    },
    TimeUp,
    /// Presenter mode: the answer was shown without scoring.
    Revealed,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Asking {
        time_left: Option<f32>,
    },
    /// Showing the explanation until the player continues.
    Answered {
        verdict: Verdict,
    },
    Finished,
}

#[derive(Clone, Debug)]
pub struct QuizRun {
    pub questions: Vec<Question>,
    pub queue: VecDeque<Asked>,
    pub current: Option<Asked>,
    pub phase: Phase,
    pub hearts: u8,
    pub score: u32,
    pub streak: u32,
    pub best_streak: u32,
    pub correct: u32,
    pub missed: u32,
    /// The questions missed at least once (indices into `questions`), in the order first missed.
    pub missed_questions: Vec<usize>,
    /// Questions shown so far, the current one included.
    pub asked: u32,
    /// Countdown per question; `None` in presenter mode.
    pub time_limit: Option<f32>,
    /// The question on screen with its choices in the order shown: shuffled each time it is
    /// asked (a missed question comes back in another order), so a position or a remembered
    /// order answers nothing.
    shown: Option<Question>,
    rng: StdRng,
}

impl QuizRun {
    /// A run whose choices are shuffled differently on every play.
    pub fn new(questions: Vec<Question>, time_limit: Option<f32>) -> QuizRun {
        QuizRun::with_seed(questions, time_limit, rand::random())
    }

    /// A run whose shuffles come from `seed` (the same seed, the same orders).
    pub fn with_seed(questions: Vec<Question>, time_limit: Option<f32>, seed: u64) -> QuizRun {
        let queue = (0..questions.len()).map(|question| Asked { question, retry: false }).collect();
        let mut run = QuizRun {
            questions,
            queue,
            current: None,
            phase: Phase::Finished,
            hearts: START_HEARTS,
            score: 0,
            streak: 0,
            best_streak: 0,
            correct: 0,
            missed: 0,
            missed_questions: Vec::new(),
            asked: 0,
            time_limit,
            shown: None,
            rng: StdRng::seed_from_u64(seed),
        };
        run.advance();
        run
    }

    /// The question on screen, if any.
    /// Its choices are in the order shown (the one `answer` and `Verdict::Wrong` count in).
    pub fn question(&self) -> Option<&Question> {
        self.shown.as_ref()
    }

    /// Answers with choice `chosen` (0-based). Ignored unless a question is being asked or the
    /// choice does not exist.
    pub fn answer(&mut self, chosen: usize) {
        let (Phase::Asking { .. }, Some(asked), Some(question)) = (&self.phase, self.current, &self.shown) else {
            return;
        };
        if chosen >= question.choices.len() {
            return;
        }
        if question.is_correct(chosen) {
            let base = question.difficulty.points();
            let base = if asked.retry { base / 2 } else { base };
            let points = base + STREAK_BONUS * self.streak.min(MAX_STREAK_BONUS_STEPS);
            self.score += points;
            self.streak += 1;
            self.best_streak = self.best_streak.max(self.streak);
            self.correct += 1;
            self.phase = Phase::Answered { verdict: Verdict::Correct { points } };
        } else {
            self.miss(asked);
            self.phase = Phase::Answered { verdict: Verdict::Wrong { chosen } };
        }
    }

    /// Advances the countdown; running out counts as a miss.
    pub fn tick(&mut self, seconds: f32) {
        let (Phase::Asking { time_left: Some(left) }, Some(asked)) = (&mut self.phase, self.current) else {
            return;
        };
        *left -= seconds;
        if *left <= 0.0 {
            self.miss(asked);
            self.phase = Phase::Answered { verdict: Verdict::TimeUp };
        }
    }

    /// Presenter mode: shows the right answer and explanation, without scoring.
    pub fn reveal(&mut self) {
        if matches!(self.phase, Phase::Asking { .. }) && self.current.is_some() {
            self.phase = Phase::Answered { verdict: Verdict::Revealed };
        }
    }

    fn miss(&mut self, asked: Asked) {
        self.hearts = self.hearts.saturating_sub(1);
        self.streak = 0;
        self.missed += 1;
        if !self.missed_questions.contains(&asked.question) {
            self.missed_questions.push(asked.question);
        }
        // Asked again at the end of the run.
        self.queue.push_back(Asked { question: asked.question, retry: true });
    }

    /// The slides that teach what was missed (their ids, each once, in the order first missed).
    pub fn slides_to_review(&self) -> Vec<String> {
        let mut slides: Vec<String> = Vec::new();
        for &i in &self.missed_questions {
            if let Some(taught) = self.questions.get(i).and_then(|q| q.taught_on.as_ref())
                && !slides.contains(&taught.slide)
            {
                slides.push(taught.slide.clone());
            }
        }
        slides
    }

    /// After the explanation: the next question, or the end of the run.
    pub fn next(&mut self) {
        if matches!(self.phase, Phase::Answered { .. }) {
            self.advance();
        }
    }

    fn advance(&mut self) {
        if self.hearts == 0 {
            self.current = None;
            self.shown = None;
            self.phase = Phase::Finished;
            return;
        }
        self.current = self.queue.pop_front();
        if self.current.is_some() {
            self.asked += 1;
        }
        self.shown = self.current.map(|asked| shuffled(&self.questions[asked.question], &mut self.rng));
        self.phase = match self.current {
            Some(_) => Phase::Asking { time_left: self.time_limit },
            None => Phase::Finished,
        };
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Stars: the hearts left when the run ends (0 = out of hearts, not passed).
    pub fn stars(&self) -> u8 {
        if self.is_finished() { self.hearts.min(3) } else { 0 }
    }

    /// Questions still to come (including asked-again ones), not counting the current one.
    pub fn remaining(&self) -> usize {
        self.queue.len()
    }
}

/// `question` with its choices in a random order and its answer index following its answer.
pub fn shuffled(question: &Question, rng: &mut StdRng) -> Question {
    let mut order: Vec<usize> = (0..question.choices.len()).collect();
    order.shuffle(rng);
    let mut shown = question.clone();
    shown.choices = order.iter().map(|&i| question.choices[i].clone()).collect();
    shown.answer = order.iter().position(|&i| i == question.answer).unwrap_or(question.answer);
    shown
}
