"""Time from a fresh page to the first finished video, with one click on the Generate tab's sample.

    ./lab start --port 7913 &
    .venv/bin/python -m benchmarks.first_video http://127.0.0.1:7913 [--json PATH]

Needs Debian's chromium and playwright (as the browser tests). Saves test-artifacts/first-page.png and
test-artifacts/first-video.png. Times are this machine's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path


def measure(url: str, artifacts: Path) -> dict:
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: no chromium here; on Debian: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        page.wait_for_selector("#engine-banner", timeout=60_000)
        loaded = time.perf_counter()
        page.screenshot(path=str(artifacts / "first-page.png"))
        page.locator("#generate-sample td:visible").first.click()  # the sample's row: fills the inputs and runs
        page.wait_for_selector("#generate-result video", timeout=300_000)
        done = time.perf_counter()
        page.screenshot(path=str(artifacts / "first-video.png"))
        browser.close()
    return {"page_seconds": round(loaded - started, 1), "video_seconds_after_click": round(done - loaded, 1),
            "total_seconds": round(done - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the running lab, e.g. http://127.0.0.1:7913")
    parser.add_argument("--json", type=Path, help="write the times here")
    args = parser.parse_args(argv)
    result = measure(args.url, Path("test-artifacts"))
    print(f"page {result['page_seconds']} s; first video {result['video_seconds_after_click']} s after the click; "
          f"total {result['total_seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
