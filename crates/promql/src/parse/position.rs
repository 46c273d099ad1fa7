//! Where a query that does not parse goes wrong, worded as Prometheus words
//! parse errors: `1:7: parse error: unexpected <op:+>`.
//!
//! `promql-parser` reports no position: its lexer's messages have none, and
//! its grammar errors all read "invalid promql query". Both are located here
//! from outside the parser, with its public lexer and parser only:
//!
//! * A lexer error is at the end of the shortest prefix of the query that
//!   fails with the same message. The lexer reads left to right and stops at
//!   its first error, so every prefix that ends before the offending
//!   character lexes cleanly or fails only for ending early (unclosed
//!   brackets, strings); those "ended early" messages are reported at the
//!   end of the query, where Prometheus reports them too.
//! * A grammar error is at the first token that cannot extend the tokens
//!   before it into any valid query, the token at which an LR parser stops.
//!   A prefix is shown extensible by parsing it with one of a fixed set of
//!   completions appended (an operand, closing brackets for whatever is
//!   open, a grouping clause after them). The set covers the grammar's
//!   constructs, but it proves extensibility rather than ruling it out, so
//!   where it misses one the reported token is earlier than the true one,
//!   never later. When every token extends a valid prefix, the query ended
//!   too early: "unexpected end of input".
//!
//! Queries longer than [`MAX_LOCATED_LEN`] keep "invalid promql query": the
//! search parses the query a few hundred times per step.
//!
//! Other errors (type checks, wrong arity, empty selectors) come from the
//! parser's actions on a query the grammar accepted, with a message but no
//! position; they are passed through as they are.

use promql_parser::parser::token::{
    T_ADD, T_ANCHORED, T_AT, T_ATAN2, T_AVG, T_BOOL, T_BOTTOMK, T_BY, T_COUNT, T_COUNT_VALUES, T_DIV, T_DURATION,
    T_END, T_EQL_REGEX, T_EQLC, T_FILL, T_FILL_LEFT, T_FILL_RIGHT, T_GROUP, T_GROUP_LEFT, T_GROUP_RIGHT, T_GTE, T_GTR,
    T_IDENTIFIER, T_IGNORING, T_LAND, T_LEFT_BRACE, T_LEFT_BRACKET, T_LEFT_PAREN, T_LIMIT_RATIO, T_LIMITK, T_LOR,
    T_LSS, T_LTE, T_LUNLESS, T_MAX, T_METRIC_IDENTIFIER, T_MIN, T_MOD, T_MUL, T_NEQ, T_NEQ_REGEX, T_NUMBER, T_OFFSET,
    T_ON, T_POW, T_QUANTILE, T_RIGHT_BRACE, T_RIGHT_BRACKET, T_RIGHT_PAREN, T_SMOOTHED, T_START, T_STDDEV, T_STDVAR,
    T_STRING, T_SUB, T_SUM, T_TOPK, T_WITHOUT, TokenId,
};

use super::tokens::{Token, tokens};

/// What `promql-parser` says for every error of its grammar.
const GRAMMAR_ERROR: &str = "invalid promql query";

/// The longest query whose grammar errors are located: each step of the
/// search parses the query a few hundred times.
const MAX_LOCATED_LEN: usize = 4 * 1024;

/// Lexer messages that can only arise at the end of the input.
const ENDED_EARLY: [&str; 4] = ["unclosed left parenthesis", "end of input", "not terminated", "can not be at the end"];

/// The parser's `message` about `query`, with the position of the error
/// where it can be found.
pub(crate) fn describe(query: &str, message: &str) -> String {
    match tokens(query) {
        Err(lexer_message) => {
            let at = lexer_error_offset(query, &lexer_message);
            format!("{}: parse error: {}", line_col(query, at), strip_input_echo(&lexer_message))
        }
        Ok(tokens) if message == GRAMMAR_ERROR && query.len() <= MAX_LOCATED_LEN => {
            let viable = longest_viable_prefix(query, &tokens);
            match tokens.get(viable) {
                Some(token) => format!(
                    "{}: parse error: unexpected {}",
                    line_col(query, token.start),
                    describe_token(query, token)
                ),
                None => format!("{}: parse error: unexpected end of input", line_col(query, query.len())),
            }
        }
        Ok(tokens) if tokens.is_empty() => format!("{}: parse error: {message}", line_col(query, 0)),
        Ok(_) => message.to_owned(),
    }
}

/// "no expression found in input: ''" echoes the input; Prometheus does not.
fn strip_input_echo(message: &str) -> &str {
    match message.split_once(": '") {
        Some((head, _)) if head == "no expression found in input" => head,
        _ => message,
    }
}

/// The byte offset of a lexer error: the end of the query for messages that
/// only the end can cause, else the start of the last character of the
/// shortest prefix that fails with the same message.
fn lexer_error_offset(query: &str, message: &str) -> usize {
    if ENDED_EARLY.iter().any(|m| message.contains(m)) || query.trim().is_empty() {
        return query.trim_end().len();
    }
    let boundaries: Vec<usize> = query.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let fails_the_same = |end: usize| matches!(tokens(&query[..end]), Err(m) if m == message);
    // The predicate holds from the offending character on; binary search for where it starts.
    let (mut lo, mut hi) = (0, boundaries.len() - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fails_the_same(boundaries[mid]) { hi = mid } else { lo = mid + 1 }
    }
    let end = boundaries[lo];
    query[..end].char_indices().next_back().map_or(0, |(i, _)| i)
}

/// How many of `tokens` form the longest prefix shown to extend into a valid
/// query. Extensibility only shrinks as the prefix grows, so a binary search
/// finds the boundary.
fn longest_viable_prefix(query: &str, tokens: &[Token]) -> usize {
    let (mut lo, mut hi) = (0, tokens.len());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if is_viable(query, &tokens[..mid]) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Operands and clauses a prefix may lack before its innermost open bracket closes.
const BEFORE_CLOSING: [&str; 18] = [
    "",
    "x",
    "1",
    "\"x\"",
    "5m",
    "=\"x\"",
    "x=\"x\"",
    "a",
    "(x)",
    "(a)",
    "(a) x",
    "(0) x",
    "()",
    "(1, x)",
    "(\"a\", x)",
    "1, x",
    "\"a\", x",
    ", x",
];

/// Clauses a prefix may lack after one of its brackets closes (`sum by (a`
/// lacks `) (x)`).
const AFTER_CLOSING: [&str; 6] = ["", " (x)", " (1, x)", " (\"a\", x)", " (a)", " x"];

/// How many of the innermost open brackets a clause is tried after.
const CLAUSE_DEPTH: usize = 3;

/// Whether the query that `prefix` starts can be completed into one the grammar accepts.
fn is_viable(query: &str, prefix: &[Token]) -> bool {
    let Some(last) = prefix.last() else {
        return true;
    };
    let text = &query[..last.end];
    let mut open: Vec<char> = Vec::new();
    for token in prefix {
        match token.id {
            T_LEFT_PAREN => open.push(')'),
            T_LEFT_BRACE => open.push('}'),
            T_LEFT_BRACKET => open.push(']'),
            T_RIGHT_PAREN | T_RIGHT_BRACE | T_RIGHT_BRACKET => {
                open.pop();
            }
            _ => {}
        }
    }
    let closing: String = open.iter().rev().collect();
    BEFORE_CLOSING.iter().any(|before| {
        AFTER_CLOSING.iter().any(|after| {
            let clause_positions = if after.is_empty() { 0 } else { closing.len().min(CLAUSE_DEPTH) };
            (0..=clause_positions).any(|closed| {
                let candidate = format!("{text} {before}{}{after}{}", &closing[..closed], &closing[closed..]);
                is_accepted(&candidate)
            })
        })
    })
}

/// Whether the grammar accepts `query` (its actions may still reject it).
fn is_accepted(query: &str) -> bool {
    tokens(query).is_ok() && !matches!(promql_parser::parser::parse(query), Err(m) if m == GRAMMAR_ERROR)
}

/// A token as Prometheus names it in "unexpected …".
fn describe_token(query: &str, token: &Token) -> String {
    let text = &query[token.start..token.end];
    let id: TokenId = token.id;
    match id {
        T_IDENTIFIER | T_METRIC_IDENTIFIER => format!("identifier {text:?}"),
        T_NUMBER => format!("number {text:?}"),
        T_STRING => format!("string {text:?}"),
        T_DURATION => format!("duration {text:?}"),
        _ if is_operator(id) => format!("<op:{text}>"),
        _ if is_aggregator(id) => format!("<aggr:{text}>"),
        _ if is_keyword(id) => format!("<{text}>"),
        _ => format!("{text:?}"),
    }
}

fn is_operator(id: TokenId) -> bool {
    [
        T_ADD,
        T_DIV,
        T_EQLC,
        T_EQL_REGEX,
        T_GTE,
        T_GTR,
        T_LAND,
        T_LOR,
        T_LSS,
        T_LTE,
        T_LUNLESS,
        T_MOD,
        T_MUL,
        T_NEQ,
        T_NEQ_REGEX,
        T_POW,
        T_SUB,
        T_AT,
        T_ATAN2,
    ]
    .contains(&id)
}

fn is_aggregator(id: TokenId) -> bool {
    [
        T_AVG,
        T_BOTTOMK,
        T_COUNT,
        T_COUNT_VALUES,
        T_GROUP,
        T_MAX,
        T_MIN,
        T_QUANTILE,
        T_STDDEV,
        T_STDVAR,
        T_SUM,
        T_TOPK,
        T_LIMITK,
        T_LIMIT_RATIO,
    ]
    .contains(&id)
}

fn is_keyword(id: TokenId) -> bool {
    [
        T_BOOL,
        T_BY,
        T_GROUP_LEFT,
        T_GROUP_RIGHT,
        T_IGNORING,
        T_OFFSET,
        T_ON,
        T_WITHOUT,
        T_FILL,
        T_FILL_LEFT,
        T_FILL_RIGHT,
        T_SMOOTHED,
        T_ANCHORED,
        T_START,
        T_END,
    ]
    .contains(&id)
}

/// `line:column` of a byte offset, both from 1, columns in bytes as Prometheus counts them.
fn line_col(query: &str, offset: usize) -> String {
    let before = &query[..offset.min(query.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    format!("{line}:{}", offset - line_start + 1)
}
