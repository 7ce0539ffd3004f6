//! `--cuda-kernels autotune|fixed|fixed-mma|fixed-async|fixed-tma` and `--cuda-cache DIR`:
//! how the CUDA backend picks its convolution kernels, and where what it learns (autotune
//! results, compiled kernels) is kept between runs.
//!
//! Autotune benchmarks every candidate kernel for each new convolution shape, each one compiled
//! by NVRTC first: the fastest kernels once done, but minutes of tuning for ResNet-18 on a
//! machine that has never run it (bench/README in the shared folder). The `fixed` choices ask
//! the patched burn-cubecl (vendor/README.md) for one tensor-core implicit GEMM everywhere,
//! with no benchmarking, like PyTorch's default `cudnn.benchmark = False`. The cache is there
//! so that a later run of the same shapes need not tune or compile them again (not yet
//! measured on a GPU).

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KernelChoice {
    /// Benchmark the candidate kernels of each new convolution shape and keep the fastest
    /// (results cached on disk; the first run of a model can take minutes).
    Autotune,
    /// One tensor-core implicit GEMM (`simple_sync_cmma`, Burn's own choice) for every
    /// convolution, col2im for transposed ones; nothing benchmarked. Where a kernel cannot
    /// run a shape: the direct kernel.
    Fixed,
    /// As `fixed` with `simple_sync_mma` (then `simple_sync_cmma` where it cannot run).
    FixedMma,
    /// As `fixed` with `simple_async_mma`.
    FixedAsync,
    /// As `fixed` with `simple_tma_mma` (Hopper and later).
    FixedTma,
}

impl KernelChoice {
    /// The patched burn-cubecl's fixed kernel for this choice; `None` = autotune.
    #[cfg(feature = "cuda")]
    fn fixed_kernel(self) -> Option<burn_cubecl::kernel::conv::FixedConvKernel> {
        use burn_cubecl::kernel::conv::FixedConvKernel;
        match self {
            KernelChoice::Autotune => None,
            KernelChoice::Fixed => Some(FixedConvKernel::SyncCmma),
            KernelChoice::FixedMma => Some(FixedConvKernel::SyncMma),
            KernelChoice::FixedAsync => Some(FixedConvKernel::AsyncMma),
            KernelChoice::FixedTma => Some(FixedConvKernel::TmaMma),
        }
    }
}

/// Options of the CUDA backend, valid on every command (a `sweep` passes them to its runs
/// through the environment).
#[derive(Args, Clone, Debug)]
pub struct CudaArgs {
    /// How convolution kernels are chosen on CUDA devices.
    #[arg(
        long,
        global = true,
        hide = !cfg!(feature = "cuda"),
        value_enum,
        env = "INKSTONE_CUDA_KERNELS",
        default_value = "autotune"
    )]
    pub cuda_kernels: KernelChoice,
    /// Folder for autotune results and compiled kernels, kept between runs
    /// [default: $XDG_CACHE_HOME/inkstone/cuda or ~/.cache/inkstone/cuda].
    #[arg(long, global = true, hide = !cfg!(feature = "cuda"), env = "INKSTONE_CUDA_CACHE")]
    pub cuda_cache: Option<PathBuf>,
}

static CHOSEN: OnceLock<CudaArgs> = OnceLock::new();

impl CudaArgs {
    /// Keeps the options for [`apply_once`], and exports them so that child processes
    /// (`sweep`'s runs) use the same.
    pub fn choose(self) {
        let kernels = self.cuda_kernels.to_possible_value().expect("not skipped");
        // SAFETY (set_var): called from `main` before any thread is started.
        std::env::set_var("INKSTONE_CUDA_KERNELS", kernels.get_name());
        if let Some(dir) = &self.cuda_cache {
            std::env::set_var("INKSTONE_CUDA_CACHE", dir);
        }
        let _ = CHOSEN.set(self);
    }

    /// The cache folder: as given, else the user's cache folder.
    // Only the CUDA backend has a cache; the option is still accepted without it.
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.cuda_cache
            .clone()
            .or_else(|| crate::cache::user_cache().map(|dir| dir.join("cuda")))
    }
}

/// Configures the CUDA backend before its first use: the kernel choice, and the autotune and
/// compiled-kernel caches under [`CudaArgs::cache_dir`]. A `cubecl.toml` the user keeps (read
/// as cubecl reads it, with its `CUBECL_*` environment overrides) is respected, except that
/// its default autotune cache (the nearest cargo `target/` folder, or cubecl's own folder)
/// becomes ours, so that a run from any folder finds what an earlier run tuned.
#[cfg(feature = "cuda")]
pub fn apply_once() {
    use burn_cubecl::cubecl::config::{cache::CacheConfig, CubeClRuntimeConfig, RuntimeConfig};
    static APPLIED: std::sync::Once = std::sync::Once::new();
    APPLIED.call_once(|| {
        let args = CHOSEN.get().cloned().unwrap_or(CudaArgs {
            cuda_kernels: KernelChoice::Autotune,
            cuda_cache: None,
        });
        burn_cubecl::kernel::conv::set_fixed_conv_kernel(args.cuda_kernels.fixed_kernel());
        let mut storage = CubeClRuntimeConfig::storage().lock();
        if storage.is_some() {
            return; // the backend already read its configuration: nothing to change now
        }
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        if let Some(dir) = args.cache_dir() {
            // cubecl skips a cache it cannot write without a word (it only logs); say so once.
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!(
                    "warning: CUDA kernel cache {}: {e}; kernels are tuned and compiled anew \
                     in every run",
                    dir.display()
                );
            }
            if matches!(config.autotune.cache, CacheConfig::Target) || args.cuda_cache.is_some() {
                config.autotune.cache = CacheConfig::File(dir.join("autotune"));
            }
            if config.compilation.cache.is_none() || args.cuda_cache.is_some() {
                config.compilation.cache = Some(CacheConfig::File(dir.join("compiled")));
            }
        }
        *storage = Some(std::sync::Arc::new(config));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dir_prefers_the_option_then_xdg_then_home() {
        let given = CudaArgs {
            cuda_kernels: KernelChoice::Fixed,
            cuda_cache: Some(PathBuf::from("/tmp/k")),
        };
        assert_eq!(given.cache_dir(), Some(PathBuf::from("/tmp/k")));
        let default = CudaArgs {
            cuda_cache: None,
            ..given
        };
        let dir = default.cache_dir().expect("HOME is set in tests");
        assert!(dir.ends_with("inkstone/cuda"), "{}", dir.display());
    }
}
