"""template.yaml as the one source of truth for the local runtime and the tests.

`load_template()` reads it (CloudFormation short tags included); `provision(...)` creates in moto every
resource it declares that the system touches at run time (tables with their indexes and TTL, queues with their
DLQs and redrive, the KMS key, the secrets) and resolves each function's environment exactly as CloudFormation
would (Globals + the function's own, Ref / Fn::GetAtt / Fn::Sub).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Provisioned:
    stack_name: str
    region: str
    endpoint_url: str
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Arn
    function_env: dict[str, dict[str, str]] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=dict)

    def queue_url(self, logical_id: str) -> str:
        return self.physical[logical_id]


class _Resolver:
    def __init__(self, prov: Provisioned, parameters: dict[str, str]) -> None:
        self.prov = prov
        self.parameters = parameters

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::StackName": self.prov.stack_name,
            "AWS::Region": self.prov.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.prov.physical:
            return self.prov.physical[name]
        raise KeyError(f"cannot resolve Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn" and logical_id in self.prov.arns:
            return self.prov.arns[logical_id]
        raise KeyError(f"cannot resolve GetAtt {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), text)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _sub(self, expr: str) -> str:
        if "." in expr and not expr.startswith("AWS::"):
            logical_id, attribute = expr.split(".", 1)
            return self.get_att(logical_id, attribute)
        return self.ref(expr)


def parameter_values(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    values = {}
    for name, spec in template.get("Parameters", {}).items():
        default = spec.get("Default", "")
        values[name] = ",".join(default) if isinstance(default, list) else str(default)
    values.update(overrides or {})
    return values


def provision(
    endpoint_url: str,
    *,
    stack_name: str = "storesync-local",
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    template: dict[str, Any] | None = None,
) -> Provisioned:
    """Create the template's stateful resources in moto and resolve every function's environment.

    `secrets` gives SecretString values by logical id (e.g. the LWA credentials of the simulator). Resources
    the stack already has (a state restored from disk, state.py) are kept as they are, data included: the KMS
    key is found again by its alias, tables and queues by name, secrets by name (a given value is updated).
    """
    template = template or load_template()
    prov = Provisioned(stack_name, region, endpoint_url, template=template)
    resolver = _Resolver(prov, parameter_values(template, parameters))
    session = boto3.session.Session(region_name=region)
    ddb = session.client("dynamodb", endpoint_url=endpoint_url)
    sqs: Any = session.client("sqs", endpoint_url=endpoint_url)
    kms = session.client("kms", endpoint_url=endpoint_url)
    sm = session.client("secretsmanager", endpoint_url=endpoint_url)
    resources: dict[str, Any] = template["Resources"]

    def of_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(lid, r.get("Properties", {})) for lid, r in resources.items() if r["Type"] == kind]

    for lid, props in of_type("AWS::KMS::Key"):
        alias = f"alias/{stack_name}-{lid}"  # how a restarted runtime finds its key (and its data) again
        try:
            key = kms.describe_key(KeyId=alias)["KeyMetadata"]
        except kms.exceptions.NotFoundException:
            key = kms.create_key(Description=props.get("Description", lid))["KeyMetadata"]
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
        prov.physical[lid], prov.arns[lid] = key["KeyId"], key["Arn"]

    # Queues: DLQs first (a queue's RedrivePolicy names its DLQ's Arn).
    queues = sorted(of_type("AWS::SQS::Queue"), key=lambda q: "RedrivePolicy" in q[1])
    for lid, props in queues:
        attributes: dict[str, Any] = {}
        for prop, attr in (
            ("VisibilityTimeout", "VisibilityTimeout"),
            ("MessageRetentionPeriod", "MessageRetentionPeriod"),
        ):
            if prop in props:
                attributes[attr] = str(props[prop])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
        name = f"{stack_name}-{lid}"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        prov.physical[lid] = url
        prov.arns[lid] = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"

    for lid, props in of_type("AWS::DynamoDB::Table"):
        props = resolver.resolve(props)
        kwargs: dict[str, Any] = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        try:
            ddb.create_table(**kwargs)
        except ddb.exceptions.ResourceInUseException:
            pass  # restored with its items
        else:
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
        prov.physical[lid] = props["TableName"]
        prov.arns[lid] = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{props['TableName']}"

    for lid, props in of_type("AWS::SecretsManager::Secret"):
        props = resolver.resolve(props)
        value = (secrets or {}).get(lid)
        if value is None:
            generated = props.get("GenerateSecretString", {})
            value = "local-" + lid + "-" + "x" * 24
            if "SecretStringTemplate" in generated:
                body = json.loads(generated["SecretStringTemplate"])
                body[generated["GenerateStringKey"]] = value
                value = json.dumps(body)
        try:
            arn = sm.create_secret(Name=props.get("Name", lid), SecretString=value)["ARN"]
        except sm.exceptions.ResourceExistsException:
            arn = sm.describe_secret(SecretId=props.get("Name", lid))["ARN"]
            if lid in (secrets or {}) and sm.get_secret_value(SecretId=arn)["SecretString"] != value:
                sm.put_secret_value(SecretId=arn, SecretString=value)
        prov.physical[lid], prov.arns[lid] = arn, arn

    _provision_event_buses(session, endpoint_url, prov, resolver, of_type("AWS::Events::EventBus"))

    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for lid, props in of_type("AWS::Serverless::Function"):
        env = dict(globals_env)
        env.update(props.get("Environment", {}).get("Variables", {}))
        prov.function_env[lid] = {k: str(resolver.resolve(v)) for k, v in env.items()}
    return prov


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> {code_uri, handler, events} of every function in the template."""
    out = {}
    for lid, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            out[lid] = {
                "code_uri": REPO_ROOT / props["CodeUri"],
                "handler": props["Handler"],
                "events": props.get("Events", {}),
                "timeout": props.get("Timeout", template["Globals"]["Function"].get("Timeout", 3)),
                "reserved_concurrency": _int_or_none(props.get("ReservedConcurrentExecutions")),
            }
    return out


def _int_or_none(value: Any) -> int | None:
    """A literal integer property; None when absent or not a literal (e.g. a !Ref the local runtime ignores)."""
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def function_events(template: dict[str, Any], event_type: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function logical id, event name, event Properties) of every enabled `event_type` event of every function."""
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
            props = event.get("Properties", {})
            if event.get("Type") == event_type and str(props.get("Enabled", True)).lower() != "false":
                yield logical_id, event_name, props


# The local subscriber of the events for the WMS: a rule on each bus of the template sending every storesync event
# to this queue (what a WMS would declare in its own stack; README "Subscribing to storesync's events").
LOCAL_EVENTS_QUEUE = "LocalWmsEventsQueue"
LOCAL_EVENTS_RULE = "local-wms-events"


def _provision_event_buses(
    session: Any,
    endpoint_url: str,
    prov: Provisioned,
    resolver: _Resolver,
    buses: list[tuple[str, dict[str, Any]]],
) -> None:
    """Each EventBridge bus of the template on moto, with a rule -> SQS target receiving storesync's events."""
    if not buses:
        return
    events: Any = session.client("events", endpoint_url=endpoint_url)
    sqs: Any = session.client("sqs", endpoint_url=endpoint_url)
    name = f"{prov.stack_name}-{LOCAL_EVENTS_QUEUE}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    prov.physical[LOCAL_EVENTS_QUEUE], prov.arns[LOCAL_EVENTS_QUEUE] = url, arn
    for lid, props in buses:
        bus = str(resolver.resolve(props.get("Name", lid)))
        prov.physical[lid] = bus
        try:
            prov.arns[lid] = events.create_event_bus(Name=bus)["EventBusArn"]
        except events.exceptions.ResourceAlreadyExistsException:  # restored from the state folder
            prov.arns[lid] = events.describe_event_bus(Name=bus)["Arn"]
        events.put_rule(
            Name=LOCAL_EVENTS_RULE,
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["storesync"]}),
            State="ENABLED",
        )
        events.put_targets(
            Rule=LOCAL_EVENTS_RULE, EventBusName=bus, Targets=[{"Id": "local-wms-queue", "Arn": arn}]
        )
