use super::*;
use crate::gnt::tests::alloc_probe::largest_allocation;
use crate::Charset;
use std::io::Cursor;

fn cross() -> Vec<Stroke> {
    vec![
        vec![[1000.0, 5000.0], [5000.0, 5000.0], [9000.0, 5000.0]],
        vec![[5000.0, 1000.0], [5000.0, 9000.0]],
    ]
}

/// A record by hand: `size` overrides the true size, `points` are written as given.
fn raw(size: Option<u16>, tag: [u8; 4], count: u16, points: &[[i16; 2]]) -> Vec<u8> {
    let len = (HEADER + 4 * points.len()) as u16;
    let mut out = size.unwrap_or(len).to_le_bytes().to_vec();
    out.extend_from_slice(&tag);
    out.extend_from_slice(&count.to_le_bytes());
    points.iter().for_each(|&p| push_point(&mut out, p));
    out
}

/// 啊 (GB2312 `B0 A1`) as a real OLHWDB tag: the code as a little-endian u16.
const A: [u8; 4] = [0xA1, 0xB0, 0, 0];
const ONE_STROKE: [[i16; 2]; 4] = [[10, 20], [30, 40], [-1, 0], [-1, -1]];

/// Reads `bytes` from a file called `bad.pot`: the records before the error, the error
/// text, and whether the iterator then ended.
fn read_bad(bytes: &[u8]) -> (usize, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pot");
    std::fs::write(&path, bytes).unwrap();
    let mut reader = PotReader::open(&path).unwrap();
    let mut good = 0;
    for item in reader.by_ref() {
        match item {
            Ok(_) => good += 1,
            Err(e) => return (good, e.to_string(), reader.next().is_none()),
        }
    }
    panic!("no error after {good} records");
}

/// A good 24-byte record followed by `bad`: the error must name bad.pot and byte 24.
fn error_after_one(bad: &[u8]) -> String {
    let mut bytes = raw(None, A, 1, &ONE_STROKE);
    assert_eq!(bytes.len(), 24);
    bytes.extend_from_slice(bad);
    let (good, err, ended) = read_bad(&bytes);
    assert_eq!(good, 1, "{err}");
    assert!(err.contains("bad.pot") && err.contains("byte 24"), "{err}");
    assert!(ended);
    err
}

#[test]
fn records_round_trip_through_a_created_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round.pot");
    let dot = vec![vec![[-1.0, 5.0]], vec![[-32768.0, 32767.0], [0.0, -1.0]]];
    let mut writer = PotWriter::create(&path).unwrap();
    let offsets = [
        writer.write(A, &cross()).unwrap(),
        writer.write_char('座', &dot).unwrap(),
        writer.write([0, b'a', 0, 0], &cross()).unwrap(),
    ];
    assert!(!path.exists(), "visible before finish");
    writer.finish().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(offsets, [0, 8 + 4 * 8, 40 + 8 + 4 * 6]);

    let records: Vec<PotRecord> = PotReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].strokes, cross());
    assert_eq!(records[1].strokes, dot);
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        offsets
    );
    let labels: Vec<String> = records.iter().map(PotRecord::label).collect();
    assert_eq!(labels, ["啊", "座", "a"]);
    assert_eq!(records[1].tag, [0xF9, 0xD7, 0, 0], "座 is GB2312 D7 F9");
    let charset = Charset::gb2312_level1();
    let classes: Vec<_> = labels.iter().map(|l| charset.index_of(l)).collect();
    assert_eq!(classes, [Some(0), Some(3754), None]);
}

/// One record in the real OLHWDB layout, byte by byte, as CASIA's files hold it.
fn real_record(tag: [u8; 4]) -> Vec<u8> {
    let mut bytes = vec![24, 0]; // u16 LE record size
    bytes.extend_from_slice(&tag);
    bytes.extend_from_slice(&[1, 0]); // u16 LE stroke count
                                      // (10, 20) (30, 40), stroke end (-1, 0), character end (-1, -1); i16 LE.
    bytes.extend_from_slice(&[10, 0, 20, 0, 30, 0, 40, 0]);
    bytes.extend_from_slice(&[0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    bytes
}

#[test]
fn real_layout_tags_read_as_their_characters() {
    let mut bytes = real_record([0xA1, 0xB0, 0x00, 0x00]); // 啊, GB2312 B0 A1
    bytes.extend(real_record([0x00, b'?', 0x00, 0x00])); // an ASCII symbol
    bytes.extend(real_record([0xFF, 0xFF, 0x00, 0x00])); // no GB2312 code
    bytes.extend(real_record([0xA1, 0xB0, 0x00, 0x01])); // trailing bytes not zero
    let records: Vec<PotRecord> = PotReader::new(Cursor::new(bytes), "real.pot")
        .map(Result::unwrap)
        .collect();
    let labels: Vec<String> = records.iter().map(PotRecord::label).collect();
    assert_eq!(
        labels,
        ["啊", "?", "<tag ff ff 00 00>", "<tag a1 b0 00 01>"]
    );
    assert_eq!(records[0].strokes, vec![vec![[10.0, 20.0], [30.0, 40.0]]]);
    let charset = Charset::gb2312_level1();
    assert_eq!(charset.index_of(&labels[0]), Some(0));
    assert_eq!(charset.index_of(&labels[1]), None);
    // The writer puts back the very bytes it read.
    assert_eq!(pot_tag('啊'), Some([0xA1, 0xB0, 0, 0]));
    assert_eq!(pot_tag('?'), Some([0, b'?', 0, 0]));
    assert_eq!(pot_tag('😀'), None);
    let mut writer = PotWriter::new(Vec::new(), "out.pot");
    writer
        .write_char('啊', &[vec![[10.0, 20.0], [30.0, 40.0]]])
        .unwrap();
    assert_eq!(writer.finish().unwrap(), real_record([0xA1, 0xB0, 0, 0]));
}

#[test]
fn tablet_units_render_scaled_to_fit() {
    let record = PotRecord {
        offset: 0,
        tag: A,
        strokes: cross(),
    };
    let image = record.render(64);
    let inked = |x: u32, y: u32| image.get_pixel(x, y).0[0] < 128;
    assert!(inked(8, 32) && inked(55, 32) && inked(32, 8) && inked(32, 55));
    assert!(!inked(8, 8) && !inked(55, 55));
    let empty = PotRecord {
        strokes: vec![],
        ..record
    };
    assert!(empty.render(64).pixels().all(|p| p.0[0] == 255));
}

#[test]
fn the_writer_refuses_what_would_not_read_back() {
    let mut writer = PotWriter::new(Vec::new(), "out.pot");
    for strokes in [
        vec![vec![[-1.0, 0.0]]],
        vec![vec![[5.0, 5.0]], vec![[-1.0, -1.0]]],
        vec![vec![[0.5, 1.0]]],
        vec![vec![[40000.0, 1.0]]],
        vec![vec![[1.0, 1.0]], vec![]],
        vec![vec![[1.0, 1.0]; 16_400]],
        vec![],
    ] {
        let err = writer.write(A, &strokes).unwrap_err().to_string();
        assert!(err.contains("out.pot"), "{err}");
    }
    assert!(writer.write_char('😀', &cross()).is_err());
    assert!(writer.finish().unwrap().is_empty());
}

#[test]
fn a_truncated_point_list_comes_after_the_good_records() {
    let whole = raw(None, A, 1, &ONE_STROKE);
    let err = error_after_one(&whole[..17]);
    assert!(
        err.contains("truncated") && err.contains("ends after 17"),
        "{err}"
    );
    let err = error_after_one(&whole[..1]);
    assert!(err.contains("1 of 2"), "{err}");
}

#[test]
fn a_missing_end_marker_is_an_error() {
    let err = error_after_one(&raw(None, A, 1, &ONE_STROKE[..3]));
    assert!(err.contains("no (-1, -1) end marker"), "{err}");
}

#[test]
fn a_stroke_count_mismatch_is_an_error() {
    let err = error_after_one(&raw(None, A, 2, &ONE_STROKE));
    assert!(err.contains("stroke count says 2 but 1"), "{err}");
    let err = error_after_one(&raw(None, A, 0, &[[-1, -1]]));
    assert!(err.contains("no strokes"), "{err}");
    let err = error_after_one(&raw(None, A, 1, &[[-1, 0], [-1, -1]]));
    assert!(err.contains("stroke 0 has no points"), "{err}");
}

#[test]
fn a_size_field_that_disagrees_is_an_error() {
    // Too large: the end marker comes first (the trailing bytes make the size available).
    let mut long = raw(Some(28), A, 1, &ONE_STROKE);
    long.extend([0; 4]);
    let err = error_after_one(&long);
    assert!(
        err.contains("size field says 28") && err.contains("after 24"),
        "{err}"
    );
    // Too small: the record ends before its end marker.
    let err = error_after_one(&raw(Some(20), A, 1, &ONE_STROKE));
    assert!(
        err.contains("no (-1, -1) end marker within the 20 bytes"),
        "{err}"
    );
    let err = error_after_one(&raw(Some(6), A, 1, &ONE_STROKE));
    assert!(err.contains("says 6 bytes"), "{err}");
}

#[test]
fn a_huge_size_field_reads_at_most_one_record() {
    let bytes = raw(Some(u16::MAX), A, 1, &ONE_STROKE);
    let (items, largest) = largest_allocation(|| {
        PotReader::new(Cursor::new(&bytes), "stream.pot").collect::<Vec<_>>()
    });
    assert_eq!(items.len(), 1);
    let err = items[0].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("stream.pot") && err.contains("byte 0"),
        "{err}"
    );
    assert!(
        largest <= usize::from(u16::MAX),
        "allocated {largest} bytes"
    );
}

/// Ink pixels of `image` after the characters recipe, which fixes the size, so what is left
/// is the pen's width relative to the character (without the gray-level normalisation, which
/// moves the ink's levels, not its width).
fn prepared_ink(image: &GrayImage) -> usize {
    let recipe = crate::Recipe {
        gray: None,
        one_pen: false,
        ..crate::Recipe::characters(64)
    };
    let prepared = recipe.prepare(image);
    prepared.pixels().filter(|p| p.0[0] > 127).count()
}

#[test]
fn online_strokes_are_drawn_with_the_synthetic_writers_pen() {
    use crate::synth::{StrokeLibrary, SynthStyle, Synthesizer};
    use rand::SeedableRng;
    // SynthStyle::none() writes with the middle of the default writer's pen range.
    let synth = Synthesizer::embedded(SynthStyle::none());
    for ch in ['永', '国', '一', '鑫'] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let synthetic = prepared_ink(&synth.render(&ch.to_string(), &mut rng, 128).unwrap());
        let record = PotRecord {
            offset: 0,
            tag: pot_tag(ch).unwrap(),
            strokes: StrokeLibrary::embedded().get(ch).unwrap().to_vec(),
        };
        let online = prepared_ink(&record.render(128));
        let ratio = online as f32 / synthetic as f32;
        assert!(
            (0.85..1.2).contains(&ratio),
            "{ch}: {online} vs {synthetic} ink pixels"
        );
        // MNIST's pen, which .pot files were drawn with before, is far bolder.
        let bold = prepared_ink(&render(&record.strokes, 128, crate::strokes::DEFAULT_PEN));
        assert!(
            bold as f32 > 1.3 * synthetic as f32,
            "{ch}: {bold} vs {synthetic}"
        );
    }
}
