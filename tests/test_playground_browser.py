"""The playground in Debian's chromium (Playwright): set the spiral, play until the test loss
shown is below 0.1, and find the same settings after reloading from the URL."""

from __future__ import annotations

import threading
import time

import pytest

from needs import need_module

need_module("fastapi", "the playground needs the web extra (pip install -e .[web])")


@pytest.fixture(scope="module")
def live_url():
    import uvicorn

    from nnlab.playground.app import create_app
    from nnlab.playground.server import bind, url_of

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield url_of(sock)
    server.should_exit = True
    thread.join(10)


def add_neuron(page, layer: int) -> None:
    page.locator(".column.hidden").nth(layer).locator(".layer-head button").first.click()


def class_shares(screenshot, box: dict) -> tuple[float, float]:
    """The fractions of the `box` region of a screenshot (CSS pixels, device scale 1) that are
    orange (class 0: red well above blue) and blue (class 1: blue well above red)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(screenshot).convert("RGB"), dtype=np.int16)
    x, y, w, h = (round(box[k]) for k in ("x", "y", "width", "height"))
    region = rgb[y : y + h, x : x + w]
    red, blue = region[..., 0], region[..., 2]
    return float(np.mean(red - blue > 60)), float(np.mean(blue - red > 60))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_spiral_trains_below_0_1_and_the_link_restores_it(browser, live_url, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_url)
    page.wait_for_function("window.playground.frames > 0")
    page.click("#datasets button[data-name=spiral]")
    for layer in (0, 1):
        for _ in range(4):
            add_neuron(page, layer)
    assert page.locator(".column.hidden").nth(0).locator("canvas").count() == 8
    assert page.locator(".column.hidden").nth(1).locator("canvas").count() == 8
    assert page.locator(".activation").evaluate_all("els => els.map(e => e.value)") == [
        "tanh",
        "tanh",
    ]
    wanted = {"dataset": "spiral", "hidden": [8, 8], "inputs": ["x1", "x2"]}
    state = page.evaluate("window.playground.state()")
    assert {k: state[k] for k in wanted} == wanted

    page.click("#play")
    started = time.monotonic()
    # the loss shown when it first falls below 0.1: frames may still arrive after the pause
    reached = page.wait_for_function(
        "() => { const t = document.getElementById('test-loss').textContent;"
        " return t !== '\\u2013' && Number(t) < 0.1 ? t : false; }",
        timeout=60_000,
        polling=100,
    )
    shown = float(reached.json_value())
    seconds = time.monotonic() - started
    first_frame_ms = page.evaluate("window.playground.firstFrameAfterPlay")
    page.click("#play")  # pause
    assert 0 < first_frame_ms < 1000, first_frame_ms
    epoch = int(page.locator("#epoch").inner_text().replace(",", ""))
    assert shown < 0.1 and epoch > 0
    # the network picture follows the frames: 16 hidden thumbnails, 2*8 + 8*8 + 8*1 links
    assert page.locator("#links path").count() == 2 * 8 + 8 * 8 + 8
    assert page.locator("#confusion td").count() == 4
    screenshot = tmp_path / "playground-spiral.png"
    page.screenshot(path=str(screenshot), full_page=True)
    # the output picture of a trained spiral splits into both class colours (measured: about
    # 0.4 and 0.5); one colour everywhere, with the data points drawn on it, leaves the other
    # colour only the points' share (under 0.1)
    orange, blue = class_shares(screenshot, page.locator("#heatmap").bounding_box())
    assert min(orange, blue) > 0.2, (orange, blue)
    print(f"spiral: test loss {shown} after {seconds:.1f} s, epoch {epoch}; {screenshot}")
    print(f"heat map: {orange:.2f} orange, {blue:.2f} blue")

    url = page.url
    assert "dataset=spiral" in url and "hidden=8%2C8" in url
    fresh = browser.new_page(viewport={"width": 1400, "height": 950})
    fresh.goto(url)
    fresh.wait_for_function("window.playground.frames > 0")
    assert fresh.evaluate("window.playground.state()") == page.evaluate("window.playground.state()")
    assert fresh.locator("#datasets button.selected").get_attribute("data-name") == "spiral"
    assert fresh.locator(".column.hidden canvas").count() == 16
    assert fresh.locator(".count").all_inner_texts() == ["8 neurons", "8 neurons"]
    # the new tab's own session was built from the link: its frames carry the same settings
    settings = fresh.evaluate(
        "fetch('/api/sessions/' + new URL(document.getElementById('export-json').href)"
        ".pathname.split('/')[3] + '/frame').then(r => r.json()).then(f => f.settings)"
    )
    assert settings["dataset"] == "spiral" and settings["hidden"] == [8, 8]
    # clicking the picture adds a point of the chosen class to the training data
    points = fresh.evaluate("window.playground.state().paint")
    fresh.locator("#heatmap").click(position={"x": 30, "y": 30})
    fresh.wait_for_function("window.playground.state().dataset === 'custom'")
    assert points == 1
    assert errors == []
    fresh.close()
    page.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_teaching_flags_hide_controls_and_custom_points_survive_a_reload(browser, live_url):
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_url + "#dataset=xor&hide=noise,optimizer,no_such_control&warp=1")
    page.wait_for_function("window.playground.frames > 0")
    # hidden groups are not rendered; an unknown name is ignored and dropped from the link
    assert not page.locator("#noise").is_visible() and not page.locator("#optimizer").is_visible()
    assert page.locator("#learning_rate").is_visible() and page.locator("#n_points").is_visible()
    assert not page.locator("#classes-row").is_visible()  # xor has no choice of classes
    assert page.evaluate("window.playground.state().hide") == ["noise", "optimizer"]
    assert "hide=noise%2Coptimizer&" in page.url
    # the warp view of hidden layer 1 (4 neurons): 26 grid lines and every point, drawn
    page.wait_for_function("window.playground.warp() !== null")
    warp = page.evaluate("window.playground.warp()")
    assert len(warp["lines"]) == 26 and len(warp["points"]) == 500 and warp["neurons"] == 4
    assert page.locator("#warp-canvas").is_visible()
    assert "2 of its 4" in page.locator("#warp-caption").inner_text()

    # two clicked points of class 0 and 1 make the data "custom"; the link carries all 502
    page.locator("#paint button[data-k='0']").click()
    page.locator("#heatmap").click(position={"x": 40, "y": 60})
    page.wait_for_function("window.playground.points().length === 501")
    page.locator("#paint button[data-k='1']").click()
    page.locator("#heatmap").click(position={"x": 250, "y": 90})
    page.wait_for_function("window.playground.points().length === 502")
    before = page.evaluate("window.playground.points()")
    assert before[-2][2:] == [0, True] and before[-1][2:] == [1, True]
    assert before[-1][0] == pytest.approx(250 / 300 * 12 - 6, abs=0.05)
    assert "dataset=custom" in page.url and "&points=" in page.url
    assert sum(p[3] for p in before) == 252  # 250 of xor's training points and the two clicked

    page.reload()
    page.wait_for_function("window.playground.frames > 0 && window.playground.points().length")
    after = page.evaluate("window.playground.points()")
    assert len(after) == 502
    for (a1, a2, a_label, a_train), (b1, b2, b_label, b_train) in zip(before, after, strict=True):
        assert (a_label, a_train) == (b_label, b_train)
        assert abs(a1 - b1) <= 0.0051 and abs(a2 - b2) <= 0.0051  # two decimals in the link
    assert page.evaluate("window.playground.state().dataset") == "custom"
    assert not page.locator("#noise").is_visible()  # the flags survive the reload too
    settings = page.evaluate(
        "fetch('/api/sessions/' + new URL(document.getElementById('export-json').href)"
        ".pathname.split('/')[3] + '/frame').then(r => r.json())"
        ".then(f => [f.settings.dataset, f.points.length])"
    )
    assert settings == ["custom", 502]

    # a regression CSV loads; a bad one is a one-line message on the page
    csv = "x1,x2,value\n" + "\n".join(
        f"{i % 9 - 4},{i % 7 - 3},{(i % 9 - 4) / 4}" for i in range(40)
    )
    page.set_input_files(
        "#csv", files=[{"name": "v.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.wait_for_function("document.getElementById('message').textContent === '40 points loaded'")
    page.wait_for_function("window.playground.state().custom_target === 'value'")
    page.set_input_files(
        "#csv",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"x1,x2,value\n0,0,3\n"}],
    )
    page.wait_for_function("document.getElementById('message').textContent.includes('line 2')")
    assert page.locator("#message").inner_text() == (
        "csv: line 2: value must lie in [-1, 1] (scale the target)"
    )
    assert errors == []
    page.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_on_the_network_the_printed_address_opens_the_page_and_it_plays(browser):
    """`--allow-remote`: the address with its token opens the page (a cookie, then the token
    leaves the address bar), the page's own requests pass the token and Origin checks, and an
    address without the token is refused."""
    import os
    import re
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab.cli", "playground", "--host", "0.0.0.0", "--port", "0"]
        + ["--allow-remote"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        port, token = re.search(r":(\d+)/\?token=([\w-]+) ", proc.stdout.readline()).groups()
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        refused = page.goto(f"http://127.0.0.1:{port}/")
        assert refused.status == 403 and "token" in page.content()
        page.goto(f"http://127.0.0.1:{port}/?token={token}#dataset=xor")
        page.wait_for_function("window.playground.frames > 0")
        assert "token" not in page.url and "dataset=xor" in page.url
        page.click("#play")
        page.wait_for_function("Number(document.getElementById('epoch').textContent) > 5")
        assert errors == []
        page.close()
    finally:
        proc.kill()
        proc.wait()
