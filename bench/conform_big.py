#!/usr/bin/env python3
"""One organisation's big conform against everyone else's small writes.

Organisation A conforms a sequence to a generated CMX 3600 EDL of N events; meanwhile four
clients of organisation B each change one of B's tasks over and over (PATCH priority). Prints
one line: how long A's conform took until its cut was in place, B's write latency (p50, p99 and
the slowest) while it ran, B's writes before it started, and the server's memory (resident at
the start, its peak, and resident 5 s after).

  conform_big.py BASE TOKEN_A TOKEN_B PID [--events N]
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def call(base, token, method, path, body=None, timeout=600):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    headers = {"authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    c.close()
    return r.status, (json.loads(text) if text else None), r.headers


def tc(frames, fps=24):
    s, f = divmod(frames, fps)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


def edl(n):
    """N one-second events on their own reels, laid end to end from 01:00:00:00, written with
    single spaces so that 15,000 of them fit in the API's 1 MiB body."""
    lines = ["TITLE: BIG", "FCM: NON-DROP FRAME"]
    rec = 3600 * 24
    src = 10 * 3600 * 24
    for i in range(n):
        lines.append(f"{(i % 999) + 1:03d} R{i:06d} V C {tc(src)} {tc(src + 24)} {tc(rec)} {tc(rec + 24)}")
        rec += 24
    return "\n".join(lines) + "\n"


def production(base, token, code):
    s, p, _ = call(base, token, "POST", "/api/v1/projects",
                   {"name": code, "code": code, "fps": "24", "width": 1920, "height": 1080})
    assert s == 201, p
    s, q, _ = call(base, token, "POST", f"/api/v1/projects/{p['id']}/sequences", {"name": "SQ010"})
    assert s == 201, q
    return p, q


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) // 1024
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token_a")
    ap.add_argument("token_b")
    ap.add_argument("pid", type=int)
    ap.add_argument("--events", type=int, default=15000)
    a = ap.parse_args()

    pa, seq_a = production(a.base, a.token_a, "BIG")
    pb, seq_b = production(a.base, a.token_b, "SMALL")
    small = "TITLE: S\n" + "".join(
        f"{i + 1:03d}  S{i:03d} V     C        {tc(0)} {tc(24)} {tc(86400 + 24 * i)} {tc(86400 + 24 * i + 24)}\n"
        for i in range(4))
    s, r, _ = call(a.base, a.token_b, "POST", f"/api/v1/sequences/{seq_b['id']}/conform",
                {"format": "cmx3600", "edl": small, "apply": True})
    assert s == 200, r
    _, shots, _ = call(a.base, a.token_b, "GET", f"/api/v1/sequences/{seq_b['id']}/shots")
    _, types, _ = call(a.base, a.token_b, "GET", f"/api/v1/projects/{pb['id']}/task-types")
    s, tasks, _ = call(a.base, a.token_b, "POST", "/api/v1/tasks", {"tasks": [
        {"shot_id": sh["id"], "task_type_id": types["items"][0]["id"]} for sh in shots["items"]]})
    assert s == 201, tasks
    task_ids = [t["id"] for t in tasks["items"]]
    text = edl(a.events)
    mem_start = memory(a.pid)

    samples = []  # (start, seconds, status)
    stop = threading.Event()

    def writer(task_id):
        u = urllib.parse.urlsplit(a.base)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        body = json.dumps({"priority": 1}).encode()
        headers = {"authorization": f"Bearer {a.token_b}", "content-type": "application/json"}
        while not stop.is_set():
            t0 = time.monotonic()
            c.request("PATCH", f"/api/v1/tasks/{task_id}", body=body, headers=headers)
            r = c.getresponse()
            r.read()
            samples.append((t0, time.monotonic() - t0, r.status))

    threads = [threading.Thread(target=writer, args=(t,)) for t in task_ids]
    for t in threads:
        t.start()

    def pct(xs, p):
        return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")

    lines = []
    # Twice, on two sequences: the second shows whether memory keeps growing.
    for round_ in (1, 2):
        if round_ == 2:
            s, seq, _ = call(a.base, a.token_a, "POST", f"/api/v1/projects/{pa['id']}/sequences", {"name": "SQ020"})
            assert s == 201, seq
        else:
            seq = seq_a
        time.sleep(2)
        begin = time.monotonic()
        s, result, headers = call(a.base, a.token_a, "POST", f"/api/v1/sequences/{seq['id']}/conform",
                                  {"format": "cmx3600", "edl": text, "apply": True})
        assert s in (200, 202), (s, result)
        end = time.monotonic()
        _, cut, _ = call(a.base, a.token_a, "GET", f"/api/v1/sequences/{seq['id']}/shots?limit=1")
        assert cut["total"] == a.events or cut.get("total_capped"), cut
        time.sleep(5)
        mem = memory(a.pid)
        during = sorted(d for (t0, d, st) in list(samples) if begin <= t0 <= end)
        before = sorted(d for (t0, d, st) in list(samples) if begin - 2 <= t0 < begin)
        lines.append(f"conform {round_} of {a.events} events: {end - begin:.2f} s; other organisation's writes "
                     f"during it: n={len(during)} p50_ms={pct(during, 0.5):.1f} p99_ms={pct(during, 0.99):.1f} "
                     f"max_ms={(during[-1] * 1000 if during else float('nan')):.1f} (the 2 s before: "
                     f"n={len(before)} p99_ms={pct(before, 0.99):.1f}); memory MiB: peak={mem['VmHWM']} "
                     f"after={mem['VmRSS']}")
    stop.set()
    for t in threads:
        t.join()
    bad = sum(1 for (_, _, st) in samples if st >= 400)
    print(f"memory MiB at the start={mem_start['VmRSS']}; errors={bad}")
    for line in lines:
        print("  " + line)


if __name__ == "__main__":
    main()
