//! `canh ca init` and `canh sensor enroll | certify | list | revoke`: the province's CA and its
//! sensors' identities. A sensor is enrolled by name and organization with a one-time token;
//! its certificate is signed from its own request, naming what the enrollment says.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::server::ca::{Ca, sensor_request};
use crate::state::{Actor, sensor};

#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(subcommand)]
    pub command: CaCommand,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Make the province's CA for its sensors (once).
    Init {
        /// The province, as the CA's name says it.
        #[arg(long, default_value = "Tỉnh")]
        province: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SensorArgs {
    #[command(subcommand)]
    pub command: Option<SensorCommand>,
    #[command(flatten)]
    pub run: super::sensor_run::RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum SensorCommand {
    /// Enroll a sensor (or re-enroll it for a new certificate): prints its one-time token.
    Enroll {
        name: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Redeem a token with the sensor's certificate request (PEM); without --csr, make the
    /// sensor's key and request here. Writes the sensor's identity directory: sensor.crt,
    /// sensor.key (when made here) and ca.crt, what `canh sensor --identity DIR` reads.
    Certify {
        #[arg(long)]
        token: String,
        #[arg(long)]
        csr: Option<PathBuf>,
        /// The identity directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The enrolled sensors and their certificates.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Each sensor's health: last heartbeat, packets and drops, records per second, spool
    /// depth, rules, clock offset, and what is wrong.
    Status {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Renew this sensor's certificate with its server now (the sensor does it by itself when a
    /// third of the validity is left).
    Renew {
        /// The sensor's identity directory.
        #[arg(long, value_name = "DIR", default_value = "canh-sensor")]
        identity: PathBuf,
        #[arg(long, env = "CANH_SENSOR_SERVER", value_name = "HOST:PORT")]
        server: String,
    },
    /// Revoke a sensor: the server refuses its certificate at once.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run_ca(args: CaArgs) -> Result<i32> {
    match args.command {
        CaCommand::Init { province, data } => {
            let config = data.load()?;
            let cert = Ca::init(&data.data_dir(&config), &province)?;
            println!("the province CA: {} (its key beside it, readable by its owner only)", cert.display());
        }
    }
    Ok(0)
}

pub fn run(args: SensorArgs) -> Result<i32> {
    let actor = Actor::cli();
    let Some(command) = args.command else { return super::sensor_run::run(args.run) };
    match command {
        SensorCommand::Enroll { name, org, data } => {
            let mut state = super::state(&data)?;
            let token = state.change(|tx| sensor::enroll(tx, &actor, &name, &org))?;
            println!("sensor {name} of {org} enrolled; its one-time token (valid 24 hours):\n{token}");
        }
        SensorCommand::Certify { token, csr, out, data } => {
            let config = data.load()?;
            let ca = Ca::load(&data.data_dir(&config))?;
            let (key, request) = match csr {
                Some(path) => (None, std::fs::read_to_string(&path).with_context(|| path.display().to_string())?),
                None => {
                    let (key, csr) = sensor_request("sensor")?;
                    (Some(key), csr)
                }
            };
            let mut state = super::state(&data)?;
            let (s, pem) =
                state.change(|tx| sensor::redeem(tx, &token, |name, org| ca.sign_sensor(&request, name, org)))?;
            std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
            let cert = out.join(super::sensor_run::CERT);
            std::fs::write(&cert, pem).with_context(|| cert.display().to_string())?;
            std::fs::write(out.join(super::sensor_run::CA), ca.cert_pem())
                .with_context(|| out.display().to_string())?;
            if let Some(key) = key {
                crate::server::tls::write_private(&out.join(super::sensor_run::KEY), key.as_bytes())?;
            }
            println!(
                "{}: certificate for sensor {} of {} (serial {})",
                cert.display(),
                terminal(&s.name),
                terminal(&s.org),
                s.serial.unwrap_or_default()
            );
        }
        SensorCommand::List { data } => {
            let state = super::state(&data)?;
            println!("{:<20} {:<16} {:<34} {:<22} STATE", "SENSOR", "ORG", "SERIAL", "EXPIRES");
            for s in sensor::list(state.conn())? {
                let expires =
                    s.not_after.map(|t| crate::when::Zone::vietnam().seconds(t as f64)).unwrap_or_else(|| "-".into());
                let state = match (&s.revoked, s.token_expires) {
                    (Some(_), _) => "revoked",
                    (None, Some(_)) => "token issued",
                    (None, None) => "active",
                };
                println!(
                    "{:<20} {:<16} {:<34} {:<22} {state}",
                    terminal(&s.name),
                    terminal(&s.org),
                    s.serial.as_deref().unwrap_or("-"),
                    expires
                );
            }
        }
        SensorCommand::Status { json, data } => {
            let config = data.load()?;
            let state = super::state(&data)?;
            let limits = config.server.sensor_limits();
            let now = crate::state::now_unix();
            let rows = sensor::statuses(state.conn())?;
            if json {
                let all: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|s| {
                        let problems = crate::server::ingest::health::problems(s, now, &limits);
                        serde_json::json!({
                            "name": s.sensor.name, "org": s.sensor.org, "revoked": s.sensor.revoked.is_some(),
                            "delivered": s.delivered, "health": s.health,
                            "problems": problems.iter().map(|p| serde_json::json!({"condition": p.condition, "evidence": p.evidence})).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(0);
            }
            println!(
                "{:<16} {:<12} {:<10} {:>9} {:>12} {:>7} {:>9} {:>7} {:>8}  RULES",
                "SENSOR", "ORG", "STATE", "HEARD", "PACKETS", "DROP%", "REC/S", "SPOOL", "CLOCK"
            );
            for s in &rows {
                println!("{}", status_row(s, now, &limits));
            }
        }
        SensorCommand::Renew { identity, server } => {
            let serial = super::sensor_run::renew(&identity, &server)?;
            println!("{}: renewed (serial {serial}); the old certificate is refused from now on", identity.display());
        }
        SensorCommand::Revoke { name, data } => {
            let mut state = super::state(&data)?;
            state.change(|tx| sensor::revoke(tx, &actor, &name))?;
            println!("sensor {name} revoked");
        }
    }
    Ok(0)
}

/// One sensor as `canh sensor status` shows it.
fn status_row(s: &sensor::Status, now: i64, limits: &crate::server::ingest::health::Limits) -> String {
    let problems = crate::server::ingest::health::problems(s, now, limits);
    let state = crate::server::ingest::health::state(s, &problems);
    let Some(h) = &s.health else {
        return format!("{:<16} {:<12} {state:<10}", terminal(&s.sensor.name), terminal(&s.sensor.org));
    };
    format!(
        "{:<16} {:<12} {state:<10} {:>8}s {:>12} {:>7.2} {:>9.0} {:>7} {:>+7.1}s  {}",
        terminal(&s.sensor.name),
        terminal(&s.sensor.org),
        now - h.received,
        h.received_packets(),
        h.drop_rate() * 100.0,
        h.records_per_s(),
        h.spool_batches(),
        h.clock_ahead(),
        terminal(h.rules())
    )
}
