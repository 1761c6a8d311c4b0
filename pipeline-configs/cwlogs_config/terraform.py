"""DIR/aws/terraform/: a Terraform module deploying the CloudFormation
templates of aws.py, with the seed's variables, and an example root that
calls it once per commons of the list.

    aws/terraform/common-logging/   the module (versions, variables, main, outputs)
    aws/terraform/example/main.tf   one module call per commons

The module only feeds the templates (aws_cloudformation_stack with
template_body = file(...) of the generated JSON): the templates stay the one
source of truth, and a Gen3 operator swaps the seed module's source for this
one and keeps the same variables. The HCL is written in `terraform fmt`'s
layout (a test runs `terraform fmt -check`).
"""

from __future__ import annotations

import json

from .aws import csoc_template
from .load import DEFAULTS_AWS
from .model import Deployment
from .yaml_text import header

MODULE = "aws/terraform/common-logging"

# The seed's variables (tf_files/aws/modules/common-logging/variables.tf), in
# its order, with its defaults, and what each does here.
SEED_VARIABLES = [
    ("csoc_account_id", "433568766270",
     "CSOC account (the seed's default): the CSOC stack's provider must be in it; names the destination's account"),
    ("child_account_id", None, "The commons' own account: the only one allowed to subscribe to the destination"),
    ("common_name", None, "Name of the commons: its log group, stream, destination, roles and stacks"),
    ("child_account_region", "us-east-1", "Region of the commons' log group; the child stack is deployed there"),
    ("aws_region", "us-east-1",
     "Region of the CSOC stack; must equal child_account_region (a CloudWatch Logs destination must be in its "
     "log groups' region, as the seed's also was)"),
    ("elasticsearch_domain", "commons-logs",
     "Not used by the AWS half: the collector reaches the search domain (commons list: elasticsearch.host)"),
    ("threshold", "",
     "Not used by the AWS half: the decoder raises alerts (commons list: commons[].threshold)"),
    ("slack_webhook", "",
     "Not used by the AWS half: the collector posts alerts (commons list: commons[].slack_webhook_path_env)"),
]
# Variables the seed had that no longer apply: no Lambda.
DROPPED_VARIABLES = {"timeout": "the Lambda's timeout", "memory_size": "the Lambda's memory"}
NEW_VARIABLES = [
    ("firehose_url", None, "The front's public URL, https://HOST/ on port 443 (commons list: aws.firehose_url)"),
    ("shard_count", 1, "Shards of the Kinesis stream (commons list: commons[].shard_count)"),
    ("bucket_name", "", "The commons' bucket; empty: <common_name>-logging, the seed's (commons[].s3.bucket)"),
    ("buffer_size_mib", DEFAULTS_AWS["buffer_size_mib"],
     "Firehose buffer size in MiB: one delivery is one search _bulk (aws.buffer_size_mib)"),
    ("buffer_interval_secs", DEFAULTS_AWS["buffer_interval_secs"], "Firehose buffer interval (aws.buffer_interval_secs)"),
    ("retry_duration_secs", DEFAULTS_AWS["retry_duration_secs"],
     "How long Firehose retries before backing a delivery up to S3 (aws.retry_duration_secs)"),
]
# Template parameter -> the module expression feeding it.
CSOC_PARAMETERS = {
    "CommonsName": "var.common_name",
    "ChildAccountId": "var.child_account_id",
    "ShardCount": "tostring(var.shard_count)",
    "FirehoseUrl": "var.firehose_url",
    "BucketName": "local.bucket_name",
    "BufferSizeMiB": "tostring(var.buffer_size_mib)",
    "BufferIntervalSecs": "tostring(var.buffer_interval_secs)",
    "RetryDurationSecs": "tostring(var.retry_duration_secs)",
}
CHILD_PARAMETERS = {
    "CommonsName": "var.common_name",
    "DestinationArn": 'aws_cloudformation_stack.csoc.outputs["DestinationArn"]',
}


def _string(value: str) -> str:
    # HCL string literals: JSON escapes, plus `${` and `%{` doubled so a
    # value is never read as a template.
    return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _string(value)


class Hcl:
    """Blocks and arguments in `terraform fmt` layout: two-space indents,
    `=` aligned across consecutive one-line arguments (a multi-line value
    or a nested block ends the run)."""

    def __init__(self):
        self.lines: list[str] = []
        self._run: list[tuple[str, str, str]] = []
        self.depth = 0

    def _flush(self):
        width = max((len(name) for _, name, _ in self._run), default=0)
        self.lines += [f"{indent}{name.ljust(width)} = {expr}" for indent, name, expr in self._run]
        self._run = []

    def arg(self, name: str, expr: str):
        self._run.append(("  " * self.depth, name, expr))

    def map_arg(self, name: str, items: dict[str, str]):
        self._flush()
        indent = "  " * self.depth
        self.lines.append(f"{indent}{name} = {{")
        width = max(len(k) for k in items)
        self.lines += [f"{indent}  {k.ljust(width)} = {v}" for k, v in items.items()]
        self.lines.append(f"{indent}}}")

    def open(self, head: str):
        self._flush()
        self.lines.append("  " * self.depth + head + " {")
        self.depth += 1

    def close(self):
        self._flush()
        self.depth -= 1
        self.lines.append("  " * self.depth + "}")

    def blank(self):
        self._flush()
        self.lines.append("")

    def comment(self, text: str):
        self._flush()
        self.lines += ["  " * self.depth + ("# " + line).rstrip() for line in text.strip("\n").split("\n")]

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines) + "\n"


def _head(h: Hcl, source: str):
    h.comment(header(source, []))


def _versions(source: str) -> str:
    h = Hcl()
    _head(h, source)
    h.comment("precondition blocks need Terraform 1.2; configuration_aliases 0.15.")
    h.open("terraform")
    h.arg("required_version", _string(">= 1.2"))
    h.blank()
    h.open("required_providers")
    h.open("aws =")
    h.arg("source", _string("hashicorp/aws"))
    h.arg("version", _string(">= 4.0"))
    h.comment("aws: the CSOC account in aws_region; aws.child: the commons' account in child_account_region.")
    h.arg("configuration_aliases", "[aws.child]")
    h.close()
    h.close()
    h.close()
    return h.text()


def _variables(source: str) -> str:
    h = Hcl()
    _head(h, source)
    h.comment("The seed module's variables (timeout and memory_size are gone with the Lambda).")
    for group in (SEED_VARIABLES, None, NEW_VARIABLES):
        if group is None:
            h.blank()
            h.comment("New: what the Lambda did not need.")
            continue
        for name, default, description in group:
            h.blank()
            h.open(f'variable "{name}"')
            h.arg("description", _string(description))
            h.arg("type", "number" if isinstance(default, int) else "string")
            if default is not None:
                h.arg("default", _value(default))
            h.close()
    return h.text()


def _stack(h: Hcl, name: str, template: str, parameters: dict[str, str], checks: list[tuple[str, str]],
           provider: str | None, capabilities: bool):
    h.open(f'resource "aws_cloudformation_stack" "{name}"')
    if provider:
        h.arg("provider", provider)
    h.arg("name", "local.stack_name")
    h.arg("template_body", f'file("${{path.module}}/../../{template}")')
    if capabilities:
        h.comment("The roles have the seed's names.")
        h.arg("capabilities", '["CAPABILITY_NAMED_IAM"]')
    h.map_arg("parameters", parameters)
    h.blank()
    h.open("lifecycle")
    for condition, message in checks:
        h.open("precondition")
        h.arg("condition", condition)
        h.arg("error_message", _string(message))
        h.close()
    h.close()
    h.close()


def _main(source: str) -> str:
    h = Hcl()
    _head(h, source)
    h.comment("""
Deploys the generated CloudFormation templates (../../*.template.json, the
one source of truth) for one commons: the CSOC stack with the `aws`
provider, then the child account's subscription with `aws.child`.""")
    for side, provider in (("csoc", None), ("child", "aws.child")):
        for kind in ("aws_caller_identity", "aws_region"):
            h.blank()
            h.open(f'data "{kind}" "{side}"')
            if provider:
                h.arg("provider", provider)
            h.close()
    h.blank()
    h.open("locals")
    h.arg("bucket_name", 'var.bucket_name != "" ? var.bucket_name : "${var.common_name}-logging"')
    h.comment("Stack names take no underscore.")
    h.arg("stack_name", '"cwlogs-${replace(var.common_name, "_", "-")}"')
    h.close()
    h.blank()
    _stack(h, "csoc", "csoc.template.json", CSOC_PARAMETERS, [
        ("var.aws_region == var.child_account_region",
         "aws_region must equal child_account_region: a CloudWatch Logs destination must be in its log groups' region."),
        ("data.aws_region.csoc.name == var.aws_region", "The aws provider is not in aws_region."),
        ("data.aws_caller_identity.csoc.account_id == var.csoc_account_id",
         "The aws provider is not in csoc_account_id."),
    ], None, True)
    h.blank()
    _stack(h, "child", "child.template.json", CHILD_PARAMETERS, [
        ("data.aws_region.child.name == var.child_account_region", "The aws.child provider is not in child_account_region."),
        ("data.aws_caller_identity.child.account_id == var.child_account_id",
         "The aws.child provider is not in child_account_id."),
    ], "aws.child", False)
    return h.text()


def _outputs(source: str) -> str:
    h = Hcl()
    _head(h, source)
    for output in csoc_template()["Outputs"]:
        snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in output).lstrip("_")
        h.blank()
        h.open(f'output "{snake}"')
        h.arg("value", f'aws_cloudformation_stack.csoc.outputs["{output}"]')
        h.close()
    return h.text()


def _example(dep: Deployment, source: str) -> str:
    a = dep.aws
    h = Hcl()
    _head(h, source)
    h.comment("""
Every commons of the list, one module call each. The CSOC provider is the
usual one; each commons' account is reached by assuming a role there (its
name is the operator's: var.child_role_name).""")
    h.blank()
    h.open('variable "child_role_name"')
    h.arg("description", _string("Role the CSOC credentials assume in each commons' account"))
    h.arg("type", "string")
    h.close()
    for region in sorted({c.region for c in dep.commons}):
        h.blank()
        h.open('provider "aws"')
        h.arg("alias", _string("csoc_" + region.replace("-", "_")))
        h.arg("region", _string(region))
        h.close()
    for c in dep.commons:
        alias = "child_" + c.name.replace("-", "_")
        h.blank()
        h.open('provider "aws"')
        h.arg("alias", _string(alias))
        h.arg("region", _string(c.region))
        h.open("assume_role")
        h.arg("role_arn", '"arn:aws:iam::%s:role/${var.child_role_name}"' % c.child_account_id)
        h.close()
        h.close()
        h.blank()
        h.open(f'module "{c.name.replace("-", "_")}"')
        h.arg("source", _string("../common-logging"))
        h.map_arg("providers", {"aws": "aws.csoc_" + c.region.replace("-", "_"), "aws.child": f"aws.{alias}"})
        h.blank()
        h.arg("common_name", _string(c.name))
        h.arg("child_account_id", _string(c.child_account_id))
        h.arg("csoc_account_id", _string(a.csoc_account_id))
        h.arg("child_account_region", _string(c.region))
        h.arg("aws_region", _string(c.region))
        h.arg("firehose_url", _string(a.firehose_url))
        h.arg("shard_count", str(c.shard_count))
        h.arg("bucket_name", _string(c.s3.bucket))
        h.arg("buffer_size_mib", str(a.buffer_size_mib))
        h.arg("buffer_interval_secs", str(a.buffer_interval_secs))
        h.arg("retry_duration_secs", str(a.retry_duration_secs))
        h.close()
    return h.text()


def render_terraform(dep: Deployment, source: str) -> dict[str, str]:
    if dep.aws is None:
        return {}
    return {
        f"{MODULE}/versions.tf": _versions(source),
        f"{MODULE}/variables.tf": _variables(source),
        f"{MODULE}/main.tf": _main(source),
        f"{MODULE}/outputs.tf": _outputs(source),
        "aws/terraform/example/main.tf": _example(dep, source),
    }
