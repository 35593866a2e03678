#!/usr/bin/env python3
"""Seeds the storefront benchmark: N listings on sale by 40 contributors, written straight into
a stopped server's SQLite database (the server builds its catalogue from them at start), and the
query files for wrk: words in English and Chinese, with typos and with facet filters.
    search_seed.py DB OUT_DIR N OWNER_EMAIL"""
import json, os, random, sqlite3, sys, time, uuid, urllib.parse

db, out, n, owner = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
random.seed(7)
os.makedirs(out, exist_ok=True)
c = sqlite3.connect(db)
user = c.execute("SELECT id FROM users WHERE email = ?", (owner,)).fetchone()[0]
now = int(time.time() * 1000)

EN = ["harbour", "dawn", "city", "night", "street", "rain", "neon", "skyline", "river", "bridge",
      "market", "temple", "mountain", "forest", "desert", "ocean", "wave", "sunset", "crowd",
      "traffic", "aerial", "drone", "timelapse", "snow", "winter", "summer", "festival",
      "lantern", "tea", "garden", "bamboo", "train", "station", "airport", "factory", "harvest",
      "village", "portrait", "dancer", "kitchen", "smoke", "fire", "explosion", "spark", "cloud",
      "storm", "lightning", "moon", "stars", "galaxy"]
ZH = ["上海", "港口", "黎明", "城市", "夜景", "街道", "下雨", "霓虹", "天际线", "河流", "大桥",
      "市场", "寺庙", "山脉", "森林", "沙漠", "海洋", "海浪", "日落", "人群", "交通", "航拍",
      "无人机", "延时", "下雪", "冬天", "夏天", "节日", "灯笼", "茶园", "花园", "竹林", "火车",
      "车站", "机场", "工厂", "丰收", "村庄", "肖像", "舞者", "厨房", "烟雾", "火焰", "爆炸",
      "火花", "云海", "风暴", "闪电", "月亮", "星空"]
CATS = ["footage", "vfx_element", "model_3d", "lut", "music", "sound_effect"]
SHAPES = [(1280, 720, [25, 1]), (1920, 1080, [24000, 1001]), (1920, 1080, [25, 1]),
          (3840, 2160, [24, 1]), (3840, 2160, [30000, 1001]), (720, 576, [25, 1]),
          (1920, 1080, [50, 1]), (4096, 2160, [24, 1])]

orgs = []
for i in range(40):
    oid = uuid.uuid4().bytes
    c.execute("INSERT INTO orgs (id, name, slug, kind, timezone, created_at) VALUES (?, ?, ?, 'post_house', 'Asia/Shanghai', ?)",
              (oid, "Stock House %02d" % i, "stock-%02d" % i, now))
    orgs.append(oid)
files = []
for i, (w, h, fps) in enumerate(SHAPES * 8):
    digest = "%064x" % random.getrandbits(256)
    c.execute("INSERT INTO blobs (hash, size, created_at) VALUES (?, ?, ?)", (digest, 1 << 20, now))
    dur = random.choice([4.0, 12.5, 42.0, 95.0, 400.0])
    probe = {"container": "mov,mp4,m4a,3gp,3g2,mj2", "duration": dur,
             "video": {"codec": "prores", "profile": None, "width": w, "height": h, "pix_fmt": None,
                       "color_space": None, "color_transfer": None, "color_primaries": None,
                       "fps": fps, "frames": int(dur * fps[0] / fps[1])},
             "audio": [], "timecode": None, "reel": None}
    fid = uuid.uuid4().bytes
    org = orgs[i % len(orgs)]
    c.execute("INSERT INTO media_files (id, org_id, name, size, hash, created_by, created_at, probe) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              (fid, org, "clip%02d.mov" % i, 1 << 20, digest, user, now, json.dumps(probe)))
    files.append((fid, org))

rows, offers = [], []
for i in range(n):
    fid, _ = random.choice(files)
    org = random.choice(orgs)
    k = random.sample(range(len(EN)), 4)
    title_en = " ".join(EN[j] for j in k[:3]).capitalize()
    title_zh = "".join(ZH[j] for j in k[:3])
    kw = [EN[k[3]], ZH[k[3]]]
    lid = uuid.UUID(int=(now + i) << 80 | random.getrandbits(80)).bytes
    rows.append((lid, org, fid, "%064x" % random.getrandbits(256), random.choice(CATS), title_en, title_zh,
                 "A shot of %s and %s." % (EN[k[0]], EN[k[1]]), "%s与%s的镜头。" % (ZH[k[0]], ZH[k[1]]),
                 "\n".join(kw), "published", user, now, now + i, (title_en + "\n" + title_zh + "\n" + "\n".join(kw)).lower()))
    kind = random.choice(["rf_standard", "rf_extended", "rights_managed"])
    offers.append((uuid.uuid4().bytes, org, lid, kind, random.choice([5000, 20000, 80000, 300000]), "CNY",
                   "all" if kind != "rights_managed" else "broadcast", "WW", None, None, 0, 0, 1, now))
c.executemany("INSERT INTO market_listings (id, org_id, media_file_id, hash, category, title_en, title_zh, description_en, description_zh, keywords, status, created_by, created_at, published_at, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
c.executemany("INSERT INTO market_offers (id, org_id, listing_id, kind, price, currency, media, territory, starts_on, ends_on, exclusive, ai_training, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", offers)
c.commit()

def typo(w):
    i = random.randrange(1, len(w) - 1)
    return w[:i] + w[i + 1] + w[i] + w[i + 2:]

queries = {"en": [], "zh": [], "typo": [], "facets": []}
for _ in range(2000):
    a, b = random.sample(range(len(EN)), 2)
    queries["en"].append("q=" + urllib.parse.quote("%s %s" % (EN[a], EN[b])))
    queries["zh"].append("q=" + urllib.parse.quote(ZH[a] + ZH[b]))
    long = [w for w in EN if len(w) >= 5]
    queries["typo"].append("q=" + urllib.parse.quote(typo(random.choice(long))))
    queries["facets"].append("q=%s&category=%s&resolution=%s" % (
        urllib.parse.quote(ZH[a]), random.choice(CATS), random.choice(["hd", "full_hd", "uhd"])))
for name, qs in queries.items():
    with open(os.path.join(out, name + ".txt"), "w") as f:
        for q in qs:
            f.write("GET /api/v1/market/store?%s&limit=24\n" % q)
with open(os.path.join(out, "like.json"), "w") as f:
    json.dump({k: [urllib.parse.unquote(q.split("&")[0][2:]) for q in v[:300]] for k, v in queries.items()}, f)
print("seeded %d listings by %d contributors" % (n, len(orgs)), file=sys.stderr)

