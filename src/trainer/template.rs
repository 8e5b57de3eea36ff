//! Chat templates: the Jinja templates Hugging Face models ship (rendered with minijinja in
//! Hugging Face's settings), and ChatML for models without one.

use minijinja::{Environment, ErrorKind, context};
use serde::{Deserialize, Serialize};

use super::load::TokenizerBundle;

/// ChatML, the fallback for models without a template (the format SmolLM2 and Qwen use).
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const TEMPLATE_NAME: &str = "chat";

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage { role: role.into(), content: content.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("chat template does not compile: {0}")]
    Compile(String),
    #[error("chat template failed to render: {0}")]
    Render(String),
}

/// A compiled chat template with the special tokens it may refer to.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    is_fallback: bool,
}

impl ChatTemplate {
    /// Compiles `source` the way transformers does (`trim_blocks`, `lstrip_blocks`, Python
    /// string methods, `raise_exception`).
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> Result<String, minijinja::Error> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned(TEMPLATE_NAME, source.to_string())
            .map_err(|e| TemplateError::Compile(format!("{e:#}")))?;
        Ok(ChatTemplate { env, bos_token: bos_token.to_string(), eos_token: eos_token.to_string(), is_fallback: false })
    }

    /// The model's own template, or ChatML when it has none.
    pub fn for_tokenizer(tokenizer: &TokenizerBundle) -> Result<Self, TemplateError> {
        let name = |id: Option<u32>| id.and_then(|id| tokenizer.token_text(id)).unwrap_or_default();
        let bos = name(tokenizer.bos_id);
        let eos = name(tokenizer.eos_ids.first().copied());
        match &tokenizer.chat_template {
            Some(source) => Self::new(source, &bos, &eos),
            None => {
                let mut template = Self::new(CHATML_TEMPLATE, &bos, &eos)?;
                template.is_fallback = true;
                Ok(template)
            }
        }
    }

    /// True when the model had no template and ChatML is used instead.
    pub fn is_fallback(&self) -> bool {
        self.is_fallback
    }

    /// Renders a conversation; `add_generation_prompt` appends the assistant header so the
    /// model continues with an answer.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String, TemplateError> {
        let template = self.env.get_template(TEMPLATE_NAME).map_err(|e| TemplateError::Render(format!("{e:#}")))?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos_token,
                eos_token => self.eos_token,
            })
            .map_err(|e| TemplateError::Render(format!("{e:#}")))
    }
}
