use burn_backend::ops::ConvOptions;
use burn_std::Shape;
use cubek::convolution::{AcceleratedTileKind, components::ConvSetupError};

#[cfg(feature = "autotune")]
use crate::kernel::conv::{backward_weight::wgrad_autotune, dgrad_autotune};
use crate::{
    CubeRuntime,
    kernel::conv::{
        backward_data::{fallback::conv_data_backward_fallback, implicit_gemm::*},
        backward_weight::{fallback::conv_weight_backward_fallback, implicit_gemm::*},
        forward::implicit_gemm::*,
    },
    ops::{permute_nchw_to_nhwc, permute_nchw_to_nhwc_shape, permute_nhwc_to_nchw},
    tensor::CubeTensor,
};

use super::conv_direct;
#[cfg(feature = "autotune")]
use super::forward::conv_autotune;

/// The strategy to be used when launching a convolution kernel.
pub enum ConvStrategy {
    /// A simple direct convolution.
    Direct,
    #[cfg(feature = "autotune")]
    /// Using autotune to choose the best kernel based on runtime information.
    Autotune,
    /// Implicit GEMM implementation of convolution. Lower memory usage but requires CMMA and
    /// has constraints on tensor shape.
    ImplicitGemm,
}

// inkstone patch: a process-wide switch between autotuned and fixed convolution kernels.
// Autotune benchmarks every candidate kernel for every new shape, each compiled by NVRTC first;
// on a fresh machine ResNet-18 spent minutes in it before its first steps. Fixed kernels use
// one implicit-GEMM kernel for every shape (then the default one, then the direct kernel,
// where a kernel's setup refuses the shape) and col2im for transposed convolutions, with no
// benchmarking.
static FIXED_CONV_KERNEL: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// inkstone patch: the implicit-GEMM kernel that fixed convolutions use (the names of the
/// autotune candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedConvKernel {
    /// `simple_sync_cmma`: what `ConvStrategy::ImplicitGemm` always used.
    SyncCmma,
    /// `simple_sync_mma`.
    SyncMma,
    /// `simple_async_mma`.
    AsyncMma,
    /// `simple_tma_mma` (tensor memory accelerator: Hopper and later).
    TmaMma,
}

/// inkstone patch: use `kernel` for every later convolution that uses the default strategy,
/// or autotune again (`None`, the default where the `autotune` feature is on).
pub fn set_fixed_conv_kernel(kernel: Option<FixedConvKernel>) {
    let code = match kernel {
        None => 0,
        Some(FixedConvKernel::SyncCmma) => 1,
        Some(FixedConvKernel::SyncMma) => 2,
        Some(FixedConvKernel::AsyncMma) => 3,
        Some(FixedConvKernel::TmaMma) => 4,
    };
    FIXED_CONV_KERNEL.store(code, core::sync::atomic::Ordering::Relaxed);
}

/// inkstone patch: the kernel [`set_fixed_conv_kernel`] chose, if any.
pub fn fixed_conv_kernel() -> Option<FixedConvKernel> {
    match FIXED_CONV_KERNEL.load(core::sync::atomic::Ordering::Relaxed) {
        1 => Some(FixedConvKernel::SyncCmma),
        2 => Some(FixedConvKernel::SyncMma),
        3 => Some(FixedConvKernel::AsyncMma),
        4 => Some(FixedConvKernel::TmaMma),
        _ => None,
    }
}

/// inkstone patch: runs the chosen fixed kernel; where its setup refuses the shape, the default
/// implicit GEMM; where that refuses too, `fallback`.
fn fixed_or_fallback<T>(
    run: impl Fn(FixedConvKernel) -> Result<T, ConvSetupError>,
    fallback: impl FnOnce() -> Result<T, ConvSetupError>,
) -> Result<T, ConvSetupError> {
    let chosen = fixed_conv_kernel().unwrap_or(FixedConvKernel::SyncCmma);
    run(chosen)
        .or_else(|err| match chosen {
            FixedConvKernel::SyncCmma => Err(err),
            _ => run(FixedConvKernel::SyncCmma),
        })
        .or_else(|_| fallback())
}

impl Default for ConvStrategy {
    fn default() -> Self {
        // inkstone patch: fixed kernels when asked for.
        if fixed_conv_kernel().is_some() {
            return ConvStrategy::ImplicitGemm;
        }
        // if autotune is enabled, default to autotune
        #[cfg(feature = "autotune")]
        return ConvStrategy::Autotune;

        // if autotune is disabled, default to the more memory-conservative algorithm
        #[cfg(not(feature = "autotune"))]
        ConvStrategy::Direct
    }
}

/// Performs an N-dimensional convolution with the given strategy
///
/// * `input` - The input feature map
/// * `weight` - The weights (filter) applied to each kernel
/// * `bias` - The bias added to each channel
/// * `options` - The options to use for the convolution
/// * `strategy` - The convolution algorithm to use. Autotune will pick the fastest available option.
pub fn conv_forward<R: CubeRuntime, const N: usize>(
    input: CubeTensor<R>,
    weight: CubeTensor<R>,
    bias: Option<CubeTensor<R>>,
    options: ConvOptions<N>,
    strategy: ConvStrategy,
) -> Result<CubeTensor<R>, ConvSetupError> {
    let input = permute_nchw_to_nhwc(input);
    let weight = permute_nchw_to_nhwc(weight);

    let out = conv_forward_nhwc(input, weight, bias, options, strategy)?;

    Ok(permute_nhwc_to_nchw(out))
}

/// Performs an N-dimensional convolution with the given strategy on NHWC inputs/outputs
///
/// * `input` - The input feature map
/// * `weight` - The weights (filter) applied to each kernel
/// * `bias` - The bias added to each channel
/// * `options` - The options to use for the convolution
/// * `strategy` - The convolution algorithm to use. Autotune will pick the fastest available option.
pub fn conv_forward_nhwc<R: CubeRuntime, const N: usize>(
    input: CubeTensor<R>,
    weight: CubeTensor<R>,
    bias: Option<CubeTensor<R>>,
    options: ConvOptions<N>,
    strategy: ConvStrategy,
) -> Result<CubeTensor<R>, ConvSetupError> {
    match strategy {
        ConvStrategy::Direct => conv_direct::<R, N>(input, weight, bias, options),
        #[cfg(feature = "autotune")]
        ConvStrategy::Autotune => Ok(conv_autotune::<R, N>(input, weight, bias, options)),
        ConvStrategy::ImplicitGemm => {
            if options.groups != 1 {
                conv_direct::<R, N>(input, weight, bias, options)
            } else {
                // inkstone patch: the chosen kernel, falling back where its setup refuses the
                // shape, instead of an error (which the backend unwraps).
                fixed_or_fallback(
                    |kernel| {
                        let (i, w, b, o) =
                            (input.clone(), weight.clone(), bias.clone(), options.clone());
                        match kernel {
                            FixedConvKernel::SyncCmma => {
                                conv_gemm_simple_sync(i, w, b, o, AcceleratedTileKind::Cmma)
                            }
                            FixedConvKernel::SyncMma => {
                                conv_gemm_simple_sync(i, w, b, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::AsyncMma => {
                                conv_gemm_simple_async(i, w, b, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::TmaMma => {
                                conv_gemm_simple_tma(i, w, b, o, AcceleratedTileKind::Mma)
                            }
                        }
                    },
                    || {
                        conv_direct::<R, N>(
                            input.clone(),
                            weight.clone(),
                            bias.clone(),
                            options.clone(),
                        )
                    },
                )
            }
        }
    }
}

/// Performs an N-dimensional convolution backwards pass with regard to weight, with the given strategy
///
/// * `input` - The input feature map
/// * `out_grad` - The output gradients
/// * `weight_shape` - The shape of the weights/weight gradients
/// * `options` - The options used for the convolution
/// * `strategy` - The convolution algorithm to use. Autotune will pick the fastest available option.
pub fn conv_weight_backward<R: CubeRuntime, const N: usize>(
    input: CubeTensor<R>,
    out_grad: CubeTensor<R>,
    weight_shape: Shape,
    options: ConvOptions<N>,
    strategy: ConvStrategy,
) -> Result<CubeTensor<R>, ConvSetupError> {
    let input = permute_nchw_to_nhwc(input);
    let out_grad = permute_nchw_to_nhwc(out_grad);
    let weight_shape = permute_nchw_to_nhwc_shape(weight_shape);

    let weight_grad = match strategy {
        ConvStrategy::Direct => {
            conv_weight_backward_fallback::<R, N>(input, out_grad, weight_shape, options)
        }
        #[cfg(feature = "autotune")]
        ConvStrategy::Autotune => Ok(wgrad_autotune::<R, N>(
            input,
            out_grad,
            weight_shape,
            options,
        )),
        ConvStrategy::ImplicitGemm => {
            if options.groups != 1 {
                conv_weight_backward_fallback::<R, N>(input, out_grad, weight_shape, options)
            } else {
                // inkstone patch: the chosen kernel, falling back where its setup refuses.
                fixed_or_fallback(
                    |kernel| {
                        let (i, g, w, o) = (
                            input.clone(),
                            out_grad.clone(),
                            weight_shape.clone(),
                            options.clone(),
                        );
                        match kernel {
                            FixedConvKernel::SyncCmma => {
                                wgrad_gemm_simple_sync(i, g, w, o, AcceleratedTileKind::Cmma)
                            }
                            FixedConvKernel::SyncMma => {
                                wgrad_gemm_simple_sync(i, g, w, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::AsyncMma => {
                                wgrad_gemm_simple_async(i, g, w, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::TmaMma => {
                                wgrad_gemm_simple_tma(i, g, w, o, AcceleratedTileKind::Mma)
                            }
                        }
                    },
                    || {
                        conv_weight_backward_fallback::<R, N>(
                            input.clone(),
                            out_grad.clone(),
                            weight_shape.clone(),
                            options.clone(),
                        )
                    },
                )
            }
        }
    }?;

    Ok(permute_nhwc_to_nchw(weight_grad))
}

/// Performs an N-dimensional convolution backwards data pass with the given strategy
///
/// * `input` - The input feature map
/// * `weight` - The weights (filter) applied to each kernel
/// * `in_shape` - The shape of the input to the layer
/// * `options` - The options to use for the convolution
/// * `strategy` - The convolution algorithm to use. Autotune will pick the fastest available option.
pub fn conv_data_backward<R: CubeRuntime, const N: usize>(
    out_grad: CubeTensor<R>,
    weights: CubeTensor<R>,
    in_shape: Shape,
    options: ConvOptions<N>,
    strategy: ConvStrategy,
) -> Result<CubeTensor<R>, ConvSetupError> {
    let out_grad = permute_nchw_to_nhwc(out_grad);
    let weights = permute_nchw_to_nhwc(weights);
    let in_shape = permute_nchw_to_nhwc_shape(in_shape);

    let weight_grad = match strategy {
        ConvStrategy::Direct => {
            conv_data_backward_fallback::<R, N>(out_grad, weights, in_shape, options)?
        }
        #[cfg(feature = "autotune")]
        ConvStrategy::Autotune => dgrad_autotune::<R, N>(out_grad, weights, in_shape, options),
        ConvStrategy::ImplicitGemm => {
            if options.groups != 1 || options.stride.iter().any(|&s| s != 1) {
                conv_data_backward_fallback::<R, N>(out_grad, weights, in_shape, options)?
            } else {
                // inkstone patch: the chosen kernel, falling back where its setup refuses.
                fixed_or_fallback(
                    |kernel| {
                        let (g, w, s, o) = (
                            out_grad.clone(),
                            weights.clone(),
                            in_shape.clone(),
                            options.clone(),
                        );
                        match kernel {
                            FixedConvKernel::SyncCmma => {
                                dgrad_gemm_simple_sync(g, w, s, o, AcceleratedTileKind::Cmma)
                            }
                            FixedConvKernel::SyncMma => {
                                dgrad_gemm_simple_sync(g, w, s, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::AsyncMma => {
                                dgrad_gemm_simple_async(g, w, s, o, AcceleratedTileKind::Mma)
                            }
                            FixedConvKernel::TmaMma => {
                                dgrad_gemm_simple_tma(g, w, s, o, AcceleratedTileKind::Mma)
                            }
                        }
                    },
                    || {
                        conv_data_backward_fallback::<R, N>(
                            out_grad.clone(),
                            weights.clone(),
                            in_shape.clone(),
                            options.clone(),
                        )
                    },
                )?
            }
        }
    };

    Ok(permute_nhwc_to_nchw(weight_grad))
}
