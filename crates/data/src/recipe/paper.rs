//! The paper under the ink (ink already bright, paper dark): what a photo's light did to the
//! page, subtracted before the Otsu split so that uneven light, a gradient or a shadow across
//! the page sits at zero everywhere and the split separates ink from paper, not the bright
//! half of the page from the dark half.
//!
//! Three steps, each for what the one before cannot see. The block model (a low percentile
//! of 8×8 blocks, interpolated) follows slow changes of the light and never eats the inside
//! of a bold, dense character, but smooths over a shadow's sharp edge. A grey opening
//! (minimum, then maximum, over a window wider than any stroke) follows that edge to a
//! pixel: the photo's own opening is taken off the photo where the opening of what the block
//! model left is under half the ink's contrast, and where it is brighter only if that region
//! reaches the photo's border (a shadow crosses the page; a fat stroke close up, wider than
//! the window, sits inside the frame and keeps the block model's result). Clean data
//! (no paper at all) skips it. Last, faint long straight lines and the full-length rules of
//! lined or squared paper go the same way.

use super::{histogram, paper_and_grain, percentile};
use image::imageops::{self, FilterType};
use image::GrayImage;

/// Blocks per side of the background model: a photo's light changes over the page, the ink
/// within a stroke width.
const BACKGROUND_BLOCKS: u32 = 8;
/// Smallest block side in pixels, so that a block is always several stroke widths across
/// (MNIST's 28² digits get 2×2 blocks, whose quarter-darkest pixels are all background).
const MIN_BACKGROUND_BLOCK: u32 = 16;
/// The background model's level in each block: the level below which this share of its
/// pixels lie after inversion (paper, unless ink covers nine tenths of the block).
const BACKGROUND_SHARE: f64 = 0.1;

/// The block model of the paper (ink already bright): the block side, the blocks across and
/// down, and each block's level — `level` of the histogram of each of (up to) 8×8 square
/// blocks (the paper's: a low percentile), then the lowest of its 3×3 neighbourhood. On clean
/// data (black background) every level is 0.
fn block_levels(img: &GrayImage, level: impl Fn(&[u64; 256]) -> f32) -> (u32, u32, u32, Vec<f32>) {
    let (w, h) = img.dimensions();
    let block = w
        .max(h)
        .div_ceil(BACKGROUND_BLOCKS)
        .max(MIN_BACKGROUND_BLOCK);
    let (gx, gy) = (w.div_ceil(block), h.div_ceil(block));
    let mut levels = vec![0f32; (gx * gy) as usize];
    for by in 0..gy {
        for bx in 0..gx {
            let mut hist = [0u64; 256];
            let columns = (bx * block) as usize..((bx + 1) * block).min(w) as usize;
            for y in (by * block) as usize..((by + 1) * block).min(h) as usize {
                for &v in &img.as_raw()[y * w as usize..][columns.clone()] {
                    hist[v as usize] += 1;
                }
            }
            levels[(by * gx + bx) as usize] = level(&hist);
        }
    }
    // A block that is nearly all ink (the inside of a bold, dense character) takes the
    // lowest level of its neighbours instead, so the model never eats into strokes; on a
    // ramp that costs one block's step, which the Otsu split below absorbs.
    let levels: Vec<f32> = (0..gy)
        .flat_map(|by| (0..gx).map(move |bx| (bx, by)))
        .map(|(bx, by)| {
            let near = |c: u32, n: u32| c.saturating_sub(1)..(c + 2).min(n);
            near(by, gy)
                .flat_map(|y| near(bx, gx).map(move |x| (x, y)))
                .map(|(x, y)| levels[(y * gx + x) as usize])
                .fold(f32::MAX, f32::min)
        })
        .collect();
    (block, gx, gy, levels)
}

/// The side at most at which the opening is computed; larger photos are reduced first (the
/// paper's light changes over many pixels, so little is lost: at 1 024 the released 3 755-class
/// model read 70.22% of 4 000 Chinese MNIST `:train` photos against 70.33%, stop 34; with
/// the test-time readings, every photo of `data photos … :test --seed 1` opened at full size:
/// 73.17% against 73.63%, shadows under 0.65 of the light 64.07 against 64.75%, stop 37).
const OPENING_SIDE: u32 = 256;
/// Opening window: this fraction of the (reduced) side, and never under 7 pixels, so it is
/// wider than the strokes of MNIST's 28² digits and of small characters. Measured on the
/// photo sets (`data photos`, seed 1; LeNet-5 on MNIST test photos / the 3 755-class model
/// on Chinese MNIST `:train` photos): 1/8 87.6% / –, 1/10 90.0% / 27.6%, 1/12 88.6% /
/// 27.8%, 1/16 84.7% / 27.8%, 1/24 74.9% / – (with the edge rule of `subtract_opening`
/// for 1/10, subtracting everywhere for the others).
const OPENING_DIVISOR: u32 = 10;
const MIN_OPENING: u32 = 7;

/// Subtracts the paper (see the module's doc); with `even_light`, the ink left is then divided
/// by the light it was photographed in ([`even_out_light`]). On clean data (black
/// background) both models are 0 everywhere: identity.
///
/// The light multiplies the page, so the ink in a shadow keeps less contrast than the models
/// take off; dividing by the light is not the recipe's own reading all the same: the released
/// 3 755-class model on the 12 000 Chinese MNIST `:train` photos (`data photos … --seed 1`)
/// read 71.03% -> 67.42% with it alone (an earlier implementation), shadows under 0.65 of the
/// light 61.46 -> 54.13% (stop 34; stop 31 had 63.05% against 66.73% with other weights): the
/// gain lifts the camera's noise and what the models leave at a shadow's edge with the ink.
/// It is one of the readings a photo may be given (`Reading::EvenLight`).
pub(super) fn flatten_background(img: &mut GrayImage, even_light: bool) -> bool {
    // Clean data (black paper everywhere) has no light to correct: the opening would only
    // take bites out of its boldest strokes (MNIST test: 99.18% with it, 99.20% without).
    let photo = img.clone();
    let lit = subtract_block_model(img, |hist| percentile(hist, BACKGROUND_SHARE) as f32);
    if lit {
        subtract_opening(img, &photo);
        if even_light {
            even_out_light(img, &photo);
        }
    }
    subtract_rules(img, lit);
    lit
}

/// Most [`even_out_light`] brightens a shadow's ink: the light of a deep shadow is a few
/// levels, and a larger gain lifts the camera's noise to ink.
const MAX_LIGHT_GAIN: f32 = 4.0;
/// The page's brightest paper, against which the light elsewhere is measured: the level the
/// least-subtracted 2% of the page reach (a share, so one hot pixel does not set it).
const BRIGHTEST_PAPER_SHARE: f64 = 0.02;

/// Divides the flattened ink in `img` by the light where it lies, relative to the page's
/// brightest paper, at most [`MAX_LIGHT_GAIN`] times. The light is the paper's brightness in
/// the `photo` (ink bright, so 255 less what was subtracted there).
fn even_out_light(img: &mut GrayImage, photo: &GrayImage) {
    // Subtraction never raises a pixel: `img <= photo` everywhere.
    let subtracted: Vec<u8> = photo.iter().zip(img.iter()).map(|(&p, &v)| p - v).collect();
    let mut hist = [0u64; 256];
    for &s in &subtracted {
        hist[s as usize] += 1;
    }
    let brightest = 255.0 - percentile(&hist, BRIGHTEST_PAPER_SHARE) as f32;
    for (v, &s) in img.iter_mut().zip(&subtracted) {
        if *v > 0 {
            let light = (255.0 - s as f32).max(1.0);
            let gain = (brightest / light).clamp(1.0, MAX_LIGHT_GAIN);
            *v = (*v as f32 * gain).min(255.0).round() as u8;
        }
    }
}

/// Robust deviations of a block's grain above its median that are still paper, for
/// [`subtract_local_grain`] (as the page-wide floor of the recipe's own reading).
const LOCAL_GRAIN_DEVIATIONS: f32 = 4.0;

/// Subtracts the paper's grain block by block (the median plus [`LOCAL_GRAIN_DEVIATIONS`]
/// robust deviations of each block, the lowest of its 3×3 neighbourhood, interpolated)
/// instead of once for the page: a page whose grain differs across it (a shadow's noisier
/// half, a bright and a dim corner) keeps faint ink where the grain is fine. One of the
/// readings a photo may be given (`Reading::LocalGrain`); identity on clean data.
pub(super) fn subtract_local_grain(img: &mut GrayImage) {
    subtract_block_model(img, |hist| {
        let (paper, grain) = paper_and_grain(hist);
        paper + LOCAL_GRAIN_DEVIATIONS * grain
    });
}

/// Subtracts the block model whose level in a block is `level` of the block's histogram:
/// slow changes of the light. False when the paper is black everywhere (clean data), so
/// there was nothing to subtract.
fn subtract_block_model(img: &mut GrayImage, level: impl Fn(&[u64; 256]) -> f32) -> bool {
    let (w, h) = img.dimensions();
    let (block, gx, gy, levels) = block_levels(img, level);
    if levels.iter().all(|&l| l == 0.0) {
        return false;
    }
    // Position of a pixel between the two nearest block centres; past the outer centres the
    // model goes on along the line through them, so a ramp is followed to the page's edge.
    let between = |p: u32, blocks: u32| {
        if blocks < 2 {
            return (0, 0, 0.0);
        }
        let t = (p as f32 + 0.5) / block as f32 - 0.5;
        let i = (t.floor().max(0.0) as u32).min(blocks - 2);
        (i, i + 1, t - i as f32)
    };
    // Columns repeat on every row: place them once.
    let columns: Vec<(u32, u32, f32)> = (0..w).map(|x| between(x, gx)).collect();
    let at = |i: u32, j: u32| levels[(j * gx + i) as usize];
    for (y, row) in (0..h).zip(img.chunks_exact_mut(w as usize)) {
        let (iy, iy1, fy) = between(y, gy);
        for (v, &(ix, ix1, fx)) in row.iter_mut().zip(&columns) {
            let top = at(ix, iy) * (1.0 - fx) + at(ix1, iy) * fx;
            let bottom = at(ix, iy1) * (1.0 - fx) + at(ix1, iy1) * fx;
            let level = top * (1.0 - fy) + bottom * fy;
            // + 0.5 and truncation: `round` for the non-negative clamped value, without the
            // per-pixel library call.
            *v = ((*v as f32 - level).clamp(0.0, 255.0) + 0.5) as u8;
        }
    }
    true
}

/// Takes off what the block model left of the paper (a shadow's sharp edge). The opening of
/// what is left says where the paper is: where it is brighter than half the ink's contrast it
/// may be a stroke wider than the window (a fat marker close up) rather than light, so that
/// counts as paper only when the bright region reaches the photo's edge (a shadow crosses
/// the page, writing sits inside the frame). Where it is paper, the result is the `photo`
/// less its own opening: that follows a shadow's edge exactly, where the block model, which
/// smooths over the edge, leaves a thin bright ridge beside it that an opening of the
/// remainder keeps (LeNet-5 on MNIST test photos, `data photos --seed 1`: 94.96% with the
/// remainder's opening, 96.41% with the photo's; shadows under 0.65 of the light 86.1% ->
/// 92.4%). Elsewhere the block model's result stays.
fn subtract_opening(img: &mut GrayImage, photo: &GrayImage) {
    let (w, h) = img.dimensions();
    let opened = opening(img);
    if opened.iter().all(|&v| v == 0) {
        return;
    }
    let opened = imageops::resize(&opened, w, h, FilterType::Triangle);
    let tolerance = ink_top(img) / 2;
    let light = light_from_the_edge(&opened, tolerance);
    let paper = imageops::resize(&opening(photo), w, h, FilterType::Triangle);
    for (((v, &p), &paper), light) in img
        .iter_mut()
        .zip(photo.iter())
        .zip(paper.iter())
        .zip(light)
    {
        if light {
            *v = p.saturating_sub(paper);
        }
    }
}

/// Which pixels of the paper model `opened` are light, not ink: those at most `tolerance`,
/// and every region above half of it that is 4-connected to the image's border (the lower
/// bar keeps a shadow's edge in one piece where it dips under `tolerance`).
fn light_from_the_edge(opened: &GrayImage, tolerance: u8) -> Vec<bool> {
    let floor = tolerance / 2;
    let (w, h) = (opened.width() as usize, opened.height() as usize);
    let level = opened.as_raw();
    let mut light: Vec<bool> = level.iter().map(|&p| p <= tolerance).collect();
    let mut seen = vec![false; w * h];
    let border = (0..w)
        .flat_map(|x| [x, (h - 1) * w + x])
        .chain((0..h).flat_map(|y| [y * w, y * w + w - 1]));
    let mut stack: Vec<usize> = border.filter(|&i| level[i] > floor).collect();
    for &i in &stack {
        seen[i] = true;
        light[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let mut visit = |j: usize| {
            if !seen[j] && level[j] > floor {
                seen[j] = true;
                light[j] = true;
                stack.push(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    light
}

/// Pixels that make up the ink's brightest level, however small the writing in the photo: a
/// share of the image would land on the paper (or on the rules) when the writing covers less
/// than that share.
const INK_TOP_PIXELS: u64 = 24;

/// The level the brightest [`INK_TOP_PIXELS`] pixels reach: the ink's contrast over the paper.
fn ink_top(img: &GrayImage) -> u8 {
    let hist = histogram(img);
    let mut seen = 0;
    for v in (0..256).rev() {
        seen += hist[v];
        if seen >= INK_TOP_PIXELS {
            return v as u8;
        }
    }
    0
}

/// A printed rule is at least this fraction of the photo's side long.
const RULE_FRACTION: u32 = 2;
/// Rules are looked for only along sides of at least this many pixels: a photo of a page,
/// not a tight crop such as MNIST's 28² digits, whose bars are not rules.
const MIN_RULED_SIDE: u32 = 64;

/// Subtracts faint long straight lines (lined or squared paper): the larger of a horizontal
/// and a vertical opening by a line half the photo long, where it is under half the
/// ink's contrast, so a written stroke, however long and straight (一 filling the photo), is
/// kept at full strength; and elsewhere, in a `photo`, the page's own rules ([`page_rules`]),
/// which faint pencil may not outshine.
fn subtract_rules(img: &mut GrayImage, photo: bool) {
    let (w, h) = img.dimensions();
    let tolerance = ink_top(img) / 2;
    let mut rules = vec![0u8; (w * h) as usize];
    for (axis, side) in [(Axis::Rows, w), (Axis::Columns, h)] {
        if side < MIN_RULED_SIDE {
            continue;
        }
        let reach = (side / RULE_FRACTION / 2) as usize;
        let passes = [(axis, Extremum::Min), (axis, Extremum::Max)];
        let opened = filter_lines(img.as_raw(), w, &passes, reach);
        for (r, v) in rules.iter_mut().zip(opened) {
            *r = (*r).max(v);
        }
    }
    // Clean data (every training sample) has no page: no second pass, no buffer.
    let page = photo.then(|| page_rules(img));
    for (i, (v, &rule)) in img.iter_mut().zip(&rules).enumerate() {
        let printed = match (rule <= tolerance, &page) {
            (true, _) => rule,
            (false, Some(page)) => page[i],
            (false, None) => 0,
        };
        *v = v.saturating_sub(printed);
    }
}

/// Share of the photo's side a printed rule runs along, at least: it crosses the page,
/// where writing in a photo of a page does not. Taking these off whatever their contrast
/// (faint pencil is often fainter than the rules): the shipped 3 755-class model on 12 000
/// photos of Chinese MNIST `:train` (`data photos … --seed 1`, with the speck step of
/// `main_ink`) 57.13% -> 61.52% (pencil on squared paper 19.1% -> 43.0%). With the other
/// `main_ink` steps: 65.38% taking every such line; 64.09% keeping lines
/// [`PAGE_RULE_SPREAD`] times brighter than the usual one; **64.62%** also keeping lines
/// that stop short of either edge — the price of never taking a written stroke (国's or
/// 二's bars in a tightly framed photo) for a rule (63.72% with `main_ink`'s tight-frame
/// exception).
const PAGE_RULE_SHARE: f32 = 0.8;
/// Rules of a page come several to a page: fewer full-length lines than this along one axis
/// may be long strokes of a tightly framed character.
const MIN_PAGE_RULES: usize = 2;

/// The printed rules of a page, whatever their contrast against the ink: lines running
/// [`PAGE_RULE_SHARE`] of the photo's side and reaching both its edges, along an axis that
/// has at least [`MIN_PAGE_RULES`] of them, less lines [`PAGE_RULE_SPREAD`] times brighter
/// than the usual one. Zero elsewhere.
fn page_rules(img: &GrayImage) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let mut rules = vec![0u8; (w * h) as usize];
    for (axis, side, across) in [(Axis::Rows, w, h), (Axis::Columns, h, w)] {
        if side < MIN_RULED_SIDE {
            continue;
        }
        let reach = (side as f32 * PAGE_RULE_SHARE / 2.0) as usize;
        let passes = [(axis, Extremum::Min), (axis, Extremum::Max)];
        let opened = filter_lines(img.as_raw(), w, &passes, reach);
        let at = |i: u32, j: u32| match axis {
            Axis::Rows => (i * w + j) as usize,
            Axis::Columns => (j * w + i) as usize,
        };
        // Each line (a row for Rows, a column for Columns) lit over most of its length, as
        // runs of neighbouring lines with the brightest mean level among them.
        let mut runs: Vec<(std::ops::Range<u32>, f32)> = Vec::new();
        for i in 0..across {
            let line = (0..side).map(|j| opened[at(i, j)]);
            let on = line.clone().filter(|&v| v > 0).count();
            // A rule is printed to the page's edges, a written stroke stops short of them.
            let to_the_edges = opened[at(i, 0)] > 0 && opened[at(i, side - 1)] > 0;
            if (on as f32) < side as f32 * PAGE_RULE_SHARE || !to_the_edges {
                continue;
            }
            let level = line.map(f32::from).sum::<f32>() / side as f32;
            match runs.last_mut() {
                Some((run, top)) if run.end == i => {
                    run.end = i + 1;
                    *top = top.max(level);
                }
                _ => runs.push((i..i + 1, level)),
            }
        }
        if runs.len() < MIN_PAGE_RULES {
            continue;
        }
        // A page's rules are printed alike: a line far brighter than their usual level is a
        // written stroke crossing the page (一 across a tightly framed photo of lined paper).
        let mut levels: Vec<f32> = runs.iter().map(|(_, level)| *level).collect();
        levels.sort_by(f32::total_cmp);
        let usual = levels[levels.len() / 2];
        let mut written = vec![false; across as usize];
        for (run, level) in &runs {
            if *level > PAGE_RULE_SPREAD * usual {
                run.clone().for_each(|i| written[i as usize] = true);
            }
        }
        for i in (0..across).filter(|&i| !written[i as usize]) {
            for j in 0..side {
                let k = at(i, j);
                rules[k] = rules[k].max(opened[k]);
            }
        }
    }
    rules
}

/// How much brighter than the page's usual rule a line may be and still be a rule (same
/// measure as [`PAGE_RULE_SHARE`]: 3 64.09%, 5 64.33%; 3 leaves more room for a pen's
/// stroke over faint rules).
const PAGE_RULE_SPREAD: f32 = 3.0;

/// Which lines of an image a 1-D filter runs along.
#[derive(Clone, Copy, PartialEq)]
enum Axis {
    Rows,
    Columns,
}

/// The 1-D filters of a grey opening: the darkest or the brightest pixel of each window.
#[derive(Clone, Copy)]
enum Extremum {
    Min,
    Max,
}

/// Runs 1-D filters over `reach` pixels either side, in order, each along the rows or the
/// columns of a `width`-wide image, the window clipped at the image's edges. Every filter
/// runs down columns, whole rows at a time, so that each `min`/`max` is over a row of pixels
/// at once (the compiler vectorises it); a filter along rows runs on the transposed image,
/// which is transposed back only when a filter along columns follows (so order passes along
/// the same axis together: an opening is columns, rows, rows, columns).
fn filter_lines(pixels: &[u8], width: u32, passes: &[(Axis, Extremum)], reach: usize) -> Vec<u8> {
    let w = width as usize;
    let h = pixels.len() / w.max(1);
    let mut out = pixels.to_vec();
    let mut along = Axis::Columns;
    for &(axis, extremum) in passes {
        if axis != along {
            out = match along {
                Axis::Columns => transpose(&out, w, h),
                Axis::Rows => transpose(&out, h, w),
            };
            along = axis;
        }
        let lines = if along == Axis::Rows { h } else { w };
        out = match extremum {
            Extremum::Min => down_columns(&out, lines, reach, u8::min, u8::MAX),
            Extremum::Max => down_columns(&out, lines, reach, u8::max, 0),
        };
    }
    if along == Axis::Rows {
        out = transpose(&out, h, w);
    }
    out
}

/// The `w`-wide, `h`-tall image `pixels` with rows and columns swapped.
fn transpose(pixels: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; pixels.len()];
    for (x, column) in out.chunks_exact_mut(h.max(1)).enumerate() {
        for (o, &v) in column.iter_mut().zip(pixels[x..].iter().step_by(w)) {
            *o = v;
        }
    }
    out
}

/// `out[y] = op` over rows `y - reach ..= y + reach` (clipped) of a `w`-wide image, by block
/// prefix and suffix extrema (van Herk / Gil–Werman): three `op`s per pixel whatever the
/// window. Measured (`bench predict`, LeNet-5, a 200² photo, 1 thread): the recipe took
/// 6.0 ms with one line at a time through a function pointer, 2.5 ms with `op` inlined, and
/// 0.73 ms with whole-row passes (the rest of the recipe included).
fn down_columns(
    pixels: &[u8],
    w: usize,
    reach: usize,
    op: impl Fn(u8, u8) -> u8 + Copy,
    identity: u8,
) -> Vec<u8> {
    if w == 0 {
        return Vec::new();
    }
    let h = pixels.len() / w;
    let k = 2 * reach + 1;
    // Rows of the image padded with `reach` identity rows at either end: the window of output
    // row `y` is padded rows `y ..= y + 2 reach`.
    let len = h + 2 * reach;
    let blank = vec![identity; w];
    let padded = |i: usize| match i.checked_sub(reach) {
        Some(y) if y < h => &pixels[y * w..(y + 1) * w],
        _ => &blank[..],
    };
    let mut prefix = vec![0u8; len * w];
    let mut suffix = vec![0u8; len * w];
    for start in (0..len).step_by(k) {
        let end = (start + k).min(len);
        prefix[start * w..(start + 1) * w].copy_from_slice(padded(start));
        for i in start + 1..end {
            let (done, row) = prefix.split_at_mut(i * w);
            let before = &done[(i - 1) * w..];
            for ((p, &b), &v) in row[..w].iter_mut().zip(before).zip(padded(i)) {
                *p = op(b, v);
            }
        }
        suffix[(end - 1) * w..end * w].copy_from_slice(padded(end - 1));
        for i in (start..end - 1).rev() {
            let (row, after) = suffix.split_at_mut((i + 1) * w);
            for ((s, &a), &v) in row[i * w..].iter_mut().zip(&after[..w]).zip(padded(i)) {
                *s = op(a, v);
            }
        }
    }
    let mut out = vec![0u8; h * w];
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let (first, last) = (
            &suffix[y * w..(y + 1) * w],
            &prefix[(y + k - 1) * w..(y + k) * w],
        );
        for ((o, &a), &b) in row.iter_mut().zip(first).zip(last) {
            *o = op(a, b);
        }
    }
    out
}

/// Grey opening of `img` (bright ink removed): a minimum then a maximum filter over a square
/// window wider than the strokes, computed at most [`OPENING_SIDE`] pixels across. Each
/// square filter is a pass along the columns and one along the rows, the window clipped at
/// the edges.
fn opening(img: &GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let scale = (OPENING_SIDE as f32 / w.max(h) as f32).min(1.0);
    let small = if scale < 1.0 {
        let (sw, sh) = (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        );
        imageops::resize(img, sw, sh, FilterType::Triangle)
    } else {
        img.clone()
    };
    let (sw, sh) = small.dimensions();
    let reach = ((sw.max(sh) / OPENING_DIVISOR).max(MIN_OPENING) / 2) as usize;
    let passes = [
        (Axis::Columns, Extremum::Min),
        (Axis::Rows, Extremum::Min),
        (Axis::Rows, Extremum::Max),
        (Axis::Columns, Extremum::Max),
    ];
    let pixels = filter_lines(small.as_raw(), sw, &passes, reach);
    GrayImage::from_raw(sw, sh, pixels).expect("filters keep the image's size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_extrema_down_a_column_match_the_plain_window() {
        let line: Vec<u8> = (0..57u32).map(|i| ((i * 37 + 11) % 251) as u8).collect();
        for reach in [0, 1, 3, 10, 40] {
            let fast = down_columns(&line, 1, reach, u8::min, u8::MAX);
            for (i, &v) in fast.iter().enumerate() {
                let window = &line[i.saturating_sub(reach)..(i + reach + 1).min(line.len())];
                assert_eq!(v, *window.iter().min().unwrap(), "reach {reach} at {i}");
            }
        }
    }

    #[test]
    fn a_row_pass_then_a_column_pass_is_the_square_window() {
        let (w, h, reach) = (23usize, 17usize, 3usize);
        let pixels: Vec<u8> = (0..w * h).map(|i| ((i * 73 + 5) % 256) as u8).collect();
        let passes = [(Axis::Rows, Extremum::Min), (Axis::Columns, Extremum::Min)];
        let square = filter_lines(&pixels, w as u32, &passes, reach);
        for y in 0..h {
            for x in 0..w {
                let plain = (y.saturating_sub(reach)..(y + reach + 1).min(h))
                    .flat_map(|j| {
                        (x.saturating_sub(reach)..(x + reach + 1).min(w)).map(move |i| (i, j))
                    })
                    .map(|(i, j)| pixels[j * w + i])
                    .min()
                    .unwrap();
                assert_eq!(square[y * w + x], plain, "at ({x}, {y})");
            }
        }
    }

    #[test]
    fn faint_rules_go_and_a_long_written_stroke_stays() {
        // Ink bright: a faint rule every 10 rows, and a full-strength stroke across.
        let mut img = GrayImage::from_fn(120, 80, |_, y| {
            image::Luma([if y % 10 == 0 { 40 } else { 0 }])
        });
        for y in 44..47 {
            for x in 5..115 {
                img.put_pixel(x, y, image::Luma([220]));
            }
        }
        subtract_rules(&mut img, false);
        assert!(
            (0..120).all(|x| img.get_pixel(x, 20).0[0] == 0),
            "the rule is gone"
        );
        assert!(
            (5..115).all(|x| img.get_pixel(x, 45).0[0] == 220),
            "the stroke stays"
        );
    }

    #[test]
    fn a_pages_rules_go_even_when_stronger_than_faint_writing() {
        // Squared paper whose rules are brighter than half of a pencil stroke's contrast:
        // a faint stroke (level 60) inside the page, rules (level 45) every 20 pixels.
        let mut img = GrayImage::from_fn(160, 160, |x, y| {
            image::Luma([if x % 20 == 0 || y % 20 == 0 { 45 } else { 0 }])
        });
        for y in 60..100 {
            for x in 73..75 {
                img.put_pixel(x, y, image::Luma([60]));
            }
        }
        subtract_rules(&mut img, true);
        assert!(
            (0..160).all(|x| img.get_pixel(x, 40).0[0] == 0),
            "the horizontal rule is gone"
        );
        assert!(
            (0..160).all(|y| img.get_pixel(100, y).0[0] == 0),
            "the vertical rule is gone"
        );
        assert_eq!(img.get_pixel(74, 70).0[0], 60, "the stroke stays");
    }

    #[test]
    fn long_strokes_across_a_tight_frame_are_not_rules() {
        // 二 written across nine tenths of a tightly framed photo, and nothing else.
        let mut img = GrayImage::new(100, 100);
        for y in (30..33).chain(69..72) {
            for x in 4..96 {
                img.put_pixel(x, y, image::Luma([200]));
            }
        }
        let before = img.clone();
        subtract_rules(&mut img, true);
        assert_eq!(img, before);
    }
}
