//! Errors and warnings about schema files, and their rendering.
//!
//! A [`Diagnostic`] names what is wrong and points at it with labelled
//! [`Span`]s; [`SourceMap`] owns the text of every loaded file and renders
//! diagnostics with codespan-reporting: `file:line:column`, the source line
//! with a caret under the offending text, and what was expected.
//!
//! Which checks produce diagnostics lives in the crate's private parser
//! (syntax) and checker (meaning), not here.

use std::path::{Path, PathBuf};

use codespan_reporting::diagnostic::{self as cs, LabelStyle};
use codespan_reporting::files::{self as csfiles, Files, SimpleFiles};
use codespan_reporting::term;
use termcolor::{ColorChoice, NoColor, StandardStream, WriteColor};

use crate::ast::{FileId, Span};

/// The char boundary at or before `at`.
fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The char boundary at or after `at`.
fn ceil_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The length of the UTF-8 byte order mark `text` starts with (0 or 3).
fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') { 3 } else { 0 }
}

/// A source line longer than this many bytes is shown as a window around
/// its labels, not whole.
const LONG_LINE: usize = 240;

/// How much of a long line is shown on each side of its labels.
const CONTEXT: usize = 60;

/// The files as codespan sees them: a file's first line starts after its
/// byte order mark (the mark was counted as a column, `1:20` for what an
/// editor shows at column 19, and echoed in the source line), and a long
/// line is shown as the window around the diagnostic's labels (a 600 KB
/// line was echoed whole, twice counting the underline, per error).
/// Columns are counted from the real start of the line.
struct ShownFiles<'a> {
    files: SimpleFiles<&'a str, &'a str>,
    /// (file, line index) -> the bytes of that long line shown.
    windows: std::collections::HashMap<(usize, usize), std::ops::Range<usize>>,
}

impl ShownFiles<'_> {
    /// The line's bytes, without a byte order mark.
    fn real_line(
        &self,
        id: usize,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, csfiles::Error> {
        let range = self.files.line_range(id, line_index)?;
        if line_index == 0 {
            let skip = bom_len(self.files.source(id)?).min(range.end);
            return Ok(range.start.max(skip)..range.end);
        }
        Ok(range)
    }
}

impl<'a> Files<'a> for ShownFiles<'a> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, csfiles::Error> {
        self.files.name(id)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, csfiles::Error> {
        self.files.source(id)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, csfiles::Error> {
        self.files.line_index(id, byte_index)
    }

    fn column_number(
        &'a self,
        id: usize,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, csfiles::Error> {
        let line = self.real_line(id, line_index)?;
        let source = self.files.source(id)?;
        Ok(csfiles::column_index(source, line, byte_index) + 1)
    }

    fn line_range(
        &'a self,
        id: usize,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, csfiles::Error> {
        match self.windows.get(&(id, line_index)) {
            Some(w) => Ok(w.clone()),
            None => self.real_line(id, line_index),
        }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; the schema still compiles.
    Warning,
    /// The schema does not compile.
    Error,
}

/// A message pointing into the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it (may be empty).
    pub message: String,
    /// The primary label gets the caret `^`; secondary ones `-`.
    pub primary: bool,
}

/// One error or warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short stable code (`E0001`...), listed in `docs/schema-language.md`.
    pub code: &'static str,
    /// The headline.
    pub message: String,
    /// Places in the source.
    pub labels: Vec<Label>,
    /// Extra lines: `note: ...`, `help: ...`.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with a primary label.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds the primary label.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Adds a note line (`note: ...` or `help: ...` as written).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One loaded source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as given or as resolved
    /// from an import).
    pub name: String,
    /// The path it was read from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// The text of every loaded file, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, path: impl AsRef<Path>, text: String) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            path: path.as_ref().to_path_buf(),
            text,
        });
        self.files.len() - 1
    }

    /// The file with id `id`.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    /// All files in load order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The 1-based line and column of `span`'s start. A byte order mark
    /// at the file's start is not a column (editors do not show it).
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let text = &self.files[span.file].text;
        let at = (span.start as usize).min(text.len());
        let from = bom_len(text).min(at);
        let before = &text[from..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn to_codespan(&self, d: &Diagnostic, files: &mut ShownFiles<'_>) -> cs::Diagnostic<usize> {
        let base = match d.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        };
        // Nothing points into a byte order mark, which the rendered first
        // line starts after.
        let ranges: Vec<(usize, std::ops::Range<usize>)> = d
            .labels
            .iter()
            .map(|l| {
                let skip = bom_len(&self.files[l.span.file].text);
                let r = l.span.range();
                (l.span.file, r.start.max(skip)..r.end.max(skip))
            })
            .collect();
        // Each long line a label is on: the window around its labels.
        files.windows.clear();
        let mut notes = Vec::new();
        for (file, r) in &ranges {
            let Ok(index) = files.files.line_index(*file, r.start) else {
                continue;
            };
            let Ok(line) = files.real_line(*file, index) else {
                continue;
            };
            if line.len() <= LONG_LINE || files.windows.contains_key(&(*file, index)) {
                continue;
            }
            let text = &self.files[*file].text;
            // On the line: a label at the end of a last line with no
            // newline (the end of the file) too.
            let shown = &line;
            let on = move |at: usize| shown.contains(&at) || at == text.len() && at == shown.end;
            let on_line = |primary_only: bool| {
                ranges
                    .iter()
                    .zip(&d.labels)
                    .filter(move |((f, o), l)| {
                        f == file && on(o.start) && (l.primary || !primary_only)
                    })
                    .map(|((_, o), _)| o.clone())
            };
            let span = |labels: &mut dyn Iterator<Item = std::ops::Range<usize>>| {
                labels.fold(None, |acc: Option<(usize, usize)>, o| {
                    let end = o.end.min(line.end);
                    Some(acc.map_or((o.start, end), |(lo, hi)| (lo.min(o.start), hi.max(end))))
                })
            };
            // All the line's labels, or its primary ones when all would
            // not fit; the others are then named in a note.
            let (lo, hi) = match span(&mut on_line(false)) {
                Some((lo, hi)) if hi - lo <= LONG_LINE => (lo, hi),
                _ => span(&mut on_line(true)).unwrap_or((r.start, r.end)),
            };
            let start = floor_char(text, lo.saturating_sub(CONTEXT).max(line.start));
            let end = ceil_char(text, hi.max(lo).saturating_add(CONTEXT).min(line.end));
            let end = ceil_char(text, end.min(start + LONG_LINE + 2 * CONTEXT).max(start));
            files.windows.insert((*file, index), start..end);
            let col = |at: usize| text[line.start..at].chars().count() + 1;
            // The line's `\n` or `\r\n` is not one of its characters.
            let body = &text[line.clone()];
            let body = body.strip_suffix('\n').unwrap_or(body);
            let body_end = line.start + body.strip_suffix('\r').unwrap_or(body).len();
            notes.push(format!(
                "note: line {} is {} characters long: columns {} to {} shown",
                index + 1,
                col(body_end) - 1,
                col(start),
                col(end.min(body_end)).saturating_sub(1).max(col(start)),
            ));
        }
        let mut labels = Vec::new();
        for (l, (file, r)) in d.labels.iter().zip(ranges) {
            let style = if l.primary {
                LabelStyle::Primary
            } else {
                LabelStyle::Secondary
            };
            // A label is cut to its line's window; one outside it is a note.
            let index = files.files.line_index(file, r.start).ok();
            // A label at the window's end is outside it, unless that end
            // is the file's (a caret after the last character).
            let eof = self.files[file].text.len();
            let r = match index.and_then(|i| files.windows.get(&(file, i))) {
                Some(w)
                    if r.start > w.end
                        || r.start == w.end && w.end < eof
                        || r.end.max(r.start + 1) <= w.start =>
                {
                    let (line, col) = self.line_col(Span::new(file, r.clone()));
                    notes.push(format!("note: at {line}:{col}: {}", l.message));
                    continue;
                }
                Some(w) => {
                    let start = r.start.clamp(w.start, w.end);
                    start..r.end.clamp(start, w.end)
                }
                None => r,
            };
            labels.push(cs::Label::new(style, file, r).with_message(&l.message));
        }
        base.with_code(d.code)
            .with_message(&d.message)
            .with_labels(labels)
            .with_notes(d.notes.iter().cloned().chain(notes).collect())
    }

    fn emit(&self, w: &mut dyn WriteColor, diags: &[Diagnostic]) {
        let mut simple = SimpleFiles::new();
        for f in &self.files {
            simple.add(f.name.as_str(), f.text.as_str());
        }
        let mut files = ShownFiles {
            files: simple,
            windows: std::collections::HashMap::new(),
        };
        let config = term::Config::default();
        for d in diags {
            let d = self.to_codespan(d, &mut files);
            // Writing to a Vec or a terminal: a failure here has nowhere
            // better to be reported.
            let _ = term::emit(w, &config, &files, &d);
        }
    }

    /// Renders diagnostics as plain text (no colour): what snapshot tests
    /// compare and what [`crate::Error`] displays.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let mut out = NoColor::new(Vec::new());
        self.emit(&mut out, diags);
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }

    /// Writes diagnostics to stderr, coloured when it is a terminal.
    pub fn eprint(&self, diags: &[Diagnostic]) {
        use std::io::IsTerminal;
        let choice = if std::io::stderr().is_terminal() {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        };
        let mut stderr = StandardStream::stderr(choice);
        self.emit(&mut stderr, diags);
    }
}

/// Edit distance (insertions, deletions, substitutions, transpositions of
/// neighbours), for "did you mean" hints.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if close enough to be a likely typo
/// (distance at most a third of the name's length, and at least 1).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= limit && *c != name)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The "did you mean" for a type name from another language (`Vec`,
/// `str`, `float`, `int`, `usize`, `HashMap`...) that is too far from any
/// schema built-in for [`closest`] to find it: the schema's equivalent.
pub fn foreign_type_help(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "vec" | "vector" | "vecdeque" | "array" | "arraylist" | "seq" | "sequence" | "slice" => {
            "help: did you mean `list<T>`? (`bytes` for raw bytes, `[T; N]` for a fixed length)"
        }
        "str" | "text" | "char*" => "help: did you mean the built-in type `string`?",
        "float" | "single" => {
            "help: did you mean `f32` or `f64`? (the schema's floating-point types)"
        }
        "double" => "help: did you mean `f64`?",
        "int" | "integer" | "uint" | "long" | "ulong" | "short" | "ushort" | "number" => {
            "help: did you mean a sized integer type? the schema has `u8 u16 u32 u64 u128 i8 i16 i32 i64 i128` (`i32` for a C `int`)"
        }
        "usize" | "isize" => {
            "help: did you mean `u32` or `u64` (`i32` or `i64`)? widths on the wire are fixed, so there is no pointer-sized integer"
        }
        "boolean" => "help: did you mean the built-in type `bool`?",
        "map" | "hashmap" | "btreemap" | "dict" | "dictionary" => {
            "help: the schema has no map type; use `list<Entry>` with `struct Entry { key: K, value: V }`"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        let words = ["packet", "struct", "enum", "module", "import"];
        assert_eq!(closest("pakcet", words), Some("packet"));
        assert_eq!(closest("strct", words), Some("struct"));
        assert_eq!(closest("message", words), None);
        assert_eq!(closest("Vec", ["Vec3", "Color"]), Some("Vec3"));
        assert_eq!(closest("Pos", ["Pos"]), None);
    }
}
