"""Page tokens of the paginated operations (searchOrders, searchListingsItems, getInventorySummaries).

Each API keeps its own token content (JSON); this module makes the text and reads it back, and applies the
page faults (faults.py):
- `odd_page_tokens`: the token is standard base64 starting with `+/` and ending with `==`, as Amazon's
  often are; a client must URL-encode it (an unencoded `+` arrives as a space and the token is refused);
- `expired_page_tokens`: a token given back is refused with 400 InvalidInput "<parameter>: expired ...";
- `repeat_across_pages`: the next page starts a few entries back, so it repeats the end of this page.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from .errors import sp_error

if TYPE_CHECKING:
    from .server import Call

_ODD_PREFIX = b"\xfb\xff"  # standard base64 "+/"
REPEATED = 2  # entries of a page repeated at the start of the next one (repeat_across_pages)


def make(call: Call, raw: bytes, *, padded: bool = True) -> str:
    """The text of a token holding `raw` (url-safe base64; odd under the fault odd_page_tokens)."""
    if call.sim.faults.pick("odd_page_tokens", call.operation_id):
        data = _ODD_PREFIX + raw + b" " * ((1 - len(_ODD_PREFIX) - len(raw)) % 3)  # JSON ignores the spaces
        return base64.b64encode(data).decode()  # length = 1 mod 3: ends with "=="
    text = base64.urlsafe_b64encode(raw).decode()
    return text if padded else text.rstrip("=")


def read(call: Call, token: str, parameter: str) -> bytes:
    """The bytes a token holds; raises ValueError for text this module never made, and 400 InvalidInput
    "<parameter>: expired ..." under the fault expired_page_tokens."""
    if token.startswith("+/"):
        data = base64.b64decode(token, validate=True)
        if not data.startswith(_ODD_PREFIX):
            raise ValueError(f"{parameter}: not a token")
        raw = data[len(_ODD_PREFIX) :]
    else:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if call.sim.faults.pick("expired_page_tokens", call.operation_id):
        raise expired(parameter)
    return raw


def expired(parameter: str, why: str = "start the search again without it") -> Exception:
    return sp_error(400, "InvalidInput", f"{parameter}: expired ({why})")


def resume_index(call: Call, page_length: int) -> int:
    """Index in the page of the entry the next page resumes after: the last one, or a few before it under
    the fault repeat_across_pages (never the page's start, so a search always moves on)."""
    last = page_length - 1
    if last >= 1 and call.sim.faults.pick("repeat_across_pages", call.operation_id):
        return last - min(REPEATED, last)
    return last
