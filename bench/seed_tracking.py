#!/usr/bin/env python3
"""Builds a production through M-Station's API for the tracking benchmark and writes wrk request
files. usage: seed_tracking.py BASE_URL TOKEN OUTDIR --shots N [--per-sequence 100]
Creates one project, N/100 sequences conformed from generated CMX 3600 EDLs, six tasks per shot,
assigns a tenth of the tasks to the caller, and writes: shot_tasks.txt, seq_tasks.txt,
filtered.txt, status.txt, note.txt, bulk.txt."""
import argparse, json, os, random, sys, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("base"); ap.add_argument("token"); ap.add_argument("out")
ap.add_argument("--shots", type=int, default=1000)
ap.add_argument("--per-sequence", type=int, default=100)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(a.base + path, data=data, method=method,
        headers={"authorization": "Bearer " + a.token, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")

def tc(frames, fps=24):
    f = frames % fps; s = frames // fps
    return "%02d:%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60, f)

me = call("GET", "/api/v1/me")["user"]["id"]
project = call("POST", "/api/v1/projects", {"name": "Benchmark feature", "code": "BENCH%d" % int(time.time()), "fps": "24", "width": 4096, "height": 1716})
pid = project["id"]
types = [t["id"] for t in call("GET", f"/api/v1/projects/{pid}/task-types")["items"]]
statuses = {s["short_name"]: s["id"] for s in call("GET", f"/api/v1/projects/{pid}/statuses")["items"]}
cycle = [statuses[k] for k in ("wip", "wfa", "retake", "done")]
sequences, shots, tasks, mine = [], [], [], []
start = time.time()
for si in range(max(1, a.shots // a.per_sequence)):
    seq = call("POST", f"/api/v1/projects/{pid}/sequences", {"name": "SQ%04d" % (si + 1)})
    sequences.append(seq["id"])
    lines, rec = ["TITLE: SQ%04d" % (si + 1), "FCM: NON-DROP FRAME"], 86400
    for e in range(a.per_sequence):
        dur = random.randint(24, 240); src = random.randint(0, 80000)
        lines.append("%03d  A%03dC%03d V     C        %s %s %s %s" % (e + 1, si % 1000, e % 1000, tc(src), tc(src + dur), tc(rec), tc(rec + dur)))
        lines.append("* FROM CLIP NAME: A%03dC%03d_%04d.MOV" % (si % 1000, e % 1000, si))
        rec += dur
    call("POST", f"/api/v1/sequences/{seq['id']}/conform", {"format": "cmx3600", "edl": "\n".join(lines) + "\n", "apply": True})
    seq_shots = [s["id"] for s in call("GET", f"/api/v1/sequences/{seq['id']}/shots?limit=500")["items"]]
    shots += seq_shots
    batch = []
    for sh in seq_shots:
        for ty in types:
            assign = [me] if random.random() < 0.1 else []
            batch.append({"shot_id": sh, "task_type_id": ty, "assignees": assign})
    # A request creates at most 1,000 tasks.
    created = [t for k in range(0, len(batch), 1000)
               for t in call("POST", "/api/v1/tasks", {"tasks": batch[k:k + 1000]})["items"]]
    tasks += [t["id"] for t in created]
    mine += [t["id"] for t in created if t["assignees"]]
    if (si + 1) % 50 == 0:
        print("  %d shots, %d tasks, %.0f s" % (len(shots), len(tasks), time.time() - start), file=sys.stderr, flush=True)
print("seeded %d sequences, %d shots, %d tasks in %.0f s" % (len(sequences), len(shots), len(tasks), time.time() - start), file=sys.stderr)

def write(name, lines):
    with open(os.path.join(a.out, name), "w") as f:
        f.write("\n".join(lines) + "\n")
sample = random.sample(shots, min(len(shots), 2000))
write("shot_tasks.txt", ["GET /api/v1/shots/%s/tasks" % s for s in sample])
write("seq_tasks.txt", ["GET /api/v1/sequences/%s/tasks" % s for s in sequences[:200]])
# One pipeline step of a sequence: 100 tasks, the shape of Kitsu's harness (one task per shot).
write("seq_tasks_step.txt", ["GET /api/v1/sequences/%s/tasks?task_type_id=%s" % (s, random.choice(types)) for s in sequences[:200]])
write("filtered.txt", ["GET /api/v1/tasks?project_id=%s&assignee=me&status_id=%s&limit=50" % (pid, statuses[k]) for k in ("todo", "wip", "done")])
pick = random.sample(tasks, min(len(tasks), 5000))
write("status.txt", ['PATCH /api/v1/tasks/%s {"status_id":"%s"}' % (t, random.choice(cycle)) for t in pick])
write("note.txt", ['POST /api/v1/tasks/%s/notes {"body":"wrk note","status_id":"%s"}' % (t, random.choice(cycle)) for t in pick])
bulk = []
for i in range(200):
    ids = random.sample(tasks, 100)
    bulk.append('POST /api/v1/tasks/bulk-update ' + json.dumps({"updates": [{"id": t, "status_id": random.choice(cycle)} for t in ids]}, separators=(",", ":")))
write("bulk.txt", bulk)
