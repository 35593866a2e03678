"""The Python tus client (tuspy) against M-Station's /files: see scripts/tus-interop."""

import json
import os
import sys
import time
import urllib.request

from tusclient import client as tus

BASE = os.environ["MSTATION_URL"]
TOKEN = os.environ["MSTATION_TOKEN"]
RESTART_FLAG = sys.argv[1]
CHUNK = 256 * 1024


def api(path):
    req = urllib.request.Request(BASE + path, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req) as r:
        return r.read()


def arrived(name, content):
    files = json.loads(api("/api/v1/media?limit=500"))["items"]
    mine = [f for f in files if f["name"] == name]
    assert len(mine) == 1, f"{name}: {len(mine)} files"
    got = api(f"/api/v1/media/{mine[0]['id']}/content")
    assert got == content, f"{name}: the bytes differ ({len(got)} of {len(content)})"
    print(f"ok: {name}, {len(content)} bytes, arrived whole")


def client():
    return tus.TusClient(BASE + "/files", headers={"Authorization": "Bearer " + TOKEN})


def restart_server():
    open(RESTART_FLAG, "w").close()
    while os.path.exists(RESTART_FLAG):
        time.sleep(0.05)


content = os.urandom(3 * 1024 * 1024 + 12345)
path = os.path.join(os.environ["MSTATION_DATA"], "sample.bin")
with open(path, "wb") as f:
    f.write(content)

# 1. In chunks, each checked against its SHA-1, with a Chinese file name.
u = client().uploader(path, chunk_size=CHUNK, upload_checksum=True,
                      metadata={"filename": "样片 A001.mov", "filetype": "video/quicktime"})
u.upload()
arrived("样片 A001.mov", content)

# 2. Interrupted after three chunks; another client resumes from where the server stands.
u = client().uploader(path, chunk_size=CHUNK, metadata={"filename": "resumed.mov"})
for _ in range(3):
    u.upload_chunk()
url = u.url
resumed = client().uploader(path, url=url, chunk_size=CHUNK)
assert resumed.offset == 3 * CHUNK, f"the server says {resumed.offset}, sent {3 * CHUNK}"
resumed.upload()
arrived("resumed.mov", content)

# 3. The server is killed (kill -9) mid-upload and started again: the upload resumes from what
#    it had acknowledged, without sending those bytes again.
u = client().uploader(path, chunk_size=CHUNK, metadata={"filename": "after-a-crash.mov"})
for _ in range(5):
    u.upload_chunk()
restart_server()
resumed = client().uploader(path, url=u.url, chunk_size=CHUNK)
assert resumed.offset == 5 * CHUNK, f"after the restart the server says {resumed.offset}"
resumed.upload()
arrived("after-a-crash.mov", content)
print("ok: tuspy uploads, resumes and survives a server restart")
