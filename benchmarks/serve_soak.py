"""Soak test of `textpro serve`: a bounded number of clients for a bounded time, mixing every kind of traffic.

    .venv/bin/python benchmarks/serve_soak.py [--seconds 300] [--clients 4] [--bursts-every 30] [--threads 1]

Starts `textpro serve` (the CLI, as a separate process: its resident memory is measured alone) on a free port with
small limits (queue 6, batch 4, 32 new tokens, 1 MB bodies), warms it up with one request of every kind, probes
the wedge (3 normal requests on the idle server, the 400,000-character one, 3 normal ones right after), runs
`--clients` client threads for `--seconds`, each sending its share of every kind once, then picking at random
(seeded) among:

    good chat, good streamed chat, good transcription, slow upload (a good chat whose body arrives in ~2 s)
    malformed (bad JSON, bad base64, unknown model, n=2, text only, bytes that are not audio)
    oversized (a 400,000-character instruction; a body over the 1 MB limit)
    disconnect mid-stream (reads the first chunk, hangs up); disconnect while queued (hangs up after 0.3 s)

while a burst thread sends 2 × the queue limit good chats at once every `--bursts-every` seconds and a health
thread asks GET /health every 0.5 s. It fails (exit 1) unless:

    the 400,000-character request got 400 in under a second, and the normal requests after it 200, as fast as
      on the idle server (median within 1.5x + 0.25 s)
    every good request got 200, or 429/503 with Retry-After while a burst was in flight
    every malformed or oversized request got a 4xx (never a 5xx, never a hang)
    /health answered 200 every time, within 3 s
    the model thread never worked on a batch whose requests were all cancelled for more than 0.5 s
      (textpro_model_busy_on_cancelled_seconds) and every cancelled request was let go (textpro_cancel_lag_seconds)
    resident memory at the end is within 10% of that after warm-up

Writes a JSON report (--out) and prints a summary.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark, also when loaded by file path
from serve_batching import free_port, spoken_wav  # noqa: E402  (the same clips and ports as the batching benchmark)

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"max_queue": 6, "max_batch_size": 4, "max_new_tokens": 32, "timeout": 30.0, "max_request_mb": 1.0}
GOOD = ("chat", "stream", "transcription", "slow_upload")
WEIGHTS = {"chat": 26, "stream": 12, "transcription": 10, "slow_upload": 6, "malformed": 18, "oversized": 10,
           "disconnect_stream": 10, "disconnect_queued": 8}
# Each client first sends its share of every kind (client i: kinds i, i + clients, … of this order, the instant 4xx
# kinds first), then draws by WEIGHTS: on a loaded machine a 15 s soak makes only a few requests per client, and a
# draw alone could leave a kind out.
FIRST = ("malformed", "oversized", "chat", "stream", "transcription", "slow_upload", "disconnect_stream",
         "disconnect_queued")
assert sorted(FIRST) == sorted(WEIGHTS)
QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?", "What is the largest planet?"]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Outcome:
    kind: str
    status: int | None  # None: no response (connection refused, reset, timed out)
    started: float
    seconds: float
    retry_after: str | None = None
    note: str = ""


@dataclass
class Report:
    seconds: float
    clients: int
    outcomes: list[Outcome] = field(default_factory=list)
    bursts: list[tuple[float, float]] = field(default_factory=list)
    health: list[tuple[float, int | None, float]] = field(default_factory=list)  # (when, status, seconds)
    wedge_probe: dict = field(default_factory=dict)
    rss_warm: int = 0
    rss_end: int = 0
    samples: dict = field(default_factory=dict)  # the last /metrics scrape, {(name, labels): value}
    failures: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ the server
class Server:
    """`textpro serve` in its own process."""

    def __init__(self, threads: int, model: str | None, continuous: bool = False):
        self.port = free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads)}
        command = [sys.executable, "-m", "textpro.cli", "serve", "--port", str(self.port),
                   "--max-queue", str(LIMITS["max_queue"]), "--max-batch-size", str(LIMITS["max_batch_size"]),
                   "--max-new-tokens", str(LIMITS["max_new_tokens"]), "--timeout", str(LIMITS["timeout"]),
                   "--max-request-mb", str(LIMITS["max_request_mb"]), "--shutdown-grace", "3"]
        if model:
            command += ["--model", model]
        if continuous:
            command += ["--continuous-batching"]
        # its log goes to a file: a pipe nobody reads fills after ~600 access-log lines, and the server then blocks
        # in write() with the logging lock held (an early run of this soak "wedged" exactly so)
        self.log = tempfile.NamedTemporaryFile("w+", prefix="serve_soak_", suffix=".log", delete=False)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log,
                                        text=True)

    def wait_ready(self, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"textpro serve exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if request("GET", self.port, "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("textpro serve did not start")

    def stop(self) -> float:
        """SIGTERM; seconds until it exited."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - sent


def request(method: str, port: int, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 60) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------------ the traffic
class Traffic:
    def __init__(self, port: int, clips: list[bytes]):
        self.port = port
        self.clips = [base64.b64encode(c).decode() for c in clips]
        self.wavs = clips

    def _chat_body(self, rng: random.Random, **extra) -> bytes:
        audio = {"type": "input_audio", "input_audio": {"data": rng.choice(self.clips), "format": "wav"}}
        return json.dumps({"messages": [{"role": "user", "content": [audio]}], **extra}).encode()

    def _post(self, kind: str, path: str, body: bytes, content_type: str = "application/json") -> Outcome:
        started = time.monotonic()
        try:
            status, headers, _ = request("POST", self.port, path, body, {"content-type": content_type})
        except OSError as exc:
            return Outcome(kind, None, started, time.monotonic() - started, note=type(exc).__name__)
        return Outcome(kind, status, started, time.monotonic() - started, headers.get("retry-after"))

    def chat(self, rng) -> Outcome:
        return self._post("chat", "/v1/chat/completions", self._chat_body(rng))

    def stream(self, rng) -> Outcome:
        started = time.monotonic()
        try:
            status, headers, body = request("POST", self.port, "/v1/chat/completions",
                                            self._chat_body(rng, stream=True), {"content-type": "application/json"})
        except OSError as exc:
            return Outcome("stream", None, started, time.monotonic() - started, note=type(exc).__name__)
        note = "" if status != 200 or body.rstrip().endswith(b"data: [DONE]") else "stream did not end with [DONE]"
        if b'"error"' in body and status == 200:
            note = "error inside the stream"
        return Outcome("stream", status, started, time.monotonic() - started, headers.get("retry-after"), note)

    def transcription(self, rng) -> Outcome:
        boundary = "soakboundary"
        wav = rng.choice(self.wavs)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.wav\"\r\n"
                f"Content-Type: audio/wav\r\n\r\n").encode() + wav + f"\r\n--{boundary}--\r\n".encode()
        return self._post("transcription", "/v1/audio/transcriptions", body,
                          f"multipart/form-data; boundary={boundary}")

    def slow_upload(self, rng) -> Outcome:
        """A good chat whose body trickles in over ~2 s (a slow mobile client)."""
        body = self._chat_body(rng)
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
                sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
                pieces = 10
                for i in range(pieces):
                    sock.sendall(body[i * len(body) // pieces:(i + 1) * len(body) // pieces])
                    time.sleep(0.2)
                response = b""
                while chunk := sock.recv(65536):
                    response += chunk
        except OSError as exc:
            return Outcome("slow_upload", None, started, time.monotonic() - started, note=type(exc).__name__)
        head = response.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        status = int(head[0].split()[1]) if head and len(head[0].split()) > 1 else None
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        return Outcome("slow_upload", status, started, time.monotonic() - started, headers.get("retry-after"))

    def malformed(self, rng) -> Outcome:
        audio = lambda data, fmt="wav": [{"role": "user", "content": [  # noqa: E731
            {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}]}]
        bodies = [
            b'{"messages": [', b"[1, 2]", json.dumps({"model": "gpt-4o", "messages": audio(self.clips[0])}).encode(),
            json.dumps({"messages": audio("not base64!!")}).encode(),
            json.dumps({"n": 2, "messages": audio(self.clips[0])}).encode(),
            json.dumps({"messages": [{"role": "user", "content": "hello"}]}).encode(),
            json.dumps({"messages": audio(base64.b64encode(os.urandom(3000)).decode())}).encode(),
            json.dumps({"messages": audio(self.clips[0], "aac")}).encode(),
        ]
        outcome = self._post("malformed", "/v1/chat/completions", rng.choice(bodies))
        return outcome

    def oversized(self, rng) -> Outcome:
        if rng.random() < 0.5:
            text = {"type": "text", "text": "Why? " * 80_000}  # 400,000 characters
            audio = {"type": "input_audio", "input_audio": {"data": self.clips[0], "format": "wav"}}
            body = json.dumps({"messages": [{"role": "user", "content": [text, audio]}]}).encode()
        else:
            body = b'{"messages": "' + b"x" * int(LIMITS["max_request_mb"] * 1024 * 1024 * 1.5) + b'"}'
        return self._post("oversized", "/v1/chat/completions", body)

    def disconnect_stream(self, rng) -> Outcome:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", "/v1/chat/completions", body=self._chat_body(rng, stream=True),
                               headers={"content-type": "application/json"})
            response = connection.getresponse()
            if response.status == 200:
                response.fp.readline()  # the first chunk (what was heard), then hang up mid-answer
            status = response.status
        except OSError as exc:
            return Outcome("disconnect_stream", None, started, time.monotonic() - started, note=type(exc).__name__)
        finally:
            if connection.sock is not None:
                connection.sock.shutdown(socket.SHUT_RDWR)
            connection.close()
        return Outcome("disconnect_stream", status, started, time.monotonic() - started)

    def disconnect_queued(self, rng) -> Outcome:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            body = self._chat_body(rng)
            sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            time.sleep(0.3)
        return Outcome("disconnect_queued", None, started, time.monotonic() - started)


# ------------------------------------------------------------------------------------------------ the soak
def scrape(port: int) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    _, _, body = request("GET", port, "/metrics", timeout=10)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def metric(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_idle(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        health = json.loads(request("GET", port, "/health", timeout=5)[2])
        if health["waiting"] == 0 and not health["busy"]:
            return
        time.sleep(0.2)


def wedge_probe(traffic: Traffic) -> dict:
    """The wedge: a normal request on the idle server, the 400,000-character one, a normal one right after
    (all of the same clip, so the answers take the same steps)."""

    def timed(call) -> tuple[int | None, float]:
        outcome = call()
        return outcome.status, outcome.seconds

    idle = [timed(lambda: traffic.chat(random.Random(1))) for _ in range(3)]
    text = {"type": "text", "text": "Why? " * 80_000}
    audio = {"type": "input_audio", "input_audio": {"data": traffic.clips[0], "format": "wav"}}
    body = json.dumps({"messages": [{"role": "user", "content": [text, audio]}]}).encode()
    huge = timed(lambda: traffic._post("oversized", "/v1/chat/completions", body))
    after = [timed(lambda: traffic.chat(random.Random(1))) for _ in range(3)]
    median = lambda pairs: sorted(s for _, s in pairs)[len(pairs) // 2]  # noqa: E731
    return {"idle_status": [s for s, _ in idle], "idle_median_s": round(median(idle), 3),
            "huge_status": huge[0], "huge_s": round(huge[1], 3),
            "after_status": [s for s, _ in after], "after_median_s": round(median(after), 3)}


def soak(port: int, pid: int, seconds: float, clients: int, bursts_every: float, seed: int = 0) -> Report:
    traffic = Traffic(port, [spoken_wav(q) for q in QUESTIONS])
    report = Report(seconds, clients)
    rng = random.Random(seed)
    for kind in WEIGHTS:  # warm-up: every kind once, then a full batch, so that lazy allocations are done
        getattr(traffic, kind)(rng)
    report.wedge_probe = wedge_probe(traffic)
    threads = [threading.Thread(target=traffic.chat, args=(random.Random(i),)) for i in range(LIMITS["max_batch_size"])]
    [t.start() for t in threads]
    [t.join() for t in threads]
    wait_idle(port)
    report.rss_warm = rss_bytes(pid)

    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        first = list(FIRST[index::clients])
        while time.monotonic() < stop:
            kind = first.pop(0) if first else rng.choices(kinds, weights)[0]
            outcome = getattr(traffic, kind)(rng)
            with lock:
                report.outcomes.append(outcome)

    def bursts() -> None:
        rng = random.Random(seed + 7)
        next_burst = time.monotonic() + min(bursts_every, seconds / 2)
        while time.monotonic() < stop:
            if time.monotonic() < next_burst:
                time.sleep(0.1)
                continue
            started, results = time.monotonic(), []

            def ask(seed: float, into: list = results) -> None:
                into.append(traffic.chat(random.Random(seed)))

            burst = [threading.Thread(target=ask, args=(rng.random(),)) for _ in range(2 * LIMITS["max_queue"])]
            [t.start() for t in burst]
            [t.join() for t in burst]
            with lock:
                report.bursts.append((started, time.monotonic()))
                report.outcomes += [Outcome("burst", o.status, o.started, o.seconds, o.retry_after) for o in results]
            next_burst += bursts_every

    def health() -> None:
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                status = request("GET", port, "/health", timeout=3)[0]
            except OSError:
                status = None
            report.health.append((started, status, time.monotonic() - started))
            time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))

    workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    workers += [threading.Thread(target=bursts), threading.Thread(target=health)]
    [t.start() for t in workers]
    [t.join() for t in workers]
    wait_idle(port)
    time.sleep(1.0)  # the last disconnects reach the server and are let go
    report.rss_end = rss_bytes(pid)
    report.samples = scrape(port)
    report.failures = judge(report, report.samples)
    return report


def in_burst(report: Report, outcome: Outcome) -> bool:
    """The request was in flight while a burst was (a slow upload reaches the queue seconds after it starts)."""
    return any(outcome.started <= end and outcome.started + outcome.seconds >= start for start, end in report.bursts)


def judge(report: Report, samples: dict) -> list[str]:
    failures = []
    for o in report.outcomes:
        if o.kind in GOOD or o.kind == "burst":
            refused = o.status in (429, 503) and o.retry_after is not None
            if o.status == 200 and not o.note:
                continue
            if refused and (o.kind == "burst" or in_burst(report, o)):
                continue
            failures.append(f"good {o.kind} at {o.started:.1f}: status {o.status} {o.note}".strip())
        elif o.kind in ("malformed", "oversized") and not (o.status is not None and 400 <= o.status < 500):
            failures.append(f"{o.kind}: status {o.status} (expected a 4xx)")
    probe = report.wedge_probe
    if probe["huge_status"] != 400 or probe["huge_s"] >= 1.0:
        failures.append(f"the 400,000-character request got {probe['huge_status']} in {probe['huge_s']} s")
    if probe["after_status"] != [200] * 3:
        failures.append(f"normal requests after it got {probe['after_status']}")
    elif probe["after_median_s"] > 1.5 * probe["idle_median_s"] + 0.25:  # slack for a shared machine
        failures.append(f"normal requests after it took {probe['after_median_s']} s against "
                        f"{probe['idle_median_s']} s on the idle server")
    bad_health = [h for h in report.health if h[1] != 200]
    if bad_health or not report.health:
        failures.append(f"/health failed {len(bad_health)} of {len(report.health)} times")
    count = metric(samples, "textpro_model_busy_on_cancelled_seconds_count")
    within = metric(samples, "textpro_model_busy_on_cancelled_seconds_bucket", le="0.5")
    if within < count:
        failures.append(f"the model thread worked > 0.5 s on an all-cancelled batch ({count - within:g} times)")
    if metric(samples, "textpro_cancel_lag_seconds_bucket", le="+Inf") < 1 and any(
            o.kind.startswith("disconnect") for o in report.outcomes):
        failures.append("no cancelled request was ever let go (textpro_cancel_lag_seconds is empty)")
    growth = report.rss_end / report.rss_warm - 1
    if abs(growth) > 0.10:
        failures.append(f"resident memory moved {growth:+.1%} after warm-up (limit ±10%)")
    return failures


def summary(report: Report, exit_seconds: float | None) -> dict:
    by_kind: dict[str, dict] = {}
    for o in report.outcomes:
        entry = by_kind.setdefault(o.kind, {"n": 0, "statuses": {}, "seconds": []})
        entry["n"] += 1
        entry["statuses"][str(o.status)] = entry["statuses"].get(str(o.status), 0) + 1
        entry["seconds"].append(o.seconds)
    for entry in by_kind.values():
        seconds = sorted(entry.pop("seconds"))
        entry["p50_s"] = round(seconds[len(seconds) // 2], 3)
        entry["max_s"] = round(seconds[-1], 3)
    health_seconds = sorted(h[2] for h in report.health)
    m = report.samples

    def lag(le: str) -> str:
        return (f"{metric(m, 'textpro_cancel_lag_seconds_bucket', le=le):g} of "
                f"{metric(m, 'textpro_cancel_lag_seconds_count'):g}")
    return {
        "seconds": report.seconds, "clients": report.clients, "requests": len(report.outcomes),
        "bursts": len(report.bursts), "wedge_probe": report.wedge_probe, "by_kind": by_kind,
        "health": {"n": len(report.health), "ok": sum(h[1] == 200 for h in report.health),
                   "max_s": round(health_seconds[-1], 3) if health_seconds else None},
        "rss_warm_mb": round(report.rss_warm / 2**20, 1), "rss_end_mb": round(report.rss_end / 2**20, 1),
        "rss_growth": round(report.rss_end / report.rss_warm - 1, 4),
        "cancelled": {dict(labels)["reason"]: value for (name, labels), value in m.items()
                      if name == "textpro_requests_cancelled_total"},
        "cancel_lag": {"le_0.1s": lag("0.1"), "le_0.5s": lag("0.5"), "le_2.5s": lag("2.5"),
                       "sum_s": round(metric(m, "textpro_cancel_lag_seconds_sum"), 3)},
        "busy_on_cancelled": {"n": metric(m, "textpro_model_busy_on_cancelled_seconds_count"),
                              "sum_s": round(metric(m, "textpro_model_busy_on_cancelled_seconds_sum"), 3)},
        "batches": {"n": metric(m, "textpro_batch_size_count"), "mean_size": round(
            metric(m, "textpro_batch_size_sum") / max(1.0, metric(m, "textpro_batch_size_count")), 2)},
        "ttft_mean_s": round(metric(m, "textpro_time_to_first_token_seconds_sum")
                             / max(1.0, metric(m, "textpro_time_to_first_token_seconds_count")), 3),
        "exit_after_sigterm_s": None if exit_seconds is None else round(exit_seconds, 2),
        "failures": report.failures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="soak duration after warm-up (default 300)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--bursts-every", type=float, default=30, help="seconds between bursts (default 30)")
    parser.add_argument("--threads", type=int, default=1, help="the server's torch threads (default 1)")
    parser.add_argument("--model", default=None, help="--model for textpro serve (default: its default)")
    parser.add_argument("--continuous", action="store_true", help="serve with --continuous-batching")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/serve_soak.json", help="JSON report")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.clients, args.bursts_every, args.threads, args.model, args.seed,
                 args.continuous)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "report"}, indent=2))
    return 1 if result["failures"] else 0


def run(seconds: float, clients: int, bursts_every: float, threads: int = 1, model: str | None = None,
        seed: int = 0, continuous: bool = False) -> dict:
    """Start the server, soak it, stop it with SIGTERM: the summary (its "failures" empty when it passed)."""
    server = Server(threads, model, continuous)
    exit_seconds = None
    try:
        server.wait_ready()
        report = soak(server.port, server.process.pid, seconds, clients, bursts_every, seed)
    finally:
        exit_seconds = server.stop()
    result = summary(report, exit_seconds)
    if exit_seconds > 10:
        result["failures"].append(f"exited {exit_seconds:.1f} s after SIGTERM (limit 10 s)")
    result["limits"] = {**LIMITS, "continuous_batching": continuous}
    result["server_log"] = server.log.name
    result["outcomes"] = [asdict(o) for o in report.outcomes if o.kind in GOOD and o.status != 200][:50]
    return result


if __name__ == "__main__":
    sys.exit(main())
