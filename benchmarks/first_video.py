"""Time from a fresh page to the first finished video, with one click on the Generate sample (the toy's).

    ./lab start --port 7913 &   then   .venv/bin/python benchmarks/first_video.py http://127.0.0.1:7913

Needs Debian's chromium and playwright (as the browser tests). Writes test-artifacts/toy-fresh-page.png and
test-artifacts/toy-first-video.png. Times are this machine's.
"""
import shutil
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
Path("test-artifacts").mkdir(exist_ok=True)
url = sys.argv[1]
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
    page = b.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#engine-banner", timeout=60_000)
    loaded = time.perf_counter()
    page.screenshot(path="test-artifacts/toy-fresh-page.png")
    page.locator("td:visible", has_text="white top").first.click()
    page.wait_for_selector("#generate-result video", timeout=300_000)
    done = time.perf_counter()
    page.screenshot(path="test-artifacts/toy-first-video.png", full_page=False)
    print(f"page loaded {loaded - started:.1f} s; first video {done - loaded:.1f} s after the click; total {done - started:.1f} s")
    b.close()
