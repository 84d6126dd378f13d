//! Turns schema text into [`Token`]s, comments included (the parser
//! attaches them to nodes). Whitespace is dropped; every token has a
//! [`Span`] and the line it starts on.
//!
//! What the tokens mean is the parser's business ([`crate::parse`]).

use crate::ast::{FileId, Span};
use crate::diagnostic::Diagnostic;

/// The kinds of token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A name or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident(String),
    /// An integer: decimal, `0x` hex or `0b` binary, `_` separators allowed
    /// (the text as written; the parser computes the value).
    Int(String),
    /// A `"..."` string (the contents, escapes `\"` and `\\` resolved).
    Str(String),
    /// One of `{ } ( ) < > [ ] ; : , = . -`.
    Punct(char),
    /// `// text` (the text after `//`, starting space trimmed).
    Comment(String),
    /// `/// text`.
    Doc(String),
    /// `//! text`.
    InnerDoc(String),
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token is named in "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(s) => format!("integer `{s}`"),
            Tok::Str(_) => "a string".to_string(),
            Tok::Punct(c) => format!("`{c}`"),
            Tok::Comment(_) => "a comment".to_string(),
            Tok::Doc(_) => "a doc comment".to_string(),
            Tok::InnerDoc(_) => "an inner doc comment `//!`".to_string(),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

/// A token with its place.
#[derive(Clone, Debug)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
    /// The 1-based line it starts on (for trailing-comment detection).
    pub line: u32,
}

const PUNCT: &str = "{}()<>[];:,=.-";

/// Strips the one space that conventionally follows `//`, `///`, `//!`,
/// and trailing whitespace.
fn comment_text(s: &str) -> String {
    s.strip_prefix(' ').unwrap_or(s).trim_end().to_string()
}

/// Lexes `src`; the last token is [`Tok::Eof`]. Lexical errors come back
/// beside the tokens and lexing goes on: a character that starts no token
/// is skipped, an unterminated string ends at its line's end, a block
/// comment at its `*/`, so later errors are found too.
pub fn lex(src: &str, file: FileId) -> (Vec<Token>, Vec<Diagnostic>) {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    // A UTF-8 byte order mark (some Windows editors write one) is not
    // part of the text.
    let mut i = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut line = 1u32;
    let span = |a: usize, b: usize| Span::new(file, a..b);
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if src[i..].starts_with("//") {
            let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
            let body = &src[i + 2..end];
            let tok = if let Some(rest) = body.strip_prefix('/') {
                if rest.starts_with('/') {
                    // `////` is a plain comment, as in Rust.
                    Tok::Comment(comment_text(body))
                } else {
                    Tok::Doc(comment_text(rest))
                }
            } else if let Some(rest) = body.strip_prefix('!') {
                Tok::InnerDoc(comment_text(rest))
            } else {
                Tok::Comment(comment_text(body))
            };
            out.push(Token {
                tok,
                span: span(start, end),
                line,
            });
            i = end;
        } else if src[i..].starts_with("/*") {
            errors.push(
                Diagnostic::error("E0001", "block comments are not supported")
                    .with_primary(span(i, i + 2), "expected `//` line comments"),
            );
            let end = src[i + 2..].find("*/").map_or(src.len(), |n| i + 2 + n + 2);
            line += src[i..end].matches('\n').count() as u32;
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[start..i].to_string()),
                span: span(start, i),
                line,
            });
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Int(src[start..i].to_string()),
                span: span(start, i),
                line,
            });
        } else if c == b'"' {
            i += 1;
            let mut value = String::new();
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    errors.push(
                        Diagnostic::error("E0001", "unterminated string")
                            .with_primary(span(start, i), "expected a closing `\"`"),
                    );
                    break;
                };
                match ch {
                    '"' => {
                        i += 1;
                        break;
                    }
                    '\n' => {
                        errors.push(
                            Diagnostic::error("E0001", "unterminated string").with_primary(
                                span(start, i),
                                "expected a closing `\"` on this line",
                            ),
                        );
                        break;
                    }
                    '\\' => {
                        let esc = src[i + 1..].chars().next();
                        match esc {
                            Some(e @ ('"' | '\\')) => {
                                value.push(e);
                                i += 2;
                            }
                            _ => {
                                let end =
                                    i + 1 + esc.filter(|&e| e != '\n').map_or(0, char::len_utf8);
                                errors.push(
                                    Diagnostic::error("E0001", "unknown escape in string")
                                        .with_primary(span(i, end), "expected `\\\"` or `\\\\`"),
                                );
                                i = end;
                            }
                        }
                    }
                    ch => {
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push(Token {
                tok: Tok::Str(value),
                span: span(start, i),
                line,
            });
        } else if PUNCT.as_bytes().contains(&c) {
            i += 1;
            out.push(Token {
                tok: Tok::Punct(c as char),
                span: span(start, i),
                line,
            });
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            errors.push(
                Diagnostic::error(
                    "E0001",
                    format!("unexpected character `{}`", ch.escape_default()),
                )
                .with_primary(
                    span(i, i + ch.len_utf8()),
                    "expected a name, a number, a string, punctuation or a comment",
                ),
            );
            i += ch.len_utf8();
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        span: span(src.len(), src.len()),
        line,
    });
    (out, errors)
}
