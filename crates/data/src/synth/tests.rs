use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

const KAI: &str = "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf";

fn ink_box(img: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] < 128 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    (x0 <= x1).then_some((x0, y0, x1, y1))
}

fn ink_fraction(img: &GrayImage) -> f32 {
    img.pixels().filter(|p| p.0[0] < 128).count() as f32 / (img.width() * img.height()) as f32
}

#[test]
fn rendering_is_deterministic_per_seed_and_differs_across_seeds() {
    let synth = Synthesizer::embedded(SynthStyle::default());
    let draw = |seed| {
        synth
            .render("永", &mut StdRng::seed_from_u64(seed), 64)
            .unwrap()
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    assert_eq!(draw(1).dimensions(), (64, 64));
}

#[test]
fn ink_stays_inside_the_image_and_covers_a_plausible_share() {
    let synth = Synthesizer::embedded(SynthStyle::default());
    let charset = Charset::gb2312_level1();
    let mut rng = StdRng::seed_from_u64(11);
    let mut fractions = Vec::new();
    for i in (0..charset.len()).step_by(97) {
        for side in [32, 64, 96] {
            let img = synth.render(charset.symbol(i), &mut rng, side).unwrap();
            let border = (0..side).flat_map(|k| [(k, 0), (k, side - 1), (0, k), (side - 1, k)]);
            for (x, y) in border {
                assert_eq!(
                    img.get_pixel(x, y).0[0],
                    255,
                    "{} at side {side}",
                    charset.symbol(i)
                );
            }
            fractions.push(ink_fraction(&img));
        }
    }
    let mean = fractions.iter().sum::<f32>() / fractions.len() as f32;
    let (lo, hi) = fractions
        .iter()
        .fold((1.0f32, 0.0f32), |(l, h), &f| (l.min(f), h.max(f)));
    assert!((0.08..0.4).contains(&mean), "mean ink {mean}");
    assert!(lo > 0.01 && hi < 0.7, "ink from {lo} to {hi}");
}

#[test]
fn horizontal_and_vertical_strokes_keep_their_direction() {
    let synth = Synthesizer::embedded(SynthStyle::default());
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let (x0, y0, x1, y1) = ink_box(&synth.render("一", &mut rng, 64).unwrap()).unwrap();
        assert!(x1 - x0 > 3 * (y1 - y0), "一 is {}×{}", x1 - x0, y1 - y0);
        for tall in ["丨", "川", "刂"] {
            let (x0, y0, x1, y1) = ink_box(&synth.render(tall, &mut rng, 64).unwrap()).unwrap();
            // A slanted writer's 川 can come out as wide as it is tall, never much wider.
            assert!(y1 - y0 + 4 > x1 - x0, "{tall} is {}×{}", x1 - x0, y1 - y0);
        }
        // 二's short stroke is on top.
        let plain = Synthesizer::embedded(SynthStyle::none());
        let two = plain.render("二", &mut rng, 64).unwrap();
        let width_of_row = |y| (0..64).filter(|&x| two.get_pixel(x, y).0[0] < 128).count();
        let rows: Vec<usize> = (0..64).map(width_of_row).collect();
        let top = rows.iter().position(|&w| w > 0).unwrap();
        let bottom = rows.iter().rposition(|&w| w > 0).unwrap();
        let middle = (top + bottom) / 2;
        let widest = |r: &[usize]| r.iter().copied().max().unwrap_or(0);
        assert!(
            widest(&rows[..middle]) < widest(&rows[middle..]),
            "{rows:?}"
        );
    }
}

#[test]
fn symbols_without_strokes_or_font_are_none() {
    let synth = Synthesizer::embedded(SynthStyle::default());
    let mut rng = StdRng::seed_from_u64(0);
    for symbol in ["7", "", "一二", "🙂"] {
        assert!(synth.render(symbol, &mut rng, 64).is_none(), "{symbol:?}");
    }
    assert_eq!(synth.missing(&Charset::digits()).len(), 10);
    assert!(synth.missing(&Charset::gb2312_level1()).is_empty());
}

#[test]
fn a_missing_or_bad_font_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-font.ttf");
    std::fs::write(&bad, b"hello").unwrap();
    let err = Synthesizer::embedded(SynthStyle::default())
        .with_fonts([&bad])
        .unwrap_err();
    assert!(err.to_string().contains("not-a-font.ttf"), "{err}");
    let absent = dir.path().join("absent.ttf");
    assert!(Synthesizer::embedded(SynthStyle::default())
        .with_fonts([&absent])
        .is_err());
    // A web font whose compressed tables are junk: named, and said to be WOFF2.
    let web = dir.path().join("broken.woff2");
    let mut bytes = b"wOF2\x00\x01\x00\x00".to_vec();
    bytes.extend([0x5a; 60]);
    std::fs::write(&web, bytes).unwrap();
    let err = Synthesizer::embedded(SynthStyle::default())
        .with_fonts([&web])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("broken.woff2") && err.contains("WOFF2"),
        "{err}"
    );
    // A folder with no fonts in it: named, and said to have none.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = Synthesizer::embedded(SynthStyle::default())
        .with_fonts([&empty])
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty") && err.contains("no fonts"), "{err}");
}

#[test]
fn a_kai_font_draws_digits_and_a_share_of_characters() {
    if !Path::new(KAI).exists() {
        println!("SKIPPED: {KAI} is absent (apt-get install fonts-arphic-gkai00mp)");
        return;
    }
    let style = SynthStyle {
        font_fraction: 1.0,
        ..SynthStyle::default()
    };
    let synth = Synthesizer::embedded(style).with_fonts([KAI]).unwrap();
    assert!(synth.missing(&Charset::digits()).is_empty());
    let mut rng = StdRng::seed_from_u64(5);
    for symbol in ["7", "永", "一"] {
        let img = synth.render(symbol, &mut rng, 64).unwrap();
        let share = ink_fraction(&img);
        assert!((0.01..0.6).contains(&share), "{symbol}: ink {share}");
        let (x0, y0, x1, y1) = ink_box(&img).unwrap();
        assert!(
            x0 > 0 && y0 > 0 && x1 < 63 && y1 < 63,
            "{symbol} touches the edge"
        );
        if symbol == "一" {
            assert!(
                x1 - x0 > 2 * (y1 - y0),
                "font 一 is {}×{}",
                x1 - x0,
                y1 - y0
            );
        }
    }
    let draw = |seed| {
        synth
            .render("永", &mut StdRng::seed_from_u64(seed), 64)
            .unwrap()
    };
    assert_eq!(draw(3), draw(3));
}

#[test]
fn a_font_family_split_over_many_files_is_drawn_as_often_as_a_one_file_family() {
    if !Path::new(KAI).exists() {
        println!("SKIPPED: {KAI} is absent (apt-get install fonts-arphic-gkai00mp)");
        return;
    }
    // Family "many": a folder of five files (as a web font split into subsets, or a family
    // in six weights); family "one": a single file. Each is one writer, drawn half the time.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..5 {
        std::os::unix::fs::symlink(KAI, dir.path().join(format!("part{i}.ttf"))).unwrap();
    }
    let synth = Synthesizer::embedded(SynthStyle::default())
        .with_fonts([dir.path(), Path::new(KAI)])
        .unwrap();
    assert_eq!(synth.fonts.iter().map(Vec::len).collect::<Vec<_>>(), [5, 1]);
    let single = &synth.fonts[1][0];
    let families: Vec<&[FontArc]> = synth.families_with('永').collect();
    assert_eq!(families.len(), 2);
    let mut rng = StdRng::seed_from_u64(3);
    let draws = 4000;
    let from_single = (0..draws)
        .filter(|_| std::ptr::eq(pick_font(&families, '永', &mut rng), single))
        .count();
    let share = from_single as f64 / draws as f64;
    assert!(
        (0.46..0.54).contains(&share),
        "one-file family drawn {share}"
    );
    // A character no family has: no family to draw from.
    assert!(synth.families_with('\u{E000}').next().is_none());
}
