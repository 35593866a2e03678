#!/usr/bin/env python3
"""Seeds the ledger benchmark: a bank and 64 wallets in CNY, each wallet funded with 10^12 fen,
then writes request files of transfers for wrk (bench/replay.lua): between random pairs of
wallets (uncontended), between the same two wallets (contended), and batches of 10.

    bench/ledger_seed.py BASE TOKEN OUTDIR
and, after the runs, `bench/ledger_seed.py BASE TOKEN OUTDIR --check` says whether the books
balance: every account's balance summed is zero, and no wallet is below zero.
"""
import json
import random
import sys
import urllib.request

base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


if "--check" in sys.argv:
    accounts = call("GET", "/api/v1/ledger/accounts")["items"]
    total = sum(a["posted"] for a in accounts)
    held = sum(a["debits_pending"] - a["credits_pending"] for a in accounts)
    overdrawn = [a["name"] for a in accounts if a["purpose"] != "settlement" and a["available"] < 0]
    ok = total == 0 and held == 0 and not overdrawn
    print(f"books: {'balance' if ok else 'DO NOT BALANCE'} ({len(accounts)} accounts, sum {total}, held {held}, overdrawn {overdrawn})")
    sys.exit(0 if ok else 1)

bank = call("POST", "/api/v1/ledger/accounts", {"name": "Bank", "purpose": "settlement", "currency": "CNY"})
wallets = [call("POST", "/api/v1/ledger/accounts", {"name": f"Wallet {i:02}", "purpose": "wallet", "currency": "CNY"})["id"] for i in range(64)]
for chunk in range(0, 64, 32):
    call("POST", "/api/v1/ledger/transfers", {"transfers": [
        {"kind": "posted", "debit_account_id": bank["id"], "credit_account_id": w, "amount": 10**12} for w in wallets[chunk:chunk + 32]]})


def transfer(d, c):
    return {"kind": "posted", "debit_account_id": d, "credit_account_id": c, "amount": 1}


rng = random.Random(2026)
with open(f"{out}/uncontended.txt", "w") as f:
    for _ in range(5000):
        d, c = rng.sample(wallets, 2)
        f.write("POST /api/v1/ledger/transfers " + json.dumps({"transfers": [transfer(d, c)]}) + "\n")
with open(f"{out}/contended.txt", "w") as f:
    for i in range(2):
        d, c = (wallets[0], wallets[1]) if i == 0 else (wallets[1], wallets[0])
        f.write("POST /api/v1/ledger/transfers " + json.dumps({"transfers": [transfer(d, c)]}) + "\n")
with open(f"{out}/batch10.txt", "w") as f:
    for _ in range(2000):
        f.write("POST /api/v1/ledger/transfers " + json.dumps({"transfers": [transfer(*rng.sample(wallets, 2)) for _ in range(10)]}) + "\n")
