//! Every UI chrome string of the arcade in Spanish and English.
//!
//! Level content carries its own [`Text`](crate::content::Text); this table holds only the
//! words around it (buttons, headings, key help), so both languages stay side by side.

use crate::content::Lang;

/// The `lang` one of a (Spanish, English) pair: every table of UI strings reads through this.
pub fn pick(lang: Lang, (es, en): (&'static str, &'static str)) -> &'static str {
    match lang {
        Lang::Es => es,
        Lang::En => en,
    }
}

/// A grid or figure label as the language writes it: the few word labels ("code", "rank", the
/// parameter counts) are translated, symbols (ΔW, B, y, w) stay as they are.
pub fn label_in(label: &str, lang: Lang) -> &str {
    match label {
        "code" => Tr::Code.tr(lang),
        "rank" => Tr::Rank.tr(lang),
        "lora-params" => Tr::LoraParams.tr(lang),
        "full-params" => Tr::FullTuningParams.tr(lang),
        other => other,
    }
}

/// A UI string. `tr(lang)` gives it in one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tr {
    Start,
    PressStart,
    HowToPlay,
    HowIntro,
    GameLessons,
    GameLessonsHelp,
    GameQuiz,
    GameQuizHelp,
    GameMatrix,
    GameMatrixHelp,
    GameNf4,
    GameNf4Help,
    Controls,
    ControlsMenus,
    ControlsQuiz,
    ControlsGrid,
    ControlsNumber,
    ControlsNf4,
    ControlsGlobal,
    Continue,
    LevelMap,
    TotalScore,
    Locked,
    LockedNeeds,
    BossDoor,
    BossLocked,
    BossOpen,
    Slide,
    Next,
    Previous,
    Finish,
    Question,
    Hearts,
    Score,
    Streak,
    Time,
    Correct,
    Wrong,
    TimeUp,
    TheAnswerWas,
    Review,
    Reviewing,
    ToReview,
    ReviewSlides,
    SlideNumber,
    Reveal,
    Puzzle,
    Check,
    Hint,
    NoMoreHints,
    Tries,
    RankBonus,
    TrainableParams,
    FullParams,
    Target,
    Matches,
    Misses,
    YourAnswer,
    Solved,
    NotYet,
    FillEveryCell,
    NowOpen,
    BestApproxWhy,
    CompareErrorWhy,
    FactorizeWhy,
    DeltaWhy,
    ForwardWhy,
    CountWhy,
    RankWhy,
    AbsmaxWhy,
    QuantizeWhy,
    DequantizeWhy,
    MemoryWhy,
    BossDoorOpen,
    LessonsScoreNothing,
    QuizScoring,
    PuzzleScoring,
    HintAfterWrongTry,
    NoHintsLeft,
    NoHints,
    Absmax,
    Nf4Ladder,
    Weight,
    Code,
    LoraParams,
    FullTuningParams,
    Dequantized,
    Error,
    MaxError,
    AfterCheck,
    Results,
    Stars,
    Passed,
    Failed,
    BackToMap,
    Retry,
    NewHighScore,
    YourInitials,
    InitialsHelp,
    HighScores,
    NoHighScores,
    AttractPress,
    AttractHow,
    AttractHowDetail,
    GameOver,
    Thanks,
    Questions,
    FinalScore,
    BackToTitle,
    Paused,
    Resume,
    Settings,
    Language,
    Sound,
    On,
    Off,
    UiScale,
    Presenter,
    InstructorUnlock,
    ReduceMotion,
    Quit,
    SaveWarning,
    PresenterHint,
    Back,
    Choose,
    Type,
    Blank,
    Rank,
    Missed,
    AskedAgain,
    Bonus,
    Perfect,
    Layer,
    LessonKeys,
}

impl Tr {
    /// The string in `lang`.
    pub fn tr(self, lang: Lang) -> &'static str {
        pick(lang, self.both())
    }

    /// (Spanish, English).
    pub fn both(self) -> (&'static str, &'static str) {
        use Tr::*;
        match self {
            // START and GAME OVER are the deck's arcade words, kept in both languages wherever they appear.
            Start => ("START", "START"),
            PressStart => ("PULSA ENTER O ESPACIO", "PRESS ENTER OR SPACE"),
            HowToPlay => ("CÓMO JUGAR", "HOW TO PLAY"),
            HowIntro => ("¡HAY 3 TIPOS DE JUEGO DISTINTOS!", "THERE ARE 3 DIFFERENT TYPES OF GAMES!"),
            GameLessons => ("LECCIONES", "LESSONS"),
            GameLessonsHelp => (
                "Diapositivas sobre ajuste fino (fine-tuning), LoRA y QLoRA. Avanza a tu ritmo.",
                "Slides on fine-tuning, LoRA and QLoRA. Move at your own pace.",
            ),
            GameQuiz => ("1. RESPONDE LA PREGUNTA", "1. ANSWER THE QUESTION"),
            GameQuizHelp => (
                "Elige la respuesta antes de que acabe el tiempo. Tienes 3 corazones; los fallos vuelven más tarde.",
                "Pick the answer before time runs out. You have 3 hearts; missed questions come back later.",
            ),
            GameMatrix => ("2. MATRICES A Y B", "2. MATRICES A AND B"),
            GameMatrixHelp => (
                "Rellena A, B (o y) para que ΔW = B·A dé el objetivo. Cualquier factorización correcta vale.",
                "Fill A, B (or y) so that ΔW = B·A hits the target. Any correct factorization counts.",
            ),
            GameNf4 => ("3. NF4 Y MEMORIA", "3. NF4 AND MEMORY"),
            GameNf4Help => (
                "Cuantiza pesos con la escalera NF4 de 16 pasos y calcula cuánta memoria ocupa un modelo.",
                "Quantize weights with the 16-step NF4 ladder and work out how much memory a model needs.",
            ),
            Controls => ("CONTROLES", "CONTROLS"),
            ControlsMenus => (
                "Menús: ▲ ▼ (o W S) mover · ENTER/ESPACIO elegir · RETROCESO volver",
                "Menus: ▲ ▼ (or W S) move · ENTER/SPACE select · BACKSPACE back",
            ),
            ControlsQuiz => (
                "Preguntas: 1–4 o ▲ ▼ + ENTER · ENTER sigue tras la explicación",
                "Quiz: 1–4 or ▲ ▼ + ENTER · ENTER continues after the explanation",
            ),
            ControlsGrid => (
                "Casillas: flechas y TAB van de casilla en casilla · 0–9 , - escriben · ENTER comprueba · H pista",
                "Cells: arrows and TAB go from cell to cell · 0–9 . - type · ENTER checks · H hint",
            ),
            ControlsNumber => (
                "Número: 0–9 , - escriben · RETROCESO borra · ENTER comprueba · H pista",
                "Number: 0–9 . - type · BACKSPACE deletes · ENTER checks · H hint",
            ),
            ControlsNf4 => (
                "NF4: ◀ ▶ elige peso · ▲ ▼ sube/baja en la escalera · ENTER comprueba · H pista",
                "NF4: ◀ ▶ pick a weight · ▲ ▼ move on the ladder · ENTER checks · H hint",
            ),
            ControlsGlobal => (
                "ESC pausa y ajustes · F5 modo presentador · M silencio",
                "ESC pause and settings · F5 presenter mode · M mute",
            ),
            Continue => ("CONTINUAR", "CONTINUE"),
            LevelMap => ("MAPA DE NIVELES", "LEVEL MAP"),
            TotalScore => ("PUNTOS TOTALES", "TOTAL SCORE"),
            Locked => ("BLOQUEADO", "LOCKED"),
            LockedNeeds => ("Se abre al superar:", "Opens after passing:"),
            BossDoor => ("PUERTA FINAL", "BOSS DOOR"),
            BossLocked => (
                "Supera un nivel de cada tipo: preguntas, matrices y NF4.",
                "Pass one level of each type: quiz, matrices and NF4.",
            ),
            BossOpen => ("¡ABIERTA! Entra para el final.", "OPEN! Enter for the finale."),
            Slide => ("DIAPOSITIVA", "SLIDE"),
            Next => ("SIGUIENTE", "NEXT"),
            Previous => ("ANTERIOR", "PREVIOUS"),
            Finish => ("TERMINAR", "FINISH"),
            Question => ("PREGUNTA", "QUESTION"),
            Hearts => ("VIDAS", "HEARTS"),
            Score => ("PUNTOS", "SCORE"),
            Streak => ("RACHA", "STREAK"),
            Time => ("TIEMPO", "TIME"),
            Correct => ("¡CORRECTO!", "CORRECT!"),
            Wrong => ("¡FALLO!", "WRONG!"),
            TimeUp => ("¡SE ACABÓ EL TIEMPO!", "TIME'S UP!"),
            TheAnswerWas => ("La respuesta era:", "The answer was:"),
            Review => ("Repásalo en", "Review it on"),
            Reviewing => ("REPASO", "REVIEW"),
            ToReview => ("Para repasar lo fallado: diapositivas", "To review what you missed: slides"),
            ReviewSlides => ("REPASAR LO FALLADO", "REVIEW WHAT I MISSED"),
            SlideNumber => ("diapositiva", "slide"),
            Reveal => ("R: MOSTRAR RESPUESTA", "R: REVEAL ANSWER"),
            Puzzle => ("PUZLE", "PUZZLE"),
            Check => ("COMPROBAR", "CHECK"),
            Hint => ("PISTA", "HINT"),
            NoMoreHints => ("No quedan pistas", "No hints left"),
            Tries => ("INTENTOS FALLIDOS", "WRONG TRIES"),
            RankBonus => ("BONUS RANGO MÍNIMO", "SMALLEST-RANK BONUS"),
            TrainableParams => ("Parámetros entrenables LoRA", "LoRA trainable parameters"),
            FullParams => ("Matriz completa", "Full matrix"),
            Target => ("OBJETIVO", "TARGET"),
            Matches => ("coinciden", "match"),
            Misses => ("fallan", "miss"),
            YourAnswer => ("TU RESPUESTA", "YOUR ANSWER"),
            Solved => ("¡RESUELTO!", "SOLVED!"),
            NotYet => ("Todavía no.", "Not yet."),
            HintAfterWrongTry => (
                "Las pistas se abren tras un intento fallido: prueba primero con ENTER.",
                "Hints open after a wrong try: have a go with ENTER first.",
            ),
            NoHintsLeft => ("Ya ves todas las pistas de este puzle.", "You already see every hint of this puzzle."),
            NoHints => ("Este puzle no tiene pistas.", "This puzzle has no hints."),
            LessonsScoreNothing => (
                "Las lecciones no dan puntos: los puntos y las estrellas vienen de las preguntas y los puzles.",
                "Lessons score nothing: points and stars come from the quizzes and the puzzles.",
            ),
            QuizScoring => (
                "Cada acierto suma puntos (más con racha); las estrellas siguen a la puntuación del nivel.",
                "Each right answer scores (more on a streak); the stars follow the level's score.",
            ),
            PuzzleScoring => (
                "Cada puzle da sus puntos menos pistas y fallos (+50 por el rango mínimo); las estrellas son la media de las de cada puzle.",
                "Each puzzle gives its points minus hints and misses (+50 for the smallest rank); the stars are the average of each puzzle's.",
            ),
            BestApproxWhy => (
                "La mejor aproximación de rango r conserva los r valores singulares mayores (Eckart–Young): ningún otro rango r se acerca más.",
                "The best rank-r approximation keeps the r largest singular values (Eckart–Young): no other rank-r matrix comes closer.",
            ),
            FactorizeWhy => (
                "Esto es LoRA: la actualización ΔW se guarda como B·A, con muchos menos números; entrenar B y A es entrenar ΔW.",
                "This is LoRA: the update ΔW is stored as B·A, with far fewer numbers; training B and A trains ΔW.",
            ),
            DeltaWhy => (
                "Cada casilla de ΔW es una fila de B por una columna de A: ΔW entera sale de B y A, por eso LoRA solo guarda y entrena esas dos.",
                "Each cell of ΔW is a row of B times a column of A: all of ΔW comes from B and A, which is why LoRA stores and trains only those two.",
            ),
            ForwardWhy => (
                "W no cambia: el adaptador suma (α/r)·B(Ax) a la salida. Multiplicar A primero cuesta r·(d_in + d_out) por entrada; formar B·A costaría r·d_in·d_out más.",
                "W does not change: the adapter adds (α/r)·B(Ax) to the output. Multiplying by A first costs r·(d_in + d_out) per input; forming B·A would cost another r·d_in·d_out.",
            ),
            CountWhy => (
                "Por eso un adaptador ocupa megas y no gigas, y AdamW solo guarda estado (dos momentos) para B y A.",
                "That is why an adapter is megabytes, not gigabytes, and AdamW keeps state (two moments) only for B and A.",
            ),
            RankWhy => (
                "Rango bajo = filas que se repiten combinadas: LoRA apuesta a que la actualización del ajuste fino es así, y la guarda con r·(d_in + d_out) números.",
                "Low rank = rows that are combinations of a few: LoRA bets the fine-tuning update is like that, and stores it with r·(d_in + d_out) numbers.",
            ),
            AbsmaxWhy => (
                "El absmax es la escala del bloque: el peso más grande cae en el código ±1 y vuelve exacto; los demás se redondean en pasos que crecen con él.",
                "The absmax is the block's scale: the largest weight lands on code ±1 and comes back exact; the others round in steps that grow with it.",
            ),
            QuantizeWhy => (
                "Cuatro bits por peso y un absmax por bloque: los pesos ocupan casi 4 veces menos que en 16 bits, a cambio de este pequeño error.",
                "Four bits per weight and one absmax per block: the weights take almost 4× less than at 16 bits, for this small error.",
            ),
            DequantizeWhy => (
                "QLoRA descuantiza así cada bloque justo antes de multiplicar: se guarda en 4 bits y se calcula en bf16.",
                "QLoRA dequantizes each block like this just before multiplying: stored in 4 bits, computed in bf16.",
            ),
            MemoryWhy => (
                "Solo pesos (GB = 10⁹ bytes): al entrenar se suman adaptadores, gradientes, estados del optimizador y activaciones.",
                "Weights only (GB = 10⁹ bytes): training adds adapters, gradients, optimizer states and activations.",
            ),
            CompareErrorWhy => (
                "El error depende del absmax (el paso entre códigos crece con él) y de cuánto cae cada peso de su código más cercano: un valor atípico estira la escala de todo su bloque.",
                "The error depends on the absmax (the step between codes grows with it) and on how far each weight falls from its nearest code: one outlier stretches the scale of its whole block.",
            ),
            NowOpen => ("ABIERTO AHORA", "OPEN NOW"),
            BossDoorOpen => ("¡LA PUERTA DEL JEFE!", "THE BOSS DOOR!"),
            FillEveryCell => (
                "✎ Rellena todas las casillas primero: una casilla vacía no es un 0 (no cuenta como intento).",
                "✎ Fill in every cell first: an empty cell is not a 0 (this try does not count).",
            ),
            Absmax => ("absmax", "absmax"),
            Nf4Ladder => ("ESCALERA NF4", "NF4 LADDER"),
            Weight => ("peso", "weight"),
            Code => ("código", "code"),
            LoraParams => ("parámetros de LoRA", "LoRA parameters"),
            FullTuningParams => ("parámetros del ajuste completo", "full fine-tuning parameters"),
            Dequantized => ("descuantizado", "dequantized"),
            Error => ("error", "error"),
            MaxError => ("error máx.", "max error"),
            AfterCheck => (
                "ŵ y el error se ven al comprobar (ENTER: cuenta como intento)",
                "ŵ and the error show when you check (ENTER: it counts as a try)",
            ),
            Results => ("RESULTADOS", "RESULTS"),
            Stars => ("ESTRELLAS", "STARS"),
            Passed => ("¡NIVEL SUPERADO!", "LEVEL PASSED!"),
            Failed => ("NIVEL NO SUPERADO", "LEVEL NOT PASSED"),
            BackToMap => ("VOLVER AL MAPA", "BACK TO MAP"),
            Retry => ("REINTENTAR", "RETRY"),
            NewHighScore => ("¡NUEVO RÉCORD!", "NEW HIGH SCORE!"),
            YourInitials => ("TUS INICIALES", "YOUR INITIALS"),
            InitialsHelp => (
                "▲▼ letra · ◀▶ mover · o escríbelas · ENTER guardar",
                "▲▼ letter · ◀▶ move · or type them · ENTER save",
            ),
            HighScores => ("RÉCORDS", "HIGH SCORES"),
            NoHighScores => ("Aún no hay récords: ¡pon el primero!", "No high scores yet: set the first!"),
            AttractPress => ("PULSA UNA TECLA", "PRESS ANY KEY"),
            AttractHow => ("ΔW = B·A: SE ENTRENAN B Y A, W QUEDA CONGELADA", "ΔW = B·A: TRAIN B AND A, W STAYS FROZEN"),
            AttractHowDetail => (
                "6×6 = 36 números con solo 6 + 6 = 12 entrenables (rango 1)",
                "6×6 = 36 numbers from only 6 + 6 = 12 trainable ones (rank 1)",
            ),
            GameOver => ("GAME OVER", "GAME OVER"),
            Thanks => ("GRACIAS", "THANK YOU"),
            Questions => ("¿PREGUNTAS?", "QUESTIONS?"),
            FinalScore => ("PUNTUACIÓN FINAL", "FINAL SCORE"),
            BackToTitle => ("VOLVER AL TÍTULO", "BACK TO TITLE"),
            Paused => ("PAUSA", "PAUSED"),
            Resume => ("SEGUIR", "RESUME"),
            Settings => ("AJUSTES", "SETTINGS"),
            Language => ("IDIOMA", "LANGUAGE"),
            Sound => ("SONIDO", "SOUND"),
            On => ("SÍ", "ON"),
            Off => ("NO", "OFF"),
            UiScale => ("TAMAÑO", "UI SCALE"),
            Presenter => ("MODO PRESENTADOR", "PRESENTER MODE"),
            ReduceMotion => ("MOVIMIENTO REDUCIDO", "REDUCE MOTION"),
            InstructorUnlock => ("DESBLOQUEO INSTRUCTOR", "INSTRUCTOR UNLOCK"),
            Quit => ("SALIR DEL JUEGO", "QUIT GAME"),
            SaveWarning => ("AVISO: partida guardada ilegible", "WARNING: unreadable save file"),
            PresenterHint => (
                "PRESENTADOR: ◀ ▶ / ESPACIO / RE PÁG / AV PÁG mueven · R muestra la respuesta",
                "PRESENTER: ◀ ▶ / SPACE / PAGE UP / PAGE DOWN move · R reveals the answer",
            ),
            Back => ("VOLVER", "BACK"),
            Choose => ("ELIGE", "CHOOSE"),
            Type => ("ESCRIBE", "TYPE"),
            Blank => ("?", "?"),
            Rank => ("rango", "rank"),
            Missed => ("falladas", "missed"),
            AskedAgain => ("(repetida)", "(again)"),
            Bonus => ("BONUS", "BONUS"),
            Perfect => ("¡PERFECTO!", "PERFECT!"),
            Layer => ("capa", "layer"),
            LessonKeys => ("◀ ▶ / ESPACIO / RE PÁG / AV PÁG", "◀ ▶ / SPACE / PAGE UP / PAGE DOWN"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_and_english_are_both_present() {
        for key in [Tr::Start, Tr::Thanks, Tr::Questions, Tr::Settings, Tr::ControlsGrid] {
            let (es, en) = key.both();
            assert!(!es.trim().is_empty() && !en.trim().is_empty(), "{key:?}");
        }
        assert_eq!(Tr::Thanks.tr(Lang::Es), "GRACIAS");
        assert_eq!(Tr::Thanks.tr(Lang::En), "THANK YOU");
    }
}
