"""Playground speed, measured end to end against a real `nnlab playground` server process:

* frames per second the server streams for the default network (2 hidden layers of 4 tanh,
  500 points) while playing, each frame holding the heat-map and every neuron's thumbnail;
* the delay from pressing play (POST control) to the first frame of training;
* seconds of play until the two-class spiral (x1, x2, two hidden layers of 8 tanh, SGD 0.03 as
  TensorFlow Playground's default) shows test loss < 0.1;
* the frames per second the page itself draws (heat-map, thumbnails, links, curves) in
  headless chromium; without chromium or Playwright it says so and exits 1 (it cannot
  measure).

    python benchmarks/bench_playground.py [--seconds 10]

On a shared machine pin it (`taskset -c 1 ...`) and say so beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

import httpx2 as httpx  # the dev extra's client, as Starlette's TestClient

SPIRAL = {"dataset": "spiral", "hidden": [8, 8], "activations": ["tanh", "tanh"]}


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab.cli", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = proc.stdout.readline()
    match = re.search(r"http://\S+/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, match.group(0)


def frames(client: httpx.Client, sid: str):
    with client.stream("GET", f"/api/sessions/{sid}/stream", timeout=None) as res:
        for line in res.iter_lines():
            if line.startswith("data: "):
                yield time.perf_counter(), json.loads(line[6:])


def stream_rate(client: httpx.Client, seconds: float) -> tuple[float, float, int]:
    sid = client.post("/api/sessions", json={}).json()["id"]
    stream = frames(client, sid)
    next(stream)  # the paused frame sent on connecting
    pressed = time.perf_counter()
    client.post(f"/api/sessions/{sid}/control", json={"action": "play"})
    first = None
    count, start = 0, None
    for t, f in stream:
        if not f["playing"]:
            continue
        if first is None:
            first, start = t - pressed, t
            continue
        count += 1
        if t - start >= seconds:
            break
    client.post(f"/api/sessions/{sid}/close")
    return count / (t - start), first, sum(len(t) for layer in f["neurons"] for t in layer)


def spiral_time(client: httpx.Client, limit: float = 60.0) -> tuple[float | None, int]:
    sid = client.post("/api/sessions", json=SPIRAL).json()["id"]
    stream = frames(client, sid)
    next(stream)
    pressed = time.perf_counter()
    client.post(f"/api/sessions/{sid}/control", json={"action": "play"})
    for t, f in stream:
        loss = f["latest"]["test_loss"]
        if loss is not None and loss < 0.1:
            client.post(f"/api/sessions/{sid}/close")
            return t - pressed, f["epoch"]
        if t - pressed > limit:
            break
    client.post(f"/api/sessions/{sid}/close")
    return None, f["epoch"]


def browser_rate(url: str, seconds: float) -> float | None:
    from nnlab.report.browser import chromium_missing, launch_chromium

    if chromium_missing():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.goto(url)
        page.wait_for_function("window.playground.frames > 0")
        page.click("#play")
        page.wait_for_function("window.playground.firstFrameAfterPlay !== null")
        before = page.evaluate("window.playground.frames")
        time.sleep(seconds)
        drawn = page.evaluate("window.playground.frames") - before
        browser.close()
    return drawn / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from nnlab.report.browser import chromium_missing

    reason = chromium_missing()
    if reason:  # before the server starts: nothing to measure the page with
        print(f"bench_playground: cannot measure the page: {reason}", file=sys.stderr)
        return 1
    proc, url = start_server()
    try:
        with httpx.Client(base_url=url) as client:
            fps, first, thumb_bytes = stream_rate(client, args.seconds)
            print(
                f"default network (2x4 tanh, 500 points): {fps:.1f} frames/s streamed over "
                f"{args.seconds:.0f} s (goal >= 10); first frame {1000 * first:.0f} ms after "
                f"play (goal <= 1000); thumbnails {thumb_bytes} base64 bytes per frame"
            )
            seconds, epoch = spiral_time(client)
            shown = "not within 60 s" if seconds is None else f"{seconds:.1f} s"
            print(f"spiral (x1 x2, 2x8 tanh, SGD 0.03): loss < 0.1 after {shown}, epoch {epoch}")
        drawn = browser_rate(url, args.seconds)
        if drawn is None:
            print("bench_playground: chromium did not start", file=sys.stderr)
            return 1
        print(f"page in headless chromium: {drawn:.1f} frames/s drawn (heat-map, thumbnails)")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
