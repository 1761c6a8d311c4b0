"""A Kinesis-triggered Python Lambda that keeps its own shipping code and
swaps only the decoding (base64, gzip, envelope, documents, alert check) for
the gen3-cwlogs component. Package it with `gen3_cwlogs` (the component
copied in as gen3_cwlogs/gen3_cwlogs.component.wasm) and `wasmtime`.
"""

import json
import os

from gen3_cwlogs import Decoder

decoder = Decoder()  # compiled once per Lambda container, reused by every invocation


def handler(event, context):
    threshold = os.environ.get("THRESHOLD") or None  # the module's `threshold`, "" = no alerts
    out = decoder.decode(json.dumps(event), commons=os.environ["COMMONS"],
                         slow_threshold_secs=float(threshold) if threshold else None)
    # Documents and error documents (bad records keep their raw data): index by `id`.
    documents = [entry["json"] for entry in out["entries"] if entry["kind"] != "alert"]
    alerts = [json.loads(entry["json"])["alert"]["slack_payload"] for entry in out["entries"] if entry["kind"] == "alert"]
    return {"documents": documents, "alerts": alerts, "counters": out["counters"]}  # hand these to the existing Firehose / Slack code
