//! Unit tests (the syntax tree is private). Properties of the front end: formatting then parsing gives the same
//! tree (spans ignored), formatting is idempotent, and no input makes the
//! lexer, parser or checker panic.

use crate::ast::*;
use crate::{fmt::format_file, parse::parse_file, validate};
use proptest::prelude::*;

fn sp() -> Span {
    Span::default()
}

fn ident(name: String) -> Ident {
    Ident { name, span: sp() }
}

fn field_name() -> impl Strategy<Value = Ident> {
    "[a-z][a-z0-9_]{0,6}".prop_map(ident)
}

fn type_name() -> impl Strategy<Value = Ident> {
    "[A-Z][A-Za-z0-9]{0,6}".prop_map(ident)
}

fn module_name() -> impl Strategy<Value = Ident> {
    "[a-z][a-z0-9_]{0,6}"
        .prop_filter("not reserved", |s| !is_reserved(s))
        .prop_map(ident)
}

/// Comment text as the lexer yields it: one line, no trailing whitespace.
fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,16}".prop_map(|s| s.trim_end().to_string())
}

fn leading() -> impl Strategy<Value = Leading> {
    (
        prop::collection::vec(text(), 0..2),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(|(comments, docs)| Leading { comments, docs })
}

fn int(lo: i128, hi: i128) -> impl Strategy<Value = IntLit> {
    (lo..=hi, any::<bool>()).prop_map(|(value, hex)| {
        let abs = value.unsigned_abs();
        let body = if hex {
            format!("0x{abs:X}")
        } else {
            abs.to_string()
        };
        let text = if value < 0 { format!("-{body}") } else { body };
        IntLit {
            value,
            text,
            span: sp(),
        }
    })
}

fn opts() -> impl Strategy<Value = SeqOpts> {
    (
        prop::option::of(prop_oneof![
            Just(LenWidth::U8),
            Just(LenWidth::U16),
            Just(LenWidth::U32)
        ]),
        prop::option::of(int(0, 100_000)),
    )
        .prop_map(|(len, max)| SeqOpts {
            len: len.map(|value| Spanned { value, span: sp() }),
            max,
        })
}

fn ty() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        prop::sample::select(Prim::ALL.to_vec()).prop_map(TypeKind::Prim),
        opts().prop_map(TypeKind::String),
        opts().prop_map(TypeKind::Bytes),
        prop::collection::vec(type_name(), 1..3).prop_map(|mut segs| {
            // Leading segments are module names.
            for s in segs.iter_mut().rev().skip(1) {
                s.name = s.name.to_lowercase() + "m";
            }
            TypeKind::Named(Path {
                segments: segs,
                span: sp(),
            })
        }),
    ];
    leaf.prop_map(|kind| Type { kind, span: sp() })
        .prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), opts()).prop_map(|(t, o)| TypeKind::List(Box::new(t), o)),
                inner.clone().prop_map(|t| TypeKind::Option(Box::new(t))),
                inner.clone().prop_map(|t| TypeKind::Box(Box::new(t))),
                (inner, int(0, 64)).prop_map(|(t, n)| TypeKind::Array(Box::new(t), n)),
            ]
            .prop_map(|kind| Type { kind, span: sp() })
        })
}

fn field() -> impl Strategy<Value = Field> {
    (leading(), field_name(), ty(), prop::option::of(text())).prop_map(
        |(leading, name, ty, trailing)| Field {
            leading,
            name,
            ty,
            trailing,
            span: sp(),
        },
    )
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        prop::collection::vec(field(), 0..4),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(|(fields, end_comments)| Fields {
            fields,
            end_comments,
            span: sp(),
        })
}

fn variant() -> impl Strategy<Value = Variant> {
    let kind = prop_oneof![
        Just(VariantKind::Unit),
        prop::collection::vec(ty(), 1..3).prop_map(VariantKind::Tuple),
        fields().prop_map(VariantKind::Struct),
    ];
    (
        leading(),
        type_name(),
        kind,
        prop::option::of(int(-1000, 70_000)),
        prop::option::of(text()),
    )
        .prop_map(|(leading, name, kind, value, trailing)| Variant {
            leading,
            name,
            kind,
            value,
            trailing,
            span: sp(),
        })
}

/// Declarations: what modules may contain.
fn decl_kind() -> impl Strategy<Value = ItemKind> {
    let repr = prop::option::of(prop::sample::select(vec![Prim::U8, Prim::U16, Prim::U32]));
    let leaf = prop_oneof![
        (type_name(), int(0, 0xFFFF), fields())
            .prop_map(|(name, id, body)| ItemKind::Packet(Packet { name, id, body })),
        (type_name(), fields()).prop_map(|(name, body)| ItemKind::Struct(Struct { name, body })),
        (
            type_name(),
            repr,
            prop::collection::vec(variant(), 0..4),
            prop::collection::vec(text(), 0..2)
        )
            .prop_map(|(name, repr, variants, end_comments)| {
                ItemKind::Enum(Enum {
                    name,
                    repr: repr.map(|value| Spanned { value, span: sp() }),
                    variants,
                    end_comments,
                })
            }),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            module_name(),
            prop::collection::vec(item_with(inner), 0..3),
            prop::collection::vec(text(), 0..2),
        )
            .prop_map(|(name, items, end_comments)| {
                ItemKind::Module(Module {
                    name,
                    items,
                    end_comments,
                })
            })
    })
}

/// Top-level items: declarations and imports.
fn top_kind() -> impl Strategy<Value = ItemKind> {
    let import = "[a-z./_ \"\\\\]{0,12}".prop_map(|p| {
        ItemKind::Import(Import {
            path: Spanned {
                value: p,
                span: sp(),
            },
        })
    });
    prop_oneof![1 => import, 4 => decl_kind()]
}

fn item_with(kind: impl Strategy<Value = ItemKind>) -> impl Strategy<Value = Item> {
    (leading(), kind, prop::option::of(text())).prop_map(|(mut leading, kind, trailing)| {
        // A doc comment on an import documents nothing (E0002).
        if matches!(kind, ItemKind::Import(_)) {
            leading.docs.clear();
        }
        Item {
            leading,
            kind,
            trailing,
            span: sp(),
        }
    })
}

fn file() -> impl Strategy<Value = File> {
    (
        prop::collection::vec(text(), 0..2),
        prop::collection::vec(item_with(top_kind()), 0..5),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(|(docs, items, end_comments)| File {
            docs,
            items,
            end_comments,
        })
}

/// Characters and words that make up schemas, to reach deep parser states.
fn schemaish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "packet",
            "struct",
            "enum",
            "module",
            "import",
            "string",
            "bytes",
            "list",
            "option",
            "box",
            "u8",
            "u16",
            "f32",
            "Foo",
            "a.b",
            "len",
            "max",
            "{",
            "}",
            "(",
            ")",
            "<",
            ">",
            "[",
            "]",
            ";",
            ":",
            ",",
            "=",
            "-",
            "0x10",
            "7",
            "99999999999999999999",
            "\"x\"",
            "\"",
            "// c\n",
            "/// d\n",
            "//! e\n",
            "\n",
            " ",
            "/*",
            "é",
            "\\",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,3}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn format_then_parse_is_identity(f in file()) {
        let text = format_file(&f);
        let parsed = parse_file(&text, 0);
        prop_assert!(parsed.is_ok(), "formatted text does not parse: {:?}\n{}", parsed.err(), text);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &f, "\n{}", text);
        // Canonical: formatting again changes nothing.
        prop_assert_eq!(format_file(&parsed), text);
    }

    /// Comments anywhere a line allows them: the tree may change (that is
    /// where they attach), but formatting is stable from the first pass.
    #[test]
    fn formatting_is_stable_with_comments_in_odd_places(
        f in file(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), text()), 0..6),
    ) {
        let text = format_file(&f);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let first_free = lines.iter().rposition(|l| l.starts_with("//!")).map_or(0, |i| i + 1);
        for (at, own_line, c) in edits {
            if lines.len() <= first_free {
                break;
            }
            let i = first_free + at.index(lines.len() - first_free);
            if own_line {
                lines.insert(i, format!("// {c}"));
            } else {
                lines[i].push_str(&format!(" // {c}"));
            }
        }
        let messy = lines.join("\n");
        let parsed = parse_file(&messy, 0);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), messy);
        let once = format_file(&parsed.unwrap());
        let reparsed = parse_file(&once, 0).unwrap();
        prop_assert_eq!(format_file(&reparsed), once.clone(), "\n{}", messy);
    }

    #[test]
    fn parser_never_panics_on_bytes(s in "\\PC{0,200}") {
        let _ = parse_file(&s, 0);
    }

    #[test]
    fn front_end_never_panics_on_schemaish_input(s in schemaish()) {
        let compiled = crate::compile_str("fuzz.packet", &s, &validate::Options::default());
        // Rendering must not panic either (spans inside the text).
        let _ = compiled.render();
    }

    #[test]
    fn checker_never_panics_on_generated_trees(f in file()) {
        let text = format_file(&f);
        let compiled = crate::compile_str("gen.packet", &text, &validate::Options::default());
        let _ = compiled.render();
        if !compiled.has_errors() {
            let _ = crate::codegen::generate(&compiled.schema, &[], &Default::default()).unwrap();
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let src = format!(
        "struct A {{ x: {}u8{} }}",
        "list<".repeat(10_000),
        ">".repeat(10_000)
    );
    let errs = parse_file(&src, 0).unwrap_err();
    assert!(
        errs[0].message.contains("nesting too deep"),
        "{}",
        errs[0].message
    );
    let src = format!("{}{}", "module m { ".repeat(10_000), "}".repeat(10_000));
    assert!(parse_file(&src, 0).is_err());
}

/// Same-line comments stay on their line, also after the last variant or
/// field without a trailing comma (they moved to the next line, before the
/// `}`), and `////` comments are written back as they were (they became
/// `// //`). The output is canonical: formatting it again changes nothing.
#[test]
fn same_line_comments_stay_after_the_last_member() {
    for (src, expected) in [
        (
            "enum E {\n    A, // a\n    Died // died\n}\n",
            "enum E {\n    A, // a\n    Died, // died\n}\n",
        ),
        ("enum F { X(u8) // x\n}\n", "enum F {\n    X(u8), // x\n}\n"),
        ("enum G { Y = 3 // y\n}\n", "enum G {\n    Y = 3, // y\n}\n"),
        (
            "struct S {\n    a: u8 // a\n}\n",
            "struct S {\n    a: u8, // a\n}\n",
        ),
        (
            "struct T {\n    s: string(max = 4) // s\n    // end\n}\n",
            "struct T {\n    s: string(max = 4), // s\n    // end\n}\n",
        ),
        ("//// four\nstruct U {}\n", "//// four\nstruct U {}\n"),
        ("// // two\nstruct V {}\n", "//// two\nstruct V {}\n"),
    ] {
        let file = parse_file(src, 0).unwrap();
        let out = format_file(&file);
        assert_eq!(out, expected, "{src:?}");
        let again = format_file(&parse_file(&out, 0).unwrap());
        assert_eq!(again, out, "not idempotent: {src:?}");
    }
}
