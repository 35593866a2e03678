#!/usr/bin/env python3
"""Writes wrk request files for the ordinary writes of M-Station, on a production that
seed_tracking.py built. usage: seed_writes.py BASE_URL TOKEN OUTDIR
Creates 200 assets and 100 paused webhooks, and writes: me.txt, webhook.txt, project.txt,
conform.txt (a 100-shot recut, applied), asset.txt, version.txt, timelog.txt."""
import argparse, json, os, random, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("base"); ap.add_argument("token"); ap.add_argument("out")
a = ap.parse_args()

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(a.base + path, data=data, method=method,
        headers={"authorization": "Bearer " + a.token, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")

def tc(frames, fps=24):
    f = frames % fps; s = frames // fps
    return "%02d:%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60, f)

def write(name, lines):
    with open(os.path.join(a.out, name), "w") as f:
        f.write("\n".join(lines) + "\n")

pid = call("GET", "/api/v1/projects")["items"][0]["id"]
seqs = call("GET", f"/api/v1/projects/{pid}/sequences?limit=100")["items"]
tasks = [t["id"] for t in call("GET", f"/api/v1/tasks?project_id={pid}&limit=500")["items"]]
assets = [call("POST", f"/api/v1/projects/{pid}/assets",
               {"kind": "prop", "name": "Prop %03d" % i})["id"] for i in range(200)]
hooks = []
for i in range(100):
    h = call("POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/%d" % i, "events": ["member.*"]})
    call("PATCH", "/api/v1/webhooks/%s" % h["webhook"]["id"], {"active": False})
    hooks.append(h["webhook"]["id"])

write("me.txt", ['PATCH /api/v1/me {"locale":"%s"}' % l for l in ("en", "zh-CN")])
write("webhook.txt", ['PATCH /api/v1/webhooks/%s {"description":"cut %d"}' % (h, i) for i, h in enumerate(hooks)])
write("project.txt", ['PATCH /api/v1/projects/%s {"head_handles":%d}' % (pid, n) for n in range(17)])
# Each sequence recut two ways: every conform moves, adds or omits shots of its sequence.
conform = []
for s in seqs[:10]:
    for variant in range(2):
        rnd = random.Random(hash((s["id"], variant)))
        lines, rec = ["TITLE: %s" % s["name"], "FCM: NON-DROP FRAME"], 86400
        for e in range(100):
            dur = rnd.randint(24, 240); src = rnd.randint(0, 80000)
            lines.append("%03d  R%dC%03d V     C        %s %s %s %s" % (e + 1, variant, e, tc(src), tc(src + dur), tc(rec), tc(rec + dur)))
            rec += dur
        conform.append("POST /api/v1/sequences/%s/conform %s" % (s["id"], json.dumps(
            {"format": "cmx3600", "edl": "\n".join(lines) + "\n", "apply": True}, separators=(",", ":"))))
write("conform.txt", conform)
write("asset.txt", ['PATCH /api/v1/assets/%s {"description":"wrk %d"}' % (x, i) for i, x in enumerate(assets)])
write("version.txt", ['POST /api/v1/tasks/%s/versions {"comment":"wrk"}' % t for t in tasks])
write("timelog.txt", ['POST /api/v1/tasks/%s/time-logs {"date":"2026-12-01","minutes":30}' % t for t in tasks])
