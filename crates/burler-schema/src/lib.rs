//! JSON Schema as Singer uses it.
//!
//! - [`refs`]: `$ref` resolution of every variety (local pointers, other files, `$id`s), so the
//!   schema sent to targets has no `$ref` left ([`load_file`], [`resolve`]).
//! - [`from_type`]: Singer-friendly schemas derived from Rust types ([`for_type`]).
//! - [`wsdl`]: JSON Schemas of the types of a WSDL/XSD document, for SOAP sources.
//! - [`conform`]: records coerced to their stream's schema by a plan compiled once ([`Conformer`]).
//! - [`infer`]: a schema guessed from sample records ([`Inferrer`]).
//!
//! ```
//! use burler_schema::{Conformed, ConformStats, Conformer, ViolationPolicy};
//! use serde_json::json;
//!
//! let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
//! let conformer = Conformer::compile(&schema, ViolationPolicy::Error);
//! let mut record = json!({"id": "42", "extra": true});
//! let mut stats = ConformStats::default();
//! assert_eq!(conformer.conform(&mut record, &mut stats).unwrap(), Conformed::Kept);
//! assert_eq!(record, json!({"id": 42}));
//! ```

pub mod conform;
pub mod from_type;
pub mod infer;
pub mod refs;
mod walk;
pub mod wsdl;

use std::path::PathBuf;

pub use conform::{ConformError, ConformStats, Conformed, Conformer, ViolationPolicy};
pub use from_type::for_type;
pub use infer::Inferrer;
pub use refs::{Resolver, load_file, resolve};

/// Why a schema could not be produced. Each variant displays as one line naming the file, the
/// `$ref` and where it was found.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A schema file could not be read.
    #[error("schema {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A schema file is not JSON.
    #[error("schema {}: not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A `$ref` points nowhere.
    #[error("unresolvable $ref {reference:?} at {at} in {file}: {reason}")]
    MissingRef {
        /// The reference as written.
        reference: String,
        /// Where it was found (JSON pointer into the resolved output).
        at: String,
        /// The file it was written in (`the given schema` for an in-memory schema).
        file: String,
        /// Why it could not be followed.
        reason: String,
    },
    /// A `$ref` refers to itself through its own expansion.
    #[error(
        "recursive $ref {reference:?} at {at} in {file}: a Singer schema must be finite (allow a bounded expansion with Resolver::max_recursion)"
    )]
    Cycle {
        /// The reference as written.
        reference: String,
        /// Where it was found (JSON pointer into the resolved output).
        at: String,
        /// The file it was written in (`the given schema` for an in-memory schema).
        file: String,
    },
    /// A WSDL or XSD document could not be read.
    #[error("{context}: {message}")]
    Xml {
        /// The document and, where known, the element or type.
        context: String,
        /// What is wrong.
        message: String,
    },
}
