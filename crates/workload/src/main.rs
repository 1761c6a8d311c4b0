//! `gen3-cwlogs-workload`: writes one generated payload to stdout and what
//! it holds (bytes, events) to stderr.

use std::io::Write;

use clap::Parser;
use gen3_cwlogs_workload::{Form, Mix, Spec, generate_mix};

/// Generates a realistic CloudWatch Logs subscription payload (Gen3
/// Kubernetes lines, access logs, syslog, stack traces, non-ASCII).
#[derive(Parser)]
#[command(name = "gen3-cwlogs-workload", version)]
struct Cli {
    /// kinesis (Lambda-style event), firehose (HTTP-endpoint delivery) or
    /// s3-archive (concatenated gzip members).
    #[arg(long, default_value = "kinesis", value_parser = |name: &str| Form::from_name(name).ok_or("kinesis, firehose or s3-archive"))]
    form: Form,
    /// varied (uwsgi-heavy) or gen3-traffic (half gen3 access logs).
    #[arg(long, default_value = "varied", value_parser = |name: &str| Mix::from_name(name).ok_or("varied or gen3-traffic"))]
    mix: Mix,
    #[arg(long, default_value_t = 10)]
    records: usize,
    #[arg(long, default_value_t = 100)]
    events_per_record: usize,
    /// The same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "devplanetv1")]
    log_group: String,
}

fn main() {
    let cli = Cli::parse();
    let spec =
        Spec { form: cli.form, records: cli.records, events_per_record: cli.events_per_record, seed: cli.seed, log_group: cli.log_group };
    let generated = generate_mix(&spec, cli.mix);
    std::io::stdout().write_all(&generated.payload).expect("write stdout");
    eprintln!(
        "{{\"payload_bytes\":{},\"events\":{},\"decompressed_bytes\":{}}}",
        generated.payload.len(),
        generated.events,
        generated.decompressed_bytes
    );
}
