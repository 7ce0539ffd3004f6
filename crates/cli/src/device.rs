//! `--device cpu|cuda[:N]`: which Burn backend runs, chosen at run time among those built in.
//! Commands are generic over the backend; `with_backend!` and `with_train_backend!`
//! instantiate them for the one asked for.

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

impl DeviceChoice {
    /// Makes sure the device can run, before a command writes anything: built in, and for
    /// CUDA, started (see [`start_cuda`]).
    pub fn start(self) -> Result<()> {
        self.ensure_built()?;
        #[cfg(feature = "cuda")]
        if let DeviceChoice::Cuda(index) = self {
            start_cuda(index)?;
        }
        Ok(())
    }
}

/// The backend's device for a choice (started, for CUDA), so that a command generic over the
/// backend can build its device list for `--devices`.
pub trait DeviceOf: burn::tensor::backend::Backend {
    fn device_of(choice: DeviceChoice) -> Result<Self::Device>;
}

impl DeviceOf for CpuTrainBackend {
    fn device_of(choice: DeviceChoice) -> Result<Self::Device> {
        match choice {
            DeviceChoice::Cpu => Ok(Default::default()),
            other => bail!("--devices: {other} cannot be mixed with cpu; list devices of one kind"),
        }
    }
}

#[cfg(feature = "cuda")]
impl DeviceOf for CudaTrainBackend {
    fn device_of(choice: DeviceChoice) -> Result<Self::Device> {
        match choice {
            DeviceChoice::Cuda(index) => start_cuda(index),
            other => {
                bail!("--devices: {other} cannot be mixed with cuda; list devices of one kind")
            }
        }
    }
}

/// Starts CUDA device `index` with one tiny round trip, so that a missing driver, a missing
/// NVRTC (which compiles the kernels) or a device that does not exist is one clear error here
/// instead of a panic deep inside the backend in the middle of a command. Each device is
/// probed once per process; later calls (the command's checks, the backend choice, the device
/// list) get it at once.
#[cfg(feature = "cuda")]
pub fn start_cuda(index: usize) -> Result<burn::backend::cuda::CudaDevice> {
    use burn::tensor::Tensor;
    static STARTED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
    let device = burn::backend::cuda::CudaDevice::new(index);
    let mut probed = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    if probed.contains(&index) {
        return Ok(device);
    }
    // The backend reports these failures by panicking, in its device thread as often as in
    // ours (ours then only sees a closed channel): every panic message of the probe is kept,
    // the default hook (and its backtrace) silenced meanwhile, and the messages turned into
    // one line.
    let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let hook = std::panic::take_hook();
    let kept = messages.clone();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        kept.lock().unwrap_or_else(|e| e.into_inner()).push(message);
    }));
    let started = std::panic::catch_unwind(|| {
        // cubecl panics on a `cubecl.toml` it cannot parse: inside, to become the one line too.
        crate::cuda_kernels::apply_once();
        let probe = Tensor::<CudaBackend, 1>::ones([4], &device) * 2.0;
        probe.sum().into_scalar()
    });
    std::panic::set_hook(hook);
    match started {
        Ok(8.0) => {
            probed.push(index);
            Ok(device)
        }
        Ok(sum) => bail!("cuda:{index}: a test computation gave {sum} instead of 8"),
        Err(_) => {
            let messages = messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .join("\n");
            bail!("{}", explain_cuda_failure(index, &messages))
        }
    }
}

/// One line saying what is missing, from the message CUDA's bindings panicked with.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
fn explain_cuda_failure(index: usize, message: &str) -> String {
    // The first message is the cause; those after it are its consequences in other threads.
    let first_line = message.lines().next().unwrap_or("").trim();
    if message.contains("load the \"cuda\"") || message.contains("load the \"nvcuda\"") {
        format!(
            "cuda:{index}: the NVIDIA driver library (libcuda.so) was not found; install the \
             NVIDIA driver, or add the folder holding libcuda.so to LD_LIBRARY_PATH"
        )
    } else if message.contains("load the \"nvrtc\"") {
        format!(
            "cuda:{index}: NVRTC (libnvrtc.so, from the CUDA toolkit), which compiles inkstone's \
             GPU kernels, was not found; install the CUDA toolkit or add its lib64 folder to \
             LD_LIBRARY_PATH"
        )
    } else if message.contains("doesn't have the right format") {
        format!(
            "cuda:{index}: the cubecl.toml in this folder or a folder above could not be read: \
             {first_line}"
        )
    } else if message.contains("CUDA_ERROR_NO_DEVICE") {
        format!("cuda:{index}: the NVIDIA driver is installed but sees no GPU")
    } else if message.contains("CUDA_ERROR_INVALID_DEVICE") {
        format!(
            "cuda:{index}: there is no such device on this machine (`nvidia-smi -L` lists them)"
        )
    } else {
        format!("cuda:{index}: CUDA failed to start: {first_line}")
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
                let $device: burn::tensor::Device<$B> = Default::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::device::DeviceChoice::Cuda(index) => {
                type $B = $crate::device::CudaTrainBackend;
                let $device = $crate::device::start_cuda(index)?;
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
                let $device: burn::tensor::Device<$B> = Default::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::device::DeviceChoice::Cuda(index) => {
                type $B = $crate::device::CudaBackend;
                let $device = $crate::device::start_cuda(index)?;
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

    /// The messages cudarc 0.19 panics with when a library or a device is missing.
    #[test]
    fn cuda_start_failures_say_what_is_missing() {
        let no_driver = "Unable to dynamically load the \"cuda\" shared library - searched for \
                         library names: [\"libcuda.so\"]. Ensure that `LD_LIBRARY_PATH` has...";
        assert!(explain_cuda_failure(0, no_driver).contains("libcuda.so) was not found"));
        let no_nvrtc = "Unable to dynamically load the \"nvrtc\" shared library - searched";
        assert!(explain_cuda_failure(1, no_nvrtc).starts_with("cuda:1: NVRTC"));
        let no_device = "called `Result::unwrap()` on an `Err` value: \
                         DriverError(CUDA_ERROR_INVALID_DEVICE, \"invalid device ordinal\")";
        assert!(explain_cuda_failure(3, no_device).contains("no such device"));
        let bad_toml = "The file provided doesn't have the right format => Error { message: \
                        \"invalid type\" }";
        assert!(explain_cuda_failure(0, bad_toml).contains("cubecl.toml"));
        let other = "something else\nsecond line";
        assert_eq!(
            explain_cuda_failure(0, other),
            "cuda:0: CUDA failed to start: something else"
        );
    }
}
