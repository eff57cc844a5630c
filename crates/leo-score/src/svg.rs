//! Small, dependency-free SVG charts for the HTML report: one series per chart, one point
//! or bar per day, gaps where a day has no data.

use std::fmt::Write;

/// Chart width, pixels.
const W: f64 = 1080.0;
/// Chart height, pixels.
const H: f64 = 200.0;
/// Left margin (axis labels).
const LEFT: f64 = 48.0;
/// Bottom margin (day labels).
const BOTTOM: f64 = 24.0;
/// Top margin.
const TOP: f64 = 12.0;

/// A horizontal reference line (threshold or target).
#[derive(Clone, Copy, Debug)]
pub struct Rule<'a> {
    /// Its value.
    pub value: f64,
    /// Its colour.
    pub color: &'a str,
    /// Its label.
    pub label: &'a str,
}

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn frame(
    out: &mut String,
    id: &str,
    title: &str,
    y_max: f64,
    unit: &str,
    n: usize,
    rules: &[Rule<'_>],
) {
    let _ = write!(
        out,
        r##"<svg id="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{t}"><title>{t}</title><rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##,
        t = esc(title)
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = y_of(frac * y_max, y_max);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{W}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{lx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#555">{v}{unit}</text>"##,
            lx = LEFT - 4.0,
            ty = y + 4.0,
            v = trim(frac * y_max),
            unit = esc(unit)
        );
    }
    for r in rules {
        let y = y_of(r.value, y_max);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{W}" y1="{y:.1}" y2="{y:.1}" stroke="{c}" stroke-dasharray="6 4"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="{c}">{l}</text>"##,
            c = esc(r.color),
            tx = W - 4.0,
            ty = y - 3.0,
            l = esc(r.label)
        );
    }
    for day in (0..n).filter(|d| d % 5 == 0 || *d + 1 == n) {
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{y}" font-size="11" text-anchor="middle" fill="#555">{d}</text>"##,
            x = x_of(day, n),
            y = H - 6.0,
            d = day + 1
        );
    }
}

fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn x_of(i: usize, n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let (i, n) = (i as f64, n.max(1) as f64);
    LEFT + (W - LEFT) * (i + 0.5) / n
}

fn y_of(v: f64, y_max: f64) -> f64 {
    let frac = if y_max > 0.0 {
        (v / y_max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    H - BOTTOM - (H - BOTTOM - TOP) * frac
}

/// A line chart of daily values (`None`: no data that day, drawn as a gap); `hollow[i]`
/// marks a point that is only a bound (drawn as an open circle).
pub fn line_chart(
    id: &str,
    title: &str,
    values: &[Option<f64>],
    hollow: &[bool],
    y_max: f64,
    unit: &str,
    rules: &[Rule<'_>],
) -> String {
    let mut out = String::new();
    frame(&mut out, id, title, y_max, unit, values.len(), rules);
    let mut path = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x_of(i, values.len()),
                    y_of(*v, y_max)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        out,
        r##"<path d="{}" fill="none" stroke="#1f6feb" stroke-width="2"/>"##,
        path.trim_end()
    );
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            let open = hollow.get(i).copied().unwrap_or(false);
            let _ = write!(
                out,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}" stroke="#1f6feb" stroke-width="1.5"><title>day {}: {:.2}{}</title></circle>"##,
                x_of(i, values.len()),
                y_of(*v, y_max),
                if open { "#fff" } else { "#1f6feb" },
                i + 1,
                v,
                esc(unit)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A bar chart of daily counts; bars above zero are drawn in `color`.
pub fn bar_chart(id: &str, title: &str, values: &[u64], color: &str) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    #[allow(clippy::cast_precision_loss)]
    let y_max = nice_max(max as f64);
    let mut out = String::new();
    frame(&mut out, id, title, y_max, "", values.len(), &[]);
    #[allow(clippy::cast_precision_loss)]
    let slot = (W - LEFT) / values.len().max(1) as f64;
    for (i, v) in values.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let top = y_of(*v as f64, y_max);
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>day {}: {v}</title></rect>"##,
            x_of(i, values.len()) - slot * 0.35,
            slot * 0.7,
            (H - BOTTOM - top).max(0.0),
            esc(color),
            i + 1
        );
    }
    out.push_str("</svg>");
    out
}

/// The smallest of 1, 2, 5 × 10ⁿ not below `v`.
fn nice_max(v: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * step >= v {
                return m * step;
            }
        }
        step *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_escape_text() {
        let svg = line_chart(
            "s",
            "a<b",
            &[Some(1.0), None, Some(3.0)],
            &[false, false, true],
            4.0,
            "%",
            &[Rule {
                value: 2.0,
                color: "red",
                label: "x&y",
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("a&lt;b") && svg.contains("x&amp;y"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(
            svg.matches(" M").count() + usize::from(svg.contains("d=\"M")),
            2
        ); // the gap restarts the line
        let bars = bar_chart("b", "t", &[0, 3, 7], "#c00");
        assert_eq!(bars.matches("<rect").count(), 4); // background + 3 bars
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(11.0), 20.0);
        assert_eq!(nice_max(1.0), 1.0);
    }
}
