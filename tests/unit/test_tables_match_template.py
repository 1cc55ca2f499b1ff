"""template.yaml's tables and the pynamodb models must agree: keys, indexes, TTL, names."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute
from storesync.dal import TABLE_SUFFIXES, TABLES


def _model_shape(model: Any) -> dict[str, Any]:
    attrs = model.get_attributes()
    hash_key = next(n for n, a in attrs.items() if a.is_hash_key)
    range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
    indexes = {}
    types = {hash_key: attrs[hash_key].attr_type}
    if range_key:
        types[range_key] = attrs[range_key].attr_type
    for index in model._indexes.values():
        fields = {n: a for n, a in type(index).__dict__.items() if hasattr(a, "is_hash_key")}
        ih = next(n for n, a in fields.items() if a.is_hash_key)
        ir = next((n for n, a in fields.items() if a.is_range_key), None)
        indexes[index.Meta.index_name] = (ih, ir)
        types[ih] = fields[ih].attr_type
        if ir:
            types[ir] = fields[ir].attr_type
    ttl = next((n for n, a in attrs.items() if isinstance(a, TTLAttribute)), None)
    return {"keys": (hash_key, range_key), "indexes": indexes, "types": types, "ttl": ttl}


def _template_shape(props: dict[str, Any]) -> dict[str, Any]:
    def keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
        h = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        r = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
        return h, r

    ttl = props.get("TimeToLiveSpecification")
    return {
        "keys": keys(props["KeySchema"]),
        "indexes": {i["IndexName"]: keys(i["KeySchema"]) for i in props.get("GlobalSecondaryIndexes", [])},
        "types": {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]},
        "ttl": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None,
    }


@pytest.mark.parametrize("logical_id", sorted(TABLES))
def test_table_matches_model(template: dict[str, Any], logical_id: str) -> None:
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    props = resource["Properties"]
    assert props["TableName"] == {"Fn::Sub": f"${{AWS::StackName}}-{TABLE_SUFFIXES[logical_id]}"}
    assert _template_shape(props) == _model_shape(TABLES[logical_id])


def test_every_template_table_has_a_model(template: dict[str, Any]) -> None:
    tables = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    # The idempotency table belongs to Powertools' idempotency utility (its own fixed schema).
    assert tables - {"IdempotencyTable"} == set(TABLES)
    idem = _template_shape(template["Resources"]["IdempotencyTable"]["Properties"])
    assert idem["keys"] == ("id", None) and idem["ttl"] == "expiration"


def test_every_model_has_its_own_meta() -> None:
    # storesync.dal.base.TableModel gives each model its own unbound Meta: naming one table renames no other.
    metas = [model.Meta for model in TABLES.values()]
    assert len({id(meta) for meta in metas}) == len(metas)
    assert all(meta.connect_timeout_seconds is not None for meta in metas)  # pynamodb's defaults are kept


def test_models_share_the_key_attributes_of_their_base() -> None:
    from storesync.dal.orders import Order, OrderAddress

    for model in (Order, OrderAddress):
        attrs = model.get_attributes()
        assert attrs["store_id"].is_hash_key and attrs["amazon_order_id"].is_range_key
        assert not attrs["merchant_id"].is_hash_key
