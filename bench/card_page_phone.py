"""What a resident feels: the card page on a slow phone link, in Chromium.

The network is throttled through the DevTools protocol (`Network.emulateNetworkConditions`:
400 kbit/s down and up, 400 ms round trip) and the CPU slowed 4 x
(`Emulation.setCPUThrottlingRate`). The QR code is on screen at the page's first contentful
paint: the stylesheet blocks rendering, and by the time it arrives the HTML, whose first 2 KB
hold the QR, is in (checked on every visit: the page's response ended before that paint, and the
QR is visible after it).

The physical floor is what the same bytes cost on the same link: the bytes the browser
received for the page and its stylesheet (Resource Timing's transferSize, headers included)
divided by the bandwidth, plus one round trip per request in the chain (the page, then its
stylesheet; on a repeat visit the page's 304 alone, the stylesheet is cached for a year).
DevTools' throttling adds its latency once per request and models no TCP handshake, so neither
does the floor.

Service workers are blocked in these contexts: DevTools' throttling does not reach a service
worker's own fetches, which would make a repeat visit look faster than a phone would see it.
A repeat visit is then the browser's own revalidation (304), as for a resident whose browser
has no service worker.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

BANDWIDTH = 400_000 / 8  # bytes a second, each way
ROUND_TRIP = 0.400  # seconds
CPU_SLOWDOWN = 4
PHONE = {"width": 360, "height": 740}
THROTTLE = {
    "offline": False,
    "latency": ROUND_TRIP * 1000,
    "downloadThroughput": BANDWIDTH,
    "uploadThroughput": BANDWIDTH,
}
TIMING = """() => {
    const page = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const sheets = performance.getEntriesByType('resource')
        .filter(r => r.initiatorType === 'link' && r.name.includes('.css'));
    return {
        paint: paint ? paint.startTime : null,
        page_end: page.responseEnd,
        page_status: page.responseStatus,
        page_bytes: page.transferSize,
        sheet_bytes: sheets.reduce((sum, r) => sum + r.transferSize, 0),
        sheets_fetched: sheets.filter(r => r.transferSize > 0).length,
    };
}"""


@dataclass(frozen=True)
class Visit:
    seconds: float  # from the navigation's start until the QR is on screen
    bytes: int  # the page's and its stylesheet's, headers included
    chain: int  # requests one after the other before the QR can show
    status: int  # the page's: 200, or 304 on a repeat visit

    @property
    def floor(self) -> float:
        return self.bytes / BANDWIDTH + self.chain * ROUND_TRIP

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor


def _visit(page, url: str) -> Visit:
    page.goto(url, wait_until="load")
    qr = page.locator("figure.qr svg")
    qr.wait_for(state="visible")
    timing = page.evaluate(TIMING)
    if timing["paint"] is None or timing["page_end"] > timing["paint"]:
        raise RuntimeError(f"the QR was not in the first paint: {timing}")
    return Visit(
        seconds=timing["paint"] / 1000,
        bytes=timing["page_bytes"] + timing["sheet_bytes"],
        chain=1 + timing["sheets_fetched"],
        status=timing["page_status"],
    )


def _phone(browser):
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", service_workers="block"
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable", {})
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return context, page


def phone_visits(browser, url: str, rounds: int = 5) -> dict[str, list[Visit]]:
    """First visits on fresh phones and repeat visits of the page at `url`, `rounds` each."""
    visits = {"first": [], "repeat": []}
    for _ in range(rounds):
        context, page = _phone(browser)
        try:
            visits["first"].append(_visit(page, url))
            page.goto("about:blank")
            visits["repeat"].append(_visit(page, url))
        finally:
            context.close()
    return visits


def median_visit(visits: list[Visit]) -> Visit:
    """The visit of median time (its own bytes and floor)."""
    return sorted(visits, key=lambda v: v.seconds)[len(visits) // 2]


def summary(visits: list[Visit]) -> str:
    ratios = [v.ratio for v in visits]
    return f"median {statistics.median(ratios):.2f} x, range {min(ratios):.2f}-{max(ratios):.2f} x"
