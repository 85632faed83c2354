//! `mosn check -c FILE`: every problem at once, without starting anything.

use std::path::Path;

use mosn_config::{Diagnostic, Diagnostics, Severity};

use crate::prepare::{Purpose, prepare};

/// Prints every problem; returns whether the config can run.
pub fn check(path: &Path) -> bool {
    let mut problems: Vec<Diagnostic> = Vec::new();
    let config = match mosn_config::load_file(path) {
        Ok(loaded) => {
            problems.extend(loaded.warnings);
            Some(loaded.config)
        }
        Err(rejected) => {
            problems.extend(rejected.diagnostics);
            rejected.config.map(|config| *config)
        }
    };
    if let Some(config) = config {
        let mut diags = Diagnostics::default();
        prepare(&config, &Purpose::Check, &mut diags);
        problems.extend(diags.into_items());
    }
    for problem in &problems {
        println!("{problem}");
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    println!("{}: {errors} errors, {warnings} warnings", path.display());
    errors == 0
}
