//! The boss stage's words, Spanish and English side by side.

use crate::content::Lang;
use crate::game::i18n::pick;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Say {
    Title,
    Subtitle,
    StartDefault,
    Setup,
    Model,
    ModelMissing,
    Method,
    Rank,
    Alpha,
    Targets,
    Length,
    LearningRate,
    Dataset,
    CourseData,
    OwnData,
    Device,
    Watched,
    Unavailable,
    Fight,
    SetupKeys,
    EditHint,
    Loading,
    Downloading,
    Health,
    Step,
    TimeLeft,
    TokensPerS,
    Memory,
    TrainLoss,
    ValidLoss,
    LearningRateCurve,
    Layer,
    SingularValues,
    SingularHelp,
    Nf4Block,
    Nf4Help,
    MaxError,
    Cancel,
    Cancelling,
    Defeated,
    Survived,
    Failed,
    FailedHint,
    BeforeAfter,
    Base,
    Adapted,
    Thinking,
    AskYourOwn,
    AskKeys,
    Benchmark,
    BenchHeader,
    AdapterSaved,
    ToCredits,
    Retry,
    WeightMemory,
    TrainedOn,
    Target,
    NotBuilt,
    NotBuiltMetal,
    PastFights,
    Ready,
}

impl Say {
    pub fn tr(self, lang: Lang) -> &'static str {
        pick(lang, self.both())
    }

    fn both(self) -> (&'static str, &'static str) {
        use Say::*;
        match self {
            Title => ("JEFE FINAL: EL GIGANTE CONGELADO", "FINAL BOSS: THE FROZEN GIANT"),
            Subtitle => (
                "Un modelo de lenguaje real (W, congelado). Tu arma: un adaptador LoRA (B·A) entrenado de verdad.",
                "A real language model (W, frozen). Your weapon: a LoRA adapter (B·A), really trained.",
            ),
            StartDefault => ("ENTER · ¡LUCHAR! (ajustes por defecto)", "ENTER · FIGHT! (default settings)"),
            Setup => ("AJUSTES", "SETUP"),
            Model => ("MODELO", "MODEL"),
            ModelMissing => (
                "No encuentro el modelo: ejecuta scripts/fetch-model.sh, o escribe una carpeta, un .gguf o un id de Hugging Face.",
                "Model not found: run scripts/fetch-model.sh, or type a folder, a .gguf or a Hugging Face id.",
            ),
            Method => ("MÉTODO", "METHOD"),
            Rank => ("RANGO r", "RANK r"),
            Alpha => ("ALFA α", "ALPHA α"),
            Targets => ("MÓDULOS", "MODULES"),
            Length => ("DURACIÓN", "LENGTH"),
            LearningRate => ("TASA DE APRENDIZAJE", "LEARNING RATE"),
            Dataset => ("DATOS", "DATA"),
            CourseData => ("curso (español)", "course (English)"),
            OwnData => ("tu JSONL", "your JSONL"),
            Device => ("DISPOSITIVO", "DEVICE"),
            Watched => ("CAPA OBSERVADA", "LAYER WATCHED"),
            Unavailable => ("no disponible", "unavailable"),
            Fight => ("¡LUCHAR!", "FIGHT!"),
            SetupKeys => {
                ("▲▼ elige · ◀ ▶ cambia · ENTER lucha · ESC pausa", "▲▼ choose · ◀ ▶ change · ENTER fight · ESC pause")
            }
            EditHint => ("escribe la ruta · ENTER termina", "type the path · ENTER done"),
            Loading => ("CARGANDO EL MODELO Y LOS DATOS…", "LOADING THE MODEL AND THE DATA…"),
            Downloading => ("DESCARGANDO", "DOWNLOADING"),
            Health => ("VIDA = PÉRDIDA DE VALIDACIÓN", "HEALTH = VALIDATION LOSS"),
            Step => ("PASO", "STEP"),
            TimeLeft => ("QUEDA", "LEFT"),
            TokensPerS => ("tokens/s", "tokens/s"),
            Memory => ("memoria", "memory"),
            TrainLoss => ("pérdida de entrenamiento", "training loss"),
            ValidLoss => ("pérdida de validación", "validation loss"),
            LearningRateCurve => ("tasa de aprendizaje", "learning rate"),
            Layer => ("CAPA", "LAYER"),
            SingularValues => ("VALORES SINGULARES DE ΔW", "SINGULAR VALUES OF ΔW"),
            SingularHelp => (
                "Como mucho r son distintos de cero: ΔW = B·A tiene rango ≤ r.",
                "At most r are non-zero: ΔW = B·A has rank ≤ r.",
            ),
            Nf4Block => ("NF4 DE UN BLOQUE REAL DE W", "NF4 OF A REAL BLOCK OF W"),
            Nf4Help => (
                "Cada peso se guarda como uno de 16 códigos × el absmax de su bloque de 64.",
                "Each weight is stored as one of 16 codes × the absmax of its block of 64.",
            ),
            MaxError => ("error máx.", "max error"),
            Cancel => ("C · RETIRARSE (guarda lo entrenado)", "C · RETREAT (keeps what was trained)"),
            Cancelling => ("terminando el paso…", "finishing the step…"),
            Defeated => ("¡JEFE DERROTADO!", "BOSS DEFEATED!"),
            Survived => ("EL JEFE SIGUE EN PIE", "THE BOSS STILL STANDS"),
            Failed => ("EL ENTRENAMIENTO FALLÓ", "TRAINING FAILED"),
            FailedHint => (
                "Nada guardado se ha perdido. ENTER: volver a los ajustes.",
                "Nothing saved was lost. ENTER: back to the setup.",
            ),
            BeforeAfter => ("ANTES Y DESPUÉS", "BEFORE AND AFTER"),
            Base => ("MODELO BASE", "BASE MODEL"),
            Adapted => ("CON TU ADAPTADOR", "WITH YOUR ADAPTER"),
            Thinking => ("pensando…", "thinking…"),
            AskYourOwn => ("TU PREGUNTA", "YOUR QUESTION"),
            AskKeys => ("escribe y pulsa ENTER", "type and press ENTER"),
            Benchmark => ("PRUEBAS DE RENDIMIENTO", "BENCHMARKS"),
            // The benchmark table's columns, split on " · ".
            BenchHeader => (
                "dispositivo · método · pasos · tiempo · tokens/s · memoria pico · pesos",
                "device · method · steps · time · tokens/s · peak memory · weights",
            ),
            AdapterSaved => ("ADAPTADOR GUARDADO (formato PEFT) EN", "ADAPTER SAVED (PEFT format) IN"),
            ToCredits => ("F10 · GAME OVER", "F10 · GAME OVER"),
            Retry => ("F2 · OTRA PELEA", "F2 · FIGHT AGAIN"),
            WeightMemory => ("memoria de pesos", "weight memory"),
            TrainedOn => ("entrenado con", "trained with"),
            Target => ("objetivo", "target"),
            NotBuilt => (
                "no incluido en esta compilación (scripts/play.sh lo compila si encuentra el controlador)",
                "not in this build (scripts/play.sh builds it when it finds the driver)",
            ),
            NotBuiltMetal => {
                ("solo en macOS (scripts/play.sh lo compila allí)", "macOS only (scripts/play.sh builds it there)")
            }
            PastFights => ("TUS PELEAS EN ESTA MÁQUINA", "YOUR FIGHTS ON THIS MACHINE"),
            Ready => ("¿LISTO?", "READY?"),
        }
    }
}
