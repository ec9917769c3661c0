//! The Singer protocol, usable without the burler framework: messages (written and parsed), a
//! streaming message reader, the catalog with breadcrumb metadata and selection rules, state with
//! bookmarks (and the merge of the states of workers that split a sync), and singer-python metric
//! lines. No async runtime, no CLI: a target, a checker or a test tool can depend on this crate
//! alone.
//!
//! ```
//! use burler_singer::{Message, State};
//! let line = r#"{"type":"STATE","value":{"bookmarks":{"users":{"replication_key_value":5}}}}"#;
//! let Message::State(state) = Message::parse(line).unwrap() else { unreachable!() };
//! let state = State::from_value(state.value).unwrap();
//! assert_eq!(state.replication_key_value("users"), Some(&serde_json::json!(5)));
//! ```

pub mod bookmark;
pub mod catalog;
pub mod datetime;
pub mod error;
pub mod merge;
pub mod message;
pub mod metadata;
pub mod metrics;
pub mod reader;
pub mod selection;
pub mod state;
pub mod verify;
pub mod visitor;

pub use bookmark::{BookmarkValue, compare_json};
pub use catalog::{Catalog, CatalogEntry, ReplicationMethod};
pub use error::ProtocolError;
pub use message::{
    ActivateVersionMessage, BatchEncoding, BatchMessage, Message, RawMessage, RawRecord,
    RecordEncoder, RecordMessage, SchemaMessage, StateMessage, format_time_extracted,
};
pub use metadata::{Breadcrumb, Inclusion, Metadata, keys};
pub use metrics::{Metric, MetricKind, parse_metric_line};
pub use reader::{MessageReader, RawLines, ReadError, raw_messages, read_messages};
pub use selection::FieldSelection;
pub use state::{State, StreamBookmark};
pub use verify::{ProblemKind, Severity, VerifyProblem, verify_catalog};
pub use visitor::{NodeMetadata, SchemaNode, visit_schema};
