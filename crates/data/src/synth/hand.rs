//! A hand writing a character: stroke medians → wobbly, displaced, hooked and warped traces in
//! the unit box, each with its pen pressure and ink.

use super::library::BOX;
use super::style::SynthStyle;
use super::warp::{symmetric, uniform, Affine, Warp};
use rand::Rng;
use std::f32::consts::TAU;

/// One stroke as the hand wrote it, in the unit box (y down).
#[derive(Clone, Debug, Default)]
pub struct Written {
    pub points: Vec<[f32; 2]>,
    /// Pen radius at each point, relative to the image's mean radius.
    pub weight: Vec<f32>,
    /// Gray level of the ink (0 black).
    pub ink: f32,
}

/// Writes `medians` (1024 box) with the style's variation. `spacing` is the largest distance
/// between consecutive points, in the unit box, so that wobble and warp bend smoothly.
pub fn write(
    medians: &[Vec<[f32; 2]>],
    style: &SynthStyle,
    rng: &mut impl Rng,
    spacing: f32,
) -> Vec<Written> {
    let ink = uniform(rng, style.ink);
    let mut strokes: Vec<Written> = medians
        .iter()
        .map(|median| {
            let (mut points, arc) = resample(median, spacing);
            wobble(&mut points, &arc, uniform(rng, style.jitter), rng);
            displace(&mut points, style, rng);
            let total = arc.last().copied().unwrap_or(0.0).max(1e-6);
            let (start, end) = (
                symmetric(rng, style.pressure),
                symmetric(rng, style.pressure),
            );
            let weight = arc
                .iter()
                .map(|s| 1.0 + start + (end - start) * s / total)
                .collect();
            let ink = (ink + symmetric(rng, style.ink_variation)).clamp(0.0, 254.0);
            Written {
                points,
                weight,
                ink,
            }
        })
        .collect();
    for i in 0..strokes.len() {
        if rng.random::<f32>() < style.hook_chance {
            let next = strokes.get(i + 1).and_then(|s| s.points.first().copied());
            let length = uniform(rng, style.hook_length);
            hook(&mut strokes[i], next, length, rng);
        }
    }
    let mut strokes = join(strokes, style, rng, spacing);
    let smoothing = uniform(rng, style.smoothing);
    for stroke in &mut strokes {
        smooth(
            &mut stroke.points,
            (smoothing / spacing.max(1e-4)).round() as usize,
        );
    }
    let warp = Warp::sample(rng, style);
    for p in strokes.iter_mut().flat_map(|s| s.points.iter_mut()) {
        *p = warp.apply(*p);
    }
    strokes
}

/// The median in the unit box with extra points so none are further than `spacing` apart,
/// and the arc length at each point. The median's own corners are kept.
fn resample(median: &[[f32; 2]], spacing: f32) -> (Vec<[f32; 2]>, Vec<f32>) {
    let unit = |p: &[f32; 2]| [p[0] / BOX, p[1] / BOX];
    let mut points = Vec::with_capacity(median.len() * 8);
    let mut arc = Vec::with_capacity(median.len() * 8);
    let Some(first) = median.first() else {
        return (points, arc);
    };
    points.push(unit(first));
    arc.push(0.0);
    let mut s = 0.0;
    for pair in median.windows(2) {
        let (a, b) = (unit(&pair[0]), unit(&pair[1]));
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        // At most a few hundred pieces, whatever the spacing asked for.
        let pieces = (len / spacing.max(1e-3)).ceil().clamp(1.0, 256.0) as usize;
        for k in 1..=pieces {
            let t = k as f32 / pieces as f32;
            points.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
            arc.push(s + t * len);
        }
        s += len;
    }
    (points, arc)
}

/// Adds a smooth wobble of about `amplitude` along the stroke: two waves per axis over its
/// arc length, as an unsteady hand draws a straight line.
fn wobble(points: &mut [[f32; 2]], arc: &[f32], amplitude: f32, rng: &mut impl Rng) {
    if amplitude <= 0.0 {
        return;
    }
    let mut waves = [[0.0f32; 3]; 4];
    for w in &mut waves {
        *w = [
            TAU / uniform(rng, [0.2, 0.8]),
            uniform(rng, [0.0, TAU]),
            amplitude * uniform(rng, [0.3, 0.75]),
        ];
    }
    for (p, s) in points.iter_mut().zip(arc) {
        let offset = |w: &[f32; 3]| w[2] * (w[0] * s + w[1]).sin();
        p[0] += offset(&waves[0]) + offset(&waves[1]);
        p[1] += offset(&waves[2]) + offset(&waves[3]);
    }
}

/// Moves the whole stroke a little: shift, turn and stretch about its middle.
fn displace(points: &mut [[f32; 2]], style: &SynthStyle, rng: &mut impl Rng) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return;
    };
    let middle = [(first[0] + last[0]) / 2.0, (first[1] + last[1]) / 2.0];
    let map = Affine::similarity(
        middle,
        symmetric(rng, style.stroke_rotation),
        1.0 + symmetric(rng, style.stroke_scale),
        [
            symmetric(rng, style.stroke_shift),
            symmetric(rng, style.stroke_shift),
        ],
    );
    for p in points {
        *p = map.apply(*p);
    }
}

/// Ends the stroke with a short, thinning flick towards where the pen goes next (or to one
/// side for the last stroke).
fn hook(stroke: &mut Written, next: Option<[f32; 2]>, length: f32, rng: &mut impl Rng) {
    let n = stroke.points.len();
    if n < 2 || length <= 0.0 {
        return;
    }
    let end = stroke.points[n - 1];
    let before = stroke.points[n.saturating_sub(4)];
    let Some(heading) = normalized([end[0] - before[0], end[1] - before[1]]) else {
        return;
    };
    let aside = || {
        let (s, c) = (symmetric(rng, 1.0).signum() * uniform(rng, [1.6, 2.6])).sin_cos();
        [
            c * heading[0] - s * heading[1],
            s * heading[0] + c * heading[1],
        ]
    };
    let toward = next
        .and_then(|p| normalized([p[0] - end[0], p[1] - end[1]]))
        .unwrap_or_else(aside);
    let Some(flick) = normalized([
        0.3 * heading[0] + 0.7 * toward[0],
        0.3 * heading[1] + 0.7 * toward[1],
    ]) else {
        return;
    };
    let control = [
        end[0] + 0.4 * length * heading[0],
        end[1] + 0.4 * length * heading[1],
    ];
    let tip = [end[0] + length * flick[0], end[1] + length * flick[1]];
    let weight = stroke.weight.last().copied().unwrap_or(1.0);
    const STEPS: usize = 5;
    for k in 1..=STEPS {
        let t = k as f32 / STEPS as f32;
        let (a, b, c) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
        stroke.points.push([
            a * end[0] + b * control[0] + c * tip[0],
            a * end[1] + b * control[1] + c * tip[1],
        ]);
        stroke.weight.push(weight * (1.0 - 0.65 * t));
    }
}

/// Cursive writing: with the style's chance per pair, the pen stays down from the end of a
/// stroke to the start of the next, drawing a thin, slightly bowed connecting trace, and the
/// two strokes become one.
fn join(
    strokes: Vec<Written>,
    style: &SynthStyle,
    rng: &mut impl Rng,
    spacing: f32,
) -> Vec<Written> {
    let chance = uniform(rng, style.cursive);
    let thin = uniform(rng, style.ligature_weight);
    let mut out: Vec<Written> = Vec::with_capacity(strokes.len());
    for stroke in strokes {
        let joined = rng.random::<f32>() < chance;
        let prev = out.last_mut().filter(|_| joined);
        let (Some(prev), Some(&b)) = (prev, stroke.points.first()) else {
            out.push(stroke);
            continue;
        };
        let Some(&a) = prev.points.last() else {
            out.push(stroke);
            continue;
        };
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        let bow = symmetric(rng, 0.25) * len;
        let control = [
            (a[0] + b[0]) / 2.0 - bow * (b[1] - a[1]) / len.max(1e-6),
            (a[1] + b[1]) / 2.0 + bow * (b[0] - a[0]) / len.max(1e-6),
        ];
        let pieces = (len / spacing.max(1e-3)).ceil().clamp(1.0, 256.0) as usize;
        for k in 1..pieces {
            let t = k as f32 / pieces as f32;
            let (p, q, r) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
            prev.points.push([
                p * a[0] + q * control[0] + r * b[0],
                p * a[1] + q * control[1] + r * b[1],
            ]);
            prev.weight.push(thin);
        }
        prev.points.extend(stroke.points);
        prev.weight.extend(stroke.weight);
    }
    out
}

/// Rounds corners as a fast hand does: each point becomes the mean of the `reach` points on
/// either side of it (fewer near the ends, which stay where they are).
fn smooth(points: &mut [[f32; 2]], reach: usize) {
    let n = points.len();
    if reach == 0 || n < 3 {
        return;
    }
    let source = points.to_vec();
    for (i, p) in points.iter_mut().enumerate().take(n - 1).skip(1) {
        let r = reach.min(i).min(n - 1 - i);
        let window = &source[i - r..=i + r];
        let k = window.len() as f32;
        *p = [
            window.iter().map(|q| q[0]).sum::<f32>() / k,
            window.iter().map(|q| q[1]).sum::<f32>() / k,
        ];
    }
}

fn normalized(v: [f32; 2]) -> Option<[f32; 2]> {
    let len = v[0].hypot(v[1]);
    (len > 1e-6 && len.is_finite()).then(|| [v[0] / len, v[1] / len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn without_variation_the_medians_come_back_denser() {
        let median = vec![[0.0, 512.0], [1024.0, 512.0]];
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let written = write(&[median], &SynthStyle::none(), &mut rng, 0.1);
        let points = &written[0].points;
        assert_eq!(points.len(), 11);
        for (k, p) in points.iter().enumerate() {
            assert!((p[0] - k as f32 / 10.0).abs() < 1e-5 && (p[1] - 0.5).abs() < 1e-5);
        }
        assert!(written[0].weight.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn a_cursive_writer_joins_strokes_with_a_thin_trace() {
        let medians = vec![
            vec![[100.0, 200.0], [900.0, 200.0]],
            vec![[100.0, 800.0], [900.0, 800.0]],
        ];
        let cursive = SynthStyle {
            cursive: [1.0, 1.0],
            ligature_weight: [0.4, 0.4],
            ..SynthStyle::none()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let written = write(&medians, &cursive, &mut rng, 0.05);
        assert_eq!(written.len(), 1);
        assert!(written[0].weight.contains(&0.4));
        let print = write(&medians, &SynthStyle::none(), &mut rng, 0.05);
        assert_eq!(print.len(), 2);
    }

    #[test]
    fn smoothing_rounds_a_corner_and_keeps_the_ends() {
        let mut points = vec![[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [1.0, 1.0]];
        smooth(&mut points, 1);
        assert_eq!(points[0], [0.0, 0.0]);
        assert_eq!(points[4], [1.0, 1.0]);
        assert!(points[2][0] < 1.0 && points[2][1] > 0.0, "{:?}", points[2]);
    }

    #[test]
    fn a_hook_points_toward_the_next_stroke_and_thins() {
        let mut stroke = Written {
            points: vec![[0.1, 0.5], [0.5, 0.5]],
            weight: vec![1.0, 1.0],
            ink: 0.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        hook(&mut stroke, Some([0.5, 0.9]), 0.05, &mut rng);
        let tip = *stroke.points.last().unwrap();
        assert!(tip[1] > 0.53 && tip[0] > 0.5, "{tip:?}");
        assert!(*stroke.weight.last().unwrap() < 0.5);
    }
}
