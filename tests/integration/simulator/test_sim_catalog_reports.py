"""Reports API (GET_MERCHANT_LISTINGS_ALL_DATA) over HTTP: lifecycle, schema, flat-file content, gzip."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.reports_api import COLUMNS
from spapi_simulator.schemas import validate_response
from spapi_simulator.testing import Authorized, admin, authorize

MODEL = "reports_2021-06-30.json"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
REPORTS = "/reports/2021-06-30/reports"


def create(sim: Simulator, auth: Authorized, **body: Any) -> requests.Response:
    spec = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US], **body}
    return requests.post(sim.url + REPORTS, json=spec, headers=auth.headers, timeout=10)


def get_report(sim: Simulator, auth: Authorized, report_id: str) -> dict[str, Any]:
    answer = requests.get(f"{sim.url}{REPORTS}/{report_id}", headers=auth.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "getReport", 200, answer.json())
    return answer.json()


def download(sim: Simulator, auth: Authorized, document_id: str) -> tuple[dict[str, Any], bytes]:
    meta = requests.get(
        f"{sim.url}/reports/2021-06-30/documents/{document_id}", headers=auth.headers, timeout=10
    )
    assert meta.status_code == 200, meta.text
    validate_response(MODEL, "getReportDocument", 200, meta.json())
    content = requests.get(meta.json()["url"], timeout=30)  # no access token, like a presigned URL
    assert content.status_code == 200
    return meta.json(), content.content


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_report_moves_from_in_queue_to_done_on_the_simulator_clock(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(report_seconds=60)
    auth = authorize(sim)
    created = create(sim, auth)
    assert created.status_code == 202
    validate_response(MODEL, "createReport", 202, created.json())
    report_id = created.json()["reportId"]
    first = get_report(sim, auth, report_id)
    assert first["processingStatus"] == "IN_QUEUE" and "reportDocumentId" not in first
    admin(sim, "POST", "clock/advance", json={"seconds": 31})
    assert get_report(sim, auth, report_id)["processingStatus"] == "IN_PROGRESS"
    admin(sim, "POST", "clock/advance", json={"seconds": 30})
    done = get_report(sim, auth, report_id)
    assert done["processingStatus"] == "DONE" and done["reportDocumentId"].startswith("amzn1.spdoc.")
    listed = admin(sim, "GET", "reports", seller_id="A1NASELLER0001")["reports"]
    assert [r["reportId"] for r in listed] == [report_id]


def test_flat_file_has_amazons_columns_and_every_listing_with_odd_titles_intact(
    spapi_sim_factory: Any,
) -> None:
    sim = spapi_sim_factory(report_seconds=0, skus=120)
    auth = authorize(sim)
    admin(sim, "POST", "listings", json={"seller_id": "A1NASELLER0001", "marketplace_id": US, "sku": "ODD-1",
                                         "title": 'Tab\there "quoted" café', "quantity": 4})  # fmt: skip
    report_id = create(sim, auth).json()["reportId"]
    meta, content = download(sim, auth, get_report(sim, auth, report_id)["reportDocumentId"])
    assert "compressionAlgorithm" not in meta
    text = content.decode("utf-8")
    assert text.split("\n", 1)[0].split("\t") == list(COLUMNS)
    parsed = {row["seller-sku"]: row for row in rows(text)}
    truth = {
        x["sku"]: x
        for x in admin(sim, "GET", "listings", seller_id="A1NASELLER0001", marketplace_id=US)["listings"]
    }
    assert set(parsed) == set(truth) and len(parsed) == 121
    assert parsed["ODD-1"]["item-name"] == 'Tab\there "quoted" café'
    for sku, row in parsed.items():
        listing = truth[sku]
        assert row["item-name"] == listing["title"] and row["asin1"] == listing["asin"]
        assert (
            row["fulfillment-channel"] == listing["fulfillment_channel"]
            and row["status"] == listing["status"]
        )
        expected = "" if listing["fulfillment_channel"] != "DEFAULT" else str(listing["quantity"])
        assert row["quantity"] == expected
    assert any("\t" in t["title"] for t in truth.values())
    assert {r["fulfillment-channel"] for r in parsed.values()} == {"DEFAULT", "AMAZON_NA"}


def test_gzip_documents_decompress_to_the_same_flat_file(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(report_seconds=0, skus=30)
    auth = authorize(sim)
    plain_id = get_report(sim, auth, create(sim, auth).json()["reportId"])["reportDocumentId"]
    _, plain = download(sim, auth, plain_id)
    admin(sim, "POST", "reports/settings", json={"compression": "GZIP"})
    zipped_id = get_report(sim, auth, create(sim, auth).json()["reportId"])["reportDocumentId"]
    meta, zipped = download(sim, auth, zipped_id)
    assert meta["compressionAlgorithm"] == "GZIP"
    assert zipped[:2] == b"\x1f\x8b" and gzip.decompress(zipped) == plain


def test_bad_report_requests_get_amazons_errors(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    for body, field in (({"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA"}, "reportType"),
                        ({"marketplaceIds": ["A1F83G8C2ARO7P"]}, "marketplaceIds"),
                        ({"marketplaceIds": [US, CA]}, "marketplaceIds"),
                        ({"marketplaceIds": []}, "marketplaceIds")):  # fmt: skip
        answer = create(spapi_sim, auth, **body)
        assert answer.status_code == 400, body
        validate_response(MODEL, "createReport", 400, answer.json())
        assert (
            answer.json()["errors"][0]["code"] == "InvalidInput"
            and field in answer.json()["errors"][0]["message"]
        )
    other = authorize(spapi_sim, "A2NASELLER0002")
    report_id = create(spapi_sim, auth).json()["reportId"]
    missing = requests.get(f"{spapi_sim.url}{REPORTS}/{report_id}", headers=other.headers, timeout=10)
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"
