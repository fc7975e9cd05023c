"""Create the template's queues, tables, secrets and topics in moto (or any AWS-compatible endpoint)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from triage_local.template import Template

QUEUE = "AWS::SQS::Queue"
TABLES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
SECRET = "AWS::SecretsManager::Secret"
TOPIC = "AWS::SNS::Topic"


def provision(template: Template, session: Any, environ: Mapping[str, str] | None = None) -> None:
    """Create every supported resource and record its physical ids in ``template.physical``."""
    env = os.environ if environ is None else environ
    stack = template.resolve({"Ref": "AWS::StackName"})
    _create_queues(template, session.client("sqs"), stack)
    _create_tables(template, session.client("dynamodb"), stack)
    _create_secrets(template, session.client("secretsmanager"), env)
    _create_topics(template, session.client("sns"), stack)


def _create_queues(template: Template, sqs: Any, stack: str) -> None:
    queues = template.resources_of(QUEUE)
    # Dead-letter queues first: a redrive policy needs its target's ARN.
    ordered = sorted(queues, key=lambda k: "RedrivePolicy" in (queues[k].get("Properties") or {}))
    for logical in ordered:
        props = dict(queues[logical].get("Properties") or {})
        name = template.resolve(props.get("QueueName")) or f"{stack}-{logical}"
        attributes = {
            key: str(template.resolve(props[key]))
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "ReceiveMessageWaitTimeSeconds",
            )
            if key in props
        }
        try:
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except ClientError as exc:  # an endpoint the user runs may hold it already, configured differently
            if _code(exc) not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        template.physical[logical] = {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}
    for logical in ordered:
        redrive = (queues[logical].get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            policy = template.resolve(redrive)
            sqs.set_queue_attributes(
                QueueUrl=template.physical[logical]["QueueUrl"],
                Attributes={"RedrivePolicy": json.dumps(policy)},
            )


def _create_tables(template: Template, ddb: Any, stack: str) -> None:
    for logical, resource in template.resources_of(*TABLES).items():
        props = template.resolve(dict(resource.get("Properties") or {}))
        name = props.get("TableName") or f"{stack}-{logical}"
        if resource["Type"] == "AWS::Serverless::SimpleTable":
            key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
            kind = {"String": "S", "Number": "N", "Binary": "B"}[key["Type"]]
            props = {
                "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
                "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            }
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {k: v for k, v in gsi.items() if k != "ProvisionedThroughput"}
            for gsi in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        try:
            arn = ddb.create_table(**request)["TableDescription"]["TableArn"]
        except ClientError as exc:
            if _code(exc) != "ResourceInUseException":
                raise
            arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        template.physical[logical] = {"Ref": name, "Arn": arn}


def _create_secrets(template: Template, secrets: Any, env: Mapping[str, str]) -> None:
    for logical, resource in template.resources_of(SECRET).items():
        props = template.resolve(dict(resource.get("Properties") or {}))
        name = props.get("Name") or logical
        from_env = ((resource.get("Metadata") or {}).get("TriageLocal") or {}).get("SecretStringFromEnv") or []
        value = props.get("SecretString") or json.dumps({k: env[k] for k in from_env if env.get(k)})
        try:
            arn = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        except ClientError as exc:
            if _code(exc) != "ResourceExistsException":
                raise
            arn = secrets.put_secret_value(SecretId=name, SecretString=value)["ARN"]
        template.physical[logical] = {"Ref": arn, "Arn": arn, "Id": arn}


def _create_topics(template: Template, sns: Any, stack: str) -> None:
    for logical, resource in template.resources_of(TOPIC).items():
        props = template.resolve(dict(resource.get("Properties") or {}))
        arn = sns.create_topic(Name=props.get("TopicName") or f"{stack}-{logical}")["TopicArn"]
        template.physical[logical] = {"Ref": arn, "TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
