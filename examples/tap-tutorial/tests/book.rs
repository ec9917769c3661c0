//! The book's tutorial ends at this crate: its last pages show `src/main.rs`, `src/config.rs`
//! and `tests/suite.rs` word for word, and every page of the book is compiled (src/lib.rs). The
//! pages' blocks that are not Rust but configuration (a manifest, stream maps, `batch_config`)
//! are read here by the crates that read them in a tap.

use serde_json::{Value, json};

const TESTS_PAGE: &str = include_str!("../../../docs/book/src/tutorial/06-tests.md");
const MELTANO_PAGE: &str = include_str!("../../../docs/book/src/tutorial/07-meltano.md");
const SUMMARY: &str = include_str!("../../../docs/book/src/SUMMARY.md");
const LIB: &str = include_str!("../src/lib.rs");
const MANIFESTS_PAGE: &str = include_str!("../../../docs/book/src/guide/manifests.md");
const STREAM_MAPS_PAGE: &str = include_str!("../../../docs/book/src/guide/stream-maps.md");
const BATCH_PAGE: &str = include_str!("../../../docs/book/src/guide/batch.md");

/// The text of every fenced block of `page` that starts with the fence line `fence`.
fn blocks<'a>(page: &'a str, fence: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find(&format!("\n{fence}\n")) {
        let body = &rest[start + fence.len() + 2..];
        let end = body.find("\n```").expect("a closed code block");
        out.push(&body[..end + 1]);
        rest = &body[end..];
    }
    out
}

#[test]
fn the_tutorial_shows_the_finished_tap_word_for_word() {
    let shown = blocks(MELTANO_PAGE, "```rust,ignore");
    assert_eq!(
        shown,
        [
            include_str!("../src/main.rs"),
            include_str!("../src/config.rs")
        ]
    );
    assert_eq!(
        blocks(TESTS_PAGE, "```rust,ignore"),
        [include_str!("suite.rs")]
    );
}

#[test]
fn every_page_of_the_summary_is_compiled() {
    let pages: Vec<&str> = SUMMARY
        .lines()
        .filter_map(|l| l.split_once("](")?.1.strip_suffix(')'))
        .collect();
    assert!(pages.len() >= 20, "{pages:?}");
    for page in pages {
        assert!(
            LIB.contains(&format!("\"{page}\"")),
            "src/lib.rs does not compile {page}"
        );
    }
}

/// A folder of its own under the system's temporary one, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tap-tutorial-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_manifest_page_shows_a_valid_manifest() {
    let [yaml] = blocks(MANIFESTS_PAGE, "```yaml")[..] else {
        panic!("one YAML block on the manifests page");
    };
    let dir = TempDir::new("manifest");
    std::fs::create_dir_all(dir.0.join("schemas")).unwrap();
    let schema = |props: Value| json!({"type": "object", "properties": props}).to_string();
    std::fs::write(
        dir.0.join("schemas/orders.json"),
        schema(json!({"id": {"type": "integer"},
                      "updated_at": {"type": "string", "format": "date-time"}})),
    )
    .unwrap();
    std::fs::write(
        dir.0.join("schemas/order_lines.json"),
        schema(json!({"order_id": {"type": "integer"}, "line_no": {"type": "integer"}})),
    )
    .unwrap();
    let manifest =
        burler_manifest::Manifest::from_text(yaml, &dir.0.join("tap-shop.yaml")).unwrap();
    assert_eq!(manifest.stream_names(), ["orders", "order_lines"]);
}

#[test]
fn the_stream_maps_page_config_compiles_for_the_tutorial_streams() {
    let config: Value = serde_json::from_str(blocks(STREAM_MAPS_PAGE, "```json")[0]).unwrap();
    let string = json!({"type": "string"});
    let customers = json!({"type": "object", "properties": {"id": {"type": "integer"},
        "email": string, "country": string,
        "address": {"type": "object", "properties": {"city": string}}}});
    let orders = json!({"type": "object", "properties": {"id": {"type": "integer"},
        "status": string, "total": {"type": "number"}}});
    let lines = json!({"type": "object", "properties": {"order_id": {"type": "integer"}}});
    let id = ["id".to_owned()];
    let line_key = ["order_id".to_owned()];
    let stream = |name, schema, key_properties| burler_maps::SourceStream {
        name,
        schema,
        key_properties,
    };
    let maps = burler_maps::StreamMaps::compile(
        config.as_object().unwrap(),
        [
            stream("customers", &customers, &id[..]),
            stream("orders", &orders, &id[..]),
            stream("order_lines", &lines, &line_key[..]),
        ],
    )
    .unwrap();
    let names = |source: &str| -> Vec<String> {
        let mapper = maps.stream(source).unwrap();
        mapper
            .outputs()
            .iter()
            .map(|o| o.name().to_owned())
            .collect()
    };
    assert_eq!(names("customers"), ["customers", "customers_by_country"]);
    assert!(
        names("order_lines").is_empty(),
        "a stream set to null is removed"
    );
}

#[test]
fn the_batch_page_config_is_read_as_shown() {
    let config: Value = serde_json::from_str(blocks(BATCH_PAGE, "```json")[1]).unwrap();
    let batch = burler_batch::BatchConfig::from_config(config.as_object().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(batch.prefix, "shop-");
    assert_eq!(batch.batch_size, 10_000);
}
