"""The generated AWS half deployed on moto_server (a real AWS emulator), for
test_moto_e2e.py: moto's CloudFormation creates the resource types it
supports from the generated template itself, and boto3 creates the others
from the same template's resolved properties (tests/cfn.py), as the API
calls CloudFormation would make.

Every resource of both templates is created one way or the other;
`deploy_csoc` refuses a resource type it has no rule for, so a resource
the generator adds later fails here until the test knows how to create it.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from cfn import Stack

# What moto's CloudFormation (5.2) creates. It has no model for the other
# types of the templates: it skips them (and its check of the Outputs
# fails on a GetAtt of one), so they are left out of the template it gets.
# It also ignores some properties of the types it creates: the bucket's
# encryption, public access block, ownership and lifecycle, and the
# stream's encryption. test_aws.py checks those properties; nothing here
# depends on them.
MOTO_CFN_TYPES = ("AWS::Kinesis::Stream", "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::S3::Bucket")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto_server on 127.0.0.1 on a free port, stopped by stop()."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = None

    def start(self):
        self.log_file = open(self.log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"moto_server exited with {self.proc.returncode}: {self.log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("moto_server did not start listening")
                time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc is not None:
            self.log_file.close()


class Clients:
    """boto3 clients of one account and region on moto. The credentials are
    moto's dummy ones, given explicitly so no credential of the machine is
    ever read; the account is chosen by moto's `x-moto-account-id` header."""

    def __init__(self, moto: MotoServer, account: str, region: str):
        import boto3

        self.session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                             region_name=region)
        self.session.events.register("before-send.*.*", lambda request, **_: request.headers.__setitem__(
            "x-moto-account-id", account))
        self.url = moto.url
        self._clients = {}

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = self.session.client(service.replace("_", "-"), endpoint_url=self.url)
        return self._clients[service]


class DeployedStack(Stack):
    """A concrete stack (tests/cfn.py) whose references to resources created
    here give their real identifiers (a secret's ARN has a random suffix)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.physical: dict[str, str] = {}

    def ref(self, name: str) -> str:
        return self.physical[name] if name in self.physical else super().ref(name)


def api_params(client, operation: str, properties: dict) -> dict:
    """CloudFormation properties as API parameters of the same names: the
    numbers CloudFormation passes as strings (parameters of type Number)
    made the integers the API's shape wants. botocore then validates the
    request against the API model, so a property the API does not have
    fails the test."""
    shape = client.meta.service_model.operation_model(operation).input_shape

    def coerce(shape, value):
        if shape.type_name == "structure" and isinstance(value, dict):
            return {k: coerce(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
        if shape.type_name == "list" and isinstance(value, list):
            return [coerce(shape.member, v) for v in value]
        if shape.type_name in ("integer", "long") and isinstance(value, str):
            return int(value)
        return value

    return coerce(shape, properties)


def moto_template(template: dict) -> dict:
    """The generated template restricted to what moto's CloudFormation
    creates, with the outputs that refer only to those resources."""
    kept = {name: r for name, r in template["Resources"].items() if r["Type"] in MOTO_CFN_TYPES}

    def refers_to(value):
        if isinstance(value, dict):
            for key, arg in value.items():
                if key == "Ref":
                    yield arg
                elif key == "Fn::GetAtt":
                    yield arg[0] if isinstance(arg, list) else arg.split(".")[0]
                else:
                    yield from refers_to(arg)
        elif isinstance(value, list):
            for item in value:
                yield from refers_to(item)

    out = copy.deepcopy(template)
    out["Resources"] = copy.deepcopy(kept)
    out["Outputs"] = {name: o for name, o in template.get("Outputs", {}).items()
                      if all(r in kept or r in template["Parameters"] or r.startswith("AWS::") for r in refers_to(o))}
    return out


# How boto3 creates each resource type moto's CloudFormation does not, from
# the resource's resolved properties, with the API call CloudFormation
# makes for it. Each returns the resource's Ref value when later properties
# need it (a secret's ARN), else None.


def _bucket_policy(aws: Clients, p: dict):
    aws.s3.put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))


def _destination(aws: Clients, p: dict):
    aws.logs.put_destination(destinationName=p["DestinationName"], targetArn=p["TargetArn"], roleArn=p["RoleArn"])
    aws.logs.put_destination_policy(destinationName=p["DestinationName"], accessPolicy=p["DestinationPolicy"])


def _secret(aws: Clients, p: dict) -> str:
    # GenerateSecretString as CloudFormation does it: a random password
    # (Secrets Manager's own generator) under GenerateStringKey of the
    # SecretStringTemplate object.
    g = p["GenerateSecretString"]
    password = aws.secretsmanager.get_random_password(
        PasswordLength=int(g["PasswordLength"]), ExcludePunctuation=g["ExcludePunctuation"])["RandomPassword"]
    value = {**json.loads(g["SecretStringTemplate"]), g["GenerateStringKey"]: password}
    return aws.secretsmanager.create_secret(Name=p["Name"], Description=p["Description"],
                                            SecretString=json.dumps(value))["ARN"]


def _log_stream(aws: Clients, p: dict):
    aws.logs.create_log_stream(logGroupName=p["LogGroupName"], logStreamName=p["LogStreamName"])


def _role_policy(aws: Clients, p: dict):
    aws.iam.put_role_policy(RoleName=p["RoleName"], PolicyName=p["PolicyName"],
                            PolicyDocument=json.dumps(p["PolicyDocument"]))


def _delivery_stream(aws: Clients, p: dict):
    aws.firehose.create_delivery_stream(**api_params(aws.firehose, "CreateDeliveryStream", p))


BOTO3_CREATES = {
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::Logs::Destination": _destination,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Logs::LogStream": _log_stream,
    "AWS::IAM::RolePolicy": _role_policy,
    "AWS::KinesisFirehose::DeliveryStream": _delivery_stream,
}


def deploy_csoc(aws: Clients, stack: DeployedStack, stack_name: str, parameters: list[dict]) -> dict:
    """The CSOC stack on moto: `create_stack` with the resources moto's
    CloudFormation supports, then every other resource, in template order,
    with boto3. Returns {logical id: "cloudformation" | "boto3"}."""
    how = {}
    aws.cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(moto_template(stack.template)),
                                    Parameters=parameters, Capabilities=["CAPABILITY_NAMED_IAM"])
    for logical_id, resource in stack.resources.items():
        kind = resource["Type"]
        if kind in MOTO_CFN_TYPES:
            how[logical_id] = "cloudformation"
            continue
        if kind not in BOTO3_CREATES:
            raise NotImplementedError(f"{logical_id}: no way to create {kind} on moto here")
        physical = BOTO3_CREATES[kind](aws, stack.properties(logical_id))
        if physical is not None:
            stack.physical[logical_id] = physical
        how[logical_id] = "boto3"
    return how
