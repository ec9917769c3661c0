//! The reporter that collects a manifest's problems while it is compiled, placing each at the
//! line and column of the node its JSON Pointer names.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::yaml::Positions;

/// Collects problems while a manifest is compiled, placing each by its JSON Pointer.
pub(crate) struct Reporter<'a> {
    positions: &'a Positions,
    pub(crate) out: Diagnostics,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &Path, positions: &'a Positions) -> Self {
        Reporter {
            positions,
            out: Diagnostics::new(file),
        }
    }

    /// A problem with the node at `pointer`.
    pub(crate) fn at(&mut self, pointer: &str, message: impl Into<String>) {
        let position = self.positions.value(pointer);
        self.push(position, pointer, message.into());
    }

    /// A problem with the key at `pointer` (an unknown or misplaced key).
    pub(crate) fn at_key(&mut self, pointer: &str, message: impl Into<String>) {
        let position = self.positions.key(pointer);
        self.push(position, pointer, message.into());
    }

    fn push(&mut self, position: Position, pointer: &str, message: String) {
        self.out.items.push(Diagnostic {
            position,
            pointer: pointer.to_owned(),
            message,
        });
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.out.is_empty()
    }
}
