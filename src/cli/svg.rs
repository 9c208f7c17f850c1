//! Self-contained SVG figures (no plotting dependency): heatmaps carry their pixels as an
//! embedded PNG (written here, uncompressed), axes, colour bar and contour lines are vector.

use std::fmt::Write as _;

/// Anchor colours of the perceptually uniform "viridis" colour map (0 → 1).
const VIRIDIS: [(f64, f64, f64); 9] = [
    (0.267, 0.005, 0.329),
    (0.283, 0.141, 0.458),
    (0.254, 0.265, 0.530),
    (0.207, 0.372, 0.553),
    (0.164, 0.471, 0.558),
    (0.128, 0.567, 0.551),
    (0.135, 0.659, 0.518),
    (0.267, 0.749, 0.441),
    (0.993, 0.906, 0.144),
];

/// Colour of `t ∈ [0, 1]` on the map, as 8-bit RGB.
pub(crate) fn colour(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: f64, y: f64| ((x + (y - x) * f) * 255.0).round().clamp(0.0, 255.0) as u8;
    [mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)]
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, slot) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// A PNG (8-bit RGB, stored/uncompressed deflate) of `rgb` rows (top row first).
pub(crate) fn png(width: usize, height: usize, rgb: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(height * (3 * width + 1));
    for row in rgb.chunks(3 * width) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (k, blk) in blocks.iter().enumerate() {
        z.push(u8::from(k + 1 == blocks.len()));
        let len = blk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(blk);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = |kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// "Nice" tick values covering `[lo, hi]`.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let raw = span / target as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= target as f64 + 0.5)
        .unwrap_or(10.0 * mag);
    let k0 = (lo / step - 1e-9).ceil() as i64;
    let k1 = (hi / step + 1e-9).floor() as i64;
    // k·step, rounded to the step's decimal precision (no accumulated error).
    let digits = (-step.log10().floor()).max(0.0) as i32 + 2;
    let scale = 10f64.powi(digits);
    (k0..=k1)
        .map(|k| ((k as f64 * step) * scale).round() / scale)
        .collect()
}

fn fmt_tick(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The start of an SVG document of `w × h` pixels (sans-serif text at `font_size`, the
/// `xlink` namespace where an image is embedded) on a white background.
pub(crate) fn begin(w: f64, h: f64, font_size: u32, xlink: bool) -> String {
    let ns = if xlink {
        r#" xmlns:xlink="http://www.w3.org/1999/xlink""#
    } else {
        ""
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg"{ns} width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="{font_size}">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    s
}

/// Escapes text for SVG/HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Specification of a heatmap figure.
pub(crate) struct Heatmap<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// `values[j][i]`, row `j` at y index `j` (bottom to top).
    pub values: &'a [Vec<Option<f64>>],
    /// Colour by `log10` of the value.
    pub log: bool,
    pub colour_label: &'a str,
    /// Contour of this field at level 0 is drawn (e.g. `χ₁ − 1`).
    pub contour: Option<(&'a [Vec<Option<f64>>], &'a str)>,
    pub note: &'a str,
}

/// Renders a heatmap with colour bar, optional contour line and legend, as SVG text.
pub(crate) fn heatmap(h: &Heatmap<'_>) -> String {
    let ny = h.values.len();
    let nx = h.values.first().map_or(0, Vec::len);
    let tr = |v: f64| if h.log { v.log10() } else { v };
    let finite: Vec<f64> = h
        .values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite() && (!h.log || *v > 0.0))
        .map(tr)
        .collect();
    let (mut lo, mut hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    // Pixels: top row of the image is the largest y.
    let mut rgb = Vec::with_capacity(nx * ny * 3);
    for j in (0..ny).rev() {
        for i in 0..nx {
            let c = match h.values[j][i] {
                None => [200, 200, 200],
                Some(v) if v.is_infinite() && v > 0.0 => [178, 24, 43],
                Some(v) if h.log && v <= 0.0 => [200, 200, 200],
                Some(v) => colour((tr(v) - lo) / (hi - lo)),
            };
            rgb.extend_from_slice(&c);
        }
    }
    let img = base64(&png(nx.max(1), ny.max(1), &rgb));
    let (w, hgt) = (760.0, 560.0);
    let (px, py, pw, ph) = (80.0, 50.0, 520.0, 420.0);
    let sx = |x: f64| px + (x - h.x_range.0) / (h.x_range.1 - h.x_range.0) * pw;
    let sy = |y: f64| py + ph - (y - h.y_range.0) / (h.y_range.1 - h.y_range.0) * ph;
    let mut s = begin(w, hgt, 13, true);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="15">{}</text>"#,
        px + pw / 2.0,
        esc(h.title)
    );
    // The image spans cell centres ± half a cell: pixel i covers [x_i − dx/2, x_i + dx/2].
    let dx = if nx > 1 {
        (h.x_range.1 - h.x_range.0) / (nx - 1) as f64
    } else {
        1.0
    };
    let dy = if ny > 1 {
        (h.y_range.1 - h.y_range.0) / (ny - 1) as f64
    } else {
        1.0
    };
    let (ix0, ix1) = (sx(h.x_range.0 - dx / 2.0), sx(h.x_range.1 + dx / 2.0));
    let (iy0, iy1) = (sy(h.y_range.1 + dy / 2.0), sy(h.y_range.0 - dy / 2.0));
    let _ = writeln!(
        s,
        r#"<svg x="{px}" y="{py}" width="{pw}" height="{ph}" overflow="hidden"><image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none" style="image-rendering:pixelated" xlink:href="data:image/png;base64,{img}"/></svg>"#,
        ix0 - px,
        iy0 - py,
        ix1 - ix0,
        iy1 - iy0
    );
    // Contour of the second field at 0 (marching squares on cell corners = grid points).
    if let Some((field, label)) = h.contour {
        let mut path = String::new();
        let xv = |i: usize| h.x_range.0 + dx * i as f64;
        let yv = |j: usize| h.y_range.0 + dy * j as f64;
        for j in 0..ny.saturating_sub(1) {
            for i in 0..nx.saturating_sub(1) {
                let c = [
                    (field[j][i], xv(i), yv(j)),
                    (field[j][i + 1], xv(i + 1), yv(j)),
                    (field[j + 1][i + 1], xv(i + 1), yv(j + 1)),
                    (field[j + 1][i], xv(i), yv(j + 1)),
                ];
                if c.iter().any(|p| p.0.is_none()) {
                    continue;
                }
                let mut pts = Vec::new();
                for k in 0..4 {
                    let (a, b) = (c[k], c[(k + 1) % 4]);
                    let (fa, fb) = (a.0.unwrap_or(0.0), b.0.unwrap_or(0.0));
                    if (fa < 0.0) != (fb < 0.0) {
                        let t = fa / (fa - fb);
                        pts.push((a.1 + t * (b.1 - a.1), a.2 + t * (b.2 - a.2)));
                    }
                }
                for seg in pts.chunks(2) {
                    if seg.len() == 2 {
                        let _ = write!(
                            path,
                            "M{:.1},{:.1}L{:.1},{:.1}",
                            sx(seg[0].0),
                            sy(seg[0].1),
                            sx(seg[1].0),
                            sy(seg[1].1)
                        );
                    }
                }
            }
        }
        if !path.is_empty() {
            let _ = writeln!(
                s,
                r#"<path d="{path}" fill="none" stroke="white" stroke-width="2.5"/><path d="{path}" fill="none" stroke="black" stroke-width="1.2" stroke-dasharray="5,3"/>"#
            );
        }
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="black" stroke-width="1.2" stroke-dasharray="5,3"/><text x="{}" y="{}">{}</text>"#,
            px,
            py + ph + 48.0,
            px + 30.0,
            py + ph + 48.0,
            px + 36.0,
            py + ph + 52.0,
            esc(label)
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{px}" y="{py}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    for t in ticks(h.x_range.0, h.x_range.1, 6) {
        let x = sx(t);
        let _ = writeln!(
            s,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="black"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            py + ph,
            py + ph + 5.0,
            py + ph + 19.0,
            fmt_tick(t)
        );
    }
    for t in ticks(h.y_range.0, h.y_range.1, 6) {
        let y = sy(t);
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{y:.1}" x2="{px}" y2="{y:.1}" stroke="black"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            px - 5.0,
            px - 8.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        px + pw / 2.0,
        py + ph + 36.0,
        esc(h.x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="22" y="{}" text-anchor="middle" transform="rotate(-90 22 {})">{}</text>"#,
        py + ph / 2.0,
        py + ph / 2.0,
        esc(h.y_label)
    );
    // Colour bar.
    let (bx, bw) = (px + pw + 30.0, 18.0);
    let steps = 64;
    for k in 0..steps {
        let c = colour(f64::from(k) / f64::from(steps - 1));
        let y = py + ph - ph * f64::from(k + 1) / f64::from(steps);
        let _ = writeln!(
            s,
            r#"<rect x="{bx}" y="{y:.2}" width="{bw}" height="{:.2}" fill="rgb({},{},{})"/>"#,
            ph / f64::from(steps) + 0.5,
            c[0],
            c[1],
            c[2]
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{bx}" y="{py}" width="{bw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    for t in ticks(lo, hi, 6) {
        let y = py + ph - (t - lo) / (hi - lo) * ph;
        let label = if h.log {
            fmt_tick(10f64.powf(t))
        } else {
            fmt_tick(t)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="black"/><text x="{}" y="{:.1}">{}</text>"#,
            bx + bw,
            bx + bw + 4.0,
            bx + bw + 7.0,
            y + 4.0,
            label
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        bx + bw / 2.0,
        py - 10.0,
        esc(h.colour_label)
    );
    let _ = writeln!(
        s,
        r#"<rect x="{}" y="{}" width="12" height="12" fill="rgb(178,24,43)"/><text x="{}" y="{}">∞</text><rect x="{}" y="{}" width="12" height="12" fill="rgb(200,200,200)"/><text x="{}" y="{}">undefined</text>"#,
        px + 260.0,
        py + ph + 42.0,
        px + 276.0,
        py + ph + 52.0,
        px + 310.0,
        py + ph + 42.0,
        px + 326.0,
        py + ph + 52.0
    );
    if !h.note.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{px}" y="{}" font-size="11" fill="#444">{}</text>"##,
            hgt - 8.0,
            esc(h.note)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One series of a line chart: a line (theory) or markers with error bars (simulation).
pub(crate) struct Series<'a> {
    pub name: String,
    pub x: &'a [f64],
    pub y: &'a [f64],
    /// Standard errors: drawn as markers with ±2·se bars; `None`: a line.
    pub err: Option<&'a [f64]>,
    pub colour: &'a str,
    pub dashed: bool,
    /// The marker of a series with `err` (zero errors: markers without bars).
    pub marker: Marker,
}

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
}

/// The marker shapes in order, to tell series of one colour apart.
pub(crate) const MARKERS: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
];

/// A marker of size `r` at `(cx, cy)` as SVG.
fn marker(m: Marker, cx: f64, cy: f64, r: f64, colour: &str) -> String {
    let poly = |pts: &[(f64, f64)]| {
        let p: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", cx + x * r, cy + y * r))
            .collect();
        format!(r#"<polygon points="{}" fill="{colour}"/>"#, p.join(" "))
    };
    match m {
        Marker::Circle => format!(r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r}" fill="{colour}"/>"#),
        Marker::Square => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
            cx - 0.9 * r,
            cy - 0.9 * r,
            1.8 * r,
            1.8 * r
        ),
        Marker::TriangleUp => poly(&[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)]),
        Marker::TriangleDown => poly(&[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)]),
        Marker::Diamond => poly(&[(0.0, -1.3), (1.1, 0.0), (0.0, 1.3), (-1.1, 0.0)]),
        Marker::Cross => format!(
            r#"<path d="M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}" stroke="{colour}" stroke-width="1.6"/>"#,
            cx - r,
            cy - r,
            cx + r,
            cy + r,
            cx - r,
            cy + r,
            cx + r,
            cy - r
        ),
    }
}

/// Palette for series (colour-blind-safe, Okabe–Ito).
pub(crate) const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

/// Scales and reference lines of a chart ([`chart`]); the default is linear axes.
#[derive(Debug, Default)]
pub(crate) struct Axes<'a> {
    /// Logarithmic x axis (points with `x <= 0` are not drawn).
    pub log_x: bool,
    /// Logarithmic y axis (points with `y <= 0` are not drawn, unless `y_floor` is set).
    pub log_y: bool,
    /// With `log_y`: values below it (including exact zeros) are drawn at it.
    pub y_floor: Option<f64>,
    /// Horizontal reference lines `(y, label)`, dashed.
    pub hlines: &'a [(f64, &'a str)],
}

/// Renders a line chart with a legend, as SVG text (linear axes).
pub(crate) fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    note: &str,
) -> String {
    chart(title, x_label, y_label, series, note, &Axes::default())
}

/// Decade ticks `10^k` covering `[lo, hi]` (in log₁₀ units), at most nine.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (k0, k1) = ((lo - 1e-9).ceil() as i64, (hi + 1e-9).floor() as i64);
    let step = ((k1 - k0 + 7) / 8).max(1);
    (k0..=k1)
        .filter(|k| (k - k0) % step == 0)
        .map(|k| k as f64)
        .collect()
}

fn fmt_decade(k: f64) -> String {
    match k as i64 {
        0 => "1".into(),
        1 => "10".into(),
        k => format!("1e{k}"),
    }
}

/// Renders a chart with a legend, as SVG text, on the scales of `axes`.
pub(crate) fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    note: &str,
    axes: &Axes<'_>,
) -> String {
    let (w, hgt) = (900.0, 480.0);
    let (px, py, pw, ph) = (80.0, 45.0, 470.0, 360.0);
    // Data to plotting coordinates (log₁₀ on a log axis); `None`: not drawn.
    let fx = |x: f64| -> Option<f64> {
        if !x.is_finite() {
            None
        } else if axes.log_x {
            (x > 0.0).then(|| x.log10())
        } else {
            Some(x)
        }
    };
    let fy = |y: f64| -> Option<f64> {
        if !y.is_finite() {
            None
        } else if axes.log_y {
            match axes.y_floor {
                Some(f) => Some(y.max(f).log10()),
                None => (y > 0.0).then(|| y.log10()),
            }
        } else {
            Some(y)
        }
    };
    let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
    let mut ys = (f64::INFINITY, f64::NEG_INFINITY);
    for s in series {
        for (i, (&x, &y)) in s.x.iter().zip(s.y).enumerate() {
            let (Some(x), Some(_)) = (fx(x), fy(y)) else {
                continue;
            };
            let e = s.err.map_or(0.0, |e| 2.0 * e[i].max(0.0));
            xs = (xs.0.min(x), xs.1.max(x));
            if let Some(lo) = fy(y - e) {
                ys.0 = ys.0.min(lo);
            }
            if let Some(hi) = fy(y + e) {
                ys.1 = ys.1.max(hi);
            }
        }
    }
    for &(y, _) in axes.hlines {
        if let Some(y) = fy(y) {
            ys = (ys.0.min(y), ys.1.max(y));
        }
    }
    if !xs.0.is_finite() {
        xs = (0.0, 1.0);
        ys = (0.0, 1.0);
    }
    if ys.1 - ys.0 < 1e-12 {
        ys = (ys.0 - 0.5, ys.1 + 0.5);
    }
    let pad = 0.04 * (ys.1 - ys.0);
    let ys = (ys.0 - pad, ys.1 + pad);
    // Keep markers at the ends of a log axis off the frame.
    if axes.log_x {
        let pad = 0.03 * (xs.1 - xs.0).max(1.0);
        xs = (xs.0 - pad, xs.1 + pad);
    }
    let sx = |x: f64| px + (x - xs.0) / (xs.1 - xs.0).max(f64::MIN_POSITIVE) * pw;
    let sy = |y: f64| py + ph - (y - ys.0) / (ys.1 - ys.0) * ph;
    let mut s = begin(w, hgt, 13, false);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="26" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let (x_ticks, y_ticks) = (
        if axes.log_x {
            log_ticks(xs.0, xs.1)
        } else {
            ticks(xs.0, xs.1, 6)
        },
        if axes.log_y {
            log_ticks(ys.0, ys.1)
        } else {
            ticks(ys.0, ys.1, 6)
        },
    );
    let label = |t: f64, log: bool| if log { fmt_decade(t) } else { fmt_tick(t) };
    for t in x_ticks {
        let x = sx(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{py}" x2="{x:.1}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            py + ph,
            py + ph + 18.0,
            label(t, axes.log_x)
        );
    }
    for t in y_ticks {
        let y = sy(t);
        let _ = writeln!(
            s,
            r##"<line x1="{px}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            px + pw,
            px - 6.0,
            y + 4.0,
            label(t, axes.log_y)
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{px}" y="{py}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    for &(y, text) in axes.hlines {
        if let Some(y) = fy(y) {
            let y = sy(y);
            let _ = writeln!(
                s,
                r##"<line x1="{px}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#444" stroke-width="1.2" stroke-dasharray="8,4"/><text x="{}" y="{:.1}" font-size="11" fill="#444">{}</text>"##,
                px + pw,
                px + 6.0,
                y + 13.0,
                esc(text)
            );
        }
    }
    // Legend rows: 20 px apart, closer when many series would overflow the figure.
    let spacing = if series.is_empty() {
        20.0
    } else {
        (hgt - py - 24.0).min(20.0 * series.len() as f64) / series.len() as f64
    };
    for (k, ser) in series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = ser
            .x
            .iter()
            .zip(ser.y)
            .filter_map(|(&x, &y)| Some((sx(fx(x)?), sy(fy(y)?))))
            .collect();
        match ser.err {
            None => {
                let d: String = pts
                    .iter()
                    .enumerate()
                    .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }))
                    .collect();
                let _ = writeln!(
                    s,
                    r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.8"{}/>"#,
                    ser.colour,
                    if ser.dashed {
                        r#" stroke-dasharray="6,4""#
                    } else {
                        ""
                    }
                );
            }
            Some(e) => {
                for (i, (x, y)) in ser.x.iter().zip(ser.y).enumerate() {
                    let (Some(tx), Some(ty)) = (fx(*x), fy(*y)) else {
                        continue;
                    };
                    let (cx, cy) = (sx(tx), sy(ty));
                    // A bar end that leaves a log axis is drawn at the bottom of the plot.
                    let (y0, y1) = (
                        fy(y - 2.0 * e[i]).map_or(py + ph, sy),
                        fy(y + 2.0 * e[i]).map_or(py + ph, sy),
                    );
                    let _ = writeln!(
                        s,
                        r#"<line x1="{cx:.1}" y1="{y0:.1}" x2="{cx:.1}" y2="{y1:.1}" stroke="{}"/>{}"#,
                        ser.colour,
                        marker(ser.marker, cx, cy, 2.6, ser.colour)
                    );
                }
            }
        }
        let ly = ((py + 14.0 + spacing * k as f64) * 10.0).round() / 10.0;
        let lx = px + pw + 16.0;
        if ser.err.is_some() && ser.marker == Marker::Circle {
            let _ = writeln!(
                s,
                r#"<circle cx="{}" cy="{}" r="3" fill="{}"/>"#,
                lx + 12.0,
                ly - 4.0,
                ser.colour
            );
        } else if ser.err.is_some() {
            let _ = writeln!(
                s,
                "{}",
                marker(ser.marker, lx + 12.0, ly - 4.0, 3.0, ser.colour)
            );
        } else {
            let _ = writeln!(
                s,
                r#"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.8"{}/>"#,
                ly - 4.0,
                lx + 24.0,
                ly - 4.0,
                ser.colour,
                if ser.dashed {
                    r#" stroke-dasharray="6,4""#
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{ly}" font-size="12">{}</text>"#,
            lx + 30.0,
            esc(&ser.name)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        px + pw / 2.0,
        py + ph + 36.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="22" y="{}" text-anchor="middle" transform="rotate(-90 22 {})">{}</text>"#,
        py + ph / 2.0,
        py + ph / 2.0,
        esc(y_label)
    );
    if !note.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{px}" y="{}" font-size="11" fill="#444">{}</text>"##,
            hgt - 10.0,
            esc(note)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
    }

    #[test]
    fn log_axes_floor_zeros_drop_nonpositive_x_and_draw_reference_lines() {
        let x = [1e-4, 1.0, 100.0, 0.0];
        let y = [1e-15, 0.0, 1e-13, 1e-14];
        let zeros = [0.0; 4];
        let series = [Series {
            name: "a".into(),
            x: &x,
            y: &y,
            err: Some(&zeros),
            colour: PALETTE[0],
            dashed: false,
            marker: Marker::Square,
        }];
        let axes = Axes {
            log_x: true,
            log_y: true,
            y_floor: Some(1e-20),
            hlines: &[(1e-12, "tolerance")],
        };
        let s = chart("t", "q", "error", &series, "", &axes);
        // The frame, three squares (x = 0 has no place on a log axis) and the legend's.
        assert_eq!(s.matches("<rect x=").count(), 5, "{s}");
        // The exact zero sits at the floor, which is a tick; the reference line is labelled.
        assert!(s.contains(">1e-20<") && s.contains(">1e-12<") && s.contains(">tolerance<"));
        assert!(s.contains(r#"stroke-dasharray="8,4""#));
        assert_eq!(
            log_ticks(-20.3, -11.8),
            (-20..=-12).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(log_ticks(-40.0, 0.0).len(), 9);
        assert_eq!(
            (fmt_decade(0.0), fmt_decade(1.0), fmt_decade(-3.0)),
            ("1".into(), "10".into(), "1e-3".into())
        );
    }

    #[test]
    fn ticks_are_nice() {
        assert_eq!(ticks(0.5, 3.0, 6), vec![0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        assert_eq!(ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    }
}
