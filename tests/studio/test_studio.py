"""Kinora Studio in a real browser: Debian's chromium, headless, driven through chromium-driver by
selenium, against a real `kinora serve` with API keys. It walks the studio as a user would and
saves a screenshot of every page at desktop and phone widths under `target/studio-screens/`
(CI keeps the folder as an artifact).

Run: bash scripts/sdk-venv.sh && cargo build -p kinora && .venv/bin/python -m pytest tests/studio
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from server_process import API_KEYS, REPO_ROOT, KinoraServer, start_server, stop_server  # noqa: E402

SCREENS = REPO_ROOT / "target" / "studio-screens"
DESKTOP = (1366, 900)
PHONE = (390, 844)
RENDER_S = 120
WORKER_TOKEN = "wt-studio-test-token-0001"


def register_worker(base: str, name: str) -> str:
    """Registers a remote worker over the worker protocol, as `kinora worker` would."""
    req = urllib.request.Request(
        base + "/internal/v1/workers/register", method="POST",
        data=json.dumps({"name": name, "pool": "builtin", "models": ["sora-2"], "version": "studio-test"}).encode(),
        headers={"Authorization": f"Bearer {WORKER_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["worker_id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KinoraServer]:
    srv = start_server(tmp_path_factory.mktemp("studio") / "data", workers=2,
                       extra_args=("--worker-token", WORKER_TOKEN))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("the browser test needs Debian's chromium and chromium-driver (scripts/deps.sh installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="kinora-studio-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    b = webdriver.Chrome(service=Service(driver), options=opts)
    b.set_window_size(*DESKTOP)
    yield b
    b.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(b: WebDriver, what, seconds: float = 20):
    return WebDriverWait(b, seconds, poll_frequency=0.1).until(lambda d: what(d))


def by_label(b: WebDriver, text: str):
    label = wait(b, lambda d: d.find_element(By.XPATH, f"//label[normalize-space()='{text}']"))
    return b.find_element(By.ID, label.get_attribute("for"))


def button(b: WebDriver, name: str):
    return wait(b, lambda d: d.find_element(By.XPATH, f"//button[normalize-space()='{name}']"))


def shot(b: WebDriver, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    b.save_screenshot(str(SCREENS / f"{name}-desktop.png"))


def phone_shots(b: WebDriver, pages: dict[str, str], ready: dict[str, str]) -> None:
    b.set_window_size(*PHONE)
    try:
        for name, url in pages.items():
            b.get(url)
            wait(b, lambda d, n=name: d.find_elements(By.CSS_SELECTOR, ready[n]))
            b.save_screenshot(str(SCREENS / f"{name}-phone.png"))
            width = b.execute_script("return document.documentElement.scrollWidth")
            assert width <= PHONE[0] + 1, f"{name} scrolls sideways at phone width ({width}px)"
    finally:
        b.set_window_size(*DESKTOP)


def card_status(b: WebDriver, vid: str) -> str:
    cards = b.find_elements(By.CSS_SELECTOR, f'[data-video-id="{vid}"]')
    return cards[0].get_attribute("data-status") if cards else ""


def playable(b: WebDriver) -> bool:
    return bool(b.execute_script("const v = document.querySelector('video'); return v && v.readyState >= 2;"))


def clip(path: Path) -> Path:
    """A 3 s clip with one subject: a test card sliding over a still, textured background."""
    bg = path.with_suffix(".png")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "mandelbrot=s=640x360", "-frames:v", "1",
                    str(bg)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-t", "3", "-i", str(bg), "-f", "lavfi", "-i",
                    "testsrc=size=120x120:rate=24", "-filter_complex",
                    "[0][1]overlay=x='60+120*t':y=120:shortest=1,format=yuv420p", "-r", "24",
                    "-c:v", "libx264", str(path)], check=True)
    return path


def test_a_user_walks_the_studio(server: KinoraServer, browser: WebDriver, tmp_path: Path) -> None:
    b, base = browser, server.url
    b.get(base + "/")
    key = by_label(b, "API key")
    shot(b, "signin")
    key.send_keys(API_KEYS[0])
    button(b, "Sign in").click()

    # Create a 4 s video from the form.
    prompt = by_label(b, "Prompt")
    Select(by_label(b, "Model")).select_by_value("sora-2")
    Select(by_label(b, "Size")).select_by_value("1280x720")
    Select(by_label(b, "Seconds")).select_by_value("4")
    sizes = [o.get_attribute("value") for o in Select(by_label(b, "Size")).options]
    assert "1920x1080" not in sizes, "sora-2 does not render 1080p, so it must not be offered"
    # An API error lands next to the field it names.
    button(b, "Generate").click()
    err = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, '.field-error[data-param="prompt"]').text)
    assert "prompt" in err.lower()
    assert prompt.get_attribute("aria-invalid") == "true"
    shot(b, "create-error")
    prompt.send_keys("a red fox runs across a snowy meadow at dusk, slow pan")
    button(b, "Generate").click()
    card = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, "[data-video-id]"))
    vid = card.get_attribute("data-video-id")
    assert not b.find_element(By.CSS_SELECTOR, '.field-error[data-param="prompt"]').text
    # The card follows the job live: no reload between queued and completed.
    wait(b, lambda d: card_status(d, vid) == "completed", RENDER_S)
    wait(b, lambda d: "url(" in card.find_element(By.CSS_SELECTOR, ".thumb").get_attribute("style"))
    shot(b, "gallery")

    # The video's page plays the clip.
    card.find_element(By.CSS_SELECTOR, "a").click()
    wait(b, playable, 30)
    for name in ("Extend", "Edit", "Remix", "Download", "Delete"):
        assert button(b, name).is_displayed()
    shot(b, "video")
    video_url = b.current_url

    # Extend it by 4 s: a new video, followed live to a playable 8 s clip.
    button(b, "Extend").click()
    follow = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, ".follow-up"))
    follow.find_element(By.TAG_NAME, "textarea").send_keys("the fox leaps into a frozen river")
    button(b, "Extend this video").click()
    wait(b, lambda d: d.current_url != video_url and "#/videos/video_" in d.current_url)
    wait(b, playable, RENDER_S)
    facts = b.find_element(By.CSS_SELECTOR, ".facts").text
    assert "extend" in facts and "\n8\n" in f"\n{facts}\n", facts

    # A character from an uploaded clip.
    b.get(base + "/#/characters")
    by_label(b, "Name").send_keys("Mossy")
    by_label(b, "Clip").send_keys(str(clip(tmp_path / "mossy.mp4")))
    button(b, "Create character").click()
    row = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, "#character-list [data-character-id]"), 60)
    assert "Mossy" in row.text
    # Its cutout, fetched with the key and drawn around the subject: mostly the subject's own
    # (opaque) pixels, not an empty or broken picture.
    cutout = row.find_element(By.CSS_SELECTOR, "canvas.cutout")
    wait(b, lambda d: cutout.get_attribute("data-drawn") == "true", 30)
    opaque = b.execute_script(
        "const c = arguments[0]; const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < px.length; i += 4) n += px[i] > 128; return n / (px.length / 4);", cutout)
    assert opaque > 0.3, f"the cutout thumbnail is {opaque:.0%} subject"
    shot(b, "characters")

    # A batch from an uploaded JSONL: the counts move to done, the output file is offered.
    jsonl = tmp_path / "batch.jsonl"
    jsonl.write_text(json.dumps({"custom_id": "boat", "method": "POST", "url": "/v1/videos", "body": {
        "prompt": "a small boat on a calm lake at sunrise", "model": "sora-2", "size": "1280x720",
        "seconds": "4"}}) + "\n")
    b.get(base + "/#/batches")
    by_label(b, "Batch file (JSONL)").send_keys(str(jsonl))
    button(b, "Start batch").click()
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, '#batch-list [data-status="completed"]'), RENDER_S)
    assert "1 done" in b.find_element(By.CSS_SELECTOR, "#batch-list [data-batch-id]").text
    button(b, "Output file")
    shot(b, "batches")

    b.get(base + "/#/webhooks")
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "main h1"))
    shot(b, "webhooks")

    # Operations lists the remote workers serving the queue, with their pool and models.
    worker_id = register_worker(base, "gpu-box-0")
    b.get(base + "/#/operations")
    row = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, f'#workers [data-worker-id="{worker_id}"]'))[0]
    assert row.get_attribute("data-status") == "idle"
    assert "gpu-box-0" in row.text and "builtin" in row.text and "sora-2" in row.text, row.text
    assert "2 built-in engine workers" in b.find_element(By.CSS_SELECTOR, "main").text
    shot(b, "operations")

    ready = {"gallery": "[data-video-id]", "video": "video", "characters": "[data-character-id]",
             "batches": "[data-batch-id]", "webhooks": "main h1", "operations": "main h1"}
    phone_shots(b, {"gallery": base + "/", "video": video_url, "characters": base + "/#/characters",
                    "batches": base + "/#/batches", "webhooks": base + "/#/webhooks",
                    "operations": base + "/#/operations"}, ready)
