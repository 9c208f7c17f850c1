//! `mfrnn report --quick` produces every figure and data file, non-empty and well-formed,
//! and replaces an existing report only when complete.

use std::path::Path;
use std::process::Command;

/// Minimal well-formedness check: every element closed in order (XML rules; in HTML the void
/// elements `img`, `meta`, `br`, `link` need no closing tag).
fn well_formed(text: &str, html: bool) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let j = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[..j];
        rest = &rest[j + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag.chars().take_while(|c| c.is_alphanumeric()).collect();
        if tag.ends_with('/') || (html && ["img", "meta", "br", "link"].contains(&name.as_str())) {
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn quick_report_is_complete_and_well_formed() {
    let dir = std::env::temp_dir().join(format!("mfrnn-report-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_mfrnn"))
        .args(["report", "--quick", "--out"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    well_formed(&html, true).unwrap();
    // Every figure and data file the page links to exists, is non-empty and parses.
    let mut linked = 0;
    for part in html
        .split("src=\"")
        .skip(1)
        .chain(html.split("href=\"").skip(1))
    {
        let name = &part[..part.find('"').unwrap()];
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.trim().is_empty(), "{name} is empty");
        match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("svg") => well_formed(&text, false).unwrap_or_else(|e| panic!("{name}: {e}")),
            Some("json") => {
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Some("csv") => {
                let cols = text.lines().next().unwrap().split(',').count();
                assert!(text.lines().count() > 1, "{name}");
                for l in text.lines() {
                    assert_eq!(l.split(',').count(), cols, "{name}: ragged row {l}");
                }
            }
            other => panic!("unexpected link {name} ({other:?})"),
        }
        linked += 1;
    }
    assert!(linked >= 12, "only {linked} linked files");
    // The minimalRNN spectra and the finite-width study are linked from the page.
    for name in [
        "spectrum_minimal_T1.svg",
        "spectrum_minimal_cdf_T1.svg",
        "spectrum_minimal.csv",
        "spectrum_minimal.json",
        "finite_width_vanilla.svg",
        "finite_width_minimal.svg",
        "finite_width.csv",
        "finite_width.json",
    ] {
        assert!(
            html.contains(&format!("src=\"{name}\"")) || html.contains(&format!("href=\"{name}\"")),
            "{name} not linked"
        );
    }
    // Spectrum rows are flagged exact exactly for one step; moments are finite and positive.
    let spectra: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spectrum_minimal.json")).unwrap())
            .unwrap();
    let spectra = spectra.as_array().unwrap();
    assert!(!spectra.is_empty());
    for w in ["orthogonal", "gaussian"] {
        assert!(spectra.iter().any(|r| r["weights"] == w), "no {w} rows");
    }
    for r in spectra {
        let t = r["steps"].as_u64().unwrap();
        assert_eq!(r["exact"].as_bool().unwrap(), t == 1, "{r}");
        for k in ["theory_m1", "sampled_m1", "theory_normalized_variance"] {
            let x = r[k].as_f64().unwrap();
            assert!(x.is_finite() && x > 0.0, "{k}: {r}");
        }
        let ks = r["ks_distance"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ks), "{r}");
    }
    // The finite-width study: both cells, Q and c, at least two widths each, and a fit each.
    let fw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("finite_width.json")).unwrap())
            .unwrap();
    assert!(fw["rows"].as_array().unwrap().len() >= 8);
    let fits = fw["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 4);
    for f in fits {
        assert!(f["kappa"].as_f64().unwrap().is_finite(), "{f}");
        assert!(f["kappa_se"].as_f64().unwrap() > 0.0, "{f}");
    }
    // The automatic method agrees with the independent adaptive path everywhere.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("accuracy.json")).unwrap()).unwrap();
    for r in json.as_array().unwrap() {
        let d = r["difference"].as_f64().unwrap().abs();
        let v = r["reference_value"].as_f64().unwrap().abs();
        assert!(d <= 1e-12 * v + 1e-15, "{r}");
    }
    // No partial directories left behind.
    let parent = dir.parent().unwrap();
    let stem = dir.file_name().unwrap().to_string_lossy().to_string();
    for e in std::fs::read_dir(parent).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            !(name.contains(&stem) && name.contains("partial")),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
