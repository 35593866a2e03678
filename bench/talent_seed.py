#!/usr/bin/env python3
"""Seeds N talent profiles (shown to the platform, kept by 20 organisations) into a stopped
server's SQLite database, each with a bio of two sentences drawn for its crew role, and writes the
benchmark's request files into REQ.
    bench/talent_seed.py DB REQ N OWNER_EMAIL"""
import os, random, sqlite3, sys, time, uuid
from urllib.parse import quote
db, req, n, owner = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
random.seed(11)
c = sqlite3.connect(db)
user = c.execute("SELECT id FROM users WHERE email = ?", (owner,)).fetchone()[0]
now = int(time.time() * 1000)
DEPTS = {"vfx": ["vfx_supervisor","vfx_producer","compositor","matchmove_artist","roto_artist","fx_artist","cg_lighting_artist","environment_artist"],
 "animation": ["animator","rigger","modeller","storyboard_artist","layout_artist"], "editorial": ["editor","assistant_editor","conform_editor"],
 "colour": ["colourist","colour_assistant"], "camera": ["director_of_photography","camera_operator","focus_puller","dit","steadicam_operator"],
 "sound": ["production_sound_mixer","boom_operator","sound_designer","re_recording_mixer","composer"], "production": ["producer","line_producer","production_manager","production_coordinator","assistant_director"]}
ROLES = [(d, r) for d, rs in DEPTS.items() for r in rs]
SKILLS = ["Nuke","Houdini","Maya","Katana","Flame","Resolve","Baselight","Avid","Premiere","Pro Tools","Blender","ZBrush","Substance","Mari","Arnold","RenderMan","3DEqualizer","PFTrack","Silhouette","Mocha","After Effects","Unreal","Unity","Clarisse","Gaffer","V-Ray","Redshift","Cinema 4D","Toon Boom","Harmony","Storyboard Pro","Photoshop","Final Draft","Movie Magic","ShotGrid","Frame.io","Python","Dolby Atmos","iZotope RX","ARRI Alexa"]
LANGS = ["zh","en","yue","ja","ko","fr","de","es"]
CITIES = [("Shanghai","CN"),("Beijing","CN"),("Hong Kong","HK"),("Tokyo","JP"),("Seoul","KR"),("London","GB"),("Paris","FR")]
FIRST = ["Lin","Wei","Jun","Mei","Hao","Yan","Tom","Anna","Kenji","Sara","Min","Li","Chen","Zhao","Priya","Marco","Emma","Sun","Guo","Ravi"]
LAST = ["Qiao","Zhang","Wang","Li","Liu","Chen","Yang","Huang","Zhao","Wu","Smith","Weber","Tanaka","Kim","Rossi","Martin","Clarke","Mehta","Sato","Park"]
# What people of each department say they do: two of these make a bio.
DOES = {
 "vfx": ["Composites live action and CG for feature films", "Keys green-screen plates and paints out rigs and wires",
         "Simulates explosions, collapsing buildings, smoke and water", "Tracks cameras and objects for set extensions",
         "Lights and renders CG creatures for fantasy series", "Builds digital environments and matte paintings of cities"],
 "animation": ["Animates characters for feature animation", "Rigs faces and bodies for animated series",
               "Models and sculpts creatures and props", "Draws storyboards for commercials and features"],
 "editorial": ["Cuts dramas and documentaries", "Assembles dailies and keeps the edit room organised",
               "Conforms offline cuts to the online and prepares deliverables"],
 "colour": ["Grades features and streaming series in HDR", "Builds show LUTs with the cinematographer before the shoot",
            "Manages colour pipelines and ACES workflows"],
 "camera": ["Shoots features and commercials on large-format cameras", "Operates camera on handheld and Steadicam",
            "Pulls focus on night exteriors and car rigs", "Manages on-set data and dailies as a DIT"],
 "sound": ["Records dialogue on location and on stages", "Designs sound effects for action and horror",
           "Mixes features in Dolby Atmos", "Composes orchestral and electronic scores"],
 "production": ["Produces features and co-productions", "Runs budgets and schedules for series",
                "Coordinates crews, travel and permits on location", "Runs the floor as first assistant director"],
}
orgs = []
for i in range(20):
    oid = uuid.uuid4().bytes
    c.execute("INSERT INTO orgs (id, name, slug, kind, timezone, created_at) VALUES (?, ?, ?, 'post_house', 'Asia/Shanghai', ?)", (oid, "Crew House %02d" % i, "crew-%02d" % i, now))
    orgs.append(oid)
rows, facets = [], []
for i in range(n):
    pid = uuid.uuid4().bytes
    (dept, role) = random.choice(ROLES)
    roles = [role] + ([random.choice(ROLES)[1]] if random.random() < 0.3 else [])
    roles = list(dict.fromkeys(roles))
    skills = random.sample(SKILLS, random.randint(1, 6))
    langs = random.sample(LANGS, random.randint(1, 2))
    city, country = random.choice(CITIES)
    name = "%s %s %d" % (random.choice(FIRST), random.choice(LAST), i)
    headline = "%s, %d years" % (role.replace("_", " ").capitalize(), random.randint(1, 25))
    rate = random.randint(800, 6000) * 100
    search = "\n".join([name, headline] + skills + roles + [city]).lower()
    bio = ". ".join(random.sample(DOES[dept], 2)) + "."
    rows.append((pid, random.choice(orgs), name, headline, bio, dept, "\n".join(roles), "\n".join(skills), "\n".join(langs), city, country, rate, "CNY", "platform", search, user, now + i, now + i))
    facets += [("role", r, pid) for r in roles] + [("language", l, pid) for l in langs]
c.executemany("INSERT INTO talent_profiles (id, org_id, name, headline, bio, department, roles, skills, languages, city, country, day_rate, currency, visibility, search_text, created_by, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)", rows)
c.executemany("INSERT INTO talent_profile_facets (facet, value, profile_id) VALUES (?,?,?)", facets)
c.commit()
os.makedirs(req, exist_ok=True)
def write(name, paths):
    with open(os.path.join(req, name + ".txt"), "w") as f:
        f.writelines("GET %s\n" % p for p in paths)
search = "/api/v1/talent/search?limit=24&"
directory = "/api/v1/talent/profiles?limit=24&"
ONE = ["nuke", "houdini", "shanghai", "compositor", "resolve", "tokyo"]
TWO = ["nuke houdini", "resolve london", "maya rigger", "avid editor"]
write("one", [search + "q=" + quote(w) for w in ONE])
write("two", [search + "q=" + quote(w) for w in TWO])
write("facets", [search + "role=compositor&language=zh", search + "department=sound&country=GB"])
MEANING = ["someone to blow things up for a disaster film", "colour grading for a streaming series in high dynamic range",
           "a sound recordist for dialogue on location", "paint out wires and rigs from green screen shots",
           "storyboards for a car commercial", "keeps the budget and schedule of a drama series"]
write("meaning", [search + "by=meaning&q=" + quote(q) for q in MEANING])
write("before_one", [directory + "q=" + quote(w) for w in ONE])
write("before_two", [directory + "q=" + quote(w) for w in TWO])
write("before_facets", [directory + "role=compositor&language=zh", directory + "department=sound&country=GB"])
print("seeded", n)
