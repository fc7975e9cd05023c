"""One verified TLS context per process, shared by every vendor call (Zendesk, HubSpot, Claude, Slack).

Loading the CA bundle is the expensive part of TLS setup: ~45 ms on the project's machine. Without a context
of their own, urllib3 builds one and loads the bundle for each new HTTPS connection (a cold start opens one
per vendor). Here it is loaded once, the first time an ``https://`` URL needs it (``vendor_http.HttpClient``,
which every vendor adapter sends through); a ``http://`` URL (the local sandboxes) never loads it.
"""

from __future__ import annotations

import functools
import ssl

from urllib3.util import create_urllib3_context


@functools.cache
def verified_context() -> ssl.SSLContext:
    """urllib3's own defaults (TLS 1.2 or later, certificates and host names checked) with the system's CAs,
    as urllib3 builds for each connection when given none."""
    context = create_urllib3_context()
    context.load_default_certs()
    return context


def needs_tls(url: str) -> bool:
    return url.lower().startswith("https://")
