//! Class index ↔ symbol. A model's output index means nothing without its charset, so the
//! charset travels inside every bundle.

use serde::{Deserialize, Serialize};

/// An ordered list of class symbols; class `i` is `symbols[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charset {
    pub name: String,
    pub symbols: Vec<String>,
}

impl Charset {
    /// The ten Arabic digits, class `d` = digit `d`.
    pub fn digits() -> Self {
        Charset {
            name: "digits".into(),
            symbols: (0..10).map(|d| d.to_string()).collect(),
        }
    }

    /// Classes named by their index (`"0"`, `"1"`, …): for models whose symbols are not known,
    /// such as an untrained bundle made for a benchmark.
    pub fn numbered(classes: usize) -> Self {
        Charset {
            name: format!("classes-{classes}"),
            symbols: (0..classes).map(|i| i.to_string()).collect(),
        }
    }

    /// A built-in charset by name.
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "digits" => Some(Self::digits()),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The symbol of class `index`, or `?` for an index outside the charset.
    pub fn symbol(&self, index: usize) -> &str {
        self.symbols.get(index).map(String::as_str).unwrap_or("?")
    }

    /// The class index of a symbol.
    pub fn index_of(&self, symbol: &str) -> Option<u32> {
        self.symbols
            .iter()
            .position(|s| s == symbol)
            .map(|i| i as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_both_ways() {
        let c = Charset::digits();
        assert_eq!(c.len(), 10);
        assert_eq!(c.symbol(7), "7");
        assert_eq!(c.index_of("3"), Some(3));
        assert_eq!(c.index_of("x"), None);
        assert_eq!(c.symbol(10), "?");
    }
}
