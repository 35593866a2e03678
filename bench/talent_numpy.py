#!/usr/bin/env python3
"""The peer of the search by meaning: the same profiles' vectors, read from the database into
one numpy matrix (float32, OpenBLAS), each query a matrix-vector product and the best 24 by
argpartition: the scan alone, in process (no HTTP, no model, no facets, no visibility).
Query vectors are those of random profiles.
    bench/talent_numpy.py DB [RUNS]"""
import base64, random, sqlite3, sys, time
import numpy as np
db = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rows = sqlite3.connect(db).execute("SELECT vector FROM talent_vectors").fetchall()
m = np.stack([np.frombuffer(base64.b64decode(v), dtype="<f4") for (v,) in rows])
random.seed(5)
times = []
for _ in range(runs):
    q = m[random.randrange(len(m))]
    t = time.perf_counter()
    scores = m @ q
    best = np.argpartition(-scores, 24)[:24]
    best = best[np.argsort(-scores[best])]
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print("%-40s c=1   %d vectors, p50 %.2f ms, p99 %.2f ms" % ("numpy scan (peer)", len(m), times[len(times) // 2], times[int(len(times) * 0.99) - 1]))
