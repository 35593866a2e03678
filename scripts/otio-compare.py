"""Compares M-Station's CMX 3600 reader with OpenTimelineIO's on real EDLs.

Run by scripts/otio-compare, which makes the virtual environment and fetches the EDLs. For each
EDL both readers' video events are normalised to the same JSON (record and source in/out in
frames, reel, clip name, transition, speed) and compared event by event. Then the file's cut is
written again by our EDL and OTIO writers and read by OpenTimelineIO, which must see the cut we
wrote.

Where the two readers legitimately differ, the difference is named and counted as explained:

- reel "AX": OpenTimelineIO drops the reel AX (an unknown source) from the clip's metadata; both
  sides are compared as AX.
- clip name: without a `* FROM CLIP NAME:` (or `TO CLIP NAME`) comment OpenTimelineIO names the
  clip after its source file or its event number. We leave it unnamed: conform breaks ties on
  clip names, and an invented one would match shots that merely share an event number.
- freeze frames: OpenTimelineIO takes Avid's " FF" suffix off a freeze frame's clip name, and
  ignores the M2 line of a one-frame freeze (its source and record lengths already agree). We
  keep the name as the EDL writes it, so a shot matches what the editor sees in the bin, and
  keep the freeze the M2 line states.
- speed: OpenTimelineIO keeps a speed-changed clip's record length and its speed, rounded to the
  tenth of a frame per second the M2 line gives, so the source out it implies (record frames x
  speed) can differ from the EDL's own source out. We keep the EDL's, which is what the editing
  system says it used, and is right for a shot's source range; the source in must still agree.

Dissolves need no such rule: OpenTimelineIO's CMX reader starts the incoming clip at the
dissolve's start, as we do, so the incoming shot owns the whole dissolve in both.

Usage: otio-compare.py SAMPLE_DIR EDL_EVENTS_BINARY
Exit status: 0 when every difference is explained, 1 otherwise.
"""

import json
import os
import subprocess
import sys
import tempfile

import opentimelineio as otio

# The rates OpenTimelineIO's own adapter tests read these samples at; the rest are 24 fps.
RATES = {"25fps.edl": 25, "timecode_mismatch.edl": 25}
FIELDS = ("record_out", "source_in", "source_out", "reel", "clip_name",
          "transition", "transition_frames", "speed_tenths")


def ours(binary, path, rate, *write):
    """Our events for `path`, or our writer's output when `write` is ("edl"|"otio",)."""
    args = [binary] + (["--write", write[0]] if write else []) + [path, str(rate)]
    run = subprocess.run(args, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        try:
            raise ValueError(json.loads(run.stdout)["error"])
        except (json.JSONDecodeError, KeyError):
            raise ValueError(run.stderr.strip() or run.stdout.strip()) from None
    return run.stdout if write else json.loads(run.stdout)["events"]


def frames(t, rate):
    return round(t.rescaled_to(rate).value)


def theirs(timeline, rate):
    """OpenTimelineIO's reading of a timeline, normalised like our edl_events example."""
    start = timeline.global_start_time
    start = frames(start, rate) if start is not None else 0
    events = []
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Video:
            continue
        # The CMX reader stores minus the first record in as the track's start.
        offset = start - (frames(track.source_range.start_time, rate) if track.source_range else 0)
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip):
                continue
            placed = track.range_of_child_at_index(i)
            record_in = offset + frames(placed.start_time, rate)
            record = frames(placed.duration, rate)
            source_in = frames(item.source_range.start_time, rate)
            warp = next((e for e in item.effects if isinstance(e, otio.schema.LinearTimeWarp)), None)
            speed = None
            source = record
            if isinstance(warp, otio.schema.FreezeFrame):
                speed, source = 0, 1
            elif warp is not None:
                speed = round(warp.time_scalar * rate * 10)
                source = round(record * abs(warp.time_scalar))
            transition, transition_frames = "cut", 0
            before = track[i - 1] if i > 0 else None
            if isinstance(before, otio.schema.Transition):
                transition = "wipe" if "Wipe" in before.transition_type else "dissolve"
                transition_frames = frames(before.in_offset + before.out_offset, rate)
            events.append({
                "track": track.name,
                "reel": (item.metadata.get("cmx_3600") or {}).get("reel") or "AX",
                "clip_name": item.name or None,
                "record_in": record_in,
                "record_out": record_in + record,
                "source_in": source_in,
                "source_out": source_in + source,
                "transition": transition,
                "transition_frames": transition_frames,
                "speed_tenths": speed,
            })
    return events


def explain(field, a, b):
    """Why our event `a` and OpenTimelineIO's `b` may differ in `field`, or None."""
    if field == "clip_name" and a["clip_name"] is None:
        return "no clip-name comment: OpenTimelineIO names the clip after its file or event number"
    if (field == "clip_name" and b["clip_name"] and a["clip_name"] == b["clip_name"] + " FF"
            and a["speed_tenths"] == 0):
        return "freeze frame: OpenTimelineIO drops Avid's FF suffix; the EDL's clip name is kept"
    if (field == "speed_tenths" and a["speed_tenths"] == 0 and b["speed_tenths"] is None
            and a["source_out"] - a["source_in"] == a["record_out"] - a["record_in"] == 1):
        return ("one-frame freeze: source and record lengths agree, so OpenTimelineIO ignores "
                "the M2 line; the freeze it states is kept")
    if (field == "source_out" and a["speed_tenths"] is not None
            and a["speed_tenths"] == b["speed_tenths"] and a["source_in"] == b["source_in"]):
        return ("speed change: OpenTimelineIO implies the source out from record length x speed; "
                "the EDL's own source out is kept")
    return None


def compare(a_events, b_events):
    """Pairs events by record in; returns (matches, explained, unexplained) lists of strings."""
    key = lambda e: (e["record_in"], e["record_out"])  # noqa: E731
    a_events, b_events = sorted(a_events, key=key), sorted(b_events, key=key)
    matches, explained, unexplained = 0, [], []
    i = j = 0
    while i < len(a_events) or j < len(b_events):
        a = a_events[i] if i < len(a_events) else None
        b = b_events[j] if j < len(b_events) else None
        if b is None or (a is not None and a["record_in"] < b["record_in"]):
            unexplained.append(f"record in {a['record_in']}: only M-Station has an event ({a['reel']})")
            i += 1
            continue
        if a is None or b["record_in"] < a["record_in"]:
            unexplained.append(f"record in {b['record_in']}: only OpenTimelineIO has an event ({b['reel']})")
            j += 1
            continue
        why_all, bad = [], []
        for field in FIELDS:
            if a[field] != b[field]:
                why = explain(field, a, b)
                note = f"{field} {a[field]!r} vs {b[field]!r}"
                (why_all if why else bad).append(f"{note} ({why})" if why else note)
        at = f"record in {a['record_in']} ({a['reel']})"
        if bad:
            unexplained.append(f"{at}: " + "; ".join(bad + why_all))
        elif why_all:
            explained.append(f"{at}: " + "; ".join(why_all))
        else:
            matches += 1
        i += 1
        j += 1
    return matches, explained, unexplained


def main():
    sample_dir, binary = sys.argv[1], sys.argv[2]
    files = sorted(f for f in os.listdir(sample_dir) if f.lower().endswith(".edl"))
    if not files:
        print(f"no EDLs in {sample_dir}")
        return 1
    rows, details, failed = [], [], False
    totals = {"files": 0, "events": 0, "matches": 0, "explained": 0, "unexplained": 0,
              "otio_unreadable": 0, "written": 0}
    for name in files:
        path = os.path.join(sample_dir, name)
        rate = RATES.get(name, 24)
        totals["files"] += 1
        try:
            timeline = otio.adapters.read_from_file(path, adapter_name="cmx_3600", rate=rate)
        except Exception as e:  # the adapter raises several kinds; any of them means "cannot read"
            totals["otio_unreadable"] += 1
            try:
                n = len(ours(binary, path, rate))
                status = f"OpenTimelineIO cannot read it ({type(e).__name__}: {e}); M-Station reads {n} events"
            except ValueError as ours_e:
                status = f"OpenTimelineIO cannot read it ({e}); nor can M-Station ({ours_e})"
            rows.append((name, rate, "-", "-", "-", "-", "-", status))
            continue
        b_events = theirs(timeline, rate)
        try:
            a_events = ours(binary, path, rate)
        except ValueError as e:
            failed = True
            totals["unexplained"] += len(b_events)
            rows.append((name, rate, "error", len(b_events), 0, 0, len(b_events),
                         f"M-Station cannot read what OpenTimelineIO reads: {e}"))
            continue
        matches, explained, unexplained = compare(a_events, b_events)

        # Our writers, read back by OpenTimelineIO: it must see exactly the cut we wrote.
        written, written_notes = [], []
        for fmt, adapter in (("edl", "cmx_3600"), ("otio", "otio_json")):
            try:
                text = ours(binary, path, rate, fmt)
                with tempfile.NamedTemporaryFile("w", suffix=f".{fmt}", delete=False) as out:
                    out.write(text)
                try:
                    kwargs = {"rate": rate} if adapter == "cmx_3600" else {}
                    back = theirs(otio.adapters.read_from_file(out.name, adapter_name=adapter, **kwargs), rate)
                    want = ours(binary, out.name, rate)
                finally:
                    os.unlink(out.name)
                m, e, u = compare(want, back)
                totals["written"] += 1
                # Our events of the written file against OpenTimelineIO's: the same rules apply.
                written_notes += [f"our {fmt} writer, read by OpenTimelineIO: {d}" for d in e]
                unexplained += [f"our {fmt} writer, read by OpenTimelineIO: {d}" for d in u]
                note = f", {len(e)} explained" if e else ""
                written.append(f"{fmt} DIFFERS" if u else f"{fmt} ok ({m + len(e)}{note})")
            except Exception as e:  # noqa: BLE001 — any failure here is a finding to report
                unexplained.append(f"our {fmt} writer: OpenTimelineIO cannot read it: {e}")
                written.append(f"{fmt} FAILED")
        totals["events"] += len(a_events)
        totals["matches"] += matches
        totals["explained"] += len(explained)
        totals["unexplained"] += len(unexplained)
        failed = failed or bool(unexplained)
        status = "ok" if not unexplained else "UNEXPLAINED DIFFERENCES"
        rows.append((name, rate, len(a_events), len(b_events), matches, len(explained),
                     len(unexplained), f"{status}; writers: {', '.join(written)}"))
        details += [f"  {name}: explained: {d}" for d in explained + written_notes]
        details += [f"  {name}: UNEXPLAINED: {d}" for d in unexplained]

    header = ("file", "fps", "ours", "otio", "match", "explained", "unexplained", "status")
    widths = [max(len(str(r[k])) for r in rows + [header]) for k in range(7)]
    for r in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)) + "  " + str(r[7]))
    print()
    print(__doc__.split("Usage:")[0].split("\n\n", 2)[2].strip())
    if details:
        print("\nDifferences:")
        print("\n".join(details))
    print(f"\n{totals['files']} files ({totals['otio_unreadable']} OpenTimelineIO cannot read), "
          f"{totals['events']} video events: {totals['matches']} match, "
          f"{totals['explained']} differ for an explained reason, {totals['unexplained']} unexplained; "
          f"{totals['written']} written files read back by OpenTimelineIO")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
