"""Dispatch of small jobs to agents over HTTP: N probe jobs (one per tiny uploaded file) taken by
AGENTS agents in threads, each claiming a job and ending it at once (as an agent whose ffprobe
took no time), so only the queue is measured. Prints jobs/s and the claim's and end's latency,
beside an empty claim (the same request and transaction finding nothing: the floor of asking).
    python3 dispatch.py BASE OPERATOR_TOKEN TENANT_TOKEN --jobs N --agents A
"""
import argparse, http.client, json, os, statistics, threading, time, urllib.parse


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def call(c, method, path, token, body=None, headers=None):
    h = {"Authorization": f"Bearer {token}"}
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    t = time.perf_counter()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, data, time.perf_counter() - t


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


def main():
    a = argparse.ArgumentParser()
    a.add_argument("base"); a.add_argument("ops"); a.add_argument("tenant")
    a.add_argument("--jobs", type=int, default=10000); a.add_argument("--agents", type=int, default=4)
    o = a.parse_args()

    # The jobs: one probe job per new file.
    t0 = time.perf_counter()
    def upload(start, step):
        c = conn(o.base)
        for i in range(start, o.jobs, step):
            body = os.urandom(16) + i.to_bytes(8, "big")
            s, d, _ = call(c, "POST", "/files", o.tenant, body, {
                "Tus-Resumable": "1.0.0", "Upload-Length": str(len(body)),
                "Content-Type": "application/offset+octet-stream"})
            assert s == 201, (s, d)
    threads = [threading.Thread(target=upload, args=(i, 4)) for i in range(4)]
    [t.start() for t in threads]; [t.join() for t in threads]
    queued = time.perf_counter() - t0

    # The floor: an empty claim (no proxy job exists), as many times as there are jobs / 10.
    c = conn(o.base)
    empty = []
    for _ in range(max(100, o.jobs // 10)):
        s, d, dt = call(c, "POST", "/api/v1/agent/claim", o.ops, {"worker": "floor", "kinds": ["media.proxy"]})
        assert s == 204, (s, d)
        empty.append(dt)

    claims, ends, done = [], [], [0]
    lock = threading.Lock()
    def agent(n):
        c = conn(o.base)
        mine_c, mine_e, k = [], [], 0
        while True:
            s, d, dt = call(c, "POST", "/api/v1/agent/claim", o.ops, {"worker": f"bench-{n}", "kinds": ["media.probe"]})
            if s == 204:
                break
            assert s == 200, (s, d)
            mine_c.append(dt)
            job = json.loads(d)["job"]["id"]
            s, d, dt = call(c, "POST", f"/api/v1/agent/jobs/{job}/finish", o.ops,
                            {"worker": f"bench-{n}", "probe_error": "benchmark: not read"})
            assert s == 200, (s, d)
            mine_e.append(dt)
            k += 1
        with lock:
            claims.extend(mine_c); ends.extend(mine_e); done[0] += k
    t1 = time.perf_counter()
    threads = [threading.Thread(target=agent, args=(i,)) for i in range(o.agents)]
    [t.start() for t in threads]; [t.join() for t in threads]
    took = time.perf_counter() - t1
    assert done[0] == o.jobs, f"{done[0]} of {o.jobs} jobs ran"
    print(f"{o.jobs} jobs queued in {queued:.1f} s; {o.agents} agents ran them in {took:.1f} s: "
          f"{o.jobs / took:.0f} jobs/s; claim p50 {pct(claims, .5):.1f} ms, p99 {pct(claims, .99):.1f} ms; "
          f"end p50 {pct(ends, .5):.1f} ms, p99 {pct(ends, .99):.1f} ms; "
          f"empty claim (the floor) p50 {pct(empty, .5):.1f} ms, p99 {pct(empty, .99):.1f} ms")


main()
