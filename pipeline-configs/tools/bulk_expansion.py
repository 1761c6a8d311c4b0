#!/usr/bin/env python3
"""Measure how many search _bulk bytes one Firehose delivery becomes, to
choose the Firehose buffer size (aws.buffer_size_mib).

    python3 pipeline-configs/tools/bulk_expansion.py [--bin-dir target/release]

For a range of generated workloads (the project's gen3-cwlogs-workload,
Firehose form: the delivery a stream of CloudWatch Logs records makes), it
decodes each delivery with the project's CLI (`--native`, one document per
line) and builds the _bulk body the collector sends: per document
`{"create":{"_index":"<commons>-<week>","_id":"<id>"}}` + newline + the
document + newline; Fluent Bit's output also adds `"@timestamp":"...",` to
each document (counted in the second column).

It prints, per workload, the bytes Firehose's buffer counts (the records'
data: CloudWatch's gzip, which is what SizeInMBs measures), the delivery as
sent (JSON with base64 data, gzip content encoding), and the bulk bytes,
with the ratios. Build the tools first:

    cargo build --release -p gen3-cwlogs-workload -p gen3-cwlogs-cli
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Fluent Bit's opensearch output adds its Time_Key to every document.
TIMESTAMP_FIELD = len('"@timestamp":"2019-03-01T17:34:34.000Z",')


def measure(bin_dir: Path, records: int, events: int, seed: int) -> dict:
    delivery = subprocess.run(
        [str(bin_dir / "gen3-cwlogs-workload"), "--form", "firehose", "--records", str(records),
         "--events-per-record", str(events), "--seed", str(seed)],
        check=True, capture_output=True).stdout
    body = json.loads(delivery)
    buffered = sum(len(base64.b64decode(r["data"])) for r in body["records"])
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(delivery)
        f.flush()
        out = subprocess.run([str(bin_dir / "gen3-cwlogs"), "--native", "--commons", "devplanetv1", f.name],
                             check=True, capture_output=True).stdout
    bulk = bulk_ts = documents = 0
    for line in out.splitlines():
        doc = json.loads(line)
        if "alert" in doc or "error" in doc:
            continue  # alerts go to Slack, error documents to S3
        documents += 1
        action = json.dumps({"create": {"_index": "devplanetv1-2019-w09", "_id": doc["id"]}},
                            separators=(",", ":")).encode()
        size = len(action) + 1 + len(line) + 1
        bulk += size
        bulk_ts += size + TIMESTAMP_FIELD
    return {"records": records, "events_per_record": events, "seed": seed, "documents": documents,
            "buffered_bytes": buffered, "delivery_gzip_bytes": len(gzip.compress(delivery)),
            "bulk_bytes": bulk, "bulk_bytes_fluent_bit": bulk_ts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", default=str(ROOT / "target" / "release"))
    args = parser.parse_args()
    bin_dir = Path(args.bin_dir)
    rows = []
    # Small and large CloudWatch batches (events per record), several mixes.
    for events in (10, 100, 1000, 5000):
        for seed in (1, 2, 3):
            rows.append(measure(bin_dir, max(1, 20000 // events), events, seed))
    print("events/record seed  buffered  delivery(gz)      bulk  bulk+@ts  bulk/buffered  bulk+@ts/buffered")
    for r in rows:
        print(f"{r['events_per_record']:>13} {r['seed']:>4} {r['buffered_bytes']:>9} {r['delivery_gzip_bytes']:>13} "
              f"{r['bulk_bytes']:>9} {r['bulk_bytes_fluent_bit']:>9} {r['bulk_bytes'] / r['buffered_bytes']:>14.2f} "
              f"{r['bulk_bytes_fluent_bit'] / r['buffered_bytes']:>18.2f}")
    worst = max(r["bulk_bytes_fluent_bit"] / r["buffered_bytes"] for r in rows)
    print(json.dumps({"worst_bulk_per_buffered_byte": round(worst, 2),
                      "bulk_of_a_1_MiB_buffer_MiB": round(worst, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
