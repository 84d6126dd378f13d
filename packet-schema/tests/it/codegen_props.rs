//! Generated valid schemas: the checker accepts them and the generator
//! always produces Rust that parses (syn) — whatever the names (Rust
//! keywords become raw identifiers), nesting, modules, options or
//! recursion (each recursive type marked `#[packet(recursive)]`).

use packet_schema::{CodegenOptions, Options, compile_str};
use proptest::prelude::*;

/// Field names, Rust keywords among them.
const NAMES: &[&str] = &[
    "x", "y", "type", "match", "fn", "async", "await", "dyn", "loop", "r#", "box", "string",
    "list", "packet", "gen", "try", "union", "yield", "move", "ref", "static", "where", "in", "as",
];

#[derive(Debug, Clone)]
enum Ty {
    Prim(&'static str),
    Str(Option<&'static str>, Option<u32>),
    Bytes(Option<&'static str>, Option<u32>),
    List(Box<Ty>, Option<u32>),
    Opt(Box<Ty>),
    Boxed(Box<Ty>),
    Array(Box<Ty>, u8),
    /// An earlier type, by index (resolved modulo how many exist).
    Ref(usize),
}

fn ty() -> impl Strategy<Value = Ty> {
    let width = prop::option::of(prop::sample::select(vec!["u8", "u16", "u32"]));
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "u8", "i16", "u32", "i64", "u128", "f32", "f64", "bool", "char"
        ])
        .prop_map(Ty::Prim),
        (width.clone(), prop::option::of(0u32..255)).prop_map(|(w, m)| Ty::Str(w, m)),
        (width, prop::option::of(0u32..255)).prop_map(|(w, m)| Ty::Bytes(w, m)),
        any::<usize>().prop_map(Ty::Ref),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), prop::option::of(0u32..16)).prop_map(|(t, m)| Ty::List(Box::new(t), m)),
            inner.clone().prop_map(|t| Ty::Opt(Box::new(t))),
            inner.clone().prop_map(|t| Ty::Boxed(Box::new(t))),
            (inner, 0u8..4).prop_map(|(t, n)| Ty::Array(Box::new(t), n)),
        ]
    })
}

/// Writes `t`; length options only at the top (the derive's rule).
fn write_ty(t: &Ty, top: bool, earlier: &[String]) -> String {
    let opts = |w: &Option<&str>, m: &Option<u32>| {
        let mut parts = Vec::new();
        if let Some(w) = w {
            parts.push(format!("len = {w}"));
        }
        if let Some(m) = m {
            parts.push(format!("max = {m}"));
        }
        if parts.is_empty() || !top {
            String::new()
        } else {
            format!("({})", parts.join(", "))
        }
    };
    match t {
        Ty::Prim(p) => p.to_string(),
        Ty::Str(w, m) => format!("string{}", opts(w, m)),
        Ty::Bytes(w, m) => format!("bytes{}", opts(w, m)),
        Ty::List(inner, m) => format!(
            "list<{}>{}",
            write_ty(inner, false, earlier),
            opts(&None, m)
        ),
        Ty::Opt(inner) => format!("option<{}>", write_ty(inner, false, earlier)),
        Ty::Boxed(inner) => format!("box<{}>", write_ty(inner, false, earlier)),
        Ty::Array(inner, n) => format!("[{}; {n}]", write_ty(inner, false, earlier)),
        Ty::Ref(_) if earlier.is_empty() => "u8".to_string(),
        Ty::Ref(i) => earlier[i % earlier.len()].clone(),
    }
}

#[derive(Debug, Clone)]
enum Decl {
    Struct(Vec<(usize, Ty)>),
    Packet(Vec<(usize, Ty)>),
    /// A struct that contains itself through `list<..>` (true) or
    /// `option<box<..>>` (false), besides its fields.
    Recursive(Vec<(usize, Ty)>, bool),
    CEnum(u8),
    DataEnum(Vec<Vec<Ty>>),
}

fn decl() -> impl Strategy<Value = Decl> {
    let fields = || prop::collection::vec((0..NAMES.len(), ty()), 0..5);
    prop_oneof![
        fields().prop_map(Decl::Struct),
        fields().prop_map(Decl::Packet),
        (fields(), any::<bool>()).prop_map(|(f, list)| Decl::Recursive(f, list)),
        (1u8..5).prop_map(Decl::CEnum),
        prop::collection::vec(prop::collection::vec(ty(), 0..3), 1..4).prop_map(Decl::DataEnum),
    ]
}

/// A schema whose types only refer to earlier ones or, through
/// indirection, to themselves, in up to two modules.
fn schema(decls: &[(bool, Decl)]) -> String {
    let mut out = String::new();
    let mut earlier: Vec<String> = Vec::new();
    for (i, (in_module, d)) in decls.iter().enumerate() {
        let name = format!("T{i}");
        let (open, close, path) = if *in_module {
            (
                format!("module m{i} {{\n"),
                "}\n".to_string(),
                format!("m{i}.{name}"),
            )
        } else {
            (String::new(), String::new(), name.clone())
        };
        out.push_str(&open);
        out.push_str(&format!("/// Doc of {name}.\n"));
        let fields = |fs: &Vec<(usize, Ty)>| {
            let mut seen = std::collections::HashSet::new();
            fs.iter()
                .filter(|(n, _)| seen.insert(*n) && NAMES[*n] != "r#")
                .map(|(n, t)| format!("    {}: {},\n", NAMES[*n], write_ty(t, true, &earlier)))
                .collect::<String>()
        };
        match d {
            Decl::Struct(fs) => out.push_str(&format!("struct {name} {{\n{}}}\n", fields(fs))),
            Decl::Recursive(fs, list) => {
                let own = if *list {
                    format!("    kids: list<{name}>,\n")
                } else {
                    format!("    next: option<box<{name}>>,\n")
                };
                out.push_str(&format!("struct {name} {{\n{}{own}}}\n", fields(fs)))
            }
            Decl::Packet(fs) => {
                out.push_str(&format!("packet {name} = {i} {{\n{}}}\n", fields(fs)))
            }
            Decl::CEnum(n) => {
                let vs: String = (0..*n).map(|v| format!("    V{v},\n")).collect();
                out.push_str(&format!("enum {name}: u16 {{\n{vs}}}\n"));
            }
            Decl::DataEnum(vs) => {
                let vs: String = vs
                    .iter()
                    .enumerate()
                    .map(|(v, tys)| {
                        if tys.is_empty() {
                            format!("    V{v},\n")
                        } else {
                            let t: Vec<String> =
                                tys.iter().map(|t| write_ty(t, true, &earlier)).collect();
                            format!("    V{v}({}),\n", t.join(", "))
                        }
                    })
                    .collect();
                out.push_str(&format!("enum {name} {{\n{vs}}}\n"));
            }
        }
        out.push_str(&close);
        earlier.push(path);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_schemas_generate_rust_that_parses(
        decls in prop::collection::vec((any::<bool>(), decl()), 1..6),
        owned in any::<bool>(),
        set in any::<bool>(),
    ) {
        let src = schema(&decls);
        let compiled = compile_str("p.packet", &src, &Options { max_frame_len: 0xFFFF_FFFC, ..Options::default() });
        // An array of items that take no bytes (`[[u8; 0]; 2]`, of an
        // empty struct) is E0120: not a valid schema.
        let rendered = compiled.render();
        prop_assume!(rendered.matches("error[").count() == 0
            || rendered.matches("error[").count() != rendered.matches("error[E0120]").count());
        prop_assert!(!compiled.has_errors(), "{}\n{}", rendered, src);
        let has_packet = decls.iter().any(|(_, d)| matches!(d, Decl::Packet(_)));
        let opts = CodegenOptions {
            owned,
            packet_set: (set && has_packet).then(|| "All".to_string()),
            ..Default::default()
        };
        let rust = compiled.generate(&opts);
        prop_assert!(rust.is_ok(), "{:?}\n{}", rust.err(), src);
        let rust = rust.unwrap();
        prop_assert!(syn::parse_file(&rust).is_ok(), "{}", rust);
        let recursive = decls.iter().filter(|(_, d)| matches!(d, Decl::Recursive(..))).count();
        prop_assert_eq!(rust.matches("#[packet(recursive)]").count(), recursive, "{}", rust);
    }
}
