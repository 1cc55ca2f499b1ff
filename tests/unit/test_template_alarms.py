"""template.yaml's alarms cover every dead-letter queue, function and work queue, and the sync-lag metric each
job run publishes; all notify the one topic whose e-mail subscription is the AlarmEmail parameter."""

from __future__ import annotations

from typing import Any

import pytest
from storesync import observability
from storesync.domain.health import LATE_AFTER_CADENCES
from storesync.jobs import JobName
from storesync.observability import SYNC_LAG_CADENCES
from storesync_local.template import load_template


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template()["Resources"])


def _alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def _watched(resources: dict[str, Any], namespace: str, metric: str) -> set[str]:
    """The logical ids (Ref / GetAtt) of what alarms on `metric` watch."""
    found = set()
    for alarm in _alarms(resources):
        if alarm["Namespace"] == namespace and alarm["MetricName"] == metric:
            (dimension,) = alarm["Dimensions"]
            value = dimension["Value"]
            found.add(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])
    return found


def test_every_alarm_notifies_the_alarm_topic(resources: dict[str, Any]) -> None:
    alarms = _alarms(resources)
    assert len(alarms) > 20
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_every_dead_letter_queue_function_and_work_queue_has_its_alarms(resources: dict[str, Any]) -> None:
    queues = {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dead_letter = {q["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in queues.values() if "RedrivePolicy" in q}  # fmt: skip
    work = {lid for lid, q in queues.items() if "RedrivePolicy" in q}
    functions = {lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert dead_letter and work and functions
    assert _watched(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible") == dead_letter
    assert _watched(resources, "AWS/SQS", "ApproximateAgeOfOldestMessage") == work
    assert _watched(resources, "AWS/Lambda", "Errors") == functions
    assert _watched(resources, "AWS/Lambda", "Throttles") == functions


def test_a_sync_lag_alarm_per_job_on_the_metric_the_runner_publishes(resources: dict[str, Any]) -> None:
    lag = [a for a in _alarms(resources) if a["MetricName"] == SYNC_LAG_CADENCES]
    assert {a["Namespace"] for a in lag} == {observability.NAMESPACE}
    dimensions = [{d["Name"]: d["Value"] for d in a["Dimensions"]} for a in lag]
    assert sorted(d["job"] for d in dimensions) == sorted(j.value for j in JobName)
    assert {d["service"] for d in dimensions} == {observability.SERVICE}
    assert {(a["Threshold"], a["ComparisonOperator"], a["Statistic"]) for a in lag} == {
        (LATE_AFTER_CADENCES, "GreaterThanThreshold", "Maximum")  # late, as the store health says
    }
