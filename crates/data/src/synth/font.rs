//! Characters from a (Kai, brush-like) font: the glyph is rasterised, then drawn through the
//! same warp as the strokes by sampling it backwards from every output pixel.

use super::style::SynthStyle;
use super::warp::{uniform, Warp};
use crate::DataError;
use ab_glyph::{Font, FontArc};
use image::{GrayImage, Luma};
use rand::Rng;
use std::path::{Path, PathBuf};

/// Loads a TrueType or OpenType font, or a WOFF/WOFF2 web font (as the npm `@fontsource`
/// packages ship them), decoded to OpenType.
pub fn load(path: &Path) -> Result<FontArc, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = match bytes.get(..4) {
        Some(b"wOF2") => wuff::decompress_woff2(&bytes)
            .map_err(|e| DataError::invalid(path, format!("not a readable WOFF2 font: {e:?}")))?,
        Some(b"wOFF") => wuff::decompress_woff1(&bytes)
            .map_err(|e| DataError::invalid(path, format!("not a readable WOFF font: {e:?}")))?,
        _ => bytes,
    };
    FontArc::try_from_vec(bytes)
        .map_err(|e| DataError::invalid(path, format!("not a TrueType/OpenType font: {e}")))
}

/// File extensions [`load`] reads, for folders of fonts.
pub const EXTENSIONS: &[&str] = &["ttf", "otf", "ttc", "woff", "woff2"];

/// A font file, or every font in a folder (.ttf .otf .ttc .woff .woff2; sorted, so runs are
/// repeatable).
pub fn files(path: &Path) -> Result<Vec<PathBuf>, DataError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| DataError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::invalid(
            path,
            format!("no fonts ({}) in this folder", EXTENSIONS.join(", ")),
        ));
    }
    Ok(files)
}

/// Whether `font` draws `c` (glyph 0 is the font's "missing" box).
pub fn has(font: &FontArc, c: char) -> bool {
    font.glyph_id(c).0 != 0
}

/// Coverage of a glyph, row-major, `width` × `height`, pixel (i, j) centred at (i+½, j+½).
struct Coverage {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Coverage {
    fn bilinear(&self, x: f32, y: f32) -> f32 {
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |i: f32, j: f32| {
            if i < 0.0 || j < 0.0 || i >= self.width as f32 || j >= self.height as f32 {
                0.0
            } else {
                self.data[j as usize * self.width + i as usize]
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// Draws `c` from `font` on a white `side`² image, sized, warped and inked as the style says.
/// `None` when the font has no outline for `c`.
pub fn render(
    font: &FontArc,
    c: char,
    style: &SynthStyle,
    rng: &mut impl Rng,
    side: u32,
) -> Option<GrayImage> {
    let size = side as f32;
    let em = (size * uniform(rng, style.size)).clamp(1.0, 4096.0);
    let glyph = font.outline_glyph(font.glyph_id(c).with_scale(em))?;
    let bounds = glyph.px_bounds();
    let (width, height) = (bounds.width() as usize, bounds.height() as usize);
    let mut coverage = Coverage {
        width,
        height,
        data: vec![0.0; width * height],
    };
    glyph.draw(|x, y, c| {
        if let Some(v) = coverage.data.get_mut(y as usize * width + x as usize) {
            *v = c;
        }
    });
    // Glyph pixels ↔ the unit box: the glyph's middle sits at the box's middle.
    let middle = [width as f32 / 2.0, height as f32 / 2.0];
    let to_unit = |g: [f32; 2]| [(g[0] - middle[0]) / em + 0.5, (g[1] - middle[1]) / em + 0.5];
    let warp = Warp::sample(rng, style);
    let ink = uniform(rng, style.ink).clamp(0.0, 254.0);
    let mut image = GrayImage::from_pixel(side, side, Luma([255]));
    let inverse = warp.inverse()?;

    // The warped glyph lies within the warped outline of its rectangle (the warp is gentle).
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    const EDGE: usize = 8;
    for k in 0..=EDGE {
        let t = k as f32 / EDGE as f32;
        let (w, h) = (width as f32, height as f32);
        for g in [[t * w, 0.0], [t * w, h], [0.0, t * h], [w, t * h]] {
            let q = warp.apply(to_unit(g));
            for a in 0..2 {
                lo[a] = lo[a].min(q[a]);
                hi[a] = hi[a].max(q[a]);
            }
        }
    }
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-6);
    let scale = em.min((size - 2.0).max(0.0) / extent);
    let mut start = [0.0; 2];
    for a in 0..2 {
        let slack = (size - 2.0 - (hi[a] - lo[a]) * scale).max(0.0);
        start[a] = 1.0 + uniform(rng, [0.0, slack]);
    }
    let span = |a: usize| {
        let from = start[a].floor().max(0.0) as u32;
        let to = ((start[a] + (hi[a] - lo[a]) * scale).ceil().max(0.0) as u32 + 1).min(side);
        from..to
    };
    let (xs, ys) = (span(0), span(1));
    // Output pixel → glyph pixel. The warp is smooth, so it is computed exactly on a coarse
    // grid and interpolated in between: a tenth of the cost of inverting it at every pixel.
    let to_glyph = |x: f32, y: f32| {
        let q = [
            (x - start[0]) / scale + lo[0],
            (y - start[1]) / scale + lo[1],
        ];
        let u = inverse(q);
        [(u[0] - 0.5) * em + middle[0], (u[1] - 0.5) * em + middle[1]]
    };
    let grid = Grid::new(xs.clone(), ys.clone(), to_glyph);
    let paper = 255.0 - ink;
    for y in ys {
        for x in xs.clone() {
            let g = grid.at(x, y);
            let c = coverage.bilinear(g[0], g[1]).clamp(0.0, 1.0);
            if c > 0.0 {
                image.put_pixel(x, y, Luma([(255.0 - c * paper).round() as u8]));
            }
        }
    }
    Some(image)
}

/// A map from output pixels (centres) to glyph pixels, sampled every `STEP` pixels.
struct Grid {
    x0: u32,
    y0: u32,
    columns: usize,
    nodes: Vec<[f32; 2]>,
}

const STEP: u32 = 4;

impl Grid {
    fn new(
        xs: std::ops::Range<u32>,
        ys: std::ops::Range<u32>,
        map: impl Fn(f32, f32) -> [f32; 2],
    ) -> Grid {
        let count = |r: &std::ops::Range<u32>| (r.len() as u32).div_ceil(STEP) as usize + 1;
        let (columns, rows) = (count(&xs), count(&ys));
        let mut nodes = Vec::with_capacity(columns * rows);
        for j in 0..rows {
            for i in 0..columns {
                let x = xs.start as f32 + 0.5 + (i as u32 * STEP) as f32;
                let y = ys.start as f32 + 0.5 + (j as u32 * STEP) as f32;
                nodes.push(map(x, y));
            }
        }
        Grid {
            x0: xs.start,
            y0: ys.start,
            columns,
            nodes,
        }
    }

    fn at(&self, x: u32, y: u32) -> [f32; 2] {
        let (dx, dy) = (x - self.x0, y - self.y0);
        let (i, j) = ((dx / STEP) as usize, (dy / STEP) as usize);
        let (fx, fy) = (
            (dx % STEP) as f32 / STEP as f32,
            (dy % STEP) as f32 / STEP as f32,
        );
        let node = |i: usize, j: usize| self.nodes[j * self.columns + i];
        let (a, b, c, d) = (
            node(i, j),
            node(i + 1, j),
            node(i, j + 1),
            node(i + 1, j + 1),
        );
        let mix = |k: usize| {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            top + (bottom - top) * fy
        };
        [mix(0), mix(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_exact_for_an_affine_map_and_covers_its_range() {
        let map = |x: f32, y: f32| [0.5 * x - 0.2 * y + 3.0, 0.1 * x + 2.0 * y];
        let grid = Grid::new(5..23, 7..10, map);
        for y in 7..10 {
            for x in 5..23 {
                let (g, want) = (grid.at(x, y), map(x as f32 + 0.5, y as f32 + 0.5));
                assert!((g[0] - want[0]).abs() < 1e-4 && (g[1] - want[1]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn bilinear_sampling_is_zero_outside_and_exact_at_centres() {
        let coverage = Coverage {
            width: 2,
            height: 1,
            data: vec![1.0, 0.5],
        };
        assert_eq!(coverage.bilinear(0.5, 0.5), 1.0);
        assert_eq!(coverage.bilinear(1.0, 0.5), 0.75);
        assert_eq!(coverage.bilinear(-3.0, 9.0), 0.0);
    }
}
