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
            Some("jsonl") => {
                for l in text.lines() {
                    serde_json::from_str::<serde_json::Value>(l)
                        .unwrap_or_else(|e| panic!("{name}: {e}: {l}"));
                }
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
    let json = json.as_array().unwrap();
    for r in json {
        let d = r["difference"].as_f64().unwrap().abs();
        let v = r["reference_value"].as_f64().unwrap().abs();
        assert!(d <= 1e-12 * v + 1e-15, "{r}");
    }
    check_accuracy_section(&dir, &html, json);
    check_trainability_section(&dir, &html);
    check_exact_phase(&dir, &html);
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

/// The exact-theory diagram of the minimalRNN next to the factorised one: linked, its ratio is
/// the quotient of its two columns, and at the weakest recurrence (σ_w = 0.5, where tying the
/// weights matters least) the theories agree to within 20% (measured 0.88–1.01 on the quick
/// grid; the exact ξ_c carries a 1–4% sampling error there).
fn check_exact_phase(dir: &Path, html: &str) {
    for name in [
        "minimal_exact_xi_c.svg",
        "minimal_exact_xi_c.csv",
        "minimal_exact_over_factorised.svg",
        "minimal_exact_over_factorised.csv",
    ] {
        assert!(
            html.contains(&format!("src=\"{name}\"")) || html.contains(&format!("href=\"{name}\"")),
            "{name} not linked"
        );
    }
    let csv = std::fs::read_to_string(dir.join("minimal_exact_over_factorised.csv")).unwrap();
    let mut weak = 0;
    for l in csv.lines().skip(1) {
        let f: Vec<Option<f64>> = l.split(',').map(|x| x.parse().ok()).collect();
        let (sw, exact, fact, ratio) = (f[0].unwrap(), f[2], f[4], f[5]);
        if let (Some(e), Some(m), Some(r)) = (exact, fact, ratio)
            && e.is_finite()
            && m.is_finite()
        {
            assert!((r - e / m).abs() <= 1e-12 * r.abs(), "{l}");
        }
        if sw == 0.5 {
            let r = ratio.unwrap();
            assert!((0.8..=1.25).contains(&r), "weak recurrence: {l}");
            weak += 1;
        }
    }
    assert_eq!(weak, 5, "{csv}");
}

/// The trainability section: both grids' files are present and linked, each grid file is
/// complete (every cell of its grid, read back by the library's verifying reader) and the
/// section shows the separation table.
fn check_trainability_section(dir: &Path, html: &str) {
    use mfrnn::training::trainability as tr;
    let start = html
        .find("6. Trainability")
        .expect("no trainability section");
    let section = &html[start..];
    for name in ["vanilla", "minimal"] {
        for ext in ["svg", "jsonl"] {
            let f = format!("trainability-{name}.{ext}");
            assert!(dir.join(&f).is_file(), "{f} missing");
            assert!(section.contains(&format!("\"{f}\"")), "{f} not linked");
        }
        let g = tr::read(&dir.join(format!("trainability-{name}.jsonl"))).unwrap();
        assert!(g.missing().is_empty(), "{name}: cells missing");
        assert_eq!(g.cells.len(), g.grid.num_cells());
        for c in &g.cells {
            assert!((0.0..=1.0).contains(&c.mean_accuracy.unwrap()), "{c:?}");
        }
    }
    assert!(section.contains("T ≤ T₀"), "no trivial rule");
    assert!(section.contains("xi_c_rho0"), "no timescale candidates");
}

/// The accuracy section: the full table is a CSV with every row (and the JSON's), the page shows
/// a figure of the error against q with every row once, and no longer the table itself.
fn check_accuracy_section(dir: &Path, html: &str, json: &[serde_json::Value]) {
    // Every activation, every integrand of the grid.
    for a in mfrnn::activation::Builtin::ALL {
        assert!(
            json.iter().any(|r| r["activation"] == a.as_str()),
            "no rows for {}",
            a.as_str()
        );
    }
    // The CSV: one line per row, in the same order, with the same numbers.
    let csv = std::fs::read_to_string(dir.join("accuracy.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let lines: Vec<&str> = lines.collect();
    assert_eq!(lines.len(), json.len(), "accuracy.csv rows");
    for (l, r) in lines.iter().zip(json) {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(
            f[col("activation")],
            r["activation"].as_str().unwrap(),
            "{l}"
        );
        assert_eq!(f[col("integrand")], r["integrand"].as_str().unwrap(), "{l}");
        assert_eq!(f[col("method")], r["method"].as_str().unwrap(), "{l}");
        for k in ["q", "mean", "value", "reference_value"] {
            let x: f64 = f[col(k)].parse().unwrap();
            let y = r[k].as_f64().unwrap();
            // The CSV prints 18 significant digits (exact after `parse`); serde_json's default
            // float parser may be one unit in the last place off.
            assert!((x - y).abs() <= 2.5e-16 * y.abs(), "{k}: {l} against {y:e}");
        }
    }
    // The figure: linked, and its data holds every row once, as the error relative to
    // |reference| + 1e-3 against q, one series per activation and method.
    assert!(
        html.contains("src=\"accuracy_engine.svg\""),
        "figure not shown"
    );
    assert!(html.contains("href=\"accuracy.csv\""), "table not linked");
    let svg = std::fs::read_to_string(dir.join("accuracy_engine.svg")).unwrap();
    assert!(svg.contains("1e-12"), "no 1e-12 line");
    let fig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("accuracy_engine.json")).unwrap())
            .unwrap();
    let mut drawn = Vec::new();
    for s in fig.as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let (act, method) = name.split_once(" · ").unwrap();
        let qs = s["t"].as_array().unwrap();
        let ys = s["value"].as_array().unwrap();
        assert_eq!(qs.len(), ys.len(), "{name}");
        for (q, y) in qs.iter().zip(ys) {
            drawn.push((
                act.to_string(),
                method.to_string(),
                q.as_f64().unwrap(),
                y.as_f64().unwrap(),
            ));
        }
    }
    assert_eq!(drawn.len(), json.len(), "every row drawn once");
    let mut expected: Vec<(String, String, f64, f64)> = json
        .iter()
        .map(|r| {
            let d = r["difference"].as_f64().unwrap().abs();
            let v = r["reference_value"].as_f64().unwrap().abs();
            (
                r["activation"].as_str().unwrap().to_string(),
                r["method"].as_str().unwrap().to_string(),
                r["q"].as_f64().unwrap(),
                d / (v + 1e-3),
            )
        })
        .collect();
    let key = |a: &(String, String, f64, f64), b: &(String, String, f64, f64)| {
        (&a.0, &a.1)
            .cmp(&(&b.0, &b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.total_cmp(&b.3))
    };
    expected.sort_by(key);
    drawn.sort_by(key);
    for (d, e) in drawn.iter().zip(&expected) {
        // Equal up to serde_json's last-place rounding of the numbers it reads.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs();
        assert!(
            d.0 == e.0 && d.1 == e.1 && close(d.2, e.2) && close(d.3, e.3),
            "drawn {d:?}, row {e:?}"
        );
    }
    // The page no longer holds a row per evaluation: the section's table is a summary.
    let start = html.find("The Gaussian-expectation engine").unwrap();
    let end = html[start..].find("Finite-width error").unwrap();
    let rows = html[start..start + end].matches("<tr>").count();
    assert!(
        rows < 20 && rows < json.len(),
        "{rows} table rows in the accuracy section"
    );
}
