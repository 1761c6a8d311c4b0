"""A CloudFormation template made concrete for one stack, as CloudFormation
would: parameters given, pseudo parameters set, and the intrinsic functions
the generated templates use (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) evaluated
to the names and ARNs AWS gives each resource type.

The least-privilege tests read the IAM policies of a concrete stack (real
ARNs, not expressions), and a test creating the resources elsewhere (an
emulator, from each resource's Properties) can use the same values.
Resource types not in the generated templates are refused, so a new one
gets its ARN rule here before a test relies on it.
"""

from __future__ import annotations

import json
import re

PARTITION = "aws"


class Stack:
    def __init__(self, template: dict, parameters: dict[str, str], account: str, region: str):
        self.template = template
        self.resources = template["Resources"]
        self.account = account
        self.region = region
        self.values = {
            "AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, spec in template.get("Parameters", {}).items():
            if name in parameters:
                self.values[name] = parameters[name]
            elif "Default" in spec:
                self.values[name] = str(spec["Default"])
            else:
                raise KeyError(f"parameter {name} has no value and no default")
        unknown = set(parameters) - set(template.get("Parameters", {}))
        if unknown:
            raise KeyError(f"parameters the template does not have: {sorted(unknown)}")

    # ---------------------------------------------------------------- values

    def properties(self, logical_id: str) -> dict:
        return self.resolve(self.resources[logical_id].get("Properties", {}))

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub_var(m.group(1), extra), text)
            if fn == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if fn.startswith("Fn::"):
                raise NotImplementedError(f"{fn} is not evaluated here")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_var(self, name: str, extra: dict) -> str:
        if name in extra:
            return str(extra[name])
        if "." in name:
            return self.get_att(*name.split(".", 1))
        return self.ref(name)

    def ref(self, name: str) -> str:
        if name in self.values:
            return self.values[name]
        kind = self.resources[name]["Type"]
        props = self.properties(name)
        if kind == "AWS::SecretsManager::Secret":
            # Secrets Manager appends six random characters to the name.
            return self._arn("secretsmanager", f"secret:{props['Name']}-AbC123")
        return self._name(name, kind, props)

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resources[name]["Type"]
        if attribute != "Arn":
            raise NotImplementedError(f"{name}.{attribute}")
        props = self.properties(name)
        physical = self._name(name, kind, props)
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:{PARTITION}:s3:::{physical}",
            "AWS::Kinesis::Stream": lambda: self._arn("kinesis", f"stream/{physical}"),
            "AWS::IAM::Role": lambda: f"arn:{PARTITION}:iam::{self.account}:role/{physical}",
            "AWS::Logs::Destination": lambda: self._arn("logs", f"destination:{physical}"),
            "AWS::Logs::LogGroup": lambda: self._arn("logs", f"log-group:{physical}:*"),
            "AWS::KinesisFirehose::DeliveryStream": lambda: self._arn("firehose", f"deliverystream/{physical}"),
        }
        if kind not in arns:
            raise NotImplementedError(f"no ARN rule for {kind}")
        return arns[kind]()

    def _arn(self, service: str, rest: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account}:{rest}"

    @staticmethod
    def _name(logical_id: str, kind: str, props: dict) -> str:
        key = {
            "AWS::S3::Bucket": "BucketName", "AWS::Kinesis::Stream": "Name", "AWS::IAM::Role": "RoleName",
            "AWS::Logs::Destination": "DestinationName", "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Logs::LogStream": "LogStreamName", "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
            "AWS::IAM::RolePolicy": "PolicyName", "AWS::Logs::SubscriptionFilter": "FilterName",
        }.get(kind)
        if key is None or key not in props:
            raise NotImplementedError(f"{logical_id}: no physical name rule for {kind}")
        return props[key]

    # -------------------------------------------------------------- policies

    def policies(self) -> list[tuple[str, str, dict]]:
        """Every IAM policy document of the stack, resolved: (resource,
        kind of policy, document)."""
        found = []
        for logical_id, resource in self.resources.items():
            kind = resource["Type"]
            props = self.properties(logical_id)
            if kind == "AWS::IAM::Role":
                found.append((logical_id, "trust", props["AssumeRolePolicyDocument"]))
                for p in props.get("Policies", []):
                    found.append((logical_id, "identity", p["PolicyDocument"]))
            elif kind == "AWS::IAM::RolePolicy":
                found.append((logical_id, "identity", props["PolicyDocument"]))
            elif kind == "AWS::S3::BucketPolicy":
                found.append((logical_id, "resource", props["PolicyDocument"]))
            elif kind == "AWS::Logs::Destination":
                found.append((logical_id, "resource", json.loads(props["DestinationPolicy"])))
        return found
