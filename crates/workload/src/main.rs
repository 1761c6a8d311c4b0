//! `gen3-cwlogs-workload [--form kinesis|firehose|s3-archive] [--records N]
//! [--events-per-record N] [--seed N] [--log-group NAME] > payload`
//! Writes one payload to stdout and what it holds to stderr.

use std::io::Write;

use gen3_cwlogs_workload::{Form, Spec, generate};

fn main() {
    let mut spec = Spec::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&format!("{arg} needs a value")));
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage(&format!("{arg}: not a number")));
        match arg.as_str() {
            "--form" => spec.form = Form::from_name(&value).unwrap_or_else(|| usage("unknown form")),
            "--records" => spec.records = number() as usize,
            "--events-per-record" => spec.events_per_record = number() as usize,
            "--seed" => spec.seed = number(),
            "--log-group" => spec.log_group = value.clone(),
            _ => usage(&format!("unknown option {arg}")),
        }
    }
    let generated = generate(&spec);
    std::io::stdout().write_all(&generated.payload).expect("write stdout");
    eprintln!(
        "{{\"payload_bytes\":{},\"events\":{},\"decompressed_bytes\":{}}}",
        generated.payload.len(),
        generated.events,
        generated.decompressed_bytes
    );
}

fn usage(message: &str) -> ! {
    eprintln!(
        "gen3-cwlogs-workload: {message}\nusage: gen3-cwlogs-workload [--form kinesis|firehose|s3-archive] [--records N] [--events-per-record N] [--seed N] [--log-group NAME]"
    );
    std::process::exit(2)
}
