//! The module layering of `src/lib.rs`: a module uses only modules of its own layer or below,
//! so that the theory never depends on the simulators, the simulators never on the spectra,
//! and nothing but the CLI on the CLI. The layers, bottom up:
//!
//! | layer | modules |
//! |---|---|
//! | 0 | `error`, `budget`, `output`, `power_series`, `roots` |
//! | 1 | `gauss` |
//! | 2 | `activation` |
//! | 3 | `expect`, `expansion` |
//! | 4 | `cells` |
//! | 5 | `stats` |
//! | 6 | `sim`, `exact` |
//! | 7 | `spectrum` |
//! | 8 | `phase` |
//! | 9 | `init` |
//! | 10 | `training` |
//! | 11 | `report` (the library recipes behind `mfrnn report`) |
//! | 12 | `cli` |
//!
//! `theory` (documentation only) may be cited by anyone. Modules of one layer may use each
//! other only where listed in `SIDEWAYS`. A module missing from the table fails the test, so a
//! new module must be placed.
//!
//! Statistics and theory stay out of `src/cli` (issue 12), checked by
//! `the_cli_computes_no_statistics_or_theory`: no function of the statistics module or of the
//! report's recipes is defined there, and no numeric idiom of a statistic or a formula appears
//! in its code.

use std::collections::BTreeMap;
use std::path::Path;

const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("budget", 0),
    ("output", 0),
    ("power_series", 0),
    ("roots", 0),
    ("gauss", 1),
    ("activation", 2),
    ("expect", 3),
    ("expansion", 3),
    ("cells", 4),
    ("stats", 5),
    ("sim", 6),
    ("exact", 6),
    ("spectrum", 7),
    ("phase", 8),
    ("init", 9),
    ("training", 10),
    ("report", 11),
    ("cli", 12),
    ("theory", 0),
];

/// Uses within one layer that are allowed (user → used).
const SIDEWAYS: &[(&str, &str)] = &[
    ("budget", "error"),
    ("output", "error"),
    ("roots", "error"),
    ("power_series", "error"),
    ("expansion", "expect"),
    ("error", "budget"),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Every module named by a `crate::` path in a Rust source text, outside comments (line comments
/// and doc comments are dropped line by line; the crate's sources have no block comments).
/// Groups are followed through lines and nesting: `crate::{a::{b, c},\n d}` names `a` and `d`.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let tail = rest[i + "crate::".len()..].trim_start();
        if let Some(group) = tail.strip_prefix('{') {
            // The top-level items of the group, up to its matching brace.
            let (mut depth, mut item_start, mut end) = (0usize, 0usize, group.len());
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = k;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&group[item_start..k]));
                        item_start = k + 1;
                    }
                    _ => {}
                }
            }
            out.push(ident(&group[item_start..end]));
            rest = &group[end.min(group.len())..];
        } else {
            out.push(ident(tail));
            rest = tail;
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The violations of the layering in the source files under `src`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer(&module) else {
            bad.push(format!("{}: module `{module}` has no layer", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap();
        let mut seen = BTreeMap::new();
        for used in crate_paths(&text) {
            if used == module || used == "theory" || used == "Error" || used == "Result" {
                continue;
            }
            let Some(l) = layer(&used) else {
                continue; // not a module (a re-exported item such as `crate::Error`)
            };
            let sideways_ok = SIDEWAYS.contains(&(module.as_str(), used.as_str()));
            if l > own || (l == own && !sideways_ok) {
                seen.entry(used.clone()).or_insert(l);
            }
        }
        for (used, l) in seen {
            bad.push(format!(
                "{}: `{module}` (layer {own}) uses `{used}` (layer {l})",
                rel.display()
            ));
        }
    }
    bad
}

#[test]
fn every_module_uses_only_its_layer_and_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_reports_an_upward_use() {
    let dir = std::env::temp_dir().join(format!("mfrnn-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cells")).unwrap();
    std::fs::write(
        dir.join("cells/x.rs"),
        "use crate::sim::SimConfig; // a comment naming crate::cli is ignored\n",
    )
    .unwrap();
    std::fs::write(dir.join("gauss.rs"), "use crate::{error, expect};\n").unwrap();
    // A group over several lines, with a nested group: `init` is above `spectrum`.
    std::fs::create_dir_all(dir.join("spectrum")).unwrap();
    std::fs::write(
        dir.join("spectrum/y.rs"),
        "use crate::{\n    cells::Cell,\n    init::{self, Target},\n};\nfn f() { crate::stats::mean_se(&[]); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("newmod.rs"), "\n").unwrap();
    let bad = violations(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bad.len(), 4, "{bad:?}");
    assert!(
        bad.iter()
            .any(|b| b.contains("`spectrum` (layer 7) uses `init`"))
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("`cells` (layer 4) uses `sim`"))
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("`gauss` (layer 1) uses `expect`"))
    );
    assert!(bad.iter().any(|b| b.contains("`newmod` has no layer")));
}

/// The idioms by which code computes statistics or theory: sums into means, square roots of
/// variances, order statistics, exponentials and logarithms of the theory's formulas.
const NUMERIC_IDIOMS: &[&str] = &[
    ".sqrt()",
    ".sum()",
    ".sum::<",
    "partition_point",
    ".sort()",
    "sort_by",
    "sort_unstable",
    ".exp()",
    ".ln()",
    ".tanh()",
];

/// The names of the public functions of a Rust source text.
fn pub_fns(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub fn "))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Statistics or theory in the files under `cli`: a definition of a function named like one
/// of `library_fns`, or one of [`NUMERIC_IDIOMS`], outside comments.
fn cli_numerics(cli: &Path, library_fns: &[String]) -> Vec<String> {
    let mut files = Vec::new();
    sources(cli, &mut files);
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = match line.find("//") {
                Some(k) => &line[..k],
                None => line,
            };
            let at = format!("{}:{}", f.display(), i + 1);
            for idiom in NUMERIC_IDIOMS {
                if code.contains(idiom) {
                    bad.push(format!("{at}: `{idiom}`"));
                }
            }
            for name in library_fns {
                if code.contains(&format!("fn {name}(")) || code.contains(&format!("fn {name}<")) {
                    bad.push(format!("{at}: defines `{name}` (a library function)"));
                }
            }
        }
    }
    bad
}

/// No file under `src/cli` holds statistics or theory: the CLI chooses parameters, calls the
/// library and renders. The functions of `stats` and of the report's recipes are defined
/// only in the library.
#[test]
fn the_cli_computes_no_statistics_or_theory() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut library = Vec::new();
    let mut files = vec![src.join("stats.rs")];
    sources(&src.join("report"), &mut files);
    for f in files {
        library.extend(pub_fns(&std::fs::read_to_string(f).unwrap()));
    }
    for name in [
        "mean_se",
        "quantile",
        "histogram",
        "ks_distance",
        "fit_inverse_width",
    ] {
        assert!(library.iter().any(|n| n == name), "stats lost `{name}`");
    }
    let bad = cli_numerics(&src.join("cli"), &library);
    assert!(
        bad.is_empty(),
        "statistics or theory in src/cli:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_cli_checker_reports_statistics() {
    let dir = std::env::temp_dir().join(format!("mfrnn-cli-numerics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("report")).unwrap();
    std::fs::write(
        dir.join("report/x.rs"),
        "fn quantile(xs: &[f64]) -> f64 { xs[0] }\n\
         let se = (v / n).sqrt(); // a comment naming .exp() is ignored\n",
    )
    .unwrap();
    std::fs::write(dir.join("y.rs"), "let m = xs.iter().sum::<f64>() / n;\n").unwrap();
    let bad = cli_numerics(&dir, &["quantile".to_string()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().any(|b| b.contains("defines `quantile`")));
    assert!(bad.iter().any(|b| b.contains("`.sqrt()`")));
    assert!(bad.iter().any(|b| b.contains("`.sum::<`")));
}
