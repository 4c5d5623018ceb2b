//! Bar charts drawn as SVG on the server: no script, no external library. Each chart is an
//! image with a name (`role="img"`, `aria-label`), a `<title>` on every bar (the hover text) and
//! a label under it; the page shows the same numbers as a table for screen readers and copying.
//!
//! A chart has one or more series (registrations and refusals side by side); every text that
//! came from data is XML-escaped here, so the SVG can go into a page unescaped.

use std::fmt::{self, Write as _};

use opencapf_model::xml_escape as escape;

/// One series: its name (legend, tooltip, table header) and the CSS class its bars take.
pub(crate) struct Series {
    pub(crate) name: &'static str,
    pub(crate) class: &'static str,
}

/// One group of bars along the axis (a month, an hour, an issuer): one value per series.
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) values: Vec<u64>,
}

/// A chart's data; [`BarChart::svg`] draws it.
pub(crate) struct BarChart {
    /// What the picture shows, in words: its accessible name and caption.
    pub(crate) title: String,
    pub(crate) series: Vec<Series>,
    pub(crate) groups: Vec<Group>,
}

/// SVG markup built here with every data text escaped: askama writes it as it is.
pub(crate) struct Svg(String);

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Svg {}

// The drawing's coordinate system; the SVG scales to its box (app.css: max-width 100%).
const WIDTH: u32 = 640;
const HEIGHT: u32 = 220;
const LEFT: u32 = 40;
const RIGHT: u32 = 8;
const TOP: u32 = 12;
const BOTTOM: u32 = 40;
/// Axis labels shown at most: with more groups every n-th is labelled (all keep their title).
const MAX_LABELS: usize = 12;
/// Axis labels longer than this are cut (the bar's title and the table keep the whole text).
const LABEL_CHARS: usize = 14;

impl BarChart {
    /// The largest value of any bar.
    pub(crate) fn max(&self) -> u64 {
        self.groups.iter().flat_map(|g| g.values.iter().copied()).max().unwrap_or(0)
    }

    /// The sum of each series over all groups.
    pub(crate) fn totals(&self) -> Vec<u64> {
        (0..self.series.len())
            .map(|i| self.groups.iter().map(|g| g.values.get(i).copied().unwrap_or(0)).sum())
            .collect()
    }

    /// The accessible name: the title and each series' total.
    pub(crate) fn summary(&self) -> String {
        let totals: Vec<String> =
            self.series.iter().zip(self.totals()).map(|(s, t)| format!("{} {t}", s.name)).collect();
        format!("{}: {}", self.title, totals.join(", "))
    }

    /// The chart as an `<svg>` element.
    pub(crate) fn svg(&self) -> Svg {
        let mut out = String::new();
        let label = escape(&self.summary());
        let _ = write!(
            out,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">"#
        );
        let _ = write!(out, "<title>{label}</title>");
        let max = self.max().max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let base = TOP + plot_h;
        // The scale: zero and the largest value.
        let _ = write!(
            out,
            r#"<g class="axis"><line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}"/><text x="{}" y="{}" text-anchor="end">0</text><text x="{}" y="{}" text-anchor="end">{max}</text></g>"#,
            WIDTH - RIGHT,
            LEFT - 4,
            base,
            LEFT - 4,
            TOP + 8,
        );
        let n = self.groups.len().max(1) as u32;
        let slot = plot_w / n;
        let bars = self.series.len().max(1) as u32;
        let bar_w = ((slot * 4 / 5) / bars).max(1);
        let every = self.groups.len().div_ceil(MAX_LABELS).max(1);
        for (i, g) in self.groups.iter().enumerate() {
            let x0 = LEFT + slot * i as u32 + (slot - bar_w * bars) / 2;
            for (j, (s, v)) in self.series.iter().zip(&g.values).enumerate() {
                let h = (u64::from(plot_h) * v / max) as u32;
                let tip = escape(&format!("{}: {} {v}", g.label, s.name));
                let _ = write!(
                    out,
                    r#"<rect class="{}" x="{}" y="{}" width="{bar_w}" height="{h}"><title>{tip}</title></rect>"#,
                    s.class,
                    x0 + bar_w * j as u32,
                    base - h,
                );
            }
            if i % every == 0 {
                let _ = write!(
                    out,
                    r#"<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                    LEFT + slot * i as u32 + slot / 2,
                    base + 14,
                    escape(&short(&g.label)),
                );
            }
        }
        if self.series.len() > 1 {
            let mut x = LEFT;
            for s in &self.series {
                let _ = write!(
                    out,
                    r#"<rect class="{}" x="{x}" y="{}" width="10" height="10"/><text class="legend" x="{}" y="{}">{}</text>"#,
                    s.class,
                    HEIGHT - 12,
                    x + 14,
                    HEIGHT - 3,
                    escape(s.name),
                );
                x += 24 + 8 * s.name.len() as u32;
            }
        }
        out.push_str("</svg>");
        Svg(out)
    }
}

fn short(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(labels: &[(&str, u64)]) -> BarChart {
        BarChart {
            title: "LSCs by issuer".into(),
            series: vec![Series { name: "LSCs", class: "s1" }],
            groups: labels.iter().map(|(l, v)| Group { label: (*l).into(), values: vec![*v] }).collect(),
        }
    }

    #[test]
    fn bars_are_as_high_as_their_share_of_the_largest() {
        let svg = chart(&[("CAPF-1", 10), ("CAPF-2", 5), ("none", 0)]).svg().0;
        assert!(svg.contains(r#"height="168"><title>CAPF-1: LSCs 10</title>"#), "{svg}");
        assert!(svg.contains(r#"height="84"><title>CAPF-2: LSCs 5</title>"#), "{svg}");
        assert!(svg.contains(r#"height="0"><title>none: LSCs 0</title>"#), "{svg}");
        assert!(svg.contains(r#"role="img" aria-label="LSCs by issuer: LSCs 15""#), "{svg}");
    }

    #[test]
    fn text_from_certificates_is_escaped() {
        let svg = chart(&[("<script>alert(1)</script>\"&", 1)]).svg().0;
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;"), "{svg}");
    }

    #[test]
    fn many_groups_label_every_nth_and_an_empty_chart_draws() {
        let labels: Vec<(String, u64)> = (0..24).map(|h| (format!("{h:02}:00"), h)).collect();
        let refs: Vec<(&str, u64)> = labels.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        let svg = chart(&refs).svg().0;
        assert_eq!(svg.matches(r#"class="label""#).count(), 12, "{svg}");
        assert_eq!(svg.matches("<rect").count(), 24);
        let empty = chart(&[]).svg().0;
        assert!(empty.ends_with("</svg>"));
    }
}
