"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright, against the app on
127.0.0.1 with the tiny engine. Screenshots are kept in test-artifacts/ (CI keeps that folder).

These need Debian's `chromium` (.ci/run installs it with apt) and the playwright package
(requirements.txt). Without them the tests skip and say which is missing.
"""

import re
import shutil
import zipfile

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LONG = 240_000  # ms: a 2-core CI machine running a sweep of the tiny model


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#engine-banner", timeout=60_000)
    return page


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def set_number(page, elem_id, value):
    field = page.locator(f"#{elem_id} input").first
    field.fill(str(value))
    field.press("Tab")


def test_pose_then_sweep_then_the_grid_and_the_zip(browser, app_url, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, app_url)
    page.get_by_role("tab", name="Pose").click()
    page.locator("td:visible", has_text="33").first.click()  # the sample row (33 frames): one click extracts
    page.wait_for_selector("#pose-diagnostics >> text=A person was found", timeout=LONG)
    screenshot(page, "pose-extracted")
    # Generate gets the frames asked for (33: two of the model's 17-frame windows), not only its first window.
    page.get_by_role("button", name="Use in Generate").click()
    page.get_by_text("Negative prompt and advanced settings").click()  # where the frame count is
    expect(page.locator("#generate-frames input")).to_have_value("33")
    # Generate's sample then makes its own clip at the model's frame count, not the pose video's.
    page.locator("td:visible", has_text="young man").first.click()
    expect(page.locator("#generate-frames input")).to_have_value("17")
    page.wait_for_selector("#generate-result video", timeout=LONG)
    page.get_by_role("tab", name="Pose").click()
    page.locator("#pose-to-sweep").click()
    page.wait_for_selector("#sweep-run", state="visible")
    # The preset's 50 steps a cell would only make the grid later; the flow under test is the same.
    page.locator("#sweep-overrides textarea").fill("num_inference_steps=4")
    page.locator("#sweep-run").click()
    page.wait_for_selector("#sweep-grid img", timeout=LONG)
    zip_link = page.locator('#sweep-files a[download$=".zip"]')
    zip_link.first.wait_for(timeout=LONG)
    screenshot(page, "pose-sweep-grid")
    with page.expect_download() as download_info:
        zip_link.first.click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    assert any(name.endswith("grid.gif") for name in names) and any(name.endswith("manifest.json") for name in names)
    # History lists the run as soon as its tab opens, named for what was swept.
    page.get_by_role("tab", name="History").click()
    shown = page.locator("#history-run input")
    page.wait_for_function("(el) => / cells?, /.test(el.value)", arg=shown.first.element_handle(), timeout=30_000)
    assert re.search(r"(\w+ x \w+|\w+|single cell), \d+ cells?, ", shown.first.input_value())
    screenshot(page, "history-listed")
    # ... and opens it: its grid is on the page without another click.
    page.wait_for_selector("#history-grid img", timeout=30_000)
    page.context.close()


def test_train_a_few_steps_then_the_lora_appears_then_an_alpha_sweep(browser, app_url):
    page = open_page(browser, app_url)
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Use the sample clip").click()
    for elem_id, value in (("train-steps", 4), ("train-checkpoint-every", 2), ("train-validate-every", 0),
                           ("train-height", 64), ("train-width", 64), ("train-frames", 5)):
        set_number(page, elem_id, value)
    page.locator("#train-run").click()
    page.wait_for_selector("#train-status >> text=Done:", timeout=LONG)
    screenshot(page, "train-done")
    run_name = re.search(r"Done: (\S+)\.", page.locator("#train-status").inner_text()).group(1)

    page.get_by_role("tab", name="Generate").click()
    page.locator("#generate-lora input").click()
    page.get_by_role("option", name=re.compile(re.escape(run_name))).first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Train").click()
    page.locator("#train-to-sweep").click()
    page.wait_for_selector("#sweep-run", state="visible")
    # The sweep asks for what the run was trained on, not an empty prompt.
    overrides = page.locator("#sweep-overrides textarea")
    assert overrides.input_value().startswith("prompt=")
    overrides.fill(overrides.input_value() + "\nnum_inference_steps=2")  # a quicker grid, the same flow
    page.locator("#sweep-run").click()
    page.wait_for_selector("#sweep-grid img", timeout=LONG)
    screenshot(page, "train-alpha-sweep")
    assert "6 of 6" in page.locator("#sweep-progress").inner_text() or page.locator("#sweep-grid img").count()
    page.context.close()


def test_two_sessions_queue_and_a_long_sweep_stops_from_the_page(browser, app_url):
    first, second = open_page(browser, app_url), open_page(browser, app_url)
    first.get_by_role("tab", name="Sweep").click()
    first.locator("#sweep-run").click()  # the default preset: several cells, the model queue is busy
    first.wait_for_selector("#sweep-progress >> text=/cell/i", timeout=LONG)
    second.locator("td:visible", has_text="young man").first.click()  # Generate's sample: joins the queue
    second.wait_for_selector("text=/queue/i", timeout=30_000)
    screenshot(second, "second-session-queued")
    first.locator("#sweep-stop").click()
    second.wait_for_selector("#generate-result video", timeout=LONG)
    first.wait_for_selector("#sweep-progress >> text=/stop/i", timeout=LONG)
    screenshot(first, "first-session-stopped")
    assert first.locator("#generate-result video").count() == 0  # each session sees only its own results
    first.context.close()
    second.context.close()


def test_a_closed_tab_stops_its_job_and_the_next_in_the_queue_runs(browser, app_url):
    """A long generation (20 windows x 100 steps at 448x448: minutes) is left behind by closing its tab; the
    queued sample in another tab then runs at once, and the page's plan line said what the job would cost."""
    import time

    first, second = open_page(browser, app_url), open_page(browser, app_url)
    first.get_by_text("Negative prompt and advanced settings").click()
    for elem_id, value in (("generate-height", 448), ("generate-width", 448), ("generate-frames", 241)):
        set_number(first, elem_id, value)
    set_number(first, "generate-steps", 100)
    first.wait_for_selector("#generate-estimate >> text=/20 windows x 100 steps/", timeout=30_000)
    first.locator("#generate-run").click()
    first.wait_for_selector("text=/denoising step/", timeout=LONG)
    second.locator("td:visible", has_text="young man").first.click()
    second.wait_for_selector("text=/queue/i", timeout=30_000)
    first.context.close()
    closed = time.monotonic()
    second.wait_for_selector("#generate-result video", timeout=LONG)
    assert time.monotonic() - closed < 90  # the long job would have held the queue for minutes
    second.context.close()


def test_a_corrupt_image_after_the_sample_gets_the_same_one_line(browser, app_url, tmp_path):
    page = open_page(browser, app_url)
    page.locator("td:visible", has_text="young man").first.click()  # the sample fills the fields and generates
    page.wait_for_selector("#generate-result video", timeout=LONG)
    # While the next video is made, its progress shows under the result, and the last result stays in sight.
    set_number(page, "generate-steps", 100)
    page.locator("#generate-run").click()
    page.wait_for_selector("#generate-timings >> text=/denoising step/", timeout=LONG)
    assert page.locator("#generate-result video").count() == 1
    screenshot(page, "generate-second-run-keeps-the-first")
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("#generate-timings >> text=/Stopped/", timeout=LONG)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image " * 40)
    clear = page.locator("#generate-reference button[aria-label*='Clear'], #generate-reference button[title*='Clear']")
    if clear.count():
        clear.first.click()
    page.locator("#generate-reference input[type=file]").set_input_files(str(broken))
    page.locator("#generate-run").click()
    toast = page.locator(".toast-body", has_text="cannot read the image").first
    toast.wait_for(timeout=60_000)
    screenshot(page, "generate-corrupt-image")
    text = toast.inner_text()
    assert "broken.png: cannot read the image" in text and len(text) < 200, text
    # Said once: the panels of what the model receives carry no red "Error" badges of their own.
    assert page.locator("[data-testid=status-tracker] span.error:visible").count() == 0
    page.context.close()


def test_the_prompts_tab_opens_with_its_preset_loaded_and_builds_whole_sentences(browser, app_url):
    page = open_page(browser, app_url)
    page.get_by_role("tab", name="Prompts").click()
    gender = page.locator("label", has=page.locator("span[data-testid=block-info]", has_text="gender")).locator("input")
    gender.first.wait_for(timeout=30_000)
    gender = gender.first
    assert gender.input_value() == "man"  # the preset the dropdown shows is the one in the fields
    # ... and its variants are built already, so "Sweep ticked prompts" works as the tab opens.
    assert any("young man" in area.input_value() for area in page.locator("textarea").all())
    page.get_by_role("button", name="Build variants").click()
    page.wait_for_function("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('young man'))",
                           timeout=60_000)
    screenshot(page, "prompts-variants")
    texts = [area.input_value() for area in page.locator("textarea").all()]
    built = [text for text in texts if "young man" in text]
    assert built and not any(re.search(r"\b(a|of a|with) (with|skin|\.)", text) for text in built), built
    page.context.close()


# Buttons that start long work are exercised by the tests above; every other button is clicked here.
LONG_BUTTONS = {"Generate", "Extract pose", "Run sweep", "Train", "Re-run cell A", "Render cell A in full",
                "Stop", "Stop (saves a checkpoint)"}
TABS = ("Generate", "Pose", "Prompts", "Sweep", "Train", "History")


def click_every_button(page) -> list[str]:
    """Click each button of each tab on a page that has done nothing yet; return what was clicked."""
    clicked = []
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        names = [name.strip() for name in page.locator("button:visible").all_inner_texts()]
        for name in dict.fromkeys(names):
            if not name or name in LONG_BUTTONS or name in TABS or len(name) > 80:
                continue
            page.get_by_role("tab", name=tab).click()  # a button may have moved to another tab
            button = page.get_by_role("button", name=name, exact=True).locator("visible=true").first
            if button.count() == 0 or not button.is_enabled():
                continue
            button.click()
            page.wait_for_timeout(300)  # its answer: a toast, a value, another tab (a late error still counts)
            clicked.append(f"{tab}: {name}")
    return clicked


def test_every_button_answers_on_a_fresh_page_and_after_a_reload(browser, app_url):
    """No click may end in a server error or a console error; the messages of buttons used too early (Pose's
    'Use in Generate' before a pose exists, Train's sweep before a run) reach the page."""
    page = open_page(browser, app_url)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda response: response.status >= 500 and errors.append(f"{response.status} {response.url}"))
    first = click_every_button(page)
    assert len(first) >= 15, first
    assert not errors, errors
    page.wait_for_timeout(5000)  # a reload aborts what is still in flight, which the console reports
    page.reload(wait_until="load")
    page.wait_for_selector("#engine-banner", timeout=60_000)
    errors.clear()
    second = click_every_button(page)
    screenshot(page, "every-button-after-reload")
    assert not errors, errors
    assert set(first) == set(second)
    page.context.close()
