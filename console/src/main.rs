//! `canh`: one binary for Canh's sensors, analyzer, console and compliance tools.

use canh_console::cmd;

// glibc's malloc serializes threads that free what another allocated (records parsed on one
// thread, indexed and dropped on tantivy's): its locks led ingest's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option, by its place in `mi_option_t` (mimalloc v3's `mimalloc.h`; the Rust
/// bindings do not name it). A test reads it back from mimalloc's own report.
mod allocator {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

    /// Memory freed stays with the process. Ingest frees on tantivy's threads what the parser
    /// allocated on its own, a few hundred MB a second: given back to the kernel (after
    /// mimalloc's default 10 ms) it came back as fresh 2 MiB pages the kernel zeroed
    /// (`clear_page_erms`, a tenth of ingest's profile; a million records took 0.7 to 2.7 s of
    /// system time that way, 0.4 to 0.8 s now). The process's memory stays the high-water mark
    /// of its writers' budgets, which it reuses.
    ///
    /// Transparent huge pages stay as mimalloc takes them (its arena, reserved before `main`,
    /// asks for them): turned off for the process (`MIMALLOC_ALLOW_THP=0`, applied at start)
    /// they cost more user time in TLB misses than they saved in system time — a million
    /// records at 85,900–86,600 records/s without them, 81,100–88,900 with, runs alternated.
    pub fn tune() {
        // SAFETY: mi_option_set stores a number in mimalloc's option table, which mimalloc
        // reads atomically; the option is read when memory is next freed.
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }

    #[cfg(test)]
    mod tests {
        use std::ffi::{CStr, c_char, c_void};

        unsafe extern "C" {
            /// mimalloc's report of its options, one line each: `option 'NAME': VALUE`.
            fn mi_options_print_out(out: unsafe extern "C" fn(*const c_char, *mut c_void), arg: *mut c_void);
        }

        unsafe extern "C" fn collect(line: *const c_char, arg: *mut c_void) {
            // SAFETY: mimalloc passes a C string, and `arg` is the String below.
            unsafe { (*(arg as *mut String)).push_str(&CStr::from_ptr(line).to_string_lossy()) }
        }

        #[test]
        fn purge_delay_is_the_option_set() {
            super::tune();
            let mut report = String::new();
            // SAFETY: `collect` only appends to `report`, which outlives the call.
            unsafe { mi_options_print_out(collect, &mut report as *mut String as *mut c_void) };
            assert!(report.contains("option 'purge_delay': -1"), "{report}");
        }
    }
}
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "canh",
    version,
    about = "Canh: network security monitoring and security-level compliance for Vietnamese agencies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a capture with incidents, analyze it, and show where the results are.
    Demo(cmd::demo::DemoArgs),
    /// Analyze capture files offline into conn, dns, http, ssl and files logs.
    Replay(cmd::replay::ReplayArgs),
    /// Write a synthetic agency-LAN capture with planted incidents.
    Gen(cmd::generate::GenArgs),
    /// Validate and list rule packs (Sigma, YARA, IOC lists).
    Rules(cmd::rules::RulesArgs),
    /// Search the event store: records newest first, or an aggregation over them.
    Search(cmd::search::SearchArgs),
    /// The event store: days, records and bytes; retention.
    Store(cmd::store::StoreArgs),
    /// Put NDJSON records (logs of `canh replay`, host logs with a `ts`) into the event store.
    Ingest(cmd::ingest::IngestArgs),
    /// Measure the detection engines apart from decoding (Sigma records/s, YARA MB/s).
    Bench(cmd::bench::BenchArgs),
    /// Organizations: the province, its departments and communes, their units.
    Org(cmd::org::OrgArgs),
    /// Information systems: inventory, import, security level (cấp độ).
    System(cmd::system::SystemArgs),
    /// The requirement catalogs by level; the full text of a standard you hold.
    Catalog(cmd::catalog::CatalogArgs),
    /// Level dossiers: open, follow, act (submit, appraise, approve); regulations, authorities.
    Dossier(cmd::dossier::DossierArgs),
    /// The working-day calendar: Vietnam's holidays and the administrator's edits.
    Calendar(cmd::dossier::CalendarArgs),
    /// Console users, each with one role and one organization.
    User(cmd::user::UserArgs),
    /// The hash-chained audit trail: verify it, anchor it, read it.
    Audit(cmd::audit::AuditArgs),
    /// API tokens for scripts: issue, list, revoke.
    Token(cmd::token::TokenArgs),
    /// The province's certificate authority for its sensors.
    Ca(cmd::sensor::CaArgs),
    /// Sensors: enroll with a one-time token, certify, list, revoke.
    // Boxed: the sensor's flags are many, and every other command would carry their size.
    Sensor(Box<cmd::sensor::SensorArgs>),
    /// The web console and its API over HTTPS.
    Server(cmd::server::ServerArgs),
    /// Take sensors' batches from NATS JetStream into an event store (one of a consumer group).
    Indexer(cmd::indexer::IndexerArgs),
}

fn main() {
    allocator::tune();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CANH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Gen(a) => cmd::generate::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Search(a) => cmd::search::run(a),
        Command::Store(a) => cmd::store::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Org(a) => cmd::org::run(a),
        Command::System(a) => cmd::system::run(a),
        Command::Dossier(a) => cmd::dossier::run(a),
        Command::Catalog(a) => cmd::catalog::run(a),
        Command::Ca(a) => cmd::sensor::run_ca(a),
        Command::Sensor(a) => cmd::sensor::run(*a),
        Command::Calendar(a) => cmd::dossier::run_calendar(a),
        Command::User(a) => cmd::user::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Token(a) => cmd::token::run(a),
        Command::Server(a) => cmd::server::run(a),
        Command::Indexer(a) => cmd::indexer::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        // The reader went away (`canh search … | head`): nothing more to say to anyone.
        Err(e) if closed_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader closed it.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            json.io_error_kind()
        } else if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            match csv.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            }
        } else {
            None
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
