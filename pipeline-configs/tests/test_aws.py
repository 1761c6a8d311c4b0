"""The AWS half (generated/aws/): CloudFormation for the CSOC and child
accounts, per-commons parameter files, and least privilege.

No AWS account is reachable from here: templates are checked by cfn-lint
against AWS's resource schemas (offline), then made concrete per commons
(tests/cfn.py) so their IAM policies can be read as real ARNs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys


from cfn import Stack
from support import GENERATED, example_data, missing_tool

AWS = GENERATED / "aws"
TEMPLATES = sorted(AWS.glob("*.template.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def parameters(path) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in load(path)}


def stacks():
    """(commons entry, concrete CSOC stack, concrete child stack) per commons."""
    data = example_data()
    csoc, child = load(AWS / "csoc.template.json"), load(AWS / "child.template.json")
    for c in data["commons"]:
        yield (c, Stack(csoc, parameters(AWS / c["name"] / "csoc.parameters.json"), data["aws"]["csoc_account_id"],
                        c["region"]),
               Stack(child, parameters(AWS / c["name"] / "child.parameters.json"), c["child_account_id"], c["region"]))


# --------------------------------------------------------------------------
# cfn-lint


def _cfn_lint(*args: str) -> subprocess.CompletedProcess:
    try:
        import cfnlint  # noqa: F401 (only: is it installed)
    except ImportError:
        missing_tool("cfn-lint is not installed (pip install cfn-lint==1.51.0)")
    # Its console script's entry point, through this interpreter (a fresh
    # pip install may not have put the script on PATH yet).
    command = [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)


def test_templates_pass_cfn_lint_with_every_rule():
    """Errors, warnings and the informational rules too (--include-checks I),
    none switched off, in every region the example deploys to."""
    regions = sorted({c["region"] for c in example_data()["commons"]})
    assert [p.name for p in TEMPLATES] == ["child.template.json", "csoc.template.json"]
    proc = _cfn_lint("--include-checks", "I", "--regions", *regions, "--", *map(str, TEMPLATES))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    """The check above can fail: a misspelt property is an error."""
    broken = load(AWS / "csoc.template.json")
    props = broken["Resources"]["DeliveryStream"]["Properties"]["HttpEndpointDestinationConfiguration"]
    props["BufferingHint"] = props.pop("BufferingHints")
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    proc = _cfn_lint("--", str(path))
    assert proc.returncode != 0 and "BufferingHint" in proc.stdout


# --------------------------------------------------------------------------
# what the stacks hold


def test_parameter_files_feed_every_parameter_within_its_bounds():
    for name in ("csoc", "child"):
        spec = load(AWS / f"{name}.template.json")["Parameters"]
        files = sorted(AWS.glob(f"*/{name}.parameters.json"))
        assert len(files) == len(example_data()["commons"])
        for path in files:
            given = parameters(path)
            assert set(given) == set(spec), path
            for key, value in given.items():
                s = spec[key]
                assert isinstance(value, str), (path, key)
                if "AllowedPattern" in s:
                    assert re.fullmatch(s["AllowedPattern"], value), (path, key, value)
                if "MinValue" in s:
                    assert s["MinValue"] <= int(value) <= s.get("MaxValue", 10**9), (path, key, value)
                if "MaxLength" in s:
                    assert len(value) <= s["MaxLength"]


def test_csoc_stack_per_commons():
    aws = example_data()["aws"]
    for c, csoc, _ in stacks():
        name = c["name"]
        stream = csoc.properties("Stream")
        assert stream["Name"] == f"{name}_stream"
        assert stream["ShardCount"] == str(c.get("shard_count", 1))
        assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}

        dest = csoc.properties("Destination")
        assert dest["DestinationName"] == f"{name}_logs_destination"
        assert dest["TargetArn"] == csoc.get_att("Stream", "Arn")
        assert dest["RoleArn"] == csoc.get_att("LogsToStreamRole", "Arn")

        fh = csoc.properties("DeliveryStream")
        assert fh["DeliveryStreamType"] == "KinesisStreamAsSource"
        assert fh["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == csoc.get_att("Stream", "Arn")
        http = fh["HttpEndpointDestinationConfiguration"]
        assert http["EndpointConfiguration"]["Url"] == aws["firehose_url"]
        # The access key is in Secrets Manager only, never in the template.
        assert "AccessKey" not in http["EndpointConfiguration"]
        assert http["SecretsManagerConfiguration"] == {
            "Enabled": True, "SecretARN": csoc.ref("AccessKey"), "RoleARN": csoc.get_att("FirehoseRole", "Arn")}
        assert csoc.properties("AccessKey")["GenerateSecretString"]["GenerateStringKey"] == "api_key"
        assert http["RequestConfiguration"] == {"ContentEncoding": "NONE"}
        assert http["BufferingHints"] == {"SizeInMBs": "1", "IntervalInSeconds": "60"}
        assert http["RetryOptions"] == {"DurationInSeconds": "7200"}
        assert http["S3BackupMode"] == "FailedDataOnly"
        bucket = c.get("s3", {}).get("bucket", f"{name}-logging")
        assert http["S3Configuration"]["BucketARN"] == f"arn:aws:s3:::{bucket}"
        assert http["S3Configuration"]["Prefix"] == "firehose-failed/"
        assert http["CloudWatchLoggingOptions"]["LogGroupName"] == f"/aws/kinesisfirehose/{name}_firehose"

        b = csoc.properties("Bucket")
        assert b["BucketName"] == bucket
        (rule,) = b["LifecycleConfiguration"]["Rules"]
        assert rule["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 60},
                                       {"StorageClass": "GLACIER", "TransitionInDays": 90}]
        assert rule["ExpirationInDays"] == 2190 and rule["Status"] == "Enabled" and "Prefix" not in rule
        assert all(b["PublicAccessBlockConfiguration"].values())
        assert b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert csoc.resources["Bucket"]["DeletionPolicy"] == "Retain"


def test_child_stack_subscribes_the_commons_log_group_to_its_destination():
    for c, csoc, child in stacks():
        sub = child.properties("Subscription")
        assert sub == {"FilterName": f"{c['name']}_subscription", "LogGroupName": c["name"],
                       "DestinationArn": csoc.get_att("Destination", "Arn"), "FilterPattern": ""}
        # Cross-account: the destination's role is used, the filter has none.
        assert "RoleArn" not in sub


def test_no_secret_value_in_any_aws_file():
    for path in AWS.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "AccessKey\": \"" not in text
            assert not re.search(r"(?i)\"(api_key|password|secret_?string)\"\s*:\s*\"", text), path


# --------------------------------------------------------------------------
# least privilege


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_allow_statement_names_this_commons_own_resources():
    """Concrete stacks of every commons: each Allow statement of each IAM
    policy names only ARNs of that commons (its name or its bucket in them),
    of this stack's account and region, never another commons', and `*`
    only at the end, below a commons-specific prefix (objects under its
    backup prefix, whose names Firehose makes). Actions are named, never
    wildcards."""
    commons = example_data()["commons"]
    for c, csoc, _ in stacks():
        own = {c["name"], c.get("s3", {}).get("bucket", f"{c['name']}-logging")}
        others = {o["name"] for o in commons} - {c["name"]}
        checked = 0
        for resource, kind, doc in csoc.policies():
            for st in doc["Statement"]:
                if st["Effect"] != "Allow":
                    continue
                assert all("*" not in a for a in _as_list(st["Action"])), (resource, st)
                if kind == "trust":
                    # Who may assume the role: one AWS service, with a
                    # condition tying it to this commons' accounts.
                    assert list(st["Principal"]) == ["Service"] and st["Action"] == "sts:AssumeRole"
                    assert "Condition" in st, (resource, st)
                    checked += 1
                    continue
                if kind == "resource":
                    assert st["Principal"] == {"AWS": c["child_account_id"]}, (resource, st)
                for arn in _as_list(st["Resource"]):
                    assert arn != "*" and arn.startswith("arn:aws:"), (resource, arn)
                    assert any(o in arn for o in own), (resource, arn)
                    assert not any(re.search(rf"[:/]{re.escape(o)}[_:/-]", arn) for o in others), (resource, arn)
                    if "*" in arn:
                        assert arn.endswith("/firehose-failed/*"), (resource, arn)
                    if arn.split(":")[2] not in ("s3", "iam"):
                        assert arn.split(":")[3:5] == [csoc.region, csoc.account], (resource, arn)
                    checked += 1
        assert checked >= 10


def test_trust_policies_admit_only_the_intended_callers():
    for c, csoc, _ in stacks():
        trust = {r: d for r, kind, d in csoc.policies() if kind == "trust"}
        (logs,) = trust["LogsToStreamRole"]["Statement"]
        assert logs["Principal"] == {"Service": "logs.amazonaws.com"}
        assert logs["Condition"] == {"StringLike": {"aws:SourceArn": [
            f"arn:aws:logs:{c['region']}:{c['child_account_id']}:*",
            f"arn:aws:logs:{c['region']}:{csoc.account}:*"]}}
        (fh,) = trust["FirehoseRole"]["Statement"]
        assert fh["Principal"] == {"Service": "firehose.amazonaws.com"}
        assert fh["Condition"] == {"StringEquals": {"sts:ExternalId": csoc.account}}


def test_least_privilege_check_can_fail():
    """A statement widened to every stream is caught by the check above."""
    data = example_data()
    template = load(AWS / "csoc.template.json")
    template["Resources"]["FirehosePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"
    c = data["commons"][0]
    stack = Stack(template, parameters(AWS / c["name"] / "csoc.parameters.json"), data["aws"]["csoc_account_id"],
                  c["region"])
    bad = [st for _, kind, doc in stack.policies() if kind == "identity" for st in doc["Statement"]
           if "*" in _as_list(st["Resource"])]
    assert len(bad) == 1
