//! Realistic CloudWatch Logs subscription payloads for benchmarks and
//! tests: the kinds of lines a Gen3 commons ships (fluentd-wrapped container
//! lines, gen3 access logs, plain syslog text, multi-line stack traces,
//! non-ASCII text), batched into envelopes, gzip'd, and wrapped as a Lambda
//! Kinesis event, a Firehose delivery or an S3 archive. Deterministic for a
//! given seed.

use std::fmt::Write as _;

use base64::Engine as _;
use gen3_cwlogs::write::write_str;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Kinesis,
    Firehose,
    S3Archive,
}

impl Form {
    pub fn from_name(name: &str) -> Option<Form> {
        match name {
            "kinesis" => Some(Form::Kinesis),
            "firehose" => Some(Form::Firehose),
            "s3-archive" => Some(Form::S3Archive),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub form: Form,
    pub records: usize,
    pub events_per_record: usize,
    pub seed: u64,
    pub log_group: String,
}

impl Default for Spec {
    fn default() -> Self {
        Spec { form: Form::Kinesis, records: 10, events_per_record: 100, seed: 1, log_group: "devplanetv1".into() }
    }
}

/// Which log lines a payload holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// Kubernetes lines of uwsgi text (50%), gen3 access logs inside
    /// Kubernetes lines (25%), syslog text (15%), Python stack traces (5%),
    /// non-ASCII text (5%).
    Varied,
    /// As a Gen3 commons' revproxy-heavy traffic: gen3 access logs inside
    /// Kubernetes lines (50%), uwsgi text (25%), syslog (15%), stack traces
    /// (5%), non-ASCII (5%).
    Gen3Traffic,
}

impl Mix {
    pub fn from_name(name: &str) -> Option<Mix> {
        match name {
            "varied" => Some(Mix::Varied),
            "gen3-traffic" => Some(Mix::Gen3Traffic),
            _ => None,
        }
    }
}

/// What was generated, to report rates against.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    pub payload: Vec<u8>,
    pub events: u64,
    /// Total size of the decompressed envelopes.
    pub decompressed_bytes: u64,
    /// The largest decompressed envelope (one record).
    pub largest_record_bytes: u64,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SERVICES: [&str; 6] = ["sheepdog", "peregrine", "fence", "indexd", "arborist", "revproxy"];
const PATHS: [&str; 5] = [
    "/api/v0/submission/graphql",
    "/user/user",
    "/index/index/?hash=md5:0a1b2c3d",
    "/api/search/graphql?query=%7Bcase%7D",
    "/peregrine/_status",
];

/// A payload of the `Varied` mix.
pub fn generate(spec: &Spec) -> Generated {
    generate_mix(spec, Mix::Varied)
}

/// A payload of `mix`'s log lines.
pub fn generate_mix(spec: &Spec, mix: Mix) -> Generated {
    let mut rng = Rng(spec.seed.max(1));
    let mut generated = Generated::default();
    let mut members = Vec::with_capacity(spec.records);
    let mut clock: i64 = 1_551_461_674_000;
    for record in 0..spec.records {
        let service = rng.pick(&SERVICES);
        let stream = format!(
            "kubernetes.var.log.containers.{service}-deployment-{:x}-abcde_default_{service}-{:016x}.log",
            rng.next() % 0xffff_ffff,
            rng.next()
        );
        let mut envelope = String::with_capacity(spec.events_per_record * 1100 + 512);
        envelope.push_str("{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"707767160287\",\"logGroup\":");
        write_str(&mut envelope, &spec.log_group);
        envelope.push_str(",\"logStream\":");
        write_str(&mut envelope, &stream);
        envelope.push_str(",\"subscriptionFilters\":[");
        write_str(&mut envelope, &format!("{}_subscription", spec.log_group));
        envelope.push_str("],\"logEvents\":[");
        for event in 0..spec.events_per_record {
            if event > 0 {
                envelope.push(',');
            }
            clock += rng.below(50) as i64;
            let message = message(&mut rng, service, mix);
            let _ = write!(envelope, "{{\"id\":\"{:020}{:020}{:016}\",\"timestamp\":{clock},\"message\":", spec.seed, record, event);
            write_str(&mut envelope, &message);
            envelope.push('}');
            generated.events += 1;
        }
        envelope.push_str("]}");
        generated.decompressed_bytes += envelope.len() as u64;
        generated.largest_record_bytes = generated.largest_record_bytes.max(envelope.len() as u64);
        members.push(gzip(envelope.as_bytes()));
    }
    generated.payload = match spec.form {
        Form::S3Archive => members.concat(),
        Form::Kinesis => {
            let mut out = String::from("{\"Records\":[");
            for (index, member) in members.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let sequence = format!("495828633074093197410909621536147358772243012056{index:08}");
                let _ = write!(
                    out,
                    "{{\"kinesis\":{{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"{index:x}\",\"sequenceNumber\":\"{sequence}\",\"data\":\"{data}\",\"approximateArrivalTimestamp\":1551461674.5}},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"shardId-000000000000:{sequence}\",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::433568766270:role/{group}_lambda\",\"awsRegion\":\"us-east-1\",\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:433568766270:stream/{group}_stream\"}}",
                    data = base64::engine::general_purpose::STANDARD.encode(member),
                    group = spec.log_group,
                );
            }
            out.push_str("]}");
            out.into_bytes()
        }
        Form::Firehose => {
            let mut out = String::from("{\"requestId\":\"ed4acda5-034f-9f42-bba1-f29aea6d7d8f\",\"timestamp\":1551461675000,\"records\":[");
            for (index, member) in members.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{{\"data\":\"{}\"}}", base64::engine::general_purpose::STANDARD.encode(member));
            }
            out.push_str("]}");
            out.into_bytes()
        }
    };
    generated
}

/// One log line of a Gen3 commons.
fn message(rng: &mut Rng, service: &str, mix: Mix) -> String {
    // Gen3 traffic swaps the shares of uwsgi lines and access logs.
    let kind = match (mix, rng.below(100)) {
        (Mix::Gen3Traffic, kind @ 0..50) => kind + 50 - 25 * (kind / 25),
        (Mix::Gen3Traffic, kind @ 50..75) => kind - 50,
        (_, kind) => kind,
    };
    let log = match kind {
        0..50 => format!(
            "[pid: {}|app: 0|req: {}/{}] 10.2.{}.{} () {{34 vars in 391 bytes}} [Fri Mar  1 17:34:34 2019] GET {} => generated {} bytes in {} msecs (HTTP/1.1 200) 2 headers in 78 bytes (1 switches on core 0)\n",
            rng.below(500),
            rng.below(9999),
            rng.below(99999),
            rng.below(255),
            rng.below(255),
            rng.pick(&PATHS),
            rng.below(100_000),
            rng.below(3000)
        ),
        50..75 => {
            let mut access = String::from("{\"gen3log\":\"nginx\",\"date_access\":\"2019-03-01T17:34:34+00:00\",\"user_id\":\"");
            let _ = writeln!(
                access,
                "{}\",\"request_id\":\"{:016x}\",\"session_id\":\"{:08x}\",\"visitor_id\":\"{:08x}\",\"network_client_ip\":\"192.0.2.{}\",\"network_bytes_write\":{},\"response_secs\":{}.{:03},\"http_status_code\":{},\"http_request\":\"{}\",\"http_verb\":\"GET\",\"http_referer\":\"https://data.example.org/explorer?filter={}\",\"http_useragent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0\",\"http_upstream\":\"{service}-service\",\"proxy_service\":\"{service}\",\"message\":\"\"}}",
                rng.below(1000),
                rng.next(),
                rng.next() as u32,
                rng.next() as u32,
                rng.below(255),
                rng.below(1_000_000),
                rng.below(80),
                rng.below(1000),
                [200, 200, 200, 201, 404, 500][rng.below(6) as usize],
                rng.pick(&PATHS),
                rng.below(1000),
            );
            access
        }
        75..90 => {
            return format!(
                "Mar  1 17:34:{:02} ip-172-24-64-{} CRON[{}]: pam_unix(cron:session): session opened for user root by (uid=0) after {} attempts from host ip-10-0-{}-{}.ec2.internal",
                rng.below(60),
                rng.below(255),
                rng.below(99999),
                rng.below(5),
                rng.below(255),
                rng.below(255)
            );
        }
        90..95 => format!(
            "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.6/site-packages/flask/app.py\", line 1982, in wsgi_app\n    response = self.full_dispatch_request()\n  File \"/{service}/{service}/blueprint/routes.py\", line {}, in handler\n    raise UserError(\"invalid request\")\n{service}.errors.UserError: invalid request\n",
            rng.below(900)
        ),
        _ => format!(
            "Benutzer {} hat die Datei »Größenprüfung.csv« hochgeladen — ファイルのアップロードが完了しました ✓ {}\n",
            rng.below(1000),
            rng.below(1_000_000)
        ),
    };
    let mut line = String::with_capacity(log.len() + 512);
    line.push_str("{\"log\":");
    write_str(&mut line, &log);
    let _ = write!(
        line,
        ",\"stream\":\"{}\",\"docker\":{{\"container_id\":\"{:016x}{:016x}{:016x}{:016x}\"}},\"kubernetes\":{{\"container_name\":\"{service}\",\"namespace_name\":\"default\",\"pod_name\":\"{service}-deployment-{}-{:05x}\",\"pod_id\":\"{:08x}-2d35-11e8-a625-0ec708f15bd8\",\"labels\":{{\"app\":\"{service}\",\"pod-template-hash\":\"{}\"}},\"host\":\"ip-172-24-66-{}.ec2.internal\",\"master_url\":\"https://10.3.0.1:443/api\",\"namespace_id\":\"f3dae7b1-1b4a-11e8-a625-0ec708f15bd8\"}}}}",
        if rng.below(3) == 0 { "stderr" } else { "stdout" },
        rng.next(),
        rng.next(),
        rng.next(),
        rng.next(),
        rng.below(9_999_999_999),
        rng.below(0xfffff),
        rng.next() as u32,
        rng.below(9_999_999_999),
        rng.below(255),
    );
    line
}

/// A gzip member (RFC 1952) with mtime 0, as CloudWatch sends.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    // mtime 0 and a fixed OS byte: the same input always gives the same bytes.
    let mut encoder = flate2::GzBuilder::new().mtime(0).operating_system(255).write(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}
