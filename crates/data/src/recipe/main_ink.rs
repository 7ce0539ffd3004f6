//! The writing, not what else the photo caught: connected pieces of ink are grouped around
//! the heaviest one, and pieces far from that group (a mark in the page's corner, a speck of
//! dust, the end of a margin note) or much fainter than it (what is left of a ruled line) are
//! removed before the crop, so the crop is the writing's. In a photo the group is the
//! largest grown from any of a few heavy pieces (a dark mark outweighs faint pencil), and
//! specks of camera noise and pieces cut by the photo's edge do not join it.

use image::GrayImage;

/// A piece of ink further from the group than this share of the group's larger side is not
/// part of the writing. Strokes of one character (三's bars, 八's two sweeps, 心's dots) sit
/// closer than half the character's size to each other.
const REACH: f32 = 0.5;

/// The reach for a piece in line with the group (sharing its columns or its rows): a stroke
/// stacked above or beside the others. A small 二 or 三 has its bars further apart than half
/// their length (Chinese MNIST `:train`, the 3 755-class model: 二's top bar was dropped from
/// 106 of 1 000; 60.36% with one reach, 60.54% with this one; MNIST photos 75.18% → 74.97%).
const REACH_IN_LINE: f32 = 1.0;

/// In a photo, how many of the heaviest pieces a group is grown from; the group covering the
/// most pixels is the writing. A dark mark in the margin outweighs faint pencil writing, but
/// covers less of the page. Measured with the shipped 3 755-class model on 12 000 photos of
/// Chinese MNIST `:train` (`data photos … --seed 1`, with the speck and page-rule steps):
/// 1 seed 61.52%, **3: 62.55%**, 6: 60.64% (a group of camera noise can then win). With
/// stop 38's steps (the edge odds below), on every third of those photos: 3 and 5 seeds
/// both 76.65%. Stop 39, on another 4 000 of them (every third in file-name order: 75.85%
/// as it is): seeds drawn apart, the 3 heaviest pieces inside the frame and the heaviest cut
/// by it (so a corner blot and a margin mark cannot take every seed from faint writing),
/// 75.88%; 5 inside and 1 cut, 75.75%; groups weighed by the sum of their pieces' longer
/// sides (stroke length, so a thick dark mark weighs less than a thin long stroke) instead
/// of their pixels, 75.42%. Level or worse: not kept.
const PHOTO_SEEDS: usize = 3;

/// In a photo, a piece with fewer pixels than this share of its group's first piece is a
/// speck of camera noise, not a stroke: faint pencil split from grainy paper leaves specks
/// near the writing that the pen then redraws as dots. Same measure as [`PHOTO_SEEDS`],
/// before it: none 54.89%, 1/100 55.79%, 1/25 56.83%, **1/15 57.13%**, 1/8 56.98%; applied
/// to clean scans too it cost 0.17 pt of Chinese MNIST `:train` (76.93% -> 76.76%), so
/// clean data keeps its specks (a 丶 of 零 is one).
const PHOTO_SPECK_SHARE: u64 = 15;

#[derive(Clone, Copy)]
struct Piece {
    mass: u64,
    /// Pixels in the piece.
    area: u64,
    /// The piece's brightest pixel.
    peak: u8,
    /// x0, y0, x1, y1 (inclusive).
    bounds: [u32; 4],
}

/// Zeroes every 8-connected piece of ink (pixels above 0) that is not within [`REACH`] of the
/// group grown from the heaviest piece. In a `photo` the group is the largest of those grown
/// from the [`PHOTO_SEEDS`] heaviest pieces, and specks and pieces cut by the photo's edge
/// (what is left of a shadow's edge or of the page's border) do not join it, unless the
/// group's first piece is cut by the edge too (writing framed tightly). With the speck, seed
/// and page-rule steps, on the photos of [`PHOTO_SEEDS`]'s measure: 62.55% without the edge
/// step, 65.38% with it, **63.72%** with the tight-frame exception — the price of never
/// dropping the strokes of a tightly cropped character (a unit test: 八 cut by the frame).
/// A group grown from a piece cut by the frame wins only where it covers
/// [`EDGE_GROUP_ODDS`] times more than the best grown inside the frame.
pub(super) fn keep_main_ink(img: &mut GrayImage, photo: bool) {
    let (w, h) = img.dimensions();
    let (labels, pieces) = label(img);
    if pieces.len() < 2 {
        return;
    }
    let mut by_mass: Vec<usize> = (0..pieces.len()).collect();
    by_mass.sort_by_key(|&i| std::cmp::Reverse(pieces[i].mass));
    let seeds = if photo { PHOTO_SEEDS } else { 1 };
    let area = |kept: &[bool]| -> u64 {
        pieces
            .iter()
            .zip(kept)
            .filter(|(_, &k)| k)
            .map(|(p, _)| p.area)
            .sum()
    };
    let frame = photo.then_some((w, h));
    // A line along the photo's edge is never the writing, however heavy; when nothing else
    // is there, nothing is taken off.
    let seeds: Vec<usize> = by_mass
        .into_iter()
        .filter(|&i| !frame.is_some_and(|frame| along_the_frame(&pieces[i], frame)))
        .take(seeds)
        .collect();
    let groups: Vec<(bool, Vec<bool>)> = seeds
        .into_iter()
        .map(|seed| {
            let at_the_edge = frame.is_some_and(|frame| cut_by_frame(&pieces[seed], frame));
            (at_the_edge, grow(&pieces, seed, frame))
        })
        .collect();
    let largest = |at_the_edge: bool| {
        groups
            .iter()
            .filter(|(edge, _)| *edge == at_the_edge)
            .map(|(_, kept)| kept)
            // The first of equal groups: the one grown from the heavier piece.
            .rev()
            .max_by_key(|kept| area(kept))
    };
    let kept = match (largest(false), largest(true)) {
        (Some(inside), Some(edge)) if area(edge) > EDGE_GROUP_ODDS * area(inside) => edge,
        (Some(inside), _) => inside,
        (None, Some(edge)) => edge,
        (None, None) => return,
    };
    if kept.iter().all(|&k| k) {
        return;
    }
    for (v, &l) in img.iter_mut().zip(&labels) {
        if l != 0 && !kept[l as usize - 1] {
            *v = 0;
        }
    }
    debug_assert_eq!(labels.len(), (w * h) as usize);
}

/// Which pieces join the group grown from `seed`. `photo` is the photo's size, when it is one.
fn grow(pieces: &[Piece], seed: usize, photo: Option<(u32, u32)>) -> Vec<bool> {
    let mut kept = vec![false; pieces.len()];
    kept[seed] = true;
    let first = pieces[seed];
    // Writing framed tightly touches the edge itself: then its other strokes may too.
    let edge_pieces_stray = photo.is_some_and(|frame| !cut_by_frame(&first, frame));
    let stray = |p: &Piece| {
        photo.is_some_and(|frame| {
            p.area * PHOTO_SPECK_SHARE < first.area
                || (edge_pieces_stray && cut_by_frame(p, frame))
                || along_the_frame(p, frame)
        })
    };
    let mut group = first.bounds;
    loop {
        let side = (group[2] - group[0]).max(group[3] - group[1]).max(1) as f32;
        let mut grew = false;
        for (i, piece) in pieces.iter().enumerate() {
            // A piece much fainter than the writing (what is left of a rule, paper grain)
            // neither joins nor stretches the group.
            let faint = much_fainter(piece.peak, first.peak);
            let reach = match side_by_side(&group, &piece.bounds) {
                true => REACH_IN_LINE * side,
                false => REACH * side,
            };
            if !kept[i] && !faint && !stray(piece) && gap(&group, &piece.bounds) <= reach {
                kept[i] = true;
                group = union(&group, &piece.bounds);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    // In a photo, grown from a faint seed (a speck of what a shadow's edge or the rules left
    // at the photo's border), a group can chain along the border to the writing and then
    // outweigh the writing's own group. Its pieces much fainter than its brightest go, as
    // they would had it been grown from the writing (clean data, grown from its heaviest
    // piece alone, keeps what it had: one Chinese MNIST test image changed). The released
    // 3 755-class model on 4 000 Chinese MNIST `:train` photos (every third of `data photos
    // … --seed 1`): 75.08% -> 75.33%; on 2 449 of them in a shadow 71.05% -> 71.42% (stop
    // 38). Dropping pieces under half the brightest instead, with the later steps: 76.25%
    // against 76.65%.
    if photo.is_some() {
        let brightest = pieces
            .iter()
            .zip(&kept)
            .filter(|(_, &k)| k)
            .map(|(p, _)| p.peak)
            .max()
            .unwrap_or(0);
        for (k, p) in kept.iter_mut().zip(pieces) {
            *k &= !much_fainter(p.peak, brightest);
        }
    }
    kept
}

/// How many times more of the photo a group grown from a piece cut by the frame must cover
/// than the largest grown from a piece inside it, to be the writing. A blot where a
/// shadow's edge meets the frame (what the paper models leave in the corner) outweighs
/// faint pencil and, grown alone, covers more than it. The released 3 755-class model on
/// 4 000 Chinese MNIST `:train` photos (every third of `data photos … --seed 1`): the
/// larger group whatever its seed 75.85%, 2 times 76.62%, **3 times 76.65%** (pencil
/// 64.63 -> 66.43%, shadows under 0.65 of the light 67.14 -> 69.19%, writing over 40% of
/// the photo 72.67 -> 73.44%), 8 times 76.28% (stop 38).
const EDGE_GROUP_ODDS: u64 = 3;

/// Whether a piece touches an edge of a `frame` (width, height).
///
/// A close-up's stroke running off the photo is dropped with the blots (亿's 亻 touching the
/// top edge). Letting a piece join that touches the edge along at most 1/20 of the side (a
/// stroke's end, where a shadow's band runs along it) read 75.88% of 4 000 Chinese MNIST
/// `:train` photos against 75.85%, writing over 40% of the photo 72.56% against 72.84%
/// (stop 39): not kept.
fn cut_by_frame(p: &Piece, (w, h): (u32, u32)) -> bool {
    let [x0, y0, x1, y1] = p.bounds;
    x0 == 0 || y0 == 0 || x1 + 1 >= w || y1 + 1 >= h
}

/// A piece this thin (a share of the photo's larger side, and at least [`MIN_FRAME_BAND`]
/// pixels) lying along an edge of the photo is a line along the frame, not writing.
const FRAME_BAND_SHARE: u32 = 50;
const MIN_FRAME_BAND: u32 = 3;

/// Whether a piece lies along an edge of a `frame` (width, height): it touches the edge and
/// is thinner across it than the frame band — a rule printed at the photo's edge, or what a
/// shadow left there. Grown from such a piece (the heaviest in faint pencil on ruled
/// paper), a group chained to the writing and outweighed it, and the crop took the line in:
/// the released 3 755-class model on 4 000 Chinese MNIST `:train` photos (every third of
/// `data photos … --seed 1`) 75.33% -> 75.85% with these pieces never seeds and always
/// stray, pencil 63.33 -> 64.63%, shadows under 0.65 of the light 65.85 -> 67.14% (stop 38).
/// With the edge odds too, a band of 1/25 of the side read 76.72% against 76.65%: level.
fn along_the_frame(p: &Piece, (w, h): (u32, u32)) -> bool {
    let band = (w.max(h) / FRAME_BAND_SHARE).max(MIN_FRAME_BAND);
    let [x0, y0, x1, y1] = p.bounds;
    let flat = y1 - y0 < band && (y0 == 0 || y1 + 1 >= h);
    let upright = x1 - x0 < band && (x0 == 0 || x1 + 1 >= w);
    flat || upright
}

/// Whether a piece whose brightest pixel is `peak` is much fainter than one whose brightest
/// is `than` (under a third of it): what is left of a rule or the paper's grain beside ink.
fn much_fainter(peak: u8, than: u8) -> bool {
    peak < than / 3
}

/// Labels 8-connected ink (label 0 is paper, piece `k` has label `k + 1`).
fn label(img: &GrayImage) -> (Vec<u32>, Vec<Piece>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let ink = img.as_raw();
    let mut labels = vec![0u32; w * h];
    let mut pieces = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if ink[start] == 0 || labels[start] != 0 {
            continue;
        }
        let id = pieces.len() as u32 + 1;
        let (sx, sy) = ((start % w) as u32, (start / w) as u32);
        let mut piece = Piece {
            mass: 0,
            area: 0,
            peak: 0,
            bounds: [sx, sy, sx, sy],
        };
        labels[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            piece.mass += ink[i] as u64;
            piece.area += 1;
            piece.peak = piece.peak.max(ink[i]);
            let b = &mut piece.bounds;
            (b[0], b[1], b[2], b[3]) = (
                b[0].min(x as u32),
                b[1].min(y as u32),
                b[2].max(x as u32),
                b[3].max(y as u32),
            );
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if ink[j] != 0 && labels[j] == 0 {
                        labels[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        pieces.push(piece);
    }
    (labels, pieces)
}

/// Whether two boxes share some columns or some rows: a piece straight above, below or beside
/// the writing.
fn side_by_side(a: &[u32; 4], b: &[u32; 4]) -> bool {
    (a[0] <= b[2] && b[0] <= a[2]) || (a[1] <= b[3] && b[1] <= a[3])
}

/// Distance between two boxes (0 when they touch or overlap).
fn gap(a: &[u32; 4], b: &[u32; 4]) -> f32 {
    let axis = |lo_a: u32, hi_a: u32, lo_b: u32, hi_b: u32| {
        if hi_a < lo_b {
            (lo_b - hi_a) as f32
        } else if hi_b < lo_a {
            (lo_a - hi_b) as f32
        } else {
            0.0
        }
    };
    axis(a[0], a[2], b[0], b[2]).hypot(axis(a[1], a[3], b[1], b[3]))
}

fn union(a: &[u32; 4], b: &[u32; 4]) -> [u32; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn fill(img: &mut GrayImage, x0: u32, y0: u32, x1: u32, y1: u32) {
        fill_at(img, x0, y0, x1, y1, 200);
    }

    fn fill_at(img: &mut GrayImage, x0: u32, y0: u32, x1: u32, y1: u32, level: u8) {
        for y in y0..y1 {
            for x in x0..x1 {
                img.put_pixel(x, y, Luma([level]));
            }
        }
    }

    #[test]
    fn a_far_mark_goes_and_the_strokes_of_one_character_stay() {
        // 三 in the middle, a speck near its corner, a mark in the far corner.
        let mut img = GrayImage::new(200, 200);
        for y in [60, 80, 100] {
            fill(&mut img, 60, y, 120, y + 4);
        }
        fill(&mut img, 125, 108, 127, 110);
        fill(&mut img, 185, 185, 195, 190);
        // A faint remnant of a rule right next to the writing.
        for x in 20..58 {
            img.put_pixel(x, 90, Luma([60]));
        }
        keep_main_ink(&mut img, false);
        assert_eq!(img.get_pixel(40, 90).0[0], 0, "the faint remnant goes");
        for y in [61, 81, 101] {
            assert_eq!(img.get_pixel(90, y).0[0], 200, "bar at {y}");
        }
        assert_eq!(img.get_pixel(126, 109).0[0], 200, "the near speck stays");
        assert_eq!(img.get_pixel(190, 187).0[0], 0, "the far mark goes");
    }

    #[test]
    fn a_short_bar_far_above_a_long_one_stays_but_not_a_mark_as_far_off_to_the_side() {
        // A small 二 as Chinese MNIST writers make it: the top bar 10 px above a bar 20 px
        // long (more than half of it), and a mark as far away diagonally.
        let mut img = GrayImage::new(64, 64);
        fill(&mut img, 24, 20, 32, 22);
        fill(&mut img, 20, 32, 40, 35);
        fill(&mut img, 46, 45, 49, 48);
        keep_main_ink(&mut img, false);
        assert_eq!(img.get_pixel(28, 21).0[0], 200, "the top bar stays");
        assert_eq!(img.get_pixel(30, 33).0[0], 200, "the bottom bar stays");
        assert_eq!(img.get_pixel(47, 46).0[0], 0, "the diagonal mark goes");
    }

    #[test]
    fn a_faint_chain_across_the_photo_does_not_carry_the_writing_off() {
        // What a shadow's edge left across the photo: faint pieces 1 px apart, a chain that
        // reaches the writing (a 十 at full strength) once grown from one of them, and then
        // covers more of the photo than the writing alone.
        let mut img = GrayImage::new(120, 120);
        for x in (0..118).step_by(4) {
            for (dx, y) in [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)] {
                img.put_pixel(x + dx, 10 + y, Luma([40]));
            }
        }
        fill(&mut img, 50, 40, 54, 70);
        fill(&mut img, 40, 53, 64, 57);
        let before = img.clone();
        keep_main_ink(&mut img, true);
        assert_eq!(img.get_pixel(52, 45).0[0], 200, "the writing stays");
        assert!(
            (0..120).all(|x| img.get_pixel(x, 10).0[0] == 0),
            "the faint chain goes"
        );
        // Grown from a piece of the chain, the group reaches the writing (the case this is
        // about) and keeps the writing alone.
        let (_, pieces) = label(&before);
        let seed = (0..pieces.len())
            .filter(|&i| pieces[i].peak == 40)
            .max_by_key(|&i| pieces[i].mass)
            .unwrap();
        let kept = grow(&pieces, seed, Some((120, 120)));
        for (piece, kept) in pieces.iter().zip(kept) {
            assert_eq!(kept, piece.peak == 200, "piece at {:?}", piece.bounds);
        }
    }

    #[test]
    fn a_rule_along_the_photos_edge_is_not_the_writing() {
        // Faint pencil (a 九-sized pair of strokes) under a rule printed along the photo's
        // top edge, as bright as the pencil and heavier than it.
        let mut img = GrayImage::new(150, 150);
        fill(&mut img, 0, 0, 150, 2);
        fill(&mut img, 60, 40, 62, 70);
        fill(&mut img, 50, 50, 80, 52);
        let mut clean = img.clone();
        keep_main_ink(&mut img, true);
        assert_eq!(img.get_pixel(61, 60).0[0], 200, "the writing stays");
        assert!(
            (0..150).all(|x| img.get_pixel(x, 0).0[0] == 0),
            "the rule goes"
        );
        // The same ink in a clean image (no frame to speak of) is kept whole.
        keep_main_ink(&mut clean, false);
        assert_eq!(clean.get_pixel(75, 1).0[0], 200);
    }

    #[test]
    fn a_blot_in_the_corner_wins_only_when_it_far_outweighs_the_writing() {
        // What the paper models leave where a shadow's edge meets the frame: a blot in the
        // corner, heavier and larger than the faint pencil 十 inside the photo.
        let photo = |blot: u32| {
            let mut img = GrayImage::new(150, 150);
            fill(&mut img, 150 - blot, 0, 150, blot);
            fill_at(&mut img, 60, 60, 62, 90, 90);
            fill_at(&mut img, 46, 74, 76, 76, 90);
            keep_main_ink(&mut img, true);
            (img.get_pixel(61, 80).0[0], img.get_pixel(149, 0).0[0])
        };
        // The 十 covers 116 pixels: a 12² blot (144) is the larger, a 20² one (400) more
        // than three times larger.
        assert_eq!(
            photo(12),
            (90, 0),
            "the writing wins over a blot a little larger"
        );
        assert_eq!(photo(20), (0, 200), "a blot over three times larger wins");
    }

    #[test]
    fn in_a_photo_the_writing_wins_over_a_heavier_mark_and_specks_go() {
        // Faint writing (a 十 of two long strokes) and, in the far corner, a short mark at
        // full strength that weighs more; a speck of noise beside the writing; a piece cut
        // by the photo's edge next to it.
        let mut img = GrayImage::new(200, 200);
        let faint = |img: &mut GrayImage, x0, y0, x1, y1| fill_at(img, x0, y0, x1, y1, 60);
        faint(&mut img, 20, 50, 80, 52);
        faint(&mut img, 49, 20, 51, 80);
        fill(&mut img, 170, 170, 186, 180);
        img.put_pixel(84, 60, Luma([60]));
        faint(&mut img, 0, 30, 6, 32);
        let mut clean = img.clone();
        keep_main_ink(&mut img, true);
        assert_eq!(img.get_pixel(30, 51).0[0], 60, "the writing stays");
        assert_eq!(img.get_pixel(175, 175).0[0], 0, "the heavier mark goes");
        assert_eq!(img.get_pixel(84, 60).0[0], 0, "the speck goes");
        assert_eq!(
            img.get_pixel(2, 31).0[0],
            0,
            "the piece cut by the edge goes"
        );
        // Writing cut by the frame itself (a tight crop of 八) keeps its strokes at the edge.
        let mut tight = GrayImage::new(100, 100);
        fill(&mut tight, 0, 10, 30, 90);
        fill(&mut tight, 60, 10, 100, 90);
        let before = tight.clone();
        keep_main_ink(&mut tight, true);
        assert_eq!(tight, before);
        // Clean data keeps its small pieces (a 丶 is one) and grows from the heaviest.
        keep_main_ink(&mut clean, false);
        assert_eq!(clean.get_pixel(175, 175).0[0], 200);
    }
}
