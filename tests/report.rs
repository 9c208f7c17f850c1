//! `mfrnn report --quick` produces every file, non-empty and well-formed, and replaces an
//! existing report only when complete.

use std::process::Command;

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
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    // Tags balance (a cheap well-formedness check for the tags the report uses).
    for tag in ["table", "tr", "p", "h1", "h2", "body", "html"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> unbalanced");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("accuracy.json")).unwrap()).unwrap();
    let rows = json.as_array().unwrap();
    assert!(rows.len() > 50);
    let csv = std::fs::read_to_string(dir.join("accuracy.csv")).unwrap();
    assert_eq!(csv.lines().count(), rows.len() + 1);
    // The automatic method agrees with the independent adaptive path everywhere.
    for r in rows {
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
