//! The query's tokens, from `promql-parser`'s public lexer.

use lrpar::{Lexeme, Lexer};
use promql_parser::parser::lex;
use promql_parser::parser::token::{T_EOF, TokenId};

/// One token: its kind and where it is in the query, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub id: TokenId,
    pub start: usize,
    pub end: usize,
}

/// The tokens of `query` (none for a blank one), or the lexer's message if
/// it cannot be split into tokens.
pub(crate) fn tokens(query: &str) -> Result<Vec<Token>, String> {
    let lexer = lex::lexer(query)?;
    Ok(lexer
        .iter()
        .filter_map(Result::ok)
        .map(|lexeme| {
            let span = lexeme.span();
            Token { id: lexeme.tok_id(), start: span.start(), end: span.end() }
        })
        .filter(|token| token.id != T_EOF)
        .collect())
}
