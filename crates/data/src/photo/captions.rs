//! The captions `data photos` writes beside its photos (`conditions.csv`: one row a file,
//! what the photo was made under), read back so that `eval` can say which conditions cost a
//! model what.

use super::{Conditions, Ruling, INKS, WHITE_PAPER, YELLOWISH_PAPER};
use crate::DataError;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The captions' file name in a folder of photos.
pub const CAPTIONS_FILE: &str = "conditions.csv";

const HEADER: &str = "file,paper,ink,ink_strength,ruling,frame,gradient,shadow,clutter";

/// The ways photos are grouped, each with its levels in the order they are listed.
const FACTORS: [(&str, &[&str]); 7] = [
    ("ink", &["black", "blue", "red", "pencil"]),
    ("paper", &["white", "gray", "yellowish"]),
    ("ruling", &["plain", "lined", "squared"]),
    // The gradient's darkest light, 1 = even.
    (
        "gradient",
        &["mild (darkest >= 0.7)", "strong (darkest < 0.7)"],
    ),
    // The light left in a shadow across the page.
    ("shadow", &["none", "0.65-0.8 of the light", "under 0.65"]),
    // The writing's side over the photo's.
    ("writing", &["over 40% of the photo", "25-40%", "under 25%"]),
    ("margin", &["clean", "a mark in it"]),
];

impl Conditions {
    /// The first line of a captions file.
    pub fn captions_header() -> String {
        format!("{HEADER}\n")
    }

    /// The caption row of the photo `file` (relative to the captions' folder).
    pub fn caption(&self, file: &str) -> String {
        let rgb = |v: [f32; 3]| format!("{:.0} {:.0} {:.0}", v[0], v[1], v[2]);
        format!(
            "{file},{},{},{:.2},{:?},{:.2},{:.2},{:.2},{}\n",
            rgb(self.paper),
            rgb(self.ink),
            self.ink_strength,
            self.ruling,
            self.frame,
            self.gradient,
            self.shadow,
            self.clutter
        )
    }

    /// A caption row back: its file and conditions; `None` when it is not one.
    fn from_caption(row: &str) -> Option<(String, Conditions)> {
        let fields: Vec<&str> = row.split(',').collect();
        let [file, paper, ink, strength, ruling, frame, gradient, shadow, clutter] =
            fields.as_slice()
        else {
            return None;
        };
        let rgb = |v: &str| -> Option<[f32; 3]> {
            let parts: Vec<f32> = v
                .split(' ')
                .map(|c| c.parse().ok())
                .collect::<Option<_>>()?;
            parts.try_into().ok()
        };
        let ruling = match *ruling {
            "Plain" => Ruling::Plain,
            "Lined" => Ruling::Lined,
            "Squared" => Ruling::Squared,
            _ => return None,
        };
        let conditions = Conditions {
            paper: rgb(paper)?,
            ink: rgb(ink)?,
            ink_strength: strength.parse().ok()?,
            ruling,
            frame: frame.parse().ok()?,
            gradient: gradient.parse().ok()?,
            shadow: shadow.parse().ok()?,
            clutter: clutter.parse().ok()?,
        };
        Some((file.to_string(), conditions))
    }

    /// The level of each of [`FACTORS`] this photo is in, as indices.
    fn levels(&self) -> [usize; FACTORS.len()] {
        let distance =
            |a: [f32; 3], b: [f32; 3]| -> f32 { a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum() };
        let ink = (0..INKS.len())
            .min_by(|&a, &b| {
                distance(self.ink, INKS[a].1).total_cmp(&distance(self.ink, INKS[b].1))
            })
            .expect("there are inks");
        let paper = match self.paper {
            p if distance(p, WHITE_PAPER) < 3.0 => 0,
            p if distance(p, YELLOWISH_PAPER) < 3.0 => 2,
            _ => 1,
        };
        let ruling = match self.ruling {
            Ruling::Plain => 0,
            Ruling::Lined => 1,
            Ruling::Squared => 2,
        };
        let shadow = match self.shadow {
            s if s >= 1.0 => 0,
            s if s >= 0.65 => 1,
            _ => 2,
        };
        let writing = match self.frame {
            f if f < 2.5 => 0,
            f if f < 4.0 => 1,
            _ => 2,
        };
        [
            ink,
            paper,
            ruling,
            usize::from(self.gradient < 0.7),
            shadow,
            writing,
            usize::from(self.clutter),
        ]
    }
}

/// The captions of the photos in `dir`, keyed by their path relative to it (`九/000000.jpg`);
/// `None` when `dir` has no captions file.
pub fn read_captions(dir: &Path) -> Result<Option<HashMap<String, Conditions>>, DataError> {
    let path = dir.join(CAPTIONS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim_end()) != Some(HEADER) {
        return Err(DataError::invalid(
            &path,
            format!("line 1: expected the header `{HEADER}`"),
        ));
    }
    let mut captions = HashMap::new();
    for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let (file, conditions) = Conditions::from_caption(line.trim_end()).ok_or_else(|| {
            DataError::invalid(&path, format!("line {}: not a photo's caption", i + 1))
        })?;
        captions.insert(file, conditions);
    }
    Ok(Some(captions))
}

/// How many photos of one condition a model read right.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionTally {
    pub factor: &'static str,
    pub level: &'static str,
    pub right: usize,
    pub total: usize,
}

impl ConditionTally {
    /// The share of this condition's photos read right, in percent.
    pub fn percent_right(&self) -> f64 {
        100.0 * self.right as f64 / self.total.max(1) as f64
    }

    /// Every condition's tally over `photos` (conditions, read right), factor by factor in a
    /// fixed order, each level that has photos.
    pub fn over<'a>(photos: impl IntoIterator<Item = (&'a Conditions, bool)>) -> Vec<Self> {
        let mut counts: Vec<Vec<(usize, usize)>> = FACTORS
            .iter()
            .map(|(_, levels)| vec![(0, 0); levels.len()])
            .collect();
        for (conditions, right) in photos {
            for (factor, level) in conditions.levels().into_iter().enumerate() {
                let count = &mut counts[factor][level];
                count.0 += usize::from(right);
                count.1 += 1;
            }
        }
        let mut tallies = Vec::new();
        for ((factor, levels), counts) in FACTORS.iter().zip(counts) {
            for (level, (right, total)) in levels.iter().zip(counts) {
                if total > 0 {
                    tallies.push(ConditionTally {
                        factor,
                        level,
                        right,
                        total,
                    });
                }
            }
        }
        tallies
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_caption_reads_back_as_the_conditions_it_was_written_from() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let c = Conditions::sample(&mut rng);
            let (file, back) = Conditions::from_caption(c.caption("九/000001.jpg").trim_end())
                .expect("a caption parses");
            assert_eq!(file, "九/000001.jpg");
            // Written rounded: colours to whole levels, the rest to two decimals.
            assert_eq!(back.levels(), c.levels());
            assert_eq!((back.ruling, back.clutter), (c.ruling, c.clutter));
            assert!((back.shadow - c.shadow).abs() <= 0.005);
        }
    }

    #[test]
    fn photos_are_tallied_by_each_condition() {
        let pencil_in_shadow = Conditions {
            paper: [190.0, 190.0, 190.0],
            ink: INKS[3].1,
            ink_strength: 0.5,
            ruling: Ruling::Squared,
            frame: 4.5,
            gradient: 0.5,
            shadow: 0.6,
            clutter: true,
        };
        let blue_in_even_light = Conditions {
            paper: WHITE_PAPER,
            ink: INKS[1].1,
            ink_strength: 0.9,
            ruling: Ruling::Plain,
            frame: 2.0,
            gradient: 0.9,
            shadow: 1.0,
            clutter: false,
        };
        let photos = [
            (&pencil_in_shadow, false),
            (&pencil_in_shadow, true),
            (&blue_in_even_light, true),
        ];
        let tallies = ConditionTally::over(photos);
        let find = |factor: &str, level: &str| {
            tallies
                .iter()
                .find(|t| t.factor == factor && t.level == level)
                .map(|t| (t.right, t.total))
        };
        assert_eq!(find("ink", "pencil"), Some((1, 2)));
        assert_eq!(find("ink", "blue"), Some((1, 1)));
        assert_eq!(
            find("ink", "black"),
            None,
            "levels without photos are left out"
        );
        assert_eq!(find("paper", "gray"), Some((1, 2)));
        assert_eq!(find("shadow", "under 0.65"), Some((1, 2)));
        assert_eq!(find("shadow", "none"), Some((1, 1)));
        assert_eq!(find("writing", "under 25%"), Some((1, 2)));
        assert_eq!(find("margin", "a mark in it"), Some((1, 2)));
        // Every factor counts every photo once.
        for (factor, _) in FACTORS {
            let total: usize = tallies
                .iter()
                .filter(|t| t.factor == factor)
                .map(|t| t.total)
                .sum();
            assert_eq!(total, 3, "{factor}");
        }
    }

    #[test]
    fn a_folder_without_captions_has_none_and_a_bad_row_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_captions(dir.path()).unwrap().is_none());
        let good = Conditions::sample(&mut rand::rngs::StdRng::seed_from_u64(1));
        let text = format!(
            "{}{}一/2.jpg,white,black\n",
            Conditions::captions_header(),
            good.caption("一/1.jpg")
        );
        std::fs::write(dir.path().join(CAPTIONS_FILE), text).unwrap();
        let err = read_captions(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("conditions.csv") && err.contains("line 3"),
            "{err}"
        );
    }
}
