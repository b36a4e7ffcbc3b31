//! Which metrics carry token usage, which attribute names the token type,
//! and how each agent's counts become disjoint [`TokenCounts`] (tokenledger
//! counts `input` without cached tokens; Gemini and OpenAI count them in).

use tokenledger_core::event::TokenCounts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `claude_code.token.usage` and `claude_code.cost.usage`.
    Claude,
    /// `gemini_cli.token.usage`.
    Gemini,
    /// `codex.turn.token_usage`.
    Codex,
    /// `gen_ai.client.token.usage` and `gen_ai.client.inference.usage.*`.
    GenAi,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Claude => "claude-code",
            Family::Gemini => "gemini-cli",
            Family::Codex => "codex",
            Family::GenAi => "gen-ai",
        }
    }
}

/// What one data point measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    Reasoning,
    /// Gemini's thoughts: billed as output but not inside it.
    Thought,
    /// Gemini's tool-use prompt tokens: input.
    Tool,
    Cost,
}

/// How a metric's points say which field they are.
pub enum FieldOf {
    Fixed(Field),
    /// The attribute holding the token type, and the family's vocabulary.
    Attribute(&'static [&'static str], fn(&str) -> Option<Field>),
}

/// The family and field mapping of a metric name, `None` for other metrics.
pub fn metric(name: &str) -> Option<(Family, FieldOf)> {
    use Field::*;
    Some(match name {
        "claude_code.token.usage" => (Family::Claude, FieldOf::Attribute(&["type"], claude_type)),
        "claude_code.cost.usage" => (Family::Claude, FieldOf::Fixed(Cost)),
        "gemini_cli.token.usage" => (Family::Gemini, FieldOf::Attribute(&["type"], gemini_type)),
        "codex.turn.token_usage" => (
            Family::Codex,
            FieldOf::Attribute(&["token_type", "type", "gen_ai.token.type"], codex_type),
        ),
        "gen_ai.client.token.usage" => (
            Family::GenAi,
            FieldOf::Attribute(&["gen_ai.token.type"], genai_type),
        ),
        "gen_ai.client.inference.usage.input_tokens" => (Family::GenAi, FieldOf::Fixed(Input)),
        "gen_ai.client.inference.usage.output_tokens" => (Family::GenAi, FieldOf::Fixed(Output)),
        "gen_ai.client.inference.usage.cache_read.input_tokens" => {
            (Family::GenAi, FieldOf::Fixed(CacheRead))
        }
        "gen_ai.client.inference.usage.cache_write.input_tokens" => {
            (Family::GenAi, FieldOf::Fixed(CacheWrite))
        }
        "gen_ai.client.inference.usage.reasoning.output_tokens" => {
            (Family::GenAi, FieldOf::Fixed(Reasoning))
        }
        _ => return None,
    })
}

fn claude_type(t: &str) -> Option<Field> {
    Some(match t {
        "input" => Field::Input,
        "output" => Field::Output,
        "cacheRead" => Field::CacheRead,
        "cacheCreation" => Field::CacheWrite,
        _ => return None,
    })
}

fn gemini_type(t: &str) -> Option<Field> {
    Some(match t {
        "input" => Field::Input,
        "output" => Field::Output,
        "cache" => Field::CacheRead,
        "thought" => Field::Thought,
        "tool" => Field::Tool,
        _ => return None,
    })
}

fn codex_type(t: &str) -> Option<Field> {
    Some(match t {
        "input" => Field::Input,
        "output" => Field::Output,
        "cached_input" | "cached" | "cache_read" => Field::CacheRead,
        "reasoning_output" | "reasoning" => Field::Reasoning,
        _ => return None, // "total" and the like repeat the others
    })
}

fn genai_type(t: &str) -> Option<Field> {
    Some(match t {
        "input" => Field::Input,
        "output" => Field::Output,
        _ => return None,
    })
}

/// The raw values of one request's (or one series group's) fields, as sent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Raw {
    pub values: [f64; 8],
    pub has_cost: bool,
}

impl Raw {
    pub fn add(&mut self, field: Field, value: f64) {
        self.values[field as usize] += value;
        if field == Field::Cost {
            self.has_cost = true;
        }
    }

    fn get(&self, field: Field) -> u64 {
        let v = self.values[field as usize];
        if v.is_finite() && v > 0.0 {
            v.round() as u64
        } else {
            0
        }
    }

    pub fn cost(&self) -> Option<f64> {
        self.has_cost.then(|| self.values[Field::Cost as usize])
    }

    /// Disjoint token counts as tokenledger keeps them.
    pub fn tokens(&self, family: Family) -> TokenCounts {
        use Field::*;
        let (input, cache_read) = (self.get(Input), self.get(CacheRead));
        match family {
            Family::Claude => TokenCounts {
                input,
                output: self.get(Output),
                cache_read,
                cache_write_5m: self.get(CacheWrite),
                ..TokenCounts::default()
            },
            Family::Gemini => TokenCounts {
                input: input.saturating_sub(cache_read) + self.get(Tool),
                output: self.get(Output) + self.get(Thought),
                cache_read,
                reasoning: self.get(Thought),
                ..TokenCounts::default()
            },
            Family::Codex | Family::GenAi => {
                let cache_write = self.get(CacheWrite);
                TokenCounts {
                    input: input.saturating_sub(cache_read + cache_write),
                    output: self.get(Output),
                    cache_read,
                    cache_write_5m: cache_write,
                    reasoning: self.get(Reasoning),
                    ..TokenCounts::default()
                }
            }
        }
    }
}
