//! The subset of Go's text/template that rule labels and annotations use,
//! with Prometheus's template functions.
//!
//! Supported: text; actions `{{ ... }}` with `{{-`/`-}}` trimming and
//! `{{/* comments */}}`; operands `$value`, `$labels.name`, `$labels`,
//! `$externalLabels.name`, `$externalURL`, `.Value`, `.Labels.name`, string
//! and number literals; pipes (`{{ $value | humanize }}`); and the functions
//! `humanize`, `humanize1024`, `humanizeDuration`, `humanizePercentage`,
//! `humanizeTimestamp`, `printf`, `toUpper`, `toLower`, `title`,
//! `stripPort`, `reReplaceAll` and `match`. Control structures (`if`,
//! `range`, `with`) and `query` are refused when the rule file loads, so a
//! template that loads always expands. A missing label expands to the empty
//! string, as Prometheus's `missingkey=zero` does.

mod funcs;

use std::collections::BTreeMap;

pub use funcs::{format_alert_value, format_g, humanize, humanize_duration, humanize1024};
use funcs::{humanize_timestamp, printf, strip_port, title};

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// What a template is expanded with.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The alert's or sample's labels (`$labels`).
    pub labels: &'a BTreeMap<String, String>,
    /// The sample value (`$value`).
    pub value: f64,
    /// The configured external labels (`$externalLabels`).
    pub external_labels: &'a BTreeMap<String, String>,
    /// The external URL (`$externalURL`).
    pub external_url: &'a str,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Vec<Command>),
}

#[derive(Debug, Clone, PartialEq)]
struct Command {
    func: Option<Func>,
    args: Vec<Operand>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Value,
    Label(String),
    Labels,
    ExternalLabel(String),
    ExternalLabels,
    ExternalUrl,
    Str(String),
    Num(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Humanize,
    Humanize1024,
    HumanizeDuration,
    HumanizePercentage,
    HumanizeTimestamp,
    Printf,
    ToUpper,
    ToLower,
    Title,
    StripPort,
    ReReplaceAll,
    Match,
}

impl Func {
    fn parse(name: &str) -> Result<Func, String> {
        Ok(match name {
            "humanize" => Func::Humanize,
            "humanize1024" => Func::Humanize1024,
            "humanizeDuration" => Func::HumanizeDuration,
            "humanizePercentage" => Func::HumanizePercentage,
            "humanizeTimestamp" => Func::HumanizeTimestamp,
            "printf" => Func::Printf,
            "toUpper" => Func::ToUpper,
            "toLower" => Func::ToLower,
            "title" => Func::Title,
            "stripPort" => Func::StripPort,
            "reReplaceAll" => Func::ReReplaceAll,
            "match" => Func::Match,
            "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" => {
                return Err(format!("control structure {name:?} is not supported"));
            }
            _ => return Err(format!("function {name:?} not defined")),
        })
    }

    /// The number of arguments, or `None` for printf's variadic list.
    fn arity(self) -> Option<usize> {
        match self {
            Func::Printf => None,
            Func::ReReplaceAll => Some(3),
            Func::Match => Some(2),
            _ => Some(1),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Num(f64),
    Str(String),
    Bool(bool),
    Map(BTreeMap<String, String>),
}

impl Val {
    fn to_text(&self) -> String {
        match self {
            Val::Num(v) => format_g(*v, None),
            Val::Str(s) => s.clone(),
            Val::Bool(b) => b.to_string(),
            Val::Map(m) => {
                let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", pairs.join(" "))
            }
        }
    }

    fn to_float(&self) -> Result<f64, String> {
        match self {
            Val::Num(v) => Ok(*v),
            Val::Str(s) => s.trim().parse().map_err(|_| format!("can't convert {s:?} to float")),
            Val::Bool(_) | Val::Map(_) => Err(format!("can't convert {} to float", self.to_text())),
        }
    }
}

impl Template {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// A message naming the problem: an unclosed action, an unknown
    /// function or variable, a control structure, a wrong argument count.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut nodes = Vec::new();
        let mut rest = text;
        let mut trim_next = false;
        while !rest.is_empty() {
            let Some(open) = rest.find("{{") else {
                push_text(&mut nodes, rest, trim_next, false);
                break;
            };
            let mut inner_start = open + 2;
            let trim_before = rest[inner_start..].starts_with("- ") || rest[inner_start..].starts_with("-\t");
            if trim_before {
                inner_start += 1;
            }
            push_text(&mut nodes, &rest[..open], trim_next, trim_before);
            let close = rest[inner_start..].find("}}").ok_or_else(|| "unclosed action".to_owned())? + inner_start;
            let mut inner = &rest[inner_start..close];
            trim_next = inner.ends_with(" -") || inner.ends_with("\t-");
            if trim_next {
                inner = &inner[..inner.len() - 1];
            }
            rest = &rest[close + 2..];
            let inner = inner.trim();
            if inner.starts_with("/*") {
                if !inner.ends_with("*/") {
                    return Err("unclosed comment".to_owned());
                }
                continue;
            }
            nodes.push(Node::Action(parse_pipeline(inner)?));
        }
        Ok(Template { nodes })
    }

    /// Whether the template is plain text (expanding it returns it unchanged).
    pub fn is_text(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, Node::Text(_)))
    }

    /// Expands the template. A function that fails at run time (a value
    /// that is not a number, a bad printf argument) expands the whole
    /// template to `<error expanding template: ...>`, as Prometheus does.
    pub fn expand(&self, context: &Context<'_>) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Action(commands) => match run_pipeline(commands, context) {
                    Ok(val) => out.push_str(&val.to_text()),
                    Err(message) => return format!("<error expanding template: {message}>"),
                },
            }
        }
        out
    }
}

/// Parses and expands `text` in one go, for callers with a one-off template.
///
/// # Errors
///
/// As [`Template::parse`].
pub fn expand(text: &str, context: &Context<'_>) -> Result<String, String> {
    Ok(Template::parse(text)?.expand(context))
}

fn push_text(nodes: &mut Vec<Node>, text: &str, trim_start: bool, trim_end: bool) {
    let mut text = text;
    if trim_start {
        text = text.trim_start();
    }
    if trim_end {
        text = text.trim_end();
    }
    if !text.is_empty() {
        nodes.push(Node::Text(text.to_owned()));
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Pipe,
    Word(String),
    Str(String),
    Num(f64),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '|' {
            tokens.push(Token::Pipe);
            i += 1;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&c) = chars.get(i) else { return Err("unterminated quoted string".to_owned()) };
                i += 1;
                match c {
                    '"' => break,
                    '\\' => {
                        let escaped = chars.get(i).copied().ok_or_else(|| "unterminated quoted string".to_owned())?;
                        i += 1;
                        s.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    other => s.push(other),
                }
            }
            tokens.push(Token::Str(s));
        } else if c == '`' {
            let start = i + 1;
            let end =
                chars[start..].iter().position(|&c| c == '`').ok_or_else(|| "unterminated raw string".to_owned())?;
            tokens.push(Token::Str(chars[start..start + end].iter().collect()));
            i = start + end + 1;
        } else if c == '(' || c == ')' {
            return Err("parenthesized pipelines are not supported".to_owned());
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '|' && chars[i] != '(' && chars[i] != ')'
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
                let number = word.parse().map_err(|_| format!("bad number syntax: {word:?}"))?;
                tokens.push(Token::Num(number));
            } else {
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

fn parse_pipeline(text: &str) -> Result<Vec<Command>, String> {
    if text.is_empty() {
        return Err("missing value for command".to_owned());
    }
    if text.contains(":=") || text.contains(" = ") {
        return Err("variable declarations are not supported".to_owned());
    }
    let tokens = tokenize(text)?;
    let mut commands = Vec::new();
    for (idx, part) in tokens.split(|t| *t == Token::Pipe).enumerate() {
        let Some((first, rest)) = part.split_first() else {
            return Err("missing command in pipeline".to_owned());
        };
        let piped = idx > 0;
        let command = match first {
            Token::Word(word) if !word.starts_with('$') && !word.starts_with('.') => {
                let func = Func::parse(word)?;
                let args = rest.iter().map(parse_operand).collect::<Result<Vec<_>, _>>()?;
                let n_args = args.len() + usize::from(piped);
                match func.arity() {
                    Some(n) if n != n_args => {
                        return Err(format!("wrong number of args for {word}: want {n} got {n_args}"));
                    }
                    None if n_args == 0 => {
                        return Err(format!("wrong number of args for {word}: want at least 1 got 0"));
                    }
                    _ => {}
                }
                Command { func: Some(func), args }
            }
            _ => {
                if piped || !rest.is_empty() {
                    return Err(format!("can't give argument to non-function {}", describe(first)));
                }
                Command { func: None, args: vec![parse_operand(first)?] }
            }
        };
        commands.push(command);
    }
    Ok(commands)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => w.clone(),
        Token::Str(s) => format!("{s:?}"),
        Token::Num(n) => format_g(*n, None),
        Token::Pipe => "|".to_owned(),
    }
}

fn parse_operand(token: &Token) -> Result<Operand, String> {
    match token {
        Token::Str(s) => Ok(Operand::Str(s.clone())),
        Token::Num(n) => Ok(Operand::Num(*n)),
        Token::Pipe => Err("unexpected \"|\"".to_owned()),
        Token::Word(word) => {
            let (root, field) = match word.find('.').filter(|&i| i > 0) {
                Some(dot) => (&word[..dot], Some(&word[dot + 1..])),
                None => (word.as_str(), None),
            };
            match (root, field) {
                ("$value" | ".Value", None) => Ok(Operand::Value),
                ("$labels" | ".Labels", None) => Ok(Operand::Labels),
                ("$labels", Some(name)) => Ok(Operand::Label(name.to_owned())),
                ("$externalLabels" | ".ExternalLabels", None) => Ok(Operand::ExternalLabels),
                ("$externalLabels", Some(name)) => Ok(Operand::ExternalLabel(name.to_owned())),
                ("$externalURL" | ".ExternalURL", None) => Ok(Operand::ExternalUrl),
                _ => {
                    if let Some(name) = word.strip_prefix(".Labels.") {
                        Ok(Operand::Label(name.to_owned()))
                    } else if let Some(name) = word.strip_prefix(".ExternalLabels.") {
                        Ok(Operand::ExternalLabel(name.to_owned()))
                    } else if word.starts_with('$') {
                        Err(format!("undefined variable {root:?}"))
                    } else {
                        Err(format!("can't evaluate field {word}"))
                    }
                }
            }
        }
    }
}

fn run_pipeline(commands: &[Command], context: &Context<'_>) -> Result<Val, String> {
    let mut piped: Option<Val> = None;
    for command in commands {
        let mut args: Vec<Val> = command.args.iter().map(|a| operand_value(a, context)).collect();
        args.extend(piped.take());
        piped = Some(match command.func {
            None => args.into_iter().next().ok_or_else(|| "empty command".to_owned())?,
            Some(func) => call(func, &args)?,
        });
    }
    piped.ok_or_else(|| "empty pipeline".to_owned())
}

fn operand_value(operand: &Operand, context: &Context<'_>) -> Val {
    match operand {
        Operand::Value => Val::Num(context.value),
        Operand::Label(name) => Val::Str(context.labels.get(name).cloned().unwrap_or_default()),
        Operand::Labels => Val::Map(context.labels.clone()),
        Operand::ExternalLabel(name) => Val::Str(context.external_labels.get(name).cloned().unwrap_or_default()),
        Operand::ExternalLabels => Val::Map(context.external_labels.clone()),
        Operand::ExternalUrl => Val::Str(context.external_url.to_owned()),
        Operand::Str(s) => Val::Str(s.clone()),
        Operand::Num(n) => Val::Num(*n),
    }
}

fn call(func: Func, args: &[Val]) -> Result<Val, String> {
    let text = |i: usize| args.get(i).map(Val::to_text).unwrap_or_default();
    let float = |i: usize| args.get(i).ok_or_else(|| "missing argument".to_owned()).and_then(Val::to_float);
    Ok(match func {
        Func::Humanize => Val::Str(humanize(float(0)?)),
        Func::Humanize1024 => Val::Str(humanize1024(float(0)?)),
        Func::HumanizeDuration => Val::Str(humanize_duration(float(0)?)),
        Func::HumanizePercentage => Val::Str(format!("{}%", format_g(float(0)? * 100.0, Some(4)))),
        Func::HumanizeTimestamp => Val::Str(humanize_timestamp(float(0)?)),
        Func::Printf => {
            let (format, rest) = args.split_first().ok_or_else(|| "missing format".to_owned())?;
            Val::Str(printf(&format.to_text(), rest))
        }
        Func::ToUpper => Val::Str(text(0).to_uppercase()),
        Func::ToLower => Val::Str(text(0).to_lowercase()),
        Func::Title => Val::Str(title(&text(0))),
        Func::StripPort => Val::Str(strip_port(&text(0))),
        Func::ReReplaceAll => {
            let pattern = regex::Regex::new(&text(0)).map_err(|e| e.to_string())?;
            Val::Str(pattern.replace_all(&text(2), text(1).as_str()).into_owned())
        }
        Func::Match => {
            let pattern = regex::Regex::new(&text(0)).map_err(|e| e.to_string())?;
            Val::Bool(pattern.is_match(&text(1)))
        }
    })
}

#[cfg(test)]
mod tests;
