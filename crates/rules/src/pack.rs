//! The default rule pack, built into the binary: cross-engine recording
//! rules and the infra, quality and hybrid alerts (the repository's
//! `rules/*.yml`, documented in `docs/runbooks.md`).

use crate::error::{Error, Result};
use crate::file::{self, GroupSpec};

/// The pack's files: (name, YAML text).
pub const FILES: &[(&str, &str)] = &[
    ("recording.yml", include_str!("../../../rules/recording.yml")),
    ("infra.yml", include_str!("../../../rules/infra.yml")),
    ("quality.yml", include_str!("../../../rules/quality.yml")),
    ("hybrid.yml", include_str!("../../../rules/hybrid.yml")),
];

/// The pack's groups, their files named `builtin/<name>`.
///
/// # Errors
///
/// [`Error::Invalid`] if the pack does not validate (a test keeps it valid).
pub fn groups() -> Result<Vec<GroupSpec>> {
    let mut groups = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in FILES {
        match file::parse_file(&format!("builtin/{name}"), text) {
            Ok(mut parsed) => groups.append(&mut parsed),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() { Ok(groups) } else { Err(Error::Invalid { problems }) }
}
