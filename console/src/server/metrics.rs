//! Prometheus metrics (`GET /metrics`, for a scraper with an API token): each sensor's
//! deliveries and last heartbeat (of the caller's organizations), and what the host-log
//! receivers took. Built afresh from the state at each scrape with prometheus-client's
//! registry and encoder (OpenMetrics text).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Extension, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::routes::{App, Principal};
use super::triage::{blocking, scope};
use crate::state::sensor;

type Labels = Vec<(String, String)>;

/// The metrics of these sensors and host-log counts, as OpenMetrics text.
pub fn render(statuses: &[sensor::Status], hostlogs: Option<&super::hostlogs::Counts>, now: i64) -> String {
    let mut registry = Registry::with_prefix("canh");
    let counter = |registry: &mut Registry, name: &str, help: &str| {
        let f = Family::<Labels, Counter>::default();
        registry.register(name, help, f.clone());
        f
    };
    let gauge = |registry: &mut Registry, name: &str, help: &str| {
        let f = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        registry.register(name, help, f.clone());
        f
    };
    let records = counter(&mut registry, "sensor_records", "Records and alerts the sensor delivered (committed)");
    let batches = counter(&mut registry, "sensor_batches", "Batches the sensor delivered (committed)");
    let lost = counter(&mut registry, "sensor_spool_dropped_records", "Records the sensor's full spool dropped");
    let received = counter(&mut registry, "sensor_received_packets", "Frames the kernel handed to the sensor");
    let dropped = counter(&mut registry, "sensor_kernel_dropped_packets", "Frames the kernel dropped for the sensor");
    let heard = gauge(&mut registry, "sensor_heartbeat_age_seconds", "Seconds since the sensor's last heartbeat");
    let spool = gauge(&mut registry, "sensor_spool_batches", "Batches waiting in the sensor's spool");
    let rate = gauge(&mut registry, "sensor_records_per_second", "Records per second the sensor sealed lately");
    let clock = gauge(&mut registry, "sensor_clock_offset_seconds", "The sensor's clock minus the server's");
    for s in statuses {
        let l: Labels = vec![("sensor".into(), s.sensor.name.clone()), ("org".into(), s.sensor.org.clone())];
        records.get_or_create(&l).inc_by(s.delivered.records);
        batches.get_or_create(&l).inc_by(s.delivered.batches);
        lost.get_or_create(&l).inc_by(s.delivered.dropped_records);
        if let Some(h) = &s.health {
            received.get_or_create(&l).inc_by(h.received_packets());
            dropped.get_or_create(&l).inc_by(h.kernel_dropped());
            heard.get_or_create(&l).set((now - h.received) as f64);
            spool.get_or_create(&l).set(h.spool_batches() as f64);
            rate.get_or_create(&l).set(h.records_per_s());
            clock.get_or_create(&l).set(-h.clock_offset);
        }
    }
    if let Some(c) = hostlogs {
        let events = counter(&mut registry, "hostlog_events", "Host log events the receivers took, by outcome");
        for (outcome, n) in
            [("received", &c.received), ("malformed", &c.malformed), ("unmapped", &c.unmapped), ("dropped", &c.dropped)]
        {
            events.get_or_create(&vec![("outcome".into(), outcome.into())]).inc_by(n.load(Ordering::Relaxed));
        }
        let alerts = counter(&mut registry, "hostlog_alerts", "Alerts Sigma's host rules raised on host logs");
        alerts.get_or_create(&Vec::new()).inc_by(c.alerts.load(Ordering::Relaxed));
    }
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String");
    out
}

/// The content type of OpenMetrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    let found = blocking(&app, move |app| {
        let scope = scope(app, &p)?;
        let all = super::sensors::statuses_in_scope(app, &scope)?;
        // Host logs are the province's: counted for those who see every organization.
        let hostlogs = if scope.is_none() { app.hostlogs.get().cloned() } else { None };
        Ok(render(&all, hostlogs.as_ref().map(|h| &h.counts), crate::state::now_unix()))
    })
    .await;
    match found {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(f) => f.page(crate::server::i18n::Lang::En),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sensor::{Delivered, Health, Sensor, Status};

    #[test]
    fn sensors_and_host_logs_as_openmetrics() {
        let status = Status {
            sensor: Sensor {
                name: "cb-01".into(),
                org: "so-a".into(),
                serial: Some("ab".into()),
                not_after: None,
                revoked: None,
                token_expires: None,
            },
            delivered: Delivered { last_seq: 3, batches: 3, records: 506, ..Delivered::default() },
            health: Some(Health {
                received: 1000,
                clock_offset: -1.5,
                data: serde_json::json!({"received": 900, "kernel_dropped": 7, "spool_batches": 2}),
                raised: Vec::new(),
            }),
        };
        let counts = crate::server::hostlogs::Counts::default();
        counts.received.store(18, Ordering::Relaxed);
        let text = render(&[status], Some(&counts), 1010);
        for line in [
            "canh_sensor_records_total{sensor=\"cb-01\",org=\"so-a\"} 506",
            "canh_sensor_kernel_dropped_packets_total{sensor=\"cb-01\",org=\"so-a\"} 7",
            "canh_sensor_heartbeat_age_seconds{sensor=\"cb-01\",org=\"so-a\"} 10.0",
            "canh_sensor_clock_offset_seconds{sensor=\"cb-01\",org=\"so-a\"} 1.5",
            "canh_hostlog_events_total{outcome=\"received\"} 18",
            "# EOF",
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
    }
}
