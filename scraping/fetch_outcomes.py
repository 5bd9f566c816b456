"""Why a URL did not end up in the store: one exception carrying a manifest status and a short code.

Statuses (the manifest's `status` field):
- ok       stored in raw/
- refused  a policy said no (robots, X-Robots-Tag, meta robots, scheme, private address); final
- invalid  the response is not an acceptable image (not-image, too-big, too-large, implausible,
           truncated, corrupt); final
- error    the fetch failed (timeout, connection, HTTP error, redirect loop); retried by a re-run
           until the URL has `max_attempts` attempts
"""

from __future__ import annotations

OK = "ok"
REFUSED = "refused"
INVALID = "invalid"
ERROR = "error"
FINAL_STATUSES = frozenset({OK, REFUSED, INVALID})
# Refusals that a setting decided: final only under settings at least as strict. A row records the
# setting it was judged under, so a re-run with --allow-private or a larger --max-bytes / --max-pixels
# fetches these again instead of skipping them for good.
SETTING_OF_CODE = {"private-address": "allow_private", "too-big": "max_bytes", "too-large": "max_pixels"}


class FetchOutcome(Exception):
    """A URL's non-ok end: `status` as above, `code` short and machine-readable, `detail` for people."""

    status = ERROR

    def __init__(self, code: str, detail: str = "", http_status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.http_status = http_status


class Refused(FetchOutcome):
    status = REFUSED


class Invalid(FetchOutcome):
    status = INVALID


class FetchError(FetchOutcome):
    status = ERROR
