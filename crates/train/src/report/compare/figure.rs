//! One chart with a curve per run against the epoch, for the comparison page.

use crate::plots::render::{drawable, Figure};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Run colours, in run order (matplotlib's tab10: told apart by most eyes).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Longest run name drawn in a legend; longer ones are drawn as `run N`.
const MAX_LEGEND_NAME: usize = 32;

/// The colour of run `index` (colours repeat after ten runs).
pub fn run_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// `name` as the plot font can draw it in a legend.
pub fn legend_name(index: usize, name: &str) -> String {
    if drawable(name) && name.len() <= MAX_LEGEND_NAME {
        name.to_string()
    } else {
        format!("run {}", index + 1)
    }
}

/// One run's curve: `(epoch, value)` points, non-finite values already left out.
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Curves of several runs on shared axes.
pub struct OverlayFigure<'a> {
    pub title: &'a str,
    pub y_desc: &'a str,
    pub series: &'a [Series],
}

impl OverlayFigure<'_> {
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series.iter().flat_map(|s| s.points.iter().copied())
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.points().next().is_none()
    }

    fn x_range(&self) -> std::ops::Range<f64> {
        let (lo, hi) = bounds(self.points().map(|p| p.0));
        if hi > lo {
            lo..hi
        } else {
            lo - 0.5..hi + 0.5
        }
    }

    fn y_range(&self) -> std::ops::Range<f64> {
        let (lo, hi) = bounds(self.points().map(|p| p.1));
        let pad = if hi > lo { (hi - lo) * 0.06 } else { 0.5 };
        // Losses and rates never go below zero; a negative axis would only waste room.
        let floor = if lo >= 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        };
        floor..hi + pad
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

impl Figure for OverlayFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let x = self.x_range();
        let ticks = ((x.end - x.start).round() as usize + 1).clamp(2, 11);
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x, self.y_range())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(self.y_desc)
            .x_labels(ticks)
            .x_label_formatter(&|x| format!("{}", (x * 10.0).round() / 10.0))
            .draw()?;
        for series in self.series.iter().filter(|s| !s.points.is_empty()) {
            let color = series.color;
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(series.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                series
                    .points
                    .iter()
                    .map(|&p| Circle::new(p, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_cover_every_run_and_never_go_below_zero_for_rates() {
        let series = [
            Series {
                label: "a".into(),
                color: run_color(0),
                points: vec![(1.0, 0.5), (2.0, 0.9)],
            },
            Series {
                label: "b".into(),
                color: run_color(1),
                points: vec![(1.0, 0.01), (4.0, 0.3)],
            },
        ];
        let figure = OverlayFigure {
            title: "t",
            y_desc: "y",
            series: &series,
        };
        assert_eq!(figure.x_range(), 1.0..4.0);
        let y = figure.y_range();
        assert!(y.start == 0.0 && y.end > 0.9, "{y:?}");
        assert_eq!(legend_name(2, "日本"), "run 3");
    }
}
