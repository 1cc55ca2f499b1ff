"""Report and feed documents, served like S3 presigned URLs: {sim.url}/_sim/documents/{documentId}.

No access token is needed (as with Amazon's URLs). A report document is produced while it is downloaded
(a generator of byte chunks, optionally gzip-compressed on the fly), so a 100,000-row flat file never sits
in memory; a feed input document is uploaded with PUT (its Content-Type must be the one declared to
createFeedDocument, as a presigned URL would require); a feed result document holds its bytes.

Also the per-simulator state helpers of the catalog modules: `catalog_of(sim)` and `extension(sim, ...)`.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response, request

from .catalog import Catalog
from .clock import iso
from .sellers import SELLERS_BY_ID
from .server import json_response, sim_route

if TYPE_CHECKING:
    from .state import SimulatorState

_STATE_LOCK = threading.Lock()


def extension[T](sim: SimulatorState, name: str, factory: Callable[[], T]) -> T:
    """Per-simulator state of a module, created on first use (kept in sim.extensions)."""
    value = sim.extensions.get(name)
    if value is None:
        with _STATE_LOCK:
            value = sim.extensions.get(name)
            if value is None:
                value = sim.extensions[name] = factory()
    return value  # type: ignore[no-any-return]


def catalog_of(sim: SimulatorState) -> Catalog:
    """The world's catalog (world.catalog, made by generator.populate); due quantity changes applied."""
    catalog: Catalog = sim.world.catalog
    catalog.apply_due()
    return catalog


def tab_separated_chunks(
    header: Sequence[str], batches: Iterable[Iterable[Sequence[str]]]
) -> Iterator[bytes]:
    """Amazon's flat file (tab separated, quoted the csv way, header row first) in UTF-8 chunks, one a batch of
    rows (the reports' documents: written while they are downloaded, never held as one text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for rows in batches:
        writer.writerows(rows)
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


@dataclass
class Document:
    document_id: str
    seller_id: str
    kind: str  # report | feed-input | feed-result
    content_type: str
    content: bytes | None = None
    # produces the document when it is downloaded, from the simulator as it is then; a module-level function
    # (or a functools.partial of one) so that the document survives a restart (storesync_local/state.py)
    producer: Callable[[SimulatorState], Iterable[bytes]] | None = None
    compression: str | None = None  # GZIP or None

    def chunks(self, sim: SimulatorState) -> Iterator[bytes]:
        if self.producer is None:
            yield self.content or b""
            return
        if self.compression != "GZIP":
            yield from self.producer(sim)
            return
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip container
        for chunk in self.producer(sim):
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()


class Documents:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, Document] = {}

    def new(self, seller_id: str, kind: str, content_type: str, **fields: Any) -> Document:
        region = SELLERS_BY_ID[seller_id].region.lower() if seller_id in SELLERS_BY_ID else "na"
        prefix = "amzn1.spdoc.1.4" if kind == "report" else "amzn1.tortuga.4"
        document = Document(f"{prefix}.{region}.{uuid.uuid4()}", seller_id, kind, content_type, **fields)
        with self.lock:
            self.by_id[document.document_id] = document
        return document

    def get(self, document_id: str, seller_id: str | None = None) -> Document | None:
        document = self.by_id.get(document_id)
        if document is None or (seller_id is not None and document.seller_id != seller_id):
            return None
        return document


class Processing:
    """Amazon's processing of a report or feed: IN_QUEUE, IN_PROGRESS from halfway, done `seconds` after `created`
    (the dataclasses that inherit this have both fields)."""

    created: float
    seconds: float

    def processing_stage(self, now: float) -> str:
        if now >= self.created + self.seconds:
            return "DONE"
        return "IN_PROGRESS" if now >= self.created + self.seconds / 2 else "IN_QUEUE"

    def processing_json(self, status: str) -> dict[str, Any]:
        """createdTime, processingStatus and the processing start and end times, in `status`."""
        body: dict[str, Any] = {"createdTime": iso(self.created), "processingStatus": status}
        if status != "IN_QUEUE":
            body["processingStartTime"] = iso(self.created + self.seconds / 2)
        if status not in ("IN_QUEUE", "IN_PROGRESS"):
            body["processingEndTime"] = iso(self.created + self.seconds)
        return body


class Submissions[T]:
    """The reports or the feeds of one simulator, by id; ids are numbers counted from `first_id`."""

    def __init__(self, first_id: int) -> None:
        self.lock = threading.RLock()
        self.by_id: dict[str, T] = {}
        self._next_number = first_id  # a plain number (not an itertools.count): it is pickled with the rest

    def new_id(self) -> str:
        with self.lock:
            number, self._next_number = self._next_number, self._next_number + 1
        return str(number)


def documents_of(sim: SimulatorState) -> Documents:
    return extension(sim, "documents", Documents)


def document_url(sim: SimulatorState, document_id: str) -> str:
    return f"{sim.url}/_sim/documents/{document_id}"


def _xml_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status=status, mimetype="application/xml")


@sim_route("GET", "/_sim/documents/<document_id>")
def download_document(sim: SimulatorState, document_id: str) -> Response:
    document = documents_of(sim).get(document_id)
    if document is None or (document.kind == "feed-input" and document.content is None):
        return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
    return Response(document.chunks(sim), status=200, headers={"Content-Type": document.content_type})


@sim_route("PUT", "/_sim/documents/<document_id>")
def upload_document(sim: SimulatorState, document_id: str) -> Response:
    document = documents_of(sim).get(document_id)
    if document is None or document.kind != "feed-input":
        return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
    declared = document.content_type.split(";")[0].strip().lower()
    given = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if given != declared:
        message = f"Content-Type: {given or 'none'} does not match the signed {declared}"
        return _xml_error(403, "SignatureDoesNotMatch", message)
    document.content = request.get_data()
    return Response(b"", status=200)


@sim_route("GET", "/_sim/documents")
def list_documents(sim: SimulatorState) -> Response:
    docs = documents_of(sim)
    with docs.lock:
        listed = [
            {
                "document_id": d.document_id,
                "seller_id": d.seller_id,
                "kind": d.kind,
                "content_type": d.content_type,
            }
            for d in docs.by_id.values()
        ]
    return json_response(200, {"documents": listed})
