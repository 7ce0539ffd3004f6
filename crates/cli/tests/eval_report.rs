//! `inkstone eval --report DIR` through the binary, on a briefly trained LeNet-5: the files
//! are there and valid, the page names each shown error's truth, and the gallery has one cell
//! per shown error. Also: `train` leaves its plots in the run directory.

mod common;
use common::*;
use inkstone_data::embedded;
use inkstone_data::packed::PackedSet;
use inkstone_data::Recipe;
use inkstone_data::Split;
use inkstone_train::report::gallery::GalleryLayout;
use inkstone_train::report::MAX_ERRORS_SHOWN;

fn png(path: &std::path::Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// `(sample, truth)` of each error row of the page.
fn error_rows(html: &str) -> Vec<(usize, usize)> {
    html.split("<tr data-sample=\"")
        .skip(1)
        .map(|row| {
            let number = |s: &str| s[..s.find('"').unwrap()].parse::<usize>().unwrap();
            let truth = &row[row.find("data-truth=\"").unwrap() + 12..];
            (number(row), number(truth))
        })
        .collect()
}

#[test]
fn eval_report_writes_heatmap_csv_gallery_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_lenet5(&run, 1, Some(6), 3, &[]);
    for plot in ["loss", "accuracy", "lr"] {
        png(&run.join(format!("{plot}.png")));
        assert!(run.join(format!("{plot}.svg")).is_file());
    }

    let report = dir.path().join("report");
    let out = inkstone(&[
        "eval",
        run.join("best.inkstone").to_str().unwrap(),
        "--data",
        "mnist:test",
        "--json",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("index.html"), "{}", stderr(&out));
    let e: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("--json stays pure JSON");
    let per_class = e["per_class"].as_array().unwrap();
    let errors: usize = per_class
        .iter()
        .map(|p| (p[1].as_u64().unwrap() - p[0].as_u64().unwrap()) as usize)
        .sum();
    assert!(errors > 0, "6 steps of training leave errors");
    let shown = errors.min(MAX_ERRORS_SHOWN);

    let heatmap = png(&report.join("confusion.png"));
    assert!(heatmap.width() >= 500 && heatmap.height() >= 500);

    let csv = std::fs::read_to_string(report.join("per_class.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "class,symbol,correct,total,accuracy");
    assert_eq!(rows.len(), 11);
    let total: u64 = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, e["samples"].as_u64().unwrap());

    // The page: self-contained, one row per shown error, each naming its true class.
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    assert!(html.contains("src=\"confusion.png\"") && html.contains("src=\"errors.png\""));
    let listed = error_rows(&html);
    assert_eq!(listed.len(), shown);
    let set = PackedSet::prepare(&embedded::load(Split::Test), &Recipe::mnist(), "mnist");
    for &(sample, truth) in &listed {
        assert_eq!(set.label(sample) as usize, truth, "sample {sample}");
        let row = &html[html.find(&format!("data-sample=\"{sample}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!("<td>{truth}</td>")), "{row}");
        assert_eq!(
            row.matches('%').count(),
            3,
            "top-3 with probabilities: {row}"
        );
    }

    // The gallery: one cell per shown error, each holding its image; empty slots after.
    let gallery = png(&report.join("errors.png"));
    let layout = GalleryLayout::new(shown, 28);
    assert_eq!(gallery.dimensions(), layout.size());
    let slots = (layout.columns * layout.rows) as usize;
    for i in 0..slots {
        let (x0, y0) = layout.image_origin(i);
        let mut pixels = (0..layout.shown)
            .flat_map(|y| (0..layout.shown).map(move |x| (x, y)))
            .map(|(x, y)| gallery.get_pixel(x0 + x, y0 + y).0);
        let first = pixels.next().unwrap();
        let uniform = pixels.all(|p| p == first);
        assert_eq!(!uniform, i < shown, "cell {i} of {shown}");
    }
}
