"""Compares M-Station's CMX 3600 reader with OpenTimelineIO's on real EDLs.

Run by scripts/otio-compare, which makes the virtual environment and fetches the EDLs. For each
EDL both readers' video events are normalised to the same JSON (record and source in/out in
frames, reel, clip name, transition, speed, locators) and compared event by event. Then the file's cut is
written again by our EDL and OTIO writers and read by OpenTimelineIO, which must see the cut we
wrote.

Where the two readers legitimately differ, the difference is named and counted as explained:

- reel "AX": OpenTimelineIO drops the reel AX (an unknown source) from the clip's metadata; both
  sides are compared as AX. Reading OpenTimelineIO's .otio of such a clip, our OTIO reader finds
  no reel and names the source after its media reference, as for any OTIO clip without one.
- clip name: without a `* FROM CLIP NAME:` (or `TO CLIP NAME`) comment OpenTimelineIO names the
  clip after its source file or its event number. We leave it unnamed: conform breaks ties on
  clip names, and an invented one would match shots that merely share an event number.
- freeze frames: both readers take Avid's " FF" suffix off a freeze frame's clip name, but
  OpenTimelineIO ignores the M2 line of a one-frame freeze (its source and record lengths
  already agree), and then keeps the suffix as part of the name. We keep the freeze the M2 line
  states and take the suffix off, as for any freeze.
- speed: OpenTimelineIO keeps a speed-changed clip's record length and its speed, rounded to the
  tenth of a frame per second the M2 line gives, so the source out it implies (record frames x
  speed) can differ from the EDL's own source out. We keep the EDL's, which is what the editing
  system says it used, and is right for a shot's source range; the source in must still agree.
- centred transitions: in OpenTimelineIO a transition straddles its cut point, and the outgoing
  clip lasts until that point. A shot list takes the cut at the transition's start, as a CMX
  3600 dissolve is written and both EDL readers read it, so the same cut gives the same shots
  from an EDL or an .otio: the incoming shot owns the whole transition, and the outgoing one's
  tail handles cover it. OpenTimelineIO's events are moved by that rule before comparing, and
  each moved event counts as explained. Its CMX reader starts the incoming clip at the
  dissolve's start already (in_offset 0), so the rule moves nothing in timelines made from
  EDLs; the timeline "(made here)" has centred transitions to exercise it.

Locators are compared as (record frame, colour, text). A marker's time is in its clip's own
time, as OpenTimelineIO places markers and our OTIO writer writes them; OpenTimelineIO's CMX 3600
reader keeps a LOC's record timecode as the marker's time instead (its issues #169 and #345),
and marks such a marker with cmx_3600 metadata, which both sides read as a record frame.

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
          "transition", "transition_frames", "speed_tenths", "locators")


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
    """OpenTimelineIO's reading of a timeline, normalised like our edl_events example.

    One rule is applied on purpose, and each event it moves says so in "moved": in
    OpenTimelineIO a transition is centred on a cut point (in_offset frames before it,
    out_offset after), and the outgoing clip lasts until that point. A shot list takes the cut
    at the transition's start instead, as a CMX 3600 dissolve is written and as both EDL readers
    read it, so that the same cut gives the same shots from an EDL or an .otio: the incoming
    shot owns the whole transition and the outgoing one's tail handles cover it. The rule moves
    nothing in timelines read from an EDL, whose transitions all have an in_offset of 0.
    """
    start = timeline.global_start_time
    start = frames(start, rate) if start is not None else 0
    events = []
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Video:
            continue
        # The CMX reader stores minus the first record in as the track's start.
        offset = start - (frames(track.source_range.start_time, rate) if track.source_range else 0)
        by_index = {}
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip):
                continue
            placed = track.range_of_child_at_index(i)
            record_in = offset + frames(placed.start_time, rate)
            record = frames(placed.duration, rate)
            source_in = frames(item.source_range.start_time, rate)
            warp = next((e for e in item.effects if isinstance(e, otio.schema.LinearTimeWarp)), None)
            speed, scalar = None, 1.0
            if isinstance(warp, otio.schema.FreezeFrame):
                speed, scalar = 0, 0.0
            elif warp is not None:
                speed, scalar = round(warp.time_scalar * rate * 10), abs(warp.time_scalar)
            transition, transition_frames = "cut", 0
            before = track[i - 1] if i > 0 else None
            if isinstance(before, otio.schema.Transition):
                transition = "wipe" if "Wipe" in before.transition_type else "dissolve"
                transition_frames = frames(before.in_offset + before.out_offset, rate)
            locators = []
            for m in item.markers:
                at = frames(m.marked_range.start_time, rate)
                if "cmx_3600" not in m.metadata:
                    at = record_in + at - source_in
                locators.append([at, m.color or None, m.name])
            by_index[i] = {
                "locators": locators,
                "track": track.name,
                "reel": (item.metadata.get("cmx_3600") or {}).get("reel") or "AX",
                "clip_name": item.name or None,
                "record_in": record_in,
                "record_out": record_in + record,
                "source_in": source_in,
                "source_out": None,
                "transition": transition,
                "transition_frames": transition_frames,
                "speed_tenths": speed,
                "scalar": scalar,
            }
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Transition):
                continue
            cut = frames(item.in_offset, rate)
            if cut == 0:
                continue
            if i - 1 in by_index:
                by_index[i - 1]["record_out"] -= cut
                by_index[i - 1]["moved"] = (f"centred transition: ends where the transition "
                                            f"after it starts, {cut} frames before its cut point")
            if i + 1 in by_index:
                e = by_index[i + 1]
                e["record_in"] -= cut
                e["source_in"] -= round(cut * e["scalar"])
                e["moved"] = (f"centred transition: starts where the transition before it "
                              f"starts, {cut} frames before its cut point")
        for e in by_index.values():
            record = e["record_out"] - e["record_in"]
            scalar = e.pop("scalar")
            e["source_out"] = e["source_in"] + (int(record > 0) if e["speed_tenths"] == 0
                                                 else round(record * scalar))
            events.append(e)
    return events


def made_here(rate=24):
    """A small timeline of our own with what no EDL-made one has: a transition centred on its
    cut, as editing systems write them in OTIO, a freeze and a speed-up. Returns its JSON."""
    t = lambda v: otio.opentime.RationalTime(v, rate)  # noqa: E731
    r = lambda a, d: otio.opentime.TimeRange(t(a), t(d))  # noqa: E731
    timeline = otio.schema.Timeline(name="made here", global_start_time=t(3600 * rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for name, start, length, effect in (("A001C001", 36000 * rate, 48, None),
                                        ("A001C002", 36100 * rate, 36, None),
                                        ("A001C003", 36200 * rate, 30, otio.schema.FreezeFrame()),
                                        ("A001C004", 36300 * rate, 40, otio.schema.LinearTimeWarp(time_scalar=1.5))):
        if name == "A001C002":
            track.append(otio.schema.Transition(transition_type="SMPTE_Dissolve",
                                                in_offset=t(6), out_offset=t(6)))
        if name == "A001C004":
            track.append(otio.schema.Gap(source_range=r(0, 12)))
            track.append(otio.schema.Transition(transition_type="SMPTE_Dissolve",
                                                in_offset=t(4), out_offset=t(8)))
        clip = otio.schema.Clip(name=f"{name}.mov", source_range=r(start, length),
                                metadata={"cmx_3600": {"reel": name}})
        if effect is not None:
            clip.effects.append(effect)
        track.append(clip)
    return otio.adapters.write_to_string(timeline, "otio_json")


def explain(field, a, b):
    """Why our event `a` and OpenTimelineIO's `b` may differ in `field`, or None."""
    if field == "reel" and b["reel"] == "AX" and a["reel"] != "AX":
        return "no reel in the .otio: our OTIO reader names the source after its media reference"
    if field == "clip_name" and a["clip_name"] is None:
        return "no clip-name comment: OpenTimelineIO names the clip after its file or event number"
    if (field == "clip_name" and a["clip_name"] and b["clip_name"] == a["clip_name"] + " FF"
            and a["speed_tenths"] == 0):
        return ("one-frame freeze: OpenTimelineIO ignores its M2 line and keeps Avid's FF suffix "
                "in the name; the freeze is kept and the suffix taken off")
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
        if not bad and b.get("moved"):
            why_all.append(b["moved"])
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
              "otio_unreadable": 0, "written": 0, "otio_read": 0}
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

        # OpenTimelineIO's own .otio of this EDL, read by our OTIO reader: it must see the
        # events OpenTimelineIO sees.
        reader = "FAILED"
        with tempfile.NamedTemporaryFile("w", suffix=".otio", delete=False) as out:
            out.write(otio.adapters.write_to_string(timeline, "otio_json"))
        try:
            m, e, u = compare(ours(binary, out.name, rate), b_events)
            totals["otio_read"] += 1
            written_notes += [f"our otio reader, on OpenTimelineIO's .otio: {d}" for d in e]
            unexplained += [f"our otio reader, on OpenTimelineIO's .otio: {d}" for d in u]
            note = f", {len(e)} explained" if e else ""
            reader = "DIFFERS" if u else f"ok ({m + len(e)}{note})"
        except ValueError as e:
            unexplained.append(f"our otio reader cannot read OpenTimelineIO's .otio: {e}")
        finally:
            os.unlink(out.name)

        totals["events"] += len(a_events)
        totals["matches"] += matches
        totals["explained"] += len(explained)
        totals["unexplained"] += len(unexplained)
        failed = failed or bool(unexplained)
        status = "ok" if not unexplained else "UNEXPLAINED DIFFERENCES"
        rows.append((name, rate, len(a_events), len(b_events), matches, len(explained),
                     len(unexplained), f"{status}; writers: {', '.join(written)}; otio reader: {reader}"))
        details += [f"  {name}: explained: {d}" for d in explained + written_notes]
        details += [f"  {name}: UNEXPLAINED: {d}" for d in unexplained]

    # Our OTIO reader on a timeline made here, with what EDL-made ones lack: transitions centred
    # on their cut, as editing systems write them in OTIO.
    name = "(made here).otio"
    with tempfile.NamedTemporaryFile("w", suffix=".otio", delete=False) as out:
        out.write(made_here())
    try:
        b_events = theirs(otio.adapters.read_from_file(out.name), 24)
        a_events = ours(binary, out.name, 24)
        matches, explained, unexplained = compare(a_events, b_events)
    except ValueError as e:
        a_events, b_events, matches, explained = [], [], 0, []
        unexplained = [f"our otio reader cannot read it: {e}"]
    finally:
        os.unlink(out.name)
    made = (f"a timeline made here: {len(a_events)} video events, {matches} match, "
            f"{len(explained)} explained, {len(unexplained)} unexplained")
    failed = failed or bool(unexplained)
    rows.append((name, 24, len(a_events), len(b_events), matches, len(explained), len(unexplained),
                 "ok" if not unexplained else "UNEXPLAINED DIFFERENCES"))
    details += [f"  {name}: explained: {d}" for d in explained]
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
    print(f"\n{totals['files']} sample EDLs ({totals['otio_unreadable']} OpenTimelineIO cannot read), "
          f"{totals['events']} video events: {totals['matches']} match, "
          f"{totals['explained']} differ for an explained reason, {totals['unexplained']} unexplained; "
          f"{totals['written']} written files read back by OpenTimelineIO, "
          f"{totals['otio_read']} of its .otio files read by our OTIO reader; {made}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
