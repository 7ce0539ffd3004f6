//! Named f32 tensors in and out of a [`Network`], with PyTorch's names and layouts
//! (`layers.3.weight`, linear weights `[out, in]`), so a bundle's safetensors read naturally
//! in other tools and map one-to-one onto ONNX initialisers.

use crate::error::ModelError;
use crate::network::{BasicBlock, LayerModule, Network};
use burn::module::{Param, RunningState};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

pub type WeightMap = BTreeMap<String, NamedTensor>;

fn export<B: Backend, const D: usize>(t: Tensor<B, D>) -> NamedTensor {
    NamedTensor {
        shape: t.dims().to_vec(),
        values: t
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("converted to f32"),
    }
}

/// Takes `name` out of `map`, checking its shape.
fn import<B: Backend, const D: usize>(
    map: &mut WeightMap,
    name: &str,
    shape: [usize; D],
    device: &B::Device,
) -> Result<Tensor<B, D>, String> {
    let t = map
        .remove(name)
        .ok_or_else(|| format!("tensor `{name}` is missing"))?;
    if t.shape != shape {
        return Err(format!(
            "tensor `{name}` has shape {:?}, the spec needs {shape:?}",
            t.shape
        ));
    }
    Ok(Tensor::from_data(TensorData::new(t.values, shape), device))
}

fn put_conv<B: Backend>(out: &mut WeightMap, p: &str, m: &Conv2d<B>) {
    out.insert(format!("{p}.weight"), export(m.weight.val()));
    if let Some(b) = &m.bias {
        out.insert(format!("{p}.bias"), export(b.val()));
    }
}

fn take_conv<B: Backend>(
    map: &mut WeightMap,
    p: &str,
    mut m: Conv2d<B>,
) -> Result<Conv2d<B>, String> {
    let device = m.weight.device();
    m.weight = Param::from_tensor(import(
        map,
        &format!("{p}.weight"),
        m.weight.dims(),
        &device,
    )?);
    if let Some(b) = &m.bias {
        m.bias = Some(Param::from_tensor(import(
            map,
            &format!("{p}.bias"),
            b.dims(),
            &device,
        )?));
    }
    Ok(m)
}

fn put_bn<B: Backend>(out: &mut WeightMap, p: &str, m: &BatchNorm<B>) {
    out.insert(format!("{p}.weight"), export(m.gamma.val()));
    out.insert(format!("{p}.bias"), export(m.beta.val()));
    out.insert(format!("{p}.running_mean"), export(m.running_mean.value()));
    out.insert(format!("{p}.running_var"), export(m.running_var.value()));
}

fn take_bn<B: Backend>(
    map: &mut WeightMap,
    p: &str,
    mut m: BatchNorm<B>,
) -> Result<BatchNorm<B>, String> {
    let device = m.gamma.device();
    let dims = m.gamma.dims();
    m.gamma = Param::from_tensor(import(map, &format!("{p}.weight"), dims, &device)?);
    m.beta = Param::from_tensor(import(map, &format!("{p}.bias"), dims, &device)?);
    m.running_mean = RunningState::new(import(map, &format!("{p}.running_mean"), dims, &device)?);
    m.running_var = RunningState::new(import(map, &format!("{p}.running_var"), dims, &device)?);
    Ok(m)
}

fn put_linear<B: Backend>(out: &mut WeightMap, p: &str, m: &Linear<B>) {
    // Burn keeps `[in, out]`; PyTorch, ONNX Gemm (transB) and safetensors users expect `[out, in]`.
    out.insert(format!("{p}.weight"), export(m.weight.val().transpose()));
    if let Some(b) = &m.bias {
        out.insert(format!("{p}.bias"), export(b.val()));
    }
}

fn take_linear<B: Backend>(
    map: &mut WeightMap,
    p: &str,
    mut m: Linear<B>,
) -> Result<Linear<B>, String> {
    let device = m.weight.device();
    let [d_in, d_out] = m.weight.dims();
    let w: Tensor<B, 2> = import(map, &format!("{p}.weight"), [d_out, d_in], &device)?;
    m.weight = Param::from_tensor(w.transpose());
    if let Some(b) = &m.bias {
        m.bias = Some(Param::from_tensor(import(
            map,
            &format!("{p}.bias"),
            b.dims(),
            &device,
        )?));
    }
    Ok(m)
}

fn put_block<B: Backend>(out: &mut WeightMap, p: &str, m: &BasicBlock<B>) {
    put_conv(out, &format!("{p}.conv1"), &m.conv1);
    put_bn(out, &format!("{p}.bn1"), &m.bn1);
    put_conv(out, &format!("{p}.conv2"), &m.conv2);
    put_bn(out, &format!("{p}.bn2"), &m.bn2);
    if let Some(d) = &m.down {
        put_conv(out, &format!("{p}.down.conv"), &d.conv);
        put_bn(out, &format!("{p}.down.bn"), &d.bn);
    }
}

fn take_block<B: Backend>(
    map: &mut WeightMap,
    p: &str,
    mut m: BasicBlock<B>,
) -> Result<BasicBlock<B>, String> {
    m.conv1 = take_conv(map, &format!("{p}.conv1"), m.conv1)?;
    m.bn1 = take_bn(map, &format!("{p}.bn1"), m.bn1)?;
    m.conv2 = take_conv(map, &format!("{p}.conv2"), m.conv2)?;
    m.bn2 = take_bn(map, &format!("{p}.bn2"), m.bn2)?;
    if let Some(mut d) = m.down.take() {
        d.conv = take_conv(map, &format!("{p}.down.conv"), d.conv)?;
        d.bn = take_bn(map, &format!("{p}.down.bn"), d.bn)?;
        m.down = Some(d);
    }
    Ok(m)
}

impl<B: Backend> Network<B> {
    /// Every parameter and running statistic, by name.
    pub fn weights(&self) -> WeightMap {
        let mut out = WeightMap::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("layers.{i}");
            match layer {
                LayerModule::Conv(m) => put_conv(&mut out, &p, m),
                LayerModule::BatchNorm(m) => put_bn(&mut out, &p, m),
                LayerModule::Linear(m) => put_linear(&mut out, &p, m),
                LayerModule::Residual(m) => put_block(&mut out, &p, m),
                _ => {}
            }
        }
        out
    }

    /// Replaces every weight with the one of the same name in `map`. Fails, naming the tensor,
    /// if one is missing, has the wrong shape, or `map` holds a tensor this network lacks.
    pub fn with_weights(self, mut map: WeightMap) -> Result<Self, ModelError> {
        let layers = self
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| {
                let p = format!("layers.{i}");
                Ok(match layer {
                    LayerModule::Conv(m) => LayerModule::Conv(take_conv(&mut map, &p, m)?),
                    LayerModule::BatchNorm(m) => LayerModule::BatchNorm(take_bn(&mut map, &p, m)?),
                    LayerModule::Linear(m) => LayerModule::Linear(take_linear(&mut map, &p, m)?),
                    LayerModule::Residual(m) => LayerModule::Residual(take_block(&mut map, &p, m)?),
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(ModelError::Weights)?;
        if let Some(extra) = map.keys().next() {
            return Err(ModelError::Weights(format!(
                "tensor `{extra}` does not belong to this spec"
            )));
        }
        Ok(Network { layers })
    }
}
