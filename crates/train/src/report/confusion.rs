//! The confusion heatmap, and which classes and pairs it shows when there are too many classes
//! for a readable full matrix.

use crate::plots::glyph::draw_symbol;
use crate::plots::render::{drawable, Figure};
use inkstone_data::Charset;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Up to this many classes the heatmap is the full matrix.
pub const FULL_MATRIX_MAX: usize = 40;
/// Past [`FULL_MATRIX_MAX`], the heatmap shows this many of the most confused classes.
pub const TOP_CLASSES: usize = 30;
/// Counts are written in the cells up to this many classes.
const COUNTS_MAX: usize = 20;

/// A heatmap of `confusion[truth][predicted]` over `classes`. The diagonal is blue by the
/// share of its row recognised; confusions are red by their share of the row relative to
/// the worst one, so a 1% confusion still shows next to a 99% diagonal.
pub struct ConfusionFigure {
    pub title: String,
    pub classes: Vec<usize>,
    pub labels: Vec<String>,
    /// Rows and columns follow `classes`.
    pub matrix: Vec<Vec<u32>>,
    /// The labels are symbols to draw from the stroke library (CJK), not text.
    pub drawn: bool,
}

impl ConfusionFigure {
    pub fn new(confusion: &[Vec<u32>], classes: Vec<usize>, labels: Vec<String>) -> Self {
        let k = confusion.len();
        let title = if classes.len() == k {
            format!("Confusion matrix ({k} classes)")
        } else {
            format!("The {} most confused of {k} classes", classes.len())
        };
        let matrix = classes
            .iter()
            .map(|&t| classes.iter().map(|&p| confusion[t][p]).collect())
            .collect();
        ConfusionFigure {
            title,
            classes,
            labels,
            matrix,
            drawn: false,
        }
    }

    /// Pixels per side: room for a label per class.
    pub fn side(&self) -> u32 {
        (160 + 22 * self.classes.len() as u32).clamp(520, 1000)
    }
}

/// The classes to draw: all of them, or those most involved in confusions (as truth or as
/// prediction), in class order.
pub fn heatmap_classes(confusion: &[Vec<u32>]) -> Vec<usize> {
    let k = confusion.len();
    if k <= FULL_MATRIX_MAX {
        return (0..k).collect();
    }
    let mut involvement = vec![0u64; k];
    for (t, p, n) in off_diagonal(confusion) {
        involvement[t] += n as u64;
        involvement[p] += n as u64;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| involvement[b].cmp(&involvement[a]).then(a.cmp(&b)));
    order.truncate(TOP_CLASSES);
    order.sort_unstable();
    order
}

/// `(truth, predicted, count)` of the most frequent confusions, most frequent first.
pub fn most_confused_pairs(confusion: &[Vec<u32>], limit: usize) -> Vec<(usize, usize, u32)> {
    let mut pairs: Vec<_> = off_diagonal(confusion).collect();
    pairs.sort_by(|a, b| b.2.cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    pairs.truncate(limit);
    pairs
}

fn off_diagonal(confusion: &[Vec<u32>]) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
    confusion.iter().enumerate().flat_map(|(t, row)| {
        row.iter()
            .enumerate()
            .filter(move |&(p, &n)| p != t && n > 0)
            .map(move |(p, &n)| (t, p, n))
    })
}

/// Whether plots can write classes' symbols as text: the plot font draws every symbol of the
/// charset (digits, Latin letters). Otherwise the report draws them from the stroke library
/// (`plots::glyph`) or, failing that, uses class indices and lists index → symbol in the page;
/// one rule for the whole report keeps its pictures consistent.
pub fn symbols_drawable(charset: &Charset) -> bool {
    charset
        .symbols
        .iter()
        .all(|s| drawable(s) && !s.is_empty() && s.len() <= 6)
}

/// What the plots call class `c`.
pub fn plot_label(charset: &Charset, by_symbol: bool, c: usize) -> String {
    if by_symbol {
        charset.symbol(c).to_string()
    } else {
        c.to_string()
    }
}

impl Figure for ConfusionFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let n = self.classes.len();
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if *i < n && !self.drawn => {
                self.labels[*i].clone()
            }
            _ => String::new(),
        };
        // Truth 0 at the top, as the matrix is printed.
        let row_label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if *i < n && !self.drawn => {
                self.labels[n - 1 - *i].clone()
            }
            _ => String::new(),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(60)
            // A segmented `0..m` has a segment for each of 0..=m.
            .build_cartesian_2d(
                (0..n.saturating_sub(1)).into_segmented(),
                (0..n.saturating_sub(1)).into_segmented(),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n)
            .y_labels(n)
            .x_desc("predicted")
            .y_desc("truth")
            .x_label_formatter(&label)
            .y_label_formatter(&row_label)
            .draw()?;
        if self.drawn {
            // Each column's symbol under the plot, each row's left of it.
            let size =
                ((chart.plotting_area().dim_in_pixel().0 / n.max(1) as u32) * 4 / 5).clamp(6, 24);
            let gap = size as i32 / 2 + 6;
            for (i, symbol) in self.labels.iter().enumerate() {
                let (x, bottom) =
                    chart.backend_coord(&(SegmentValue::CenterOf(i), SegmentValue::Exact(0)));
                draw_symbol(root, symbol, (x, bottom + gap), size, &BLACK)?;
                let (left, y) = chart
                    .backend_coord(&(SegmentValue::Exact(0), SegmentValue::CenterOf(n - 1 - i)));
                draw_symbol(root, symbol, (left - gap, y), size, &BLACK)?;
            }
        }
        let cells: Vec<(usize, usize, u32, f64)> = self
            .matrix
            .iter()
            .enumerate()
            .flat_map(|(t, row)| {
                let total = row.iter().map(|&v| v as f64).sum::<f64>().max(1.0);
                row.iter()
                    .enumerate()
                    .map(move |(p, &count)| (t, p, count, count as f64 / total))
            })
            .collect();
        let worst = cells
            .iter()
            .filter(|c| c.0 != c.1)
            .map(|c| c.3)
            .fold(0.0, f64::max);
        let intensity = |&(t, p, _, share): &(usize, usize, u32, f64)| {
            if t == p {
                share.sqrt()
            } else if share > 0.0 {
                0.15 + 0.85 * (share / worst).sqrt()
            } else {
                0.0
            }
        };
        let y = |t: usize| n - 1 - t;
        chart.draw_series(cells.iter().map(|cell| {
            let (t, p) = (cell.0, cell.1);
            let corners = [
                (SegmentValue::Exact(p), SegmentValue::Exact(y(t))),
                (SegmentValue::Exact(p + 1), SegmentValue::Exact(y(t) + 1)),
            ];
            let colour = shade(if t == p { DIAGONAL } else { CONFUSED }, intensity(cell));
            Rectangle::new(corners, colour.filled())
        }))?;
        if n <= COUNTS_MAX {
            let centred = Pos::new(HPos::Center, VPos::Center);
            chart.draw_series(cells.iter().filter(|c| c.2 > 0).map(|cell| {
                let (t, p, count) = (cell.0, cell.1, cell.2);
                let ink = if intensity(cell) > 0.6 { WHITE } else { BLACK };
                let style = ("sans-serif", 13).into_font().color(&ink).pos(centred);
                let at = (SegmentValue::CenterOf(p), SegmentValue::CenterOf(y(t)));
                Text::new(count.to_string(), at, style)
            }))?;
        }
        root.present()
    }
}

const DIAGONAL: (f64, f64, f64) = (8.0, 48.0, 107.0);
const CONFUSED: (f64, f64, f64) = (165.0, 15.0, 21.0);

/// White → `full` as `intensity` goes 0 → 1.
fn shade(full: (f64, f64, f64), intensity: f64) -> RGBColor {
    let s = intensity.clamp(0.0, 1.0);
    let mix = |to: f64| (255.0 + (to - 255.0) * s).round() as u8;
    RGBColor(mix(full.0), mix(full.1), mix(full.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_forty_classes_the_most_confused_are_drawn_and_pairs_ranked() {
        let k = 50;
        let mut confusion = vec![vec![0u32; k]; k];
        for (c, row) in confusion.iter_mut().enumerate() {
            row[c] = 10;
        }
        confusion[3][7] = 5;
        confusion[41][3] = 2;
        confusion[8][9] = 1;
        let classes = heatmap_classes(&confusion);
        assert_eq!(classes.len(), TOP_CLASSES);
        for c in [3, 7, 41, 8, 9] {
            assert!(classes.contains(&c), "{c} missing from {classes:?}");
        }
        assert_eq!(
            most_confused_pairs(&confusion, 2),
            vec![(3, 7, 5), (41, 3, 2)]
        );
        assert_eq!(heatmap_classes(&confusion[..0]), Vec::<usize>::new());
    }

    #[test]
    fn labels_fall_back_to_indices_for_symbols_the_font_lacks() {
        let digits = Charset::digits();
        assert!(symbols_drawable(&digits));
        assert_eq!(plot_label(&digits, true, 7), "7");
        assert!(!symbols_drawable(&Charset::chinese_numerals()));
    }

    #[test]
    fn drawn_labels_put_each_symbol_under_its_column_and_beside_its_row() {
        // 一 (one stroke) and 十 (two): 3 strokes per axis, drawn as paths, and no text label.
        let labels = vec!["一".to_string(), "十".to_string()];
        let confusion = vec![vec![5, 1], vec![2, 4]];
        let figure = ConfusionFigure {
            drawn: true,
            ..ConfusionFigure::new(&confusion, vec![0, 1], labels.clone())
        };
        // Axes and ticks are 1 px lines; a 24 px symbol's strokes are 2 px.
        let strokes = |svg: &str| svg.matches("stroke-width=\"2\" points").count();
        let svg = crate::plots::render::render_svg(&figure, (520, 520)).unwrap();
        assert_eq!(strokes(&svg), 2 * 3, "{svg}");
        let as_text = ConfusionFigure::new(&confusion, vec![0, 1], labels);
        let svg = crate::plots::render::render_svg(&as_text, (520, 520)).unwrap();
        assert_eq!(strokes(&svg), 0, "{svg}");
        assert!(svg.contains("十"), "{svg}");
    }
}
