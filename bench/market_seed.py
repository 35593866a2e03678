#!/usr/bin/env python3
"""Seeds the market benchmark: the seller uploads 64 small files (LUTs) and lists each with one
royalty-free offer of 1.00 CNY; the operator credits every buyer's market wallet with 10^10 fen.
Then writes request files for wrk (bench/replay.lua, a token on each line): checkouts of a
random offer by a random buyer, and raw ledger transfers in the operator's books (a fen from the
market's settlement account to a random buyer's wallet), for the same run's comparison.

    bench/market_seed.py BASE OPERATOR_TOKEN SELLER_TOKEN OUTDIR BUYER_TOKEN...
and, after the runs, `bench/market_seed.py BASE OPERATOR_TOKEN SELLER_TOKEN OUTDIR --check
ACKNOWLEDGED BUYER_TOKEN...` says whether the operator's books balance and whether the market
sold every ACKNOWLEDGED checkout (the 2xx answers wrk counted) once, and no more than those and
the ones still in flight when wrk stopped.
"""
import base64
import json
import random
import sys
import urllib.request

base, op, seller, out = sys.argv[1:5]
rest = sys.argv[5:]
check = "--check" in rest
if check:
    acknowledged = int(rest[rest.index("--check") + 1])
    buyers = rest[rest.index("--check") + 2:]
else:
    buyers = rest
PRICE = 100
FUNDS = 10**10


def call(token, method, path, body=None, raw=None, headers=None):
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    h.update(headers or {})
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, method=method, data=data, headers=h)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def org_of(token):
    return call(token, "GET", "/api/v1/me")["current_org_id"]


if check:
    accounts = call(op, "GET", "/api/v1/ledger/accounts")["items"]
    total = sum(a["posted"] for a in accounts)
    overdrawn = [a["name"] for a in accounts if a["purpose"] != "settlement" and a["available"] < 0]
    balanced = total == 0 and not overdrawn
    owed = sum(a["posted"] for a in accounts if a["purpose"] in ("royalties_payable", "platform_fees"))
    sold = owed // PRICE
    # wrk stops counting with requests still in flight (at most one per connection: 1 + 32);
    # those may have been sold too. Every acknowledged one must be there, and nothing more.
    once = acknowledged <= sold <= acknowledged + 33
    print(f"books: {'balance' if balanced else 'DO NOT BALANCE'} ({len(accounts)} accounts, sum {total}, overdrawn {overdrawn}); "
          f"sold {sold}, acknowledged {acknowledged} (+ at most 33 in flight when wrk stopped): "
          f"{'each once' if once else 'MISMATCH'}")
    sys.exit(0 if balanced and once else 1)

offers = []
for i in range(64):
    rng = random.Random(i)
    data = bytes(rng.getrandbits(8) for _ in range(1024))
    meta = f"filename {base64.b64encode(f'M{i:03}C001.mov'.encode()).decode()}"
    req = urllib.request.Request(base + "/files", method="POST", data=data, headers={
        "Authorization": f"Bearer {seller}", "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": meta, "Content-Type": "application/offset+octet-stream"})
    urllib.request.urlopen(req).read()
# The files' probe jobs run ffprobe: the runs start once they are over, so that no job shares
# the machine with them. LUTs get no preview job.
import time
for _ in range(600):
    items = call(seller, "GET", "/api/v1/media?limit=500")["items"]
    if all(f.get("probe") or f.get("probe_error") for f in items):
        break
    time.sleep(0.1)
files = [f["id"] for f in items]
for i, f in enumerate(files):
    listing = call(seller, "POST", "/api/v1/market/listings", {
        "media_file_id": f, "category": "lut", "title_en": f"Stock look {i}", "title_zh": f"素材 {i}",
        "keywords": ["bench", "素材"]})
    offer = call(seller, "POST", f"/api/v1/market/listings/{listing['id']}/offers",
                 {"kind": "rf_standard", "price": "1.00", "currency": "CNY"})
    call(seller, "POST", f"/api/v1/market/listings/{listing['id']}/publish", {})
    offers.append(offer["id"])
wallets = []
for b in buyers:
    w = call(op, "POST", "/api/v1/market/wallets/credit",
             {"org_id": org_of(b), "currency": "CNY", "amount": str(FUNDS // 100), "reference": "bench deposit"})
    wallets.append(w["id"])
bank = next(a["id"] for a in call(op, "GET", "/api/v1/ledger/accounts")["items"] if a["purpose"] == "settlement")

rng = random.Random(2026)
with open(f"{out}/checkout.txt", "w") as f:
    for _ in range(5000):
        f.write(f"{rng.choice(buyers)} POST /api/v1/market/checkout " + json.dumps({"offer_id": rng.choice(offers)}) + "\n")
with open(f"{out}/transfer.txt", "w") as f:
    for _ in range(5000):
        t = {"kind": "posted", "debit_account_id": bank, "credit_account_id": rng.choice(wallets), "amount": 1}
        f.write(f"{op} POST /api/v1/ledger/transfers " + json.dumps({"transfers": [t]}) + "\n")
print(f"seeded: {len(offers)} listings on sale, {len(wallets)} buyers with {FUNDS} fen each")
