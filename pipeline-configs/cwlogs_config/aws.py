"""DIR/aws/: the AWS half, as CloudFormation (JSON).

One parameterized template per account side, the same for every commons,
and per-commons parameter files (create-stack's `--parameters file://`
form); the Terraform module (terraform.py) feeds the same templates, so the
templates are the one source of truth.

    aws/csoc.template.json     CSOC account, in the commons' region: Kinesis
                               stream, CloudWatch Logs destination (+ policy
                               and role), Firehose to the HTTPS front, the
                               access key in Secrets Manager, the bucket
    aws/child.template.json    child account: the subscription filter
    aws/<commons>/csoc.parameters.json, child.parameters.json

Why one stack per commons and not one for all: a stack update or rollback
then touches one commons (blast radius), a commons is added or removed
without touching the others, stacks stay far below CloudFormation's
resource limit however many commons there are, and it matches the seed's
one-module-instance-per-commons. Why the commons' region: a CloudWatch Logs
destination must be in the same region as the log groups subscribing to it.

Names are the seed's (`<commons>_stream`, `<commons>_logs_destination`,
`<commons>_cwl_to_kinesis_role`, `<commons>_firehose_role`,
`<commons>_subscription`), so operators find what they know. Every IAM
statement names this commons' own ARNs.
"""

from __future__ import annotations

import json

from .model import SEED_LIFECYCLE, Commons, Deployment

# Where Firehose writes what it could not deliver after its retries, inside
# the commons' bucket (the archive itself is written by the collector under
# s3.prefix, dead letters under dead-letter/).
BACKUP_PREFIX = "firehose-failed/"
# The seed's lifecycle for the <commons>-logging bucket.
LIFECYCLE = SEED_LIFECYCLE
FIREHOSE_LOG_RETENTION_DAYS = 90
# Firehose's format for an HTTP endpoint secret.
SECRET_KEY = "api_key"

ARN = "arn:${AWS::Partition}"


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def csoc_template() -> dict:
    params = {
        "CommonsName": {
            "Type": "String", "AllowedPattern": "[a-z0-9][a-z0-9_-]*", "MaxLength": 55,
            "Description": "The commons (commons[].name): names the stream, destination, roles and Firehose stream",
        },
        "ChildAccountId": {
            "Type": "String", "AllowedPattern": "[0-9]{12}",
            "Description": "The commons' own account: the only one the destination lets subscribe",
        },
        "ShardCount": {"Type": "Number", "MinValue": 1, "Description": "Shards of the Kinesis stream"},
        "FirehoseUrl": {
            "Type": "String", "AllowedPattern": "https://[A-Za-z0-9.-]+/",
            "Description": "The front's public URL (HTTPS, port 443): the nginx front or Vector",
        },
        "BucketName": {"Type": "String", "Description": "The commons' bucket (the seed's <commons>-logging)"},
        "BufferSizeMiB": {"Type": "Number", "MinValue": 1, "MaxValue": 64,
                          "Description": "Firehose buffer size: bounds one delivery and so one search _bulk"},
        "BufferIntervalSecs": {"Type": "Number", "MinValue": 0, "MaxValue": 900,
                               "Description": "Firehose buffer interval"},
        "RetryDurationSecs": {"Type": "Number", "MinValue": 0, "MaxValue": 7200,
                              "Description": "How long Firehose retries a delivery before backing it up to S3"},
    }
    stream_arn = {"Fn::GetAtt": ["Stream", "Arn"]}
    bucket_arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    log_group = _sub("/aws/kinesisfirehose/${CommonsName}_firehose")
    resources = {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            # Years of logs: never deleted with the stack or by a replacement.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": {"Ref": "BucketName"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "seed-lifecycle",
                    "Status": "Enabled",
                    "Transitions": [
                        {"StorageClass": "STANDARD_IA", "TransitionInDays": LIFECYCLE["STANDARD_IA"]},
                        {"StorageClass": "GLACIER", "TransitionInDays": LIFECYCLE["GLACIER"]},
                    ],
                    "ExpirationInDays": LIFECYCLE["expire"],
                }]},
            },
        },
        "BucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": _policy({
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [bucket_arn, _sub("${Bucket.Arn}/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }),
            },
        },
        "Stream": {
            "Type": "AWS::Kinesis::Stream",
            # Records in flight only: Firehose drains it; what it cannot
            # deliver it keeps in the bucket.
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "Name": _sub("${CommonsName}_stream"),
                "ShardCount": {"Ref": "ShardCount"},
                # Kinesis' default, stated: Firehose reads behind by at most
                # its buffer interval, so a day is ample.
                "RetentionPeriodHours": 24,
                "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                # The AWS managed key: no key policy to keep, and principals of
                # this account using the stream need no KMS permission for it.
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            },
        },
        "LogsToStreamRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": _sub("${CommonsName}_cwl_to_kinesis_role"),
                "AssumeRolePolicyDocument": _policy({
                    "Effect": "Allow",
                    "Principal": {"Service": "logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Only CloudWatch Logs acting for the child account's (or
                    # this account's) log groups in this region.
                    "Condition": {"StringLike": {"aws:SourceArn": [
                        _sub(ARN + ":logs:${AWS::Region}:${ChildAccountId}:*"),
                        _sub(ARN + ":logs:${AWS::Region}:${AWS::AccountId}:*"),
                    ]}},
                }),
                "Policies": [{"PolicyName": "put-into-stream", "PolicyDocument": _policy(
                    {"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": stream_arn})}],
            },
        },
        "Destination": {
            "Type": "AWS::Logs::Destination",
            "Properties": {
                "DestinationName": _sub("${CommonsName}_logs_destination"),
                "RoleArn": {"Fn::GetAtt": ["LogsToStreamRole", "Arn"]},
                "TargetArn": stream_arn,
                # Only the commons' own account may subscribe its log groups.
                "DestinationPolicy": _sub(json.dumps(_policy({
                    "Effect": "Allow",
                    "Principal": {"AWS": "${ChildAccountId}"},
                    "Action": "logs:PutSubscriptionFilter",
                    "Resource": ARN + ":logs:${AWS::Region}:${AWS::AccountId}:destination:${CommonsName}_logs_destination",
                }), separators=(",", ":"))),
            },
        },
        "AccessKey": {
            "Type": "AWS::SecretsManager::Secret",
            # A new stack generates a new key (the front is then given it).
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "Name": _sub("cwlogs/${CommonsName}/firehose-access-key"),
                "Description": _sub("Firehose access key of ${CommonsName}: the front's FIREHOSE_ACCESS_KEY_* value"),
                # Generated by AWS, so it is in no template, parameter or state
                # file. Letters and digits only: the Vector config pastes it
                # into a VRL string literal.
                "GenerateSecretString": {
                    "SecretStringTemplate": "{}", "GenerateStringKey": SECRET_KEY,
                    "PasswordLength": 40, "ExcludePunctuation": True,
                },
            },
        },
        "FirehoseLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": log_group, "RetentionInDays": FIREHOSE_LOG_RETENTION_DAYS},
        },
        "FirehoseDeliveryLog": {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "FirehoseLogGroup"}, "LogStreamName": "DestinationDelivery"},
        },
        "FirehoseBackupLog": {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "FirehoseLogGroup"}, "LogStreamName": "BackupDelivery"},
        },
        "FirehoseRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": _sub("${CommonsName}_firehose_role"),
                "AssumeRolePolicyDocument": _policy({
                    "Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Firehose passes the account id as external id (as the seed's role required).
                    "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}},
                }),
            },
        },
        "FirehosePolicy": {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": {"Ref": "FirehoseRole"},
                "PolicyName": "firehose-delivery",
                "PolicyDocument": _policy(
                    {"Sid": "ReadStream", "Effect": "Allow", "Resource": stream_arn,
                     "Action": ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords",
                                "kinesis:ListShards"]},
                    {"Sid": "ReadAccessKey", "Effect": "Allow", "Resource": {"Ref": "AccessKey"},
                     "Action": "secretsmanager:GetSecretValue"},
                    {"Sid": "LocateBucket", "Effect": "Allow", "Resource": bucket_arn,
                     "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]},
                    # Firehose names the objects (date path and a random
                    # suffix), so they are matched under the backup prefix.
                    {"Sid": "WriteBackups", "Effect": "Allow",
                     "Resource": _sub("${Bucket.Arn}/" + BACKUP_PREFIX + "*"),
                     "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]},
                    {"Sid": "LogErrors", "Effect": "Allow", "Action": "logs:PutLogEvents",
                     "Resource": [_sub(ARN + ":logs:${AWS::Region}:${AWS::AccountId}:log-group:${FirehoseLogGroup}"
                                       ":log-stream:${" + stream + "}") for stream in
                                  ("FirehoseDeliveryLog", "FirehoseBackupLog")]},
                ),
            },
        },
        "DeliveryStream": {
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            # Firehose checks at creation that its role can read the stream.
            "DependsOn": "FirehosePolicy",
            "Properties": {
                "DeliveryStreamName": _sub("${CommonsName}_firehose"),
                "DeliveryStreamType": "KinesisStreamAsSource",
                "KinesisStreamSourceConfiguration": {
                    "KinesisStreamARN": stream_arn, "RoleARN": {"Fn::GetAtt": ["FirehoseRole", "Arn"]}},
                "HttpEndpointDestinationConfiguration": {
                    "EndpointConfiguration": {"Url": {"Ref": "FirehoseUrl"}, "Name": _sub("${CommonsName} front")},
                    "SecretsManagerConfiguration": {
                        "Enabled": True, "SecretARN": {"Ref": "AccessKey"},
                        "RoleARN": {"Fn::GetAtt": ["FirehoseRole", "Arn"]}},
                    # Not GZIP: the front reads a delivery to post it to
                    # Fluent Bit in parts, and njs 0.7 cannot inflate. The
                    # records are CloudWatch's gzip already (decompression
                    # off), so GZIP saved only base64's third.
                    "RequestConfiguration": {"ContentEncoding": "NONE"},
                    "BufferingHints": {"SizeInMBs": {"Ref": "BufferSizeMiB"},
                                       "IntervalInSeconds": {"Ref": "BufferIntervalSecs"}},
                    "RetryOptions": {"DurationInSeconds": {"Ref": "RetryDurationSecs"}},
                    "RoleARN": {"Fn::GetAtt": ["FirehoseRole", "Arn"]},
                    "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": {"Ref": "FirehoseLogGroup"},
                                                 "LogStreamName": {"Ref": "FirehoseDeliveryLog"}},
                    "S3BackupMode": "FailedDataOnly",
                    "S3Configuration": {
                        "BucketARN": bucket_arn,
                        "RoleARN": {"Fn::GetAtt": ["FirehoseRole", "Arn"]},
                        "Prefix": BACKUP_PREFIX,
                        "CompressionFormat": "GZIP",
                        "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": {"Ref": "FirehoseLogGroup"},
                                                     "LogStreamName": {"Ref": "FirehoseBackupLog"}},
                    },
                },
            },
        },
    }
    outputs = {
        "DestinationArn": {"Description": "What the child account's subscription filter points at",
                           "Value": {"Fn::GetAtt": ["Destination", "Arn"]}},
        "StreamArn": {"Value": stream_arn},
        "DeliveryStreamArn": {"Value": {"Fn::GetAtt": ["DeliveryStream", "Arn"]}},
        "AccessKeySecretArn": {"Description": "Secret holding {\"api_key\": ...}: give its value to the front",
                               "Value": {"Ref": "AccessKey"}},
        "BucketName": {"Value": {"Ref": "Bucket"}},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "gen3-cwlogs, CSOC account, one commons: CloudWatch Logs destination -> Kinesis stream -> "
                       "Firehose -> HTTPS front (decoder), failed deliveries to the commons' bucket. Generated by "
                       "pipeline-configs/generate.py; do not edit.",
        "Parameters": params,
        "Resources": resources,
        "Outputs": outputs,
    }


def child_template() -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "gen3-cwlogs, child account, one commons: its log group's subscription filter to the CSOC "
                       "destination. Generated by pipeline-configs/generate.py; do not edit.",
        "Parameters": {
            "CommonsName": {"Type": "String", "AllowedPattern": "[a-z0-9][a-z0-9_-]*", "MaxLength": 55,
                            "Description": "The commons; its log group has the same name (as in the seed)"},
            "DestinationArn": {"Type": "String", "AllowedPattern": "arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:destination:.+",
                               "Description": "The CSOC stack's DestinationArn output"},
        },
        "Resources": {
            "Subscription": {
                "Type": "AWS::Logs::SubscriptionFilter",
                "Properties": {
                    "FilterName": {"Fn::Sub": "${CommonsName}_subscription"},
                    "LogGroupName": {"Ref": "CommonsName"},
                    "DestinationArn": {"Ref": "DestinationArn"},
                    # Every event, as the seed.
                    "FilterPattern": "",
                },
            },
        },
    }


def partition(region: str) -> str:
    return "aws-us-gov" if region.startswith("us-gov-") else "aws-cn" if region.startswith("cn-") else "aws"


def destination_arn(dep: Deployment, c: Commons) -> str:
    """The CSOC stack's DestinationArn output, known in advance (the child
    stack may be deployed from its parameter file alone)."""
    return f"arn:{partition(c.region)}:logs:{c.region}:{dep.aws.csoc_account_id}:destination:{c.name}_logs_destination"


def csoc_parameters(dep: Deployment, c: Commons) -> dict[str, str]:
    a = dep.aws
    return {
        "CommonsName": c.name,
        "ChildAccountId": c.child_account_id,
        "ShardCount": str(c.shard_count),
        "FirehoseUrl": a.firehose_url,
        "BucketName": c.s3.bucket,
        "BufferSizeMiB": str(a.buffer_size_mib),
        "BufferIntervalSecs": str(a.buffer_interval_secs),
        "RetryDurationSecs": str(a.retry_duration_secs),
    }


def child_parameters(dep: Deployment, c: Commons) -> dict[str, str]:
    return {"CommonsName": c.name, "DestinationArn": destination_arn(dep, c)}


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _parameter_file(values: dict[str, str]) -> str:
    return _json([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])


def render_aws(dep: Deployment) -> dict[str, str]:
    """The aws/ files, or none when the list has no `aws` section."""
    if dep.aws is None:
        return {}
    files = {"aws/csoc.template.json": _json(csoc_template()), "aws/child.template.json": _json(child_template())}
    for c in dep.commons:
        files[f"aws/{c.name}/csoc.parameters.json"] = _parameter_file(csoc_parameters(dep, c))
        files[f"aws/{c.name}/child.parameters.json"] = _parameter_file(child_parameters(dep, c))
    return files
