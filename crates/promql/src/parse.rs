//! Parsing queries: `promql-parser`'s grammar, plus what Prometheus 3
//! accepts that it rejects, and syntax errors with a position (`position`).
//!
//! Prometheus lets `info()`'s second argument be a label selector whose
//! matchers all match the empty string (`info(m, {data=~".*"})`), which any
//! other selector may not be; `promql-parser` refuses it everywhere. Such a
//! selector is parsed with a placeholder matcher added, which the
//! evaluator of `info()` leaves out.

mod position;
mod tokens;

use promql_parser::parser::token::{
    T_COMMA, T_IDENTIFIER, T_LEFT_BRACE, T_LEFT_BRACKET, T_LEFT_PAREN, T_RIGHT_BRACE, T_RIGHT_BRACKET, T_RIGHT_PAREN,
    TokenType,
};
use promql_parser::parser::{self, Expr};

use crate::{Error, Result};

/// The label of the placeholder matcher in `info()`'s label selector.
pub(crate) const INFO_PLACEHOLDER_LABEL: &str = "__infersight_info_placeholder__";

/// Parses `query` into the syntax tree the engine evaluates. The API, rule
/// files and the engine all parse through this, so they accept the same
/// queries and report the same errors.
///
/// # Errors
///
/// [`Error::Parse`] when the query does not parse or does not type-check.
/// Syntax errors read as Prometheus's do, with the line and column where
/// the query goes wrong (`1:7: parse error: unexpected <op:+>`); type errors
/// keep the parser's message, which has no position.
pub fn parse(query: &str) -> Result<Expr> {
    check_nesting(query)?;
    parser::parse(query).or_else(|message| {
        with_info_placeholders(query)
            .and_then(|rewritten| parser::parse(&rewritten).ok())
            .ok_or_else(|| Error::Parse { message: position::describe(query, &message) })
    })
}

/// How deep a query's syntax tree may be, counted as its brackets' nesting
/// plus its operators (each operator of a chain like `a + b + c` nests one
/// level deeper). The tree is built, walked and dropped recursively; a
/// query past this would overflow a thread's stack and end the process.
pub const MAX_NESTING: usize = 1_000;

/// Refuses a query nested deeper than [`MAX_NESTING`] before the parser
/// builds its tree. Label matchers (`{a="x"}`) are not operators here. A
/// query the lexer cannot read is left to the parser to describe.
fn check_nesting(query: &str) -> Result<()> {
    let Ok(tokens) = tokens::tokens(query) else { return Ok(()) };
    let (mut depth, mut deepest, mut operators, mut in_braces) = (0usize, 0usize, 0usize, 0usize);
    for token in &tokens {
        match token.id {
            T_LEFT_PAREN | T_LEFT_BRACKET => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            T_RIGHT_PAREN | T_RIGHT_BRACKET => depth = depth.saturating_sub(1),
            T_LEFT_BRACE => in_braces += 1,
            T_RIGHT_BRACE => in_braces = in_braces.saturating_sub(1),
            id if in_braces == 0 && TokenType::new(id).is_operator() => operators += 1,
            _ => {}
        }
    }
    if deepest + operators > MAX_NESTING {
        return Err(Error::Parse {
            message: format!(
                "query too deeply nested: {deepest} levels of brackets and {operators} operators, \
                 more than {MAX_NESTING} together"
            ),
        });
    }
    Ok(())
}

/// `query` with a placeholder matcher in the label selector of every
/// `info(…, {…})` call, or `None` if it has no such call.
fn with_info_placeholders(query: &str) -> Option<String> {
    let tokens = tokens::tokens(query).ok()?;
    let mut insert_at: Vec<(usize, bool)> = Vec::new();
    for (i, pair) in tokens.windows(2).enumerate() {
        let is_info_call =
            pair[0].id == T_IDENTIFIER && &query[pair[0].start..pair[0].end] == "info" && pair[1].id == T_LEFT_PAREN;
        if !is_info_call {
            continue;
        }
        // The second argument starts after the first comma at the call's own depth.
        let mut depth = 0usize;
        for (j, token) in tokens.iter().enumerate().skip(i + 1) {
            match token.id {
                T_LEFT_PAREN => depth += 1,
                T_RIGHT_PAREN if depth <= 1 => break,
                T_RIGHT_PAREN => depth -= 1,
                T_COMMA if depth == 1 => {
                    if let (Some(brace), Some(next)) = (tokens.get(j + 1), tokens.get(j + 2))
                        && brace.id == T_LEFT_BRACE
                    {
                        insert_at.push((brace.end, next.id != T_RIGHT_BRACE));
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    if insert_at.is_empty() {
        return None;
    }
    let mut rewritten = String::with_capacity(query.len() + insert_at.len() * 48);
    let mut copied = 0;
    for (at, needs_comma) in insert_at {
        rewritten.push_str(&query[copied..at]);
        rewritten.push_str(INFO_PLACEHOLDER_LABEL);
        rewritten.push_str("=\"1\"");
        if needs_comma {
            rewritten.push(',');
        }
        copied = at;
    }
    rewritten.push_str(&query[copied..]);
    Some(rewritten)
}

#[cfg(test)]
mod tests;
