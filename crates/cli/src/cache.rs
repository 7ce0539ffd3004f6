//! The user's cache folder for inkstone: CUDA kernels, the `serve --demo` model.

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/inkstone`, else `~/.cache/inkstone`; `None` without either variable.
pub fn user_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("inkstone"))
}
