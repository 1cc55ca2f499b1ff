"""How notices (a store's warnings, the sync log's entries) are stored: a list of maps {code, params, message}.

The message is stored too, for whoever reads the table; reading makes it again from code and parameters. An
item that is a plain string (rows written before notices had codes) reads as a `legacy` notice.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import Attribute, ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.constants import LIST, STRING

from storesync.domain.notices import Notice, legacy_notice, stored_notice


class NoticeMap(MapAttribute):  # type: ignore[type-arg]
    code = UnicodeAttribute()
    params = MapAttribute(default=dict)  # type: ignore[var-annotated]  # str, number or list of str values
    message = UnicodeAttribute()


_NOTICE_MAPS = ListAttribute(of=NoticeMap)  # module level: an Attribute on a class would act as a descriptor


class NoticesAttribute(Attribute[list[Notice]]):
    """A list of `Notice`s, stored with a ListAttribute of NoticeMap (wrapped: it also reads plain strings)."""

    attr_type = LIST

    def serialize(self, value: list[Notice]) -> list[dict[str, Any]]:
        maps = [NoticeMap(code=n.code.value, params=dict(n.params), message=n.message) for n in value]
        return _NOTICE_MAPS.serialize(maps)

    def deserialize(self, value: list[dict[str, Any]]) -> list[Notice]:
        return [legacy_notice(item[STRING]) if STRING in item else _notice(item) for item in value]


def _notice(item: dict[str, Any]) -> Notice:
    stored = _NOTICE_MAPS.deserialize([item])[0]
    params = stored.params.as_dict() if stored.params else {}
    return stored_notice(stored.code, params, stored.message)
