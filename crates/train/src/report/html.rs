//! `index.html`: one static page (no scripts, no network) over the report's files.

use super::confusion::plot_label;
use super::ReportInput;
use crate::evaluate::Misrecognised;
use std::fmt::Write;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1100px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
th{background:#eee}td.n{text-align:right}img.s{width:56px;height:56px;image-rendering:pixelated}\
img.plot{max-width:100%;border:1px solid #ddd}\
.legend span{display:inline-block;min-width:5em;margin:2px 0}";

/// What the page shows beyond the input.
pub struct Page<'a> {
    pub input: &'a ReportInput<'a>,
    pub by_symbol: bool,
    pub heatmap_classes: &'a [usize],
    pub pairs: &'a [(usize, usize, u32)],
    /// Shown errors, most confident first; each with its image as PNG bytes.
    pub shown: &'a [(&'a Misrecognised, Vec<u8>)],
}

impl Page<'_> {
    pub fn render(&self) -> String {
        let mut h = String::new();
        let e = self.input.evaluation;
        let title = escape(self.input.title);
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>inkstone eval: {title}</title><style>{STYLE}</style></head><body>\n\
             <h1>Evaluation: {title}</h1>\n<table>\
             <tr><th>samples</th><td class=n>{}</td></tr>\
             <tr><th>top-1</th><td class=n>{:.2}%</td></tr>\
             <tr><th>top-5</th><td class=n>{:.2}%</td></tr>\
             <tr><th>top-10</th><td class=n>{:.2}%</td></tr>\
             <tr><th>loss</th><td class=n>{:.4}</td></tr>\
             <tr><th>misrecognised</th><td class=n>{}</td></tr></table>\n",
            e.samples,
            100.0 * e.top1,
            100.0 * e.top5,
            100.0 * e.top10,
            e.loss,
            self.input.errors.len()
        );
        self.conditions(&mut h);
        self.confusion(&mut h);
        self.errors(&mut h);
        self.per_class(&mut h);
        h.push_str("</body></html>\n");
        h
    }

    /// A class as the page names it: its symbol, and its index where that differs.
    fn name(&self, c: usize) -> String {
        let symbol = self.input.charset.symbol(c);
        if symbol == c.to_string() {
            escape(symbol)
        } else {
            format!("{} <small>({c})</small>", escape(symbol))
        }
    }

    /// Photos of `data photos`: the accuracy under each condition they were taken in.
    fn conditions(&self, h: &mut String) {
        if self.input.conditions.is_empty() {
            return;
        }
        h.push_str(
            "<h2>By photo condition</h2>\n<p>From the folder's <code>conditions.csv</code>.</p>\n\
             <table><tr><th>condition</th><th>level</th><th>top-1</th><th>photos</th></tr>\n",
        );
        for t in self.input.conditions {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=n>{:.2}%</td><td class=n>{}</td></tr>",
                t.factor,
                escape(t.level),
                t.percent_right(),
                t.total
            );
        }
        h.push_str("</table>\n");
    }

    fn confusion(&self, h: &mut String) {
        let k = self.input.evaluation.per_class.len();
        h.push_str("<h2>Confusion</h2>\n");
        if self.heatmap_classes.len() < k {
            let _ = write!(
                h,
                "<p>{k} classes are too many for one picture: the heatmap shows the {} classes \
                 most involved in confusions.</p>",
                self.heatmap_classes.len()
            );
        }
        h.push_str(
            "<p>Rows: truth; columns: predicted. Blue: the share of the row recognised; red: \
             confusions, the darkest the largest share of its row.</p>\n",
        );
        h.push_str("<img class=plot src=\"confusion.png\" alt=\"confusion heatmap\">\n");
        if !self.by_symbol {
            h.push_str("<p>The pictures name classes by index:</p>\n<p class=legend>");
            for &c in self.legend_classes().iter() {
                let symbol = escape(self.input.charset.symbol(c));
                let _ = write!(h, "<span><b>{c}</b> {symbol}</span> ");
            }
            h.push_str("</p>\n");
        }
        let _ = write!(h, "<h3>Most confused pairs</h3>\n<table><tr><th>truth</th><th>predicted</th><th>count</th></tr>");
        for &(t, p, n) in self.pairs {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=n>{n}</td></tr>",
                self.name(t),
                self.name(p)
            );
        }
        h.push_str("</table>\n");
    }

    /// Classes named by index in the heatmap or the gallery.
    fn legend_classes(&self) -> Vec<usize> {
        let mut classes: Vec<usize> = self.heatmap_classes.to_vec();
        for (e, _) in self.shown {
            classes.push(e.truth);
            classes.extend(e.top.iter().map(|t| t.0));
        }
        classes.sort_unstable();
        classes.dedup();
        classes
    }

    fn errors(&self, h: &mut String) {
        h.push_str("<h2>Misrecognised samples</h2>\n");
        if self.shown.is_empty() {
            h.push_str("<p>None: every sample was recognised.</p>\n");
            return;
        }
        let _ =
            write!(
            h,
            "<p>The {} most confident of {} errors, the model's input image and its three best \
             guesses; <code>errors.png</code> shows them in the same order \
             (captions: truth\u{2192}guess, as {}).</p>\n\
             <img class=plot src=\"errors.png\" alt=\"misrecognised samples\">\n\
             <table><tr><th>#</th><th>sample</th><th>image</th><th>truth</th><th>top-3</th></tr>",
            self.shown.len(),
            self.input.errors.len(),
            if self.by_symbol { "symbols" } else { "class indices" }
        );
        for (n, (e, png)) in self.shown.iter().enumerate() {
            let guesses: Vec<String> = e
                .top
                .iter()
                .map(|&(c, p)| format!("{} {:.1}%", self.name(c), 100.0 * p))
                .collect();
            let _ = write!(
                h,
                "<tr data-sample=\"{}\" data-truth=\"{}\"><td class=n>{}</td><td class=n>{}</td>\
                 <td><img class=s alt=\"sample {}\" src=\"data:image/png;base64,{}\"></td>\
                 <td>{}</td><td>{}</td></tr>",
                e.index,
                e.truth,
                n + 1,
                e.index,
                e.index,
                base64(png),
                self.name(e.truth),
                guesses.join(", ")
            );
        }
        h.push_str("</table>\n");
    }

    fn per_class(&self, h: &mut String) {
        let per_class = &self.input.evaluation.per_class;
        let acc = |c: usize| per_class[c].0 as f64 / per_class[c].1.max(1) as f64;
        let mut order: Vec<usize> = (0..per_class.len()).collect();
        let many = per_class.len() > super::confusion::FULL_MATRIX_MAX;
        if many {
            order.sort_by(|&a, &b| acc(a).total_cmp(&acc(b)).then(a.cmp(&b)));
        }
        let _ = write!(
            h,
            "<h2>Per-class accuracy</h2>\n<p>{}Also in <a href=\"per_class.csv\">per_class.csv</a>.</p>\n\
             <table><tr><th>class</th><th>in plots</th><th>correct</th><th>total</th><th>accuracy</th></tr>",
            if many { "Worst first. " } else { "" }
        );
        for c in order {
            let (right, total) = per_class[c];
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=n>{right}</td><td class=n>{total}</td>\
                 <td class=n>{:.2}%</td></tr>",
                self.name(c),
                escape(&plot_label(self.input.charset, self.by_symbol, c)),
                100.0 * acc(c)
            );
        }
        h.push_str("</table>\n");
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Standard base64 with padding, for images inlined as `data:` URLs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
