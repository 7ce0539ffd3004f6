//! The training curves: loss, accuracy and learning rate against the epoch.

use super::metrics::{EpochRecord, StepRecord};
use super::render::Figure;
use crate::schedule::LrSchedule;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Most points drawn of a schedule: beyond this a curve looks the same and draws slower.
const MAX_LR_POINTS: usize = 2000;

type Curve<'a> = (&'a str, RGBColor, fn(&EpochRecord) -> f64);

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const TEST: RGBColor = RGBColor(214, 39, 40);
const TEST_TOP5: RGBColor = RGBColor(44, 160, 44);
const REAL: RGBColor = RGBColor(148, 103, 189);

/// Train and test loss per epoch.
pub struct LossFigure<'a>(pub &'a [EpochRecord]);

/// Train loss (left axis) and accuracy (right axis, percent) of each window of steps.
pub struct StepLossFigure<'a>(pub &'a [StepRecord]);

/// Train accuracy, test top-1 and top-5 per epoch, in percent.
pub struct AccuracyFigure<'a>(pub &'a [EpochRecord]);

/// The learning rate over the whole run, with where training has got to.
pub struct LrFigure<'a> {
    pub curve: &'a LrCurve,
    pub epochs_done: usize,
}

/// The schedule sampled at steps, `x` in epochs (step / steps per epoch).
#[derive(Clone, Debug)]
pub struct LrCurve {
    pub points: Vec<(f64, f64)>,
    pub epochs: usize,
    pub steps_per_epoch: usize,
}

impl LrCurve {
    pub fn new(schedule: &LrSchedule, epochs: usize, steps_per_epoch: usize) -> Self {
        let per_epoch = steps_per_epoch.max(1);
        let total = epochs * per_epoch;
        let stride = total.div_ceil(MAX_LR_POINTS).max(1);
        let mut steps: Vec<usize> = (0..total).step_by(stride).collect();
        if total > 0 && steps.last() != Some(&(total - 1)) {
            steps.push(total - 1);
        }
        let points = steps
            .into_iter()
            .map(|i| {
                (
                    i as f64 / per_epoch as f64,
                    schedule.at(i, total, per_epoch),
                )
            })
            .collect();
        LrCurve {
            points,
            epochs,
            steps_per_epoch: per_epoch,
        }
    }
}

impl Figure for LossFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let curves: [Curve; 2] = [
            ("train", TRAIN, |r| r.train_loss),
            ("test", TEST, |r| r.test_loss),
        ];
        let top = finite(self.0, &curves).fold(0f64, f64::max);
        let y = 0.0..if top > 0.0 { top * 1.08 } else { 1.0 };
        let axes = Axes {
            title: "Loss",
            y_desc: "loss",
            y,
            scale: 1.0,
            legend_at: SeriesLabelPosition::UpperRight,
        };
        epoch_chart(root, &axes, self.0, &curves)
    }
}

impl Figure for AccuracyFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let mut curves: Vec<Curve> = vec![
            ("train", TRAIN, |r| r.train_accuracy),
            ("test top-1", TEST, |r| r.test_top1),
            ("test top-5", TEST_TOP5, |r| r.test_top5),
        ];
        // Real handwriting beside a synthetic test split, when the run measured it.
        if self.0.iter().any(|r| r.real_top1.is_finite()) {
            curves.push(("real top-1", REAL, |r| r.real_top1));
        }
        // Zoomed to the data: 97-99% curves pressed against the top of 0-100% say nothing.
        let low = finite(self.0, &curves).fold(1.0f64, f64::min) * 100.0;
        let floor = (((low - 2.0) / 5.0).floor() * 5.0).clamp(0.0, 95.0);
        let axes = Axes {
            title: "Accuracy",
            y_desc: "%",
            y: floor..100.5,
            scale: 100.0,
            legend_at: SeriesLabelPosition::LowerRight,
        };
        epoch_chart(root, &axes, self.0, &curves)
    }
}

impl Figure for LrFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let points = &self.curve.points;
        let top = points
            .iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(0f64, f64::max);
        let x_end = self.curve.epochs.max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption("Learning rate", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_end, 0.0..if top > 0.0 { top * 1.08 } else { 1.0 })?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("learning rate")
            .x_label_formatter(&tick)
            .y_label_formatter(&|v| format!("{v:.2e}"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            TRAIN.stroke_width(2),
        ))?;
        let done = self.epochs_done.min(self.curve.epochs);
        let now = points
            .iter()
            .rev()
            .find(|p| p.0 < done as f64)
            .map(|p| (done as f64, p.1));
        chart.draw_series(now.map(|p| Circle::new(p, 5, TEST.filled())))?;
        root.present()
    }
}

impl Figure for StepLossFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let loss: Vec<(f64, f64)> = self
            .0
            .iter()
            .map(|s| (s.step as f64, s.loss))
            .filter(|p| p.1.is_finite())
            .collect();
        let accuracy: Vec<(f64, f64)> = self
            .0
            .iter()
            .map(|s| (s.step as f64, 100.0 * s.accuracy))
            .filter(|p| p.1.is_finite())
            .collect();
        let last = self.0.last().map_or(1.0, |s| s.step as f64).max(1.0);
        let top = loss.iter().map(|p| p.1).fold(0f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption("Training, every 10 steps", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .right_y_label_area_size(50)
            .build_cartesian_2d(0.0..last, 0.0..if top > 0.0 { top * 1.08 } else { 1.0 })?
            .set_secondary_coord(0.0..last, 0.0..100.5);
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc("train loss")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("train accuracy %")
            .draw()?;
        chart
            .draw_series(LineSeries::new(loss, TRAIN.stroke_width(2)))?
            .label("loss")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], TRAIN.stroke_width(2)));
        chart
            .draw_secondary_series(LineSeries::new(accuracy, TEST_TOP5.stroke_width(2)))?
            .label("accuracy")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], TEST_TOP5.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()
    }
}

/// Finite values of all curves, for the axis range.
fn finite<'a>(records: &'a [EpochRecord], curves: &'a [Curve]) -> impl Iterator<Item = f64> + 'a {
    curves
        .iter()
        .flat_map(move |c| records.iter().map(c.2))
        .filter(|v| v.is_finite())
}

/// How an epoch chart looks: its values are multiplied by `scale` (fractions → percent).
struct Axes {
    title: &'static str,
    y_desc: &'static str,
    y: std::ops::Range<f64>,
    scale: f64,
    legend_at: SeriesLabelPosition,
}

fn epoch_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    axes: &Axes,
    records: &[EpochRecord],
    curves: &[Curve],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let last = records.iter().map(|r| r.epoch).max().unwrap_or(1).max(1) as f64;
    let first = records.iter().map(|r| r.epoch).min().unwrap_or(1) as f64;
    let x = if last > first {
        first..last
    } else {
        first - 0.5..last + 0.5
    };
    let mut chart = ChartBuilder::on(root)
        .caption(axes.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, axes.y.clone())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(axes.y_desc)
        .x_labels(((last - first) as usize + 1).min(11))
        .x_label_formatter(&tick)
        .draw()?;
    for &(name, color, value) in curves {
        // A diverged epoch (NaN) is left out rather than ending the curve.
        let points: Vec<(f64, f64)> = records
            .iter()
            .map(|r| (r.epoch as f64, value(r) * axes.scale))
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(axes.legend_at.clone())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

/// Epoch ticks: whole numbers as such, fractions with one decimal.
fn tick(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lr_curve_covers_the_whole_schedule_with_bounded_points() {
        let schedule = LrSchedule::constant(0.1);
        let small = LrCurve::new(&schedule, 3, 10);
        assert_eq!(small.points.len(), 30);
        assert_eq!(small.points[29].0, 2.9);
        let big = LrCurve::new(&schedule, 100, 3000);
        assert!(big.points.len() <= MAX_LR_POINTS + 1);
        assert_eq!(big.points.last().unwrap().0, (300_000 - 1) as f64 / 3000.0);
    }
}
