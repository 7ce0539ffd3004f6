//! `--device cpu|cuda[:N]`: which Burn backend runs, chosen at run time among those built in.
//! Commands are generic over the backend; `dispatch!` instantiates them for the one asked for.

use anyhow::{bail, Result};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("`{s}` is not a device: use cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// The CPU backend (Burn Flex), for inference.
pub type CpuBackend = burn::backend::Flex;
/// The CPU backend with autodiff, for training.
pub type CpuTrainBackend = burn::backend::Autodiff<CpuBackend>;

#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type CudaTrainBackend = burn::backend::Autodiff<CudaBackend>;

impl DeviceChoice {
    /// Fails with instructions when this binary was built without the backend asked for.
    pub fn ensure_built(self) -> Result<()> {
        match self {
            DeviceChoice::Cpu => Ok(()),
            DeviceChoice::Cuda(_) if cfg!(feature = "cuda") => Ok(()),
            DeviceChoice::Cuda(_) => bail!(
                "this inkstone was built without CUDA support; rebuild with `cargo build --release --features cuda`"
            ),
        }
    }
}

/// Runs `$body` with `$B` bound to the training backend and `$device` to the device chosen.
#[macro_export]
macro_rules! with_train_backend {
    ($choice:expr, |$B:ident, $device:ident| $body:expr) => {{
        let choice: $crate::device::DeviceChoice = $choice;
        choice.ensure_built()?;
        match choice {
            $crate::device::DeviceChoice::Cpu => {
                type $B = $crate::device::CpuTrainBackend;
                let $device = Default::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::device::DeviceChoice::Cuda(index) => {
                type $B = $crate::device::CudaTrainBackend;
                let $device = burn::backend::cuda::CudaDevice::new(index);
                $body
            }
            #[cfg(not(feature = "cuda"))]
            $crate::device::DeviceChoice::Cuda(_) => unreachable!("ensure_built refused it"),
        }
    }};
}

/// Like [`with_train_backend`] for inference backends.
#[macro_export]
macro_rules! with_backend {
    ($choice:expr, |$B:ident, $device:ident| $body:expr) => {{
        let choice: $crate::device::DeviceChoice = $choice;
        choice.ensure_built()?;
        match choice {
            $crate::device::DeviceChoice::Cpu => {
                type $B = $crate::device::CpuBackend;
                let $device = Default::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::device::DeviceChoice::Cuda(index) => {
                type $B = $crate::device::CudaBackend;
                let $device = burn::backend::cuda::CudaDevice::new(index);
                $body
            }
            #[cfg(not(feature = "cuda"))]
            $crate::device::DeviceChoice::Cuda(_) => unreachable!("ensure_built refused it"),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("gpu"
            .parse::<DeviceChoice>()
            .unwrap_err()
            .contains("not a device"));
    }
}
