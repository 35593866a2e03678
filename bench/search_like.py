#!/usr/bin/env python3
"""The storefront's search before the catalogue, for comparison in the same run: every word a
LIKE over the listings' lowered titles and keywords, newest first (Python's sqlite3 on the same
database, no HTTP). Prints p50 and p99 per query set.
    search_like.py DB QUERIES_JSON"""
import json, sqlite3, sys, time

c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
sets = json.load(open(sys.argv[2]))
for name in ["en", "zh", "typo", "facets"]:
    times = []
    for q in sets[name]:
        words = q.lower().split()
        sql = "SELECT id FROM market_listings WHERE status = 'published'" + " AND search_text LIKE ?" * len(words) + " ORDER BY id DESC LIMIT 24"
        t = time.perf_counter()
        c.execute(sql, ["%" + w + "%" for w in words]).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print("%-40s c=1   p50_ms=%.2f p99_ms=%.2f queries=%d" % ("LIKE (before): " + name, times[len(times) // 2], times[int(len(times) * 0.99) - 1], len(times)))
