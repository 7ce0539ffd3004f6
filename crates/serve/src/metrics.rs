//! Prometheus metrics: requests by route and status, latency, batch sizes, inference time,
//! models loaded and load errors, open and refused connections.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabel {
    pub model: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteStatus, Counter>,
    pub latency: Histograms<Route>,
    pub batch_size: Histograms<ModelLabel>,
    pub inference: Histograms<ModelLabel>,
    pub models_loaded: Gauge,
    pub load_errors: Gauge,
    pub connections_open: Gauge,
    pub connections_refused: Counter,
}

fn latency_buckets() -> Histogram {
    // 100 µs .. ~6.5 s
    Histogram::new(exponential_buckets(1e-4, 2.0, 17))
}

fn batch_buckets() -> Histogram {
    // 1, 2, 4 .. 512
    Histogram::new(exponential_buckets(1.0, 2.0, 10))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("inkstone");
        let requests = Family::default();
        let latency: Histograms<Route> = Family::new_with_constructor(latency_buckets);
        let batch_size: Histograms<ModelLabel> = Family::new_with_constructor(batch_buckets);
        let inference: Histograms<ModelLabel> = Family::new_with_constructor(latency_buckets);
        let models_loaded = Gauge::default();
        let load_errors = Gauge::default();
        let connections_open = Gauge::default();
        let connections_refused = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by route",
            latency.clone(),
        );
        registry.register(
            "request_batch_size",
            "Inputs in the batch each request ran in",
            batch_size.clone(),
        );
        registry.register(
            "request_inference_duration_seconds",
            "Time the network took on the batch each request ran in",
            inference.clone(),
        );
        registry.register(
            "models_loaded",
            "Model versions being served",
            models_loaded.clone(),
        );
        registry.register(
            "model_load_errors",
            "Bundles in the registry folder that could not be loaded",
            load_errors.clone(),
        );
        registry.register(
            "connections_open",
            "TCP connections being served",
            connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed on arrival because the connection cap was reached",
            connections_refused.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            batch_size,
            inference,
            models_loaded,
            load_errors,
            connections_open,
            connections_refused,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, route: &str, status: u16, elapsed: Duration) {
        let route = route.to_string();
        self.requests
            .get_or_create(&RouteStatus {
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route { route })
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_batch(&self, model: &str, size: usize, computed: Duration) {
        let label = ModelLabel {
            model: model.to_string(),
        };
        self.batch_size.get_or_create(&label).observe(size as f64);
        self.inference
            .get_or_create(&label)
            .observe(computed.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
