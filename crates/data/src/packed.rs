//! The packed dataset `.inkd`: recipe-prepared images of one fixed size, read straight from a
//! memory map. Any reader's output is packed once (`inkstone data pack`); every epoch after
//! that only permutes indices, so the loader costs a memcpy per sample, not a JPEG decode.
//!
//! Layout (little-endian):
//! ```text
//! b"INKD" | u32 version = 1 | u32 width | u32 height | u64 count | u32 meta_len
//! meta_len bytes of JSON: { "charset": …, "recipe": …, "source": "…" }
//! count records: u32 label | width·height u8 pixels (row-major, ink bright on black)
//! ```
//! A set prepared in memory ([`PackedSet::prepare`]) has the same shape, so training reads
//! both through one type.

use crate::atomic::{pending_file, PendingFile};
use crate::{Charset, DataError, Dataset, Recipe};
use image::GrayImage;
use memmap2::Mmap;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"INKD";
const VERSION: u32 = 1;
/// Fixed part of the header, before the JSON.
const FIXED_HEADER: usize = 4 + 4 + 4 + 4 + 8 + 4;
/// Largest accepted side: far beyond any model input, small enough that a corrupt header
/// cannot describe absurd records.
const MAX_SIDE: u32 = 4096;
const MAX_META: u32 = 16 << 20;

/// What a packed set holds besides pixels: the classes, the recipe that prepared the images
/// (it goes into the bundle of a model trained on them), and where they came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackedMeta {
    pub charset: Charset,
    pub recipe: Recipe,
    pub source: String,
}

enum Storage {
    Memory(Vec<u8>),
    Mapped(Mmap),
}

/// Fixed-size labelled images, in memory or memory-mapped from an `.inkd` file.
pub struct PackedSet {
    pub meta: PackedMeta,
    width: u32,
    height: u32,
    count: usize,
    /// Byte offset of the first record within `storage`.
    start: usize,
    storage: Storage,
}

impl PackedSet {
    /// Runs the recipe over a whole in-memory dataset on all cores.
    pub fn prepare(dataset: &Dataset, recipe: &Recipe, source: &str) -> Self {
        Self::prepare_each(dataset, recipe, source, 1, |image| {
            vec![recipe.prepare(image)]
        })
        .remove(0)
    }

    /// One set per input of `Recipe::prepare_views` (test-time views and readings; the
    /// recipe's own first), in the same order: each sample goes through the recipe once for
    /// all of them.
    pub fn prepare_views(dataset: &Dataset, recipe: &Recipe, source: &str) -> Vec<Self> {
        let views = recipe.inputs_per_image();
        Self::prepare_each(dataset, recipe, source, views, |image| {
            recipe.prepare_views(image)
        })
    }

    /// `views` sets of `dataset`'s samples, `prepare` giving each sample's `views` images;
    /// spread over the cores in runs of samples, each writing its records straight into every
    /// view's buffer.
    fn prepare_each(
        dataset: &Dataset,
        recipe: &Recipe,
        source: &str,
        views: usize,
        prepare: impl Fn(&GrayImage) -> Vec<GrayImage> + Sync,
    ) -> Vec<Self> {
        let side = recipe.input_size;
        let record = 4 + (side * side) as usize;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = dataset.samples.len().div_ceil(threads).max(1);
        let mut buffers = vec![vec![0u8; record * dataset.samples.len()]; views];
        std::thread::scope(|scope| {
            let mut runs: Vec<_> = buffers
                .iter_mut()
                .map(|b| b.chunks_mut(chunk * record))
                .collect();
            for part in dataset.samples.chunks(chunk) {
                // This run's records in every view's buffer.
                let mut outs: Vec<&mut [u8]> = runs
                    .iter_mut()
                    .map(|r| r.next().expect("one run of records per run of samples"))
                    .collect();
                let prepare = &prepare;
                scope.spawn(move || {
                    for (k, sample) in part.iter().enumerate() {
                        for (out, image) in outs.iter_mut().zip(prepare(&sample.image)) {
                            let rec = &mut out[k * record..(k + 1) * record];
                            rec[..4].copy_from_slice(&sample.label.to_le_bytes());
                            rec[4..].copy_from_slice(image.as_raw());
                        }
                    }
                });
            }
        });
        buffers
            .into_iter()
            .map(|bytes| PackedSet {
                meta: PackedMeta {
                    charset: dataset.charset.clone(),
                    recipe: recipe.clone(),
                    source: source.to_string(),
                },
                width: side,
                height: side,
                count: dataset.samples.len(),
                start: 0,
                storage: Storage::Memory(bytes),
            })
            .collect()
    }

    /// Maps an `.inkd` file, checking its header against its length.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        // SAFETY: the map is read-only and private to this process; a file truncated under us
        // by another process is the one case memory maps cannot defend against, as with every
        // mmap-based loader.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| DataError::io(path, e))?;
        Self::from_storage(Storage::Mapped(map), path)
    }

    /// Reads an `.inkd` file's bytes held in memory, with the checks of [`PackedSet::open`];
    /// `name` is what errors call it.
    pub fn from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Self, DataError> {
        Self::from_storage(Storage::Memory(bytes), name)
    }

    fn from_storage(storage: Storage, path: &Path) -> Result<Self, DataError> {
        let bytes: &[u8] = match &storage {
            Storage::Memory(v) => v,
            Storage::Mapped(m) => m,
        };
        let truncated = |detail: &str| DataError::Truncated {
            path: path.to_path_buf(),
            offset: bytes.len() as u64,
            detail: detail.to_string(),
        };
        if bytes.len() < FIXED_HEADER {
            return Err(truncated("shorter than the .inkd header"));
        }
        if &bytes[..4] != MAGIC {
            return Err(DataError::BadMagic {
                path: path.to_path_buf(),
                found: u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes")),
                expected: u32::from_be_bytes(*MAGIC),
                what: "inkstone packed dataset (.inkd)",
            });
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let version = u32_at(4);
        if version != VERSION {
            return Err(DataError::invalid(
                path,
                format!("packed format version {version}; this inkstone reads version {VERSION}"),
            ));
        }
        let (width, height) = (u32_at(8), u32_at(12));
        let count = u64::from_le_bytes(bytes[16..24].try_into().expect("8"));
        let meta_len = u32_at(24);
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(DataError::invalid(
                path,
                format!("image size {width}×{height} in the header is not 1..={MAX_SIDE}"),
            ));
        }
        if meta_len > MAX_META || FIXED_HEADER + meta_len as usize > bytes.len() {
            return Err(truncated("header metadata runs past the end of the file"));
        }
        let start = FIXED_HEADER + meta_len as usize;
        let meta: PackedMeta = serde_json::from_slice(&bytes[FIXED_HEADER..start])
            .map_err(|e| DataError::invalid(path, format!("header metadata: {e}")))?;
        let record = 4 + (width as u64) * (height as u64);
        let expected = (start as u64).checked_add(count.saturating_mul(record));
        if expected != Some(bytes.len() as u64) {
            return Err(DataError::invalid(
                path,
                format!(
                    "header says {count} records of {record} bytes after byte {start}, \
                     but the file has {} bytes (truncated or not finished)",
                    bytes.len()
                ),
            ));
        }
        if meta.recipe.input_size != width || width != height {
            return Err(DataError::invalid(
                path,
                format!(
                    "records are {width}×{height} but the recipe makes {0}×{0} inputs",
                    meta.recipe.input_size
                ),
            ));
        }
        let set = PackedSet {
            meta,
            width,
            height,
            count: count as usize,
            start,
            storage,
        };
        let classes = set.meta.charset.len() as u32;
        if let Some(i) = (0..set.count).find(|&i| set.label(i) >= classes) {
            return Err(DataError::invalid(
                path,
                format!(
                    "record {i} (byte {}) has label {} but the charset has {classes} classes",
                    start + i * set.record_len(),
                    set.label(i)
                ),
            ));
        }
        Ok(set)
    }

    fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Memory(v) => &v[self.start..],
            Storage::Mapped(m) => &m[self.start..],
        }
    }

    fn record_len(&self) -> usize {
        4 + (self.width * self.height) as usize
    }

    fn record(&self, i: usize) -> &[u8] {
        let len = self.record_len();
        &self.bytes()[i * len..(i + 1) * len]
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Side of the (square) images.
    pub fn side(&self) -> u32 {
        self.width
    }

    pub fn classes(&self) -> usize {
        self.meta.charset.len()
    }

    pub fn label(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.record(i)[..4].try_into().expect("4 bytes"))
    }

    /// The prepared pixels of sample `i`, row-major.
    pub fn pixels(&self, i: usize) -> &[u8] {
        &self.record(i)[4..]
    }

    pub fn image(&self, i: usize) -> GrayImage {
        GrayImage::from_raw(self.width, self.height, self.pixels(i).to_vec())
            .expect("record holds width·height pixels")
    }

    /// Samples per class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes()];
        for i in 0..self.count {
            counts[self.label(i) as usize] += 1;
        }
        counts
    }
}

/// Prepared training samples by index, as the loader threads read them: a packed file's are
/// fixed, a synthetic source ([`crate::synth::SynthSet`]) writes them afresh for every
/// epoch, seeded by the epoch so that a resumed run sees the same samples.
pub trait PreparedSet: Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Side of the (square) prepared images.
    fn side(&self) -> u32;
    fn label(&self, index: usize) -> u32;
    /// Sample `index` as the epoch seeded by `epoch_seed` has it.
    fn prepared(&self, index: usize, epoch_seed: u64) -> GrayImage;
}

impl PreparedSet for PackedSet {
    fn len(&self) -> usize {
        self.count
    }

    fn side(&self) -> u32 {
        self.width
    }

    fn label(&self, index: usize) -> u32 {
        PackedSet::label(self, index)
    }

    fn prepared(&self, index: usize, _epoch_seed: u64) -> GrayImage {
        self.image(index)
    }
}

/// The visiting order of one epoch: a seeded permutation of `0..len`.
pub fn permutation(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    order
}

/// The part of an epoch's order that device `rank` of `world` reads: every `world`-th index
/// starting at `rank`, so the shards are disjoint, cover the order, and differ in size by at
/// most one.
pub fn shard(order: &[usize], rank: usize, world: usize) -> Vec<usize> {
    assert!(world > 0 && rank < world, "rank {rank} of world {world}");
    order.iter().skip(rank).step_by(world).copied().collect()
}

/// Writes an `.inkd` file record by record; the file appears under its name only when
/// [`PackWriter::finish`] succeeds.
pub struct PackWriter {
    path: PathBuf,
    pending: PendingFile,
    out: BufWriter<File>,
    side: u32,
    classes: u32,
    count: u64,
}

impl PackWriter {
    pub fn create(path: &Path, meta: &PackedMeta) -> Result<Self, DataError> {
        let (file, pending) = pending_file(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let side = meta.recipe.input_size;
        let json = serde_json::to_vec(meta).expect("metadata serialises");
        let mut header = Vec::with_capacity(FIXED_HEADER + json.len());
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&side.to_le_bytes());
        header.extend_from_slice(&side.to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes());
        header.extend_from_slice(&(json.len() as u32).to_le_bytes());
        header.extend_from_slice(&json);
        out.write_all(&header).map_err(|e| DataError::io(path, e))?;
        Ok(PackWriter {
            path: path.to_path_buf(),
            pending,
            out,
            side,
            classes: meta.charset.len() as u32,
            count: 0,
        })
    }

    /// Appends one prepared image (`side`², as the recipe makes them).
    pub fn push(&mut self, label: u32, prepared: &GrayImage) -> Result<(), DataError> {
        if prepared.dimensions() != (self.side, self.side) || label >= self.classes {
            return Err(DataError::invalid(
                &self.path,
                format!(
                    "record {}: {}×{} image with label {label} does not fit {}² records of {} classes",
                    self.count,
                    prepared.width(),
                    prepared.height(),
                    self.side,
                    self.classes
                ),
            ));
        }
        let io = |e| DataError::io(&self.path, e);
        self.out.write_all(&label.to_le_bytes()).map_err(io)?;
        self.out.write_all(prepared.as_raw()).map_err(io)?;
        self.count += 1;
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the record count into the header, syncs, and renames the file into place.
    pub fn finish(self) -> Result<u64, DataError> {
        let path = self.path;
        let io = |e| DataError::io(&path, e);
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| DataError::io(&path, e.into_error()))?;
        file.seek(SeekFrom::Start(16)).map_err(io)?;
        file.write_all(&self.count.to_le_bytes()).map_err(io)?;
        self.pending.commit().map_err(io)?;
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sample;
    use image::Luma;

    fn dataset(n: usize) -> Dataset {
        Dataset {
            name: "squares".into(),
            charset: Charset::digits(),
            samples: (0..n)
                .map(|i| Sample {
                    image: GrayImage::from_fn(40, 30, |x, y| {
                        Luma([if x > 5 + i as u32 % 10 && y > 8 && x < 30 {
                            0
                        } else {
                            255
                        }])
                    }),
                    label: (i % 10) as u32,
                })
                .collect(),
        }
    }

    fn write(path: &Path, set: &PackedSet) {
        let mut w = PackWriter::create(path, &set.meta).unwrap();
        for i in 0..set.len() {
            w.push(set.label(i), &set.image(i)).unwrap();
        }
        assert_eq!(w.finish().unwrap(), set.len() as u64);
    }

    #[test]
    fn a_set_prepared_per_view_holds_each_samples_views_in_order() {
        let view = crate::recipe::View {
            fit: 14,
            pen_scale: 1.0,
            aspect: 1.5,
            slant: 0.15,
        };
        let recipe = Recipe {
            views: vec![view],
            ..Recipe::mnist()
        };
        let data = dataset(13);
        let views = PackedSet::prepare_views(&data, &recipe, "test");
        assert_eq!(views.len(), 2);
        let plain = PackedSet::prepare(&data, &Recipe::mnist(), "test");
        for (i, sample) in data.samples.iter().enumerate() {
            let both = recipe.prepare_views(&sample.image);
            assert_eq!(views[0].image(i), plain.image(i), "sample {i}: own view");
            assert_eq!(views[1].image(i), both[1], "sample {i}: the other view");
            assert_eq!(
                (views[0].label(i), views[1].label(i)),
                (sample.label, sample.label)
            );
        }
    }

    #[test]
    fn packed_file_reads_back_what_was_prepared() {
        let recipe = Recipe::mnist();
        let memory = PackedSet::prepare(&dataset(25), &recipe, "test");
        assert_eq!((memory.len(), memory.side()), (25, 28));
        assert_eq!(
            memory.image(3),
            recipe.prepare(&dataset(25).samples[3].image)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.inkd");
        write(&path, &memory);
        let mapped = PackedSet::open(&path).unwrap();
        assert_eq!(mapped.meta, memory.meta);
        assert_eq!(mapped.len(), 25);
        for i in 0..25 {
            assert_eq!(mapped.label(i), memory.label(i));
            assert_eq!(mapped.pixels(i), memory.pixels(i));
        }
        assert_eq!(mapped.class_counts(), vec![3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
        // Only the finished file is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "readable like any other file");
        }
    }

    #[test]
    fn damaged_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.inkd");
        write(
            &path,
            &PackedSet::prepare(&dataset(4), &Recipe::mnist(), "t"),
        );
        let good = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8], needle: &str| {
            let p = dir.path().join("bad.inkd");
            std::fs::write(&p, bytes).unwrap();
            let e = PackedSet::open(&p).err().expect("refused").to_string();
            assert!(e.contains("bad.inkd") && e.contains(needle), "{e}");
        };
        check(&good[..good.len() - 1], "truncated or not finished");
        check(&good[..10], "header");
        let mut magic = good.clone();
        magic[0] = b'X';
        check(&magic, "magic");
        let mut count = good.clone();
        count[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        check(&count, "records");
        let mut side = good.clone();
        side[8..12].copy_from_slice(&65535u32.to_le_bytes());
        check(&side, "image size");
        let mut label = good.clone();
        let first = good.len() - 4 * (4 + 28 * 28);
        label[first..first + 4].copy_from_slice(&99u32.to_le_bytes());
        check(&label, "label 99");
        let mut meta = good;
        meta[30] = b'#';
        check(&meta, "metadata");
    }

    #[test]
    fn an_unfinished_writer_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.inkd");
        let set = PackedSet::prepare(&dataset(2), &Recipe::mnist(), "t");
        let mut w = PackWriter::create(&path, &set.meta).unwrap();
        w.push(0, &set.image(0)).unwrap();
        assert!(w.push(10, &set.image(0)).is_err(), "label outside charset");
        assert!(w.push(0, &GrayImage::new(3, 3)).is_err(), "wrong size");
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn permutations_are_seeded_and_shards_partition_them() {
        let a = permutation(100, 7);
        assert_eq!(a, permutation(100, 7));
        assert_ne!(a, permutation(100, 8));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let shards: Vec<Vec<usize>> = (0..3).map(|r| shard(&a, r, 3)).collect();
        assert_eq!(
            shards.iter().map(Vec::len).collect::<Vec<_>>(),
            [34, 33, 33]
        );
        let mut all: Vec<usize> = shards.concat();
        all.sort();
        assert_eq!(all, sorted);
    }
}
