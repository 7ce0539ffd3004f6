use super::*;
use crate::Charset;
use image::Luma;
use std::io::Cursor;

/// The largest single allocation made on the calling thread while `f` runs: lets a test
/// prove that a hostile header did not make the reader allocate what it claims.
pub(crate) mod alloc_probe {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
        static LARGEST: Cell<usize> = const { Cell::new(0) };
    }

    fn note(size: usize) {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
        }
    }

    struct Probe;

    // SAFETY: every call is forwarded unchanged to the system allocator.
    unsafe impl GlobalAlloc for Probe {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            System.alloc(layout)
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            System.alloc_zeroed(layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note(new_size);
            System.realloc(ptr, layout, new_size)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
    }

    #[global_allocator]
    static PROBE: Probe = Probe;

    pub(crate) fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
        LARGEST.with(|m| m.set(0));
        ARMED.with(|a| a.set(true));
        let out = f();
        ARMED.with(|a| a.set(false));
        (out, LARGEST.with(Cell::get))
    }
}

/// A `w × h` image with a gradient, so that a transposed or shifted read shows.
fn picture(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([((x * 7 + y * 13) % 256) as u8]))
}

fn header(size: u32, tag: [u8; 2], w: u16, h: u16) -> Vec<u8> {
    let mut out = size.to_le_bytes().to_vec();
    out.extend_from_slice(&tag);
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out
}

fn good_records(n: usize) -> Vec<u8> {
    let mut writer = GntWriter::new(Vec::new(), "mem.gnt");
    for i in 0..n {
        writer
            .write([0xB0, 0xA1 + i as u8], &picture(3, 7))
            .unwrap();
    }
    writer.finish().unwrap()
}

/// Reads `bytes` from a file called `bad.gnt`: the records before the error, the error
/// text, and whether the iterator then ended.
fn read_bad(bytes: &[u8]) -> (Vec<GntRecord>, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gnt");
    std::fs::write(&path, bytes).unwrap();
    let mut reader = GntReader::open(&path).unwrap();
    let mut good = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(record) => good.push(record),
            Err(e) => return (good, e.to_string(), reader.next().is_none()),
        }
    }
    panic!("no error after {} records", good.len());
}

#[test]
fn records_round_trip_through_a_created_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round.gnt");
    let cases: Vec<([u8; 2], GrayImage)> = vec![
        ([0xB0, 0xA1], picture(1, 1)),
        ([0xD7, 0xF9], picture(3, 7)),
        ([0x00, b'a'], picture(127, 1)),
        ([0xFF, 0xFF], picture(300, 200)),
    ];
    let mut writer = GntWriter::create(&path).unwrap();
    let mut offsets = Vec::new();
    for (tag, image) in &cases {
        offsets.push(writer.write(*tag, image).unwrap());
    }
    offsets.push(writer.write_char('一', &picture(2, 2)).unwrap());
    assert!(!path.exists(), "visible before finish");
    writer.finish().unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("round.gnt")],
        "temporary file left"
    );

    let records: Vec<GntRecord> = GntReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 5);
    assert_eq!(offsets, vec![0, 11, 42, 179, 60189]);
    for (record, (tag, image)) in records.iter().zip(&cases) {
        assert_eq!(&record.tag, tag);
        assert_eq!(&record.image, image);
    }
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        offsets
    );
    let charset = Charset::gb2312_level1();
    let labels: Vec<String> = records.iter().map(GntRecord::label).collect();
    assert_eq!(labels, ["啊", "座", "<tag 00 61>", "<tag ff ff>", "一"]);
    let classes: Vec<_> = labels.iter().map(|l| charset.index_of(l)).collect();
    assert_eq!(classes[..4], [Some(0), Some(3754), None, None]);
    assert!(classes[4].is_some());
    assert_eq!(Charset::digits().index_of(&records[2].label()), None);
}

#[test]
fn an_unfinished_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("half.gnt");
    let mut writer = GntWriter::create(&path).unwrap();
    writer.write([0xB0, 0xA1], &picture(4, 4)).unwrap();
    drop(writer);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_writer_refuses_what_the_format_cannot_hold() {
    let mut writer = GntWriter::new(Vec::new(), "out.gnt");
    let empty = writer
        .write([0xB0, 0xA1], &GrayImage::new(0, 5))
        .unwrap_err()
        .to_string();
    assert!(
        empty.contains("out.gnt") && empty.contains("0×5"),
        "{empty}"
    );
    let wide = writer
        .write([0xB0, 0xA1], &GrayImage::new(65536, 1))
        .unwrap_err()
        .to_string();
    assert!(wide.contains("65535"), "{wide}");
    let ascii = writer
        .write_char('a', &picture(2, 2))
        .unwrap_err()
        .to_string();
    assert!(ascii.contains("GB2312"), "{ascii}");
    assert!(writer.finish().unwrap().is_empty());
}

#[test]
fn a_truncated_last_record_comes_after_the_good_ones() {
    let mut bytes = good_records(2);
    bytes.extend(header(10 + 21, [0xB0, 0xA3], 3, 7));
    bytes.extend([255; 20]);
    let (good, err, ended) = read_bad(&bytes);
    assert_eq!(good.len(), 2);
    assert!(err.contains("bad.gnt") && err.contains("byte 62"), "{err}");
    assert!(
        err.contains("truncated") && err.contains("20 remain"),
        "{err}"
    );
    assert!(ended);

    let mut bytes = good_records(1);
    bytes.extend([1, 2, 3, 4]);
    let (good, err, _) = read_bad(&bytes);
    assert_eq!(good.len(), 1);
    assert!(
        err.contains("byte 31") && err.contains("header has 4 of 10"),
        "{err}"
    );
}

#[test]
fn a_wrong_size_field_or_zero_width_is_an_error_at_its_offset() {
    let mut bytes = good_records(1);
    bytes.extend(header(10 + 20, [0xB0, 0xA2], 3, 7));
    bytes.extend([255; 21]);
    let (good, err, ended) = read_bad(&bytes);
    assert_eq!(good.len(), 1);
    assert!(err.contains("bad.gnt") && err.contains("byte 31"), "{err}");
    assert!(err.contains("size field says 30"), "{err}");
    assert!(ended);

    let (good, err, _) = read_bad(&header(10, [0xB0, 0xA1], 0, 5));
    assert!(good.is_empty());
    assert!(
        err.contains("bad.gnt") && err.contains("byte 0") && err.contains("0×5"),
        "{err}"
    );
}

#[test]
fn a_huge_header_is_refused_without_a_huge_allocation() {
    let mut bytes = good_records(1);
    bytes.extend(header(10 + 65535 * 65535, [0xB0, 0xA1], 65535, 65535));
    bytes.extend([255; 100]);
    // Known file length: refused before reading.
    let ((good, err, _), largest) = alloc_probe::largest_allocation(|| read_bad(&bytes));
    assert_eq!(good.len(), 1);
    assert!(
        err.contains("byte 31") && err.contains("only 100 remain"),
        "{err}"
    );
    assert!(largest <= 2 * IO_BUFFER, "allocated {largest} bytes");
    // Unknown length: read in chunks until the stream ends.
    let (items, largest) = alloc_probe::largest_allocation(|| {
        GntReader::new(Cursor::new(&bytes), "stream.gnt").collect::<Vec<_>>()
    });
    let err = items[1].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("stream.gnt") && err.contains("byte 31"),
        "{err}"
    );
    assert!(err.contains("ends after 100"), "{err}");
    assert!(largest <= 2 * CHUNK as usize, "allocated {largest} bytes");
}

#[test]
fn the_probe_sees_a_big_allocation() {
    let (v, largest) = alloc_probe::largest_allocation(|| vec![0u8; 50 << 20]);
    assert!(largest >= v.len());
}

#[test]
fn tags_label_as_characters_or_hex() {
    assert_eq!(tag_label(&[0xB0, 0xA1]), "啊");
    assert_eq!(tag_label(&[0xB0, 0xA1, 0, 0]), "啊");
    assert_eq!(tag_label(&[0xB0, 0xA1, 0, 1]), "<tag b0 a1 00 01>");
    assert_eq!(tag_label(&[0x00, b'7']), "<tag 00 37>");
    assert_eq!(tag_label(&[0xFF, 0xFF]), "<tag ff ff>");
}
