//! The comparison page: what was skipped, results, overlaid curves, configs side by side.

use super::figure::{legend_name, run_color, OverlayFigure, Series};
use super::{Comparison, Run};
use crate::plots::render::render_png;
use crate::plots::{EpochRecord, PlotError, PLOT_SIZE};
use crate::report::{base64, escape};
use std::fmt::Write;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1200px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
th{background:#eee}td.n{text-align:right}td.na{color:#999}\
tr.diff th,tr.diff td{background:#fff3b0;font-weight:bold}\
span.swatch{display:inline-block;width:1em;height:1em;margin-right:.4em;vertical-align:middle}\
img.plot{max-width:100%;border:1px solid #ddd;margin:.5em 0}ul.skipped li{color:#a40}";

type Value = fn(&EpochRecord) -> f64;

/// The curves drawn: title, y axis, value (fractions are scaled to percent by `scale`).
const CURVES: [(&str, &str, f64, Value); 3] = [
    ("Test top-1", "%", 100.0, |r| r.test_top1),
    ("Train loss", "loss", 1.0, |r| r.train_loss),
    ("Test loss", "loss", 1.0, |r| r.test_loss),
];

pub fn render(c: &Comparison) -> Result<String, PlotError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>inkstone: {} runs compared</title><style>{STYLE}</style></head><body>\n\
         <h1>Training runs compared</h1>\n",
        c.runs.len()
    );
    skipped(c, &mut h);
    results(c, &mut h);
    curves(c, &mut h)?;
    config(c, &mut h);
    h.push_str("</body></html>\n");
    Ok(h)
}

fn skipped(c: &Comparison, h: &mut String) {
    if c.skipped.is_empty() {
        return;
    }
    h.push_str("<h2>Skipped</h2>\n<ul class=skipped>\n");
    for line in &c.skipped {
        let _ = writeln!(h, "<li>{}</li>", escape(line));
    }
    h.push_str("</ul>\n");
}

/// A run's name with its colour, as in the plots' legends.
fn run_label(index: usize, run: &Run) -> String {
    let color = run_color(index);
    let (r, g, b) = (color.0, color.1, color.2);
    let drawn = legend_name(index, &run.name);
    let alias = if drawn == run.name {
        String::new()
    } else {
        format!(" <small>({})</small>", escape(&drawn))
    };
    format!(
        "<span class=swatch style=\"background:rgb({r},{g},{b})\"></span>{}{alias}",
        escape(&run.name)
    )
}

fn results(c: &Comparison, h: &mut String) {
    h.push_str(
        "<h2>Results</h2>\n<table><tr><th>run</th><th>epochs</th><th>last top-1</th>\
         <th>best top-1</th><th>last top-5</th><th>best top-5</th><th>real top-1 (last)</th>\
         <th>seconds</th><th>images/s</th></tr>\n",
    );
    for (i, run) in c.runs.iter().enumerate() {
        let e = &run.epochs;
        let last = e.last();
        let best = |value: Value| {
            e.iter()
                .filter(|r| value(r).is_finite())
                .max_by(|a, b| value(a).total_cmp(&value(b)))
                .map_or("—".into(), |r| {
                    format!("{} <small>(epoch {})</small>", percent(value(r)), r.epoch)
                })
        };
        let finite = |value: Value| e.iter().map(value).filter(|v| v.is_finite());
        let seconds: f64 = finite(|r| r.seconds).sum();
        let rates = finite(|r| r.images_per_sec).count();
        let rate = finite(|r| r.images_per_sec).sum::<f64>() / rates.max(1) as f64;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>\
             <td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>\
             <td class=n>{}</td></tr>",
            run_label(i, run),
            last.map_or(0, |r| r.epoch),
            last.map_or("—".into(), |r| percent(r.test_top1)),
            best(|r| r.test_top1),
            last.map_or("—".into(), |r| percent(r.test_top5)),
            best(|r| r.test_top5),
            last.map_or("—".into(), |r| percent(r.real_top1)),
            if rates > 0 || seconds > 0.0 {
                format!("{seconds:.1}")
            } else {
                "—".into()
            },
            if rates > 0 {
                format!("{rate:.0}")
            } else {
                "—".into()
            },
        );
    }
    h.push_str(
        "</table>\n<p><small>real top-1: the run's real-handwriting set (`--real-test`), \
                the figure a synthetic test split cannot give; seconds: summed over the \
                recorded epochs; images/s: their mean.</small></p>\n",
    );
}

fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2}%", 100.0 * v)
    } else {
        "—".into()
    }
}

fn curves(c: &Comparison, h: &mut String) -> Result<(), PlotError> {
    h.push_str("<h2>Curves</h2>\n");
    for (title, y_desc, scale, value) in CURVES {
        let series: Vec<Series> = c
            .runs
            .iter()
            .enumerate()
            .map(|(i, run)| Series {
                label: legend_name(i, &run.name),
                color: run_color(i),
                // A diverged epoch (NaN) is left out rather than ending the curve.
                points: run
                    .epochs
                    .iter()
                    .map(|r| (r.epoch as f64, value(r) * scale))
                    .filter(|p| p.1.is_finite())
                    .collect(),
            })
            .collect();
        let figure = OverlayFigure {
            title,
            y_desc,
            series: &series,
        };
        if figure.is_empty() {
            let _ = writeln!(h, "<p>{title}: no run recorded an epoch.</p>");
            continue;
        }
        let png = render_png(&figure, PLOT_SIZE)?;
        let _ = writeln!(
            h,
            "<img class=plot alt=\"{title}\" src=\"data:image/png;base64,{}\">",
            base64(&png)
        );
    }
    Ok(())
}

fn config(c: &Comparison, h: &mut String) {
    h.push_str("<h2>Configuration</h2>\n");
    let keys: std::collections::BTreeSet<&str> = c
        .runs
        .iter()
        .filter_map(|r| r.config.as_ref())
        .flat_map(|cfg| cfg.keys().map(String::as_str))
        .collect();
    if keys.is_empty() {
        h.push_str("<p>No run has a readable config.json.</p>\n");
        return;
    }
    let differing = c.differing_keys();
    let _ = write!(
        h,
        "<p>{} setting(s) differ between the runs; they are highlighted.</p>\n<table><tr><th>setting</th>",
        differing.len()
    );
    for (i, run) in c.runs.iter().enumerate() {
        let _ = write!(h, "<th>{}</th>", run_label(i, run));
    }
    h.push_str("</tr>\n");
    for key in keys {
        let class = if differing.contains(&key) {
            " class=\"diff\""
        } else {
            ""
        };
        let _ = write!(h, "<tr{class}><th>{}</th>", escape(key));
        for run in &c.runs {
            match run.config.as_ref().map(|cfg| cfg.get(key)) {
                Some(Some(v)) => {
                    let _ = write!(h, "<td>{}</td>", escape(v));
                }
                Some(None) => h.push_str("<td class=na>absent</td>"),
                None => h.push_str("<td class=na>no config</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}
