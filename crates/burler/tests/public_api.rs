//! The public surface has one path per item: every module is private, each public item is
//! re-exported once at the crate root (the prelude repeats some of them, and `singer` / `schema`
//! are whole crates), and no doc comment talks about planning notes instead of the product.

use std::collections::BTreeSet;

const LIB: &str = include_str!("../src/lib.rs");

/// The names `pub use` brings to the crate root (outside the prelude).
fn root_exports() -> Vec<String> {
    let top = LIB.split("pub mod prelude").next().unwrap_or(LIB);
    let mut names = Vec::new();
    for statement in top.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = &statement[at + "pub use ".len()..];
        let items = match path.find('{') {
            Some(open) => path[open + 1..]
                .trim_end_matches(['}', ' ', '\n'])
                .to_owned(),
            None => path.rsplit("::").next().unwrap_or(path).to_owned(),
        };
        for item in items.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let name = item.rsplit(" as ").next().unwrap_or(item);
            names.push(name.rsplit("::").next().unwrap_or(name).trim().to_owned());
        }
    }
    names
}

#[test]
fn every_module_is_private_but_the_prelude() {
    let public: Vec<&str> = LIB
        .lines()
        .filter(|l| l.trim_start().starts_with("pub mod "))
        .collect();
    assert_eq!(
        public,
        vec!["pub mod prelude {"],
        "public modules give items two paths"
    );
}

#[test]
fn each_item_is_exported_once_at_the_root() {
    let names = root_exports();
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        unique.len(),
        names.len(),
        "an item is exported twice: {names:?}"
    );
    for expected in [
        "Tap",
        "Stream",
        "SyncContext",
        "Interleave",
        "StartDate",
        "TapConfig",
        "record",
        "config",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} is not at the root: {names:?}"
        );
    }
}

#[test]
fn the_prelude_repeats_only_root_items_and_the_protocol_crates() {
    let prelude = LIB.split("pub mod prelude").nth(1).expect("a prelude");
    let block = &prelude[..prelude.find("\n}").expect("the prelude's end")];
    let from_root = block
        .split("pub use crate::{")
        .nth(1)
        .and_then(|b| b.split('}').next())
        .expect("root items in the prelude");
    let root = root_exports();
    for item in from_root
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        assert!(
            root.iter().any(|r| r == item),
            "{item} is in the prelude only"
        );
    }
    for line in block
        .lines()
        .filter(|l| l.contains("pub use ") && !l.contains("crate::"))
    {
        assert!(
            line.contains("burler_schema::") || line.contains("burler_singer::"),
            "the prelude re-exports something else: {line}"
        );
    }
}

#[test]
fn no_doc_comment_speaks_of_the_planning_notes() {
    let sources = [
        include_str!("../src/context.rs"),
        include_str!("../src/stream.rs"),
        include_str!("../src/tap.rs"),
        include_str!("../src/lib.rs"),
        include_str!("../src/patterns.rs"),
    ];
    for source in sources {
        for line in source.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(!line.contains("the seed"), "{line}");
        }
    }
}
