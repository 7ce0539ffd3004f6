//! The run directory's plots: written after every epoch, valid PNG and SVG, drawn from a
//! `metrics.jsonl` that may end in a torn line, and never the end of a run when they fail.
//! Also the eval report's pictures for many classes, which the CLI test (10 digits) misses.

use burn::backend::{Autodiff, Flex};
use inkstone_data::packed::PackedSet;
use inkstone_data::Split;
use inkstone_data::{embedded, Charset, Recipe};
use inkstone_train::evaluate::{Evaluation, Misrecognised};
use inkstone_train::plots::{read_metrics, write_training_plots, LrCurve, PLOT_SIZE};
use inkstone_train::report::{write_report, ReportInput};
use inkstone_train::trainer::{EpochReport, Observer};
use inkstone_train::{train, PreparedJob, RunDir, TrainConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

const PLOTS: [&str; 4] = ["loss", "accuracy", "lr", "loss_steps"];

fn tiny_config(epochs: usize) -> TrainConfig {
    let mut config = TrainConfig::defaults_for("lenet5");
    config.epochs = epochs;
    config.max_steps_per_epoch = Some(8);
    config
}

/// Trains LeNet-5 briefly into `dir` on the embedded digits, with `observer` watching.
fn run_training(dir: &Path, config: &TrainConfig, observer: &mut dyn Observer) {
    let prepared = PreparedJob::from_config(config, false).unwrap();
    let mut run = RunDir::create(dir, config).unwrap();
    train::<Autodiff<Flex>>(&prepared.job(), &Default::default(), &mut run, observer).unwrap();
}

/// Snapshots of the plots as each epoch ends.
struct PlotWatcher {
    dir: PathBuf,
    seen: Vec<Vec<Vec<u8>>>,
}

impl Observer for PlotWatcher {
    fn epoch_finished(&mut self, _: &EpochReport) {
        let files = PLOTS
            .iter()
            .flat_map(|p| [format!("{p}.png"), format!("{p}.svg")])
            .map(|f| std::fs::read(self.dir.join(&f)).unwrap_or_default())
            .collect();
        self.seen.push(files);
    }
}

fn assert_valid_png(bytes: &[u8], what: &str) -> image::RgbImage {
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{what} is not a PNG: {e}"))
        .to_rgb8();
    let colours: std::collections::HashSet<_> = image.pixels().map(|p| p.0).collect();
    assert!(
        colours.len() > 10,
        "{what} looks blank ({} colours)",
        colours.len()
    );
    image
}

fn assert_valid_svg(text: &str, what: &str) {
    assert!(
        text.trim_start().starts_with("<svg"),
        "{what}: {}",
        &text[..80.min(text.len())]
    );
    assert!(text.trim_end().ends_with("</svg>"), "{what} is cut short");
    assert!(
        text.contains("<polyline") || text.contains("<path"),
        "{what} has no curve"
    );
    assert!(
        text.contains("\nepoch\n") || text.contains("\nstep\n"),
        "{what} has no axis label"
    );
}

#[test]
fn every_epoch_rewrites_valid_png_and_svg_plots() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut watcher = PlotWatcher {
        dir: run.clone(),
        seen: Vec::new(),
    };
    run_training(&run, &tiny_config(2), &mut watcher);
    assert_eq!(watcher.seen.len(), 2);
    for (epoch, files) in watcher.seen.iter().enumerate() {
        for (i, bytes) in files.iter().enumerate() {
            let what = format!(
                "{}.{} after epoch {}",
                PLOTS[i / 2],
                ["png", "svg"][i % 2],
                epoch + 1
            );
            if i % 2 == 0 {
                let image = assert_valid_png(bytes, &what);
                assert_eq!(image.dimensions(), PLOT_SIZE, "{what}");
            } else {
                assert_valid_svg(std::str::from_utf8(bytes).unwrap(), &what);
            }
        }
    }
    // Epoch 2 added points to the loss, accuracy and step curves and moved the lr marker.
    for i in 0..PLOTS.len() * 2 {
        assert_ne!(
            watcher.seen[0][i], watcher.seen[1][i],
            "plot {i} not updated"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn a_torn_last_line_is_skipped_counted_and_the_rest_still_plotted() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = tiny_config(2);
    run_training(&run, &config, &mut ());
    let metrics = run.join("metrics.jsonl");
    let whole = std::fs::read_to_string(&metrics).unwrap();
    let torn = &whole.lines().next().unwrap()[..40];
    std::fs::write(&metrics, format!("{whole}{torn}")).unwrap();
    let (records, skipped) = read_metrics(&metrics).unwrap();
    assert_eq!((records.len(), skipped), (2, 1));
    assert_eq!(records[1].epoch, 2);
    assert!(records.iter().all(|r| (0.0..=1.0).contains(&r.test_top1)));
    std::fs::remove_file(run.join("loss.png")).unwrap();
    let lr = LrCurve::new(&config.lr, 2, 8);
    let input = write_training_plots(&run, &lr).unwrap();
    assert_eq!((input.epochs, input.skipped_lines), (2, 1));
    assert_valid_png(&std::fs::read(run.join("loss.png")).unwrap(), "loss.png");
}

#[test]
fn a_plot_that_cannot_be_written_does_not_stop_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // A folder where a plot goes: renaming the finished PNG onto it fails.
    std::fs::create_dir_all(run.join("loss.png").join("in-the-way")).unwrap();
    run_training(&run, &tiny_config(2), &mut ());
    assert!(run.join("last.inkstone").is_file(), "training stopped");
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).unwrap().0.len(), 2);
}

/// Prints what plotting costs for a long run (100 epochs of full MNIST at batch 128); the
/// bound only catches a gross regression, the printed figure is what to compare with an
/// epoch's time.
#[test]
fn plotting_a_long_run_takes_a_fraction_of_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let line = |e: usize| {
        let f = e as f64;
        format!(
            "{{\"kind\":\"epoch\",\"epoch\":{e},\"train_loss\":{},\"train_accuracy\":{},\"test_loss\":{},\
             \"test_top1\":{},\"test_top5\":0.999,\"test_top10\":1.0,\"images_per_sec\":4000.0,\"seconds\":15.0}}\n",
            1.0 / f,
            1.0 - 0.1 / f,
            1.1 / f,
            1.0 - 0.12 / f
        )
    };
    let text: String = (1..=100).map(line).collect();
    std::fs::write(dir.path().join("metrics.jsonl"), text).unwrap();
    let config = TrainConfig::defaults_for("lenet5");
    let lr = LrCurve::new(&config.lr, 100, 469);
    write_training_plots(dir.path(), &lr).unwrap();
    let runs = 5;
    let started = Instant::now();
    for _ in 0..runs {
        write_training_plots(dir.path(), &lr).unwrap();
    }
    let each = started.elapsed().as_secs_f64() / runs as f64;
    eprintln!(
        "plotting 100 epochs (3 figures, PNG + SVG): {:.1} ms",
        1e3 * each
    );
    assert!(each < 3.0, "plotting took {each:.2} s");
}

#[test]
fn a_report_on_many_classes_shows_the_most_confused_and_names_classes_by_index() {
    let k = 60;
    // Characters the plot font lacks: plots must use indices, the page the symbols.
    let symbols: Vec<String> = (0..k)
        .map(|i| char::from_u32(0x4E00 + i).unwrap().to_string())
        .collect();
    let charset = Charset::new("test-cjk", symbols);
    let digits = embedded::load(Split::Test);
    let dataset = inkstone_data::Dataset {
        name: "cjk".into(),
        charset: charset.clone(),
        samples: (0..k as usize)
            .map(|c| inkstone_data::Sample {
                image: digits.samples[c].image.clone(),
                label: c as u32,
            })
            .collect(),
    };
    let set = PackedSet::prepare(&dataset, &Recipe::mnist(), "cjk");
    let k = k as usize;
    let mut confusion = vec![vec![0u32; k]; k];
    for (c, row) in confusion.iter_mut().enumerate() {
        row[c] = 1;
    }
    confusion[5][9] = 7;
    confusion[50][2] = 3;
    let errors = vec![
        Misrecognised {
            index: 5,
            truth: 5,
            top: vec![(9, 0.8), (5, 0.1), (1, 0.05)],
        },
        Misrecognised {
            index: 50,
            truth: 50,
            top: vec![(2, 0.6), (50, 0.3), (7, 0.05)],
        },
    ];
    let evaluation = Evaluation {
        samples: k + 10,
        loss: 1.0,
        top1: k as f64 / (k + 10) as f64,
        top5: 1.0,
        top10: 1.0,
        per_class: confusion
            .iter()
            .enumerate()
            .map(|(c, r)| (r[c] as usize, r.iter().sum::<u32>() as usize))
            .collect(),
        confusion,
    };
    let dir = tempfile::tempdir().unwrap();
    let input = ReportInput {
        title: "synthetic",
        evaluation: &evaluation,
        errors: &errors,
        set: &set,
        charset: &charset,
        conditions: &[],
    };
    let summary = write_report(dir.path(), &input).unwrap();
    assert_eq!((summary.errors, summary.shown), (2, 2));
    let confusion_png = assert_valid_png(
        &std::fs::read(dir.path().join("confusion.png")).unwrap(),
        "confusion.png",
    );
    assert!(confusion_png.width() >= 520);
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("the 30 classes"),
        "heatmap of the most confused 30"
    );
    let pairs = &html[html.find("Most confused pairs").unwrap()..];
    let first_pair = pairs.find("\u{4E05}").unwrap();
    assert!(
        first_pair < pairs.find("\u{4E32}").unwrap(),
        "5→9 (7) before 50→2 (3)"
    );
    assert!(
        html.contains("name classes by index"),
        "index → symbol legend"
    );
    assert!(html.contains("data-sample=\"5\" data-truth=\"5\""));
    let csv = std::fs::read_to_string(dir.path().join("per_class.csv")).unwrap();
    assert_eq!(csv.lines().count(), k + 1);
    assert!(csv
        .lines()
        .nth(6)
        .unwrap()
        .starts_with("5,\u{4E05},1,8,0.125"));
}
