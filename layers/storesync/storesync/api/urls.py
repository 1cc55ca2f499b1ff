"""The API's own public URLs: the consent callback (redirect_uri) and the console the callback returns to."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from storesync.api.deps import api_settings

CALLBACK_PATH = "/amazon/callback"


def _header(router: BaseRouter, name: str) -> str:
    headers = router.current_event.headers or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value).split(",")[0].strip()
    return ""


def public_base_url(router: BaseRouter) -> str:
    """PUBLIC_BASE_URL, else what the request came to (x-forwarded-proto + host, else the API's domain)."""
    configured = api_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    proto = _header(router, "x-forwarded-proto")
    host = _header(router, "host")
    if proto and host:
        return f"{proto}://{host}"
    domain = router.current_event.raw_event.get("requestContext", {}).get("domainName") or host
    return f"https://{domain}"


def callback_url(router: BaseRouter) -> str:
    return public_base_url(router) + CALLBACK_PATH


def callback_path(router: BaseRouter) -> str:
    """The callback's path as the browser sees it (the consent cookie is limited to it)."""
    return urlsplit(callback_url(router)).path or CALLBACK_PATH


def served_over_https(router: BaseRouter) -> bool:
    return public_base_url(router).startswith("https://")


def console_url(router: BaseRouter, **outcome: str) -> str:
    base = api_settings().console_url or public_base_url(router) + "/"
    if not outcome:
        return base
    separator = "&" if "?" in base else "?"
    return base + separator + urlencode(outcome)
