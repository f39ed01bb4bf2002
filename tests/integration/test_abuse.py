"""The abuse corpus against a real server: every hostile upload gets its 4xx within a
bound, and ``/health`` keeps answering fast while the corpus is sent concurrently.

The server is ``altermag api`` (uvicorn) on a free loopback port with the public limits,
except a shorter analysis time cap (5 s), so that the slow input is cut off quickly, and
room for 3,000 atoms, so that a slow input within the limits exists (a 3,000-atom P1 cell:
about 20 s of analysis).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.abuse_corpus import CORPUS, Upload
from tests.api_server import ApiServer

ANALYSIS_SECONDS = 5
ANSWER_BOUND_S = 60.0
"""Longest any corpus answer may take: the time cap, plus waiting behind the other slow
analyses for one of the two workers, plus starting a worker (imports) on a loaded machine."""
HEALTH_P99_S = 0.2


def _random_cell(n: int = 3000, seed: int = 0) -> bytes:
    """A P1 cell of n Fe atoms on a jittered grid: within the server's size limits, but its
    analysis takes about 20 s — longer than the server's time cap."""
    rng = np.random.default_rng(seed)
    k = int(np.ceil(n ** (1 / 3)))
    grid = np.array([(i, j, m) for i in range(k) for j in range(k) for m in range(k)][:n], float)
    frac = (grid + rng.uniform(-0.1, 0.1, grid.shape)) / k
    side = (n * 12.0) ** (1 / 3)
    lines = [
        str(n),
        f'Lattice="{side} 0 0 0 {side} 0 0 0 {side}" Properties=species:S:1:pos:R:3 pbc="T T T"',
        *(f"Fe {x * side:.5f} {y * side:.5f} {z * side:.5f}" for x, y, z in frac),
    ]
    return ("\n".join(lines) + "\n").encode()


SLOW = [
    Upload(f"random-3000-atoms-{i}", "slow.extxyz", _random_cell(seed=i), 413) for i in range(3)
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> ApiServer:
    home = tmp_path_factory.mktemp("abuse")
    srv = ApiServer(
        f"sqlite:///{home / 'altermag.db'}",
        home,
        ("ALTERMAG_PUBLIC_LIMITS__ANALYSIS_SECONDS", str(ANALYSIS_SECONDS)),
        ("ALTERMAG_PUBLIC_LIMITS__MAX_ATOMS", "3000"),
    )
    yield srv
    srv.stop()


def _send(url: str, upload: Upload) -> tuple[Upload, int, float, str]:
    start = time.monotonic()
    r = httpx.post(
        f"{url}/analyze",
        files={"file": (upload.filename, upload.content)},
        data=upload.form,
        timeout=ANSWER_BOUND_S * 2,
    )
    return upload, r.status_code, time.monotonic() - start, r.text[:300]


def test_every_abusive_upload_gets_its_4xx_in_time_and_health_stays_fast(
    server: ApiServer,
) -> None:
    latencies: list[float] = []
    health_errors: list[str] = []
    done = threading.Event()

    def poll_health() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            while not done.is_set():
                start = time.monotonic()
                try:
                    r = client.get("/health")
                    if r.status_code != 200:
                        health_errors.append(f"{r.status_code} {r.text[:100]}")
                except httpx.HTTPError as exc:
                    health_errors.append(repr(exc))
                latencies.append(time.monotonic() - start)
                time.sleep(0.02)

    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda u: _send(server.url, u), [*SLOW, *CORPUS, *CORPUS]))
    finally:
        done.set()
        poller.join()

    wrong = [f"{u.key}: {status} ({text})" for u, status, _, text in answers if status != u.status]
    assert not wrong, wrong
    slow = [f"{u.key}: {t:.1f} s" for u, _, t, _ in answers if t > ANSWER_BOUND_S]
    assert not slow, slow
    timed_out = [text for u, _, _, text in answers if u in SLOW]
    assert all("analysis_seconds" in text for text in timed_out), timed_out
    assert not health_errors, health_errors[:5]
    assert len(latencies) >= 100
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"/health during the corpus: {len(latencies)} requests, median "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms; longest corpus answer "
        f"{max(t for _, _, t, _ in answers):.1f} s"
    )
    assert p99 < HEALTH_P99_S


def test_a_valid_structure_is_still_analysed_after_the_abuse(server: ApiServer) -> None:
    """The workers that were killed for time were replaced: the service still answers."""
    mnf2 = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples" / "MnF2.mcif"
    r = httpx.post(
        f"{server.url}/analyze", files={"file": ("MnF2.mcif", mnf2.read_bytes())}, timeout=120
    )
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "altermagnet" and r.json()["wave"] == "d"


def test_a_flood_is_told_to_retry_not_queued_without_bound(server: ApiServer) -> None:
    """More concurrent slow analyses than workers + queue: the excess gets 429 with
    Retry-After at once, never a 5xx."""
    flood = [SLOW[0]] * 14  # 2 workers + 8 waiting = 10 slots
    with ThreadPoolExecutor(14) as pool:
        answers = list(pool.map(lambda u: _send(server.url, u), flood))
    statuses = sorted(status for _, status, _, _ in answers)
    assert set(statuses) <= {413, 429} and statuses.count(429) >= 4, statuses
    assert all(t < 5 for _, status, t, _ in answers if status == 429)


def test_an_oversized_body_is_cut_off_while_it_streams(server: ApiServer) -> None:
    """A chunked upload (no Content-Length) that goes on past the limit is answered 413
    while it is still streaming: the client sends 6 MB of a body it never finishes, and the
    answer comes anyway (the server did not wait for, nor spool, the rest)."""
    head = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.cif"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        )
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        chunk = b"#" * 65536
        try:
            for _ in range(96):  # 6 MB, more than the 5 MB limit; the body is never closed
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed: fine, the answer is read below
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(  # a declared length above the limit: refused before any body is read
            b"POST /analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        )
        declared = sock.recv(4096)
    assert declared.startswith(b"HTTP/1.1 413"), declared[:300]
