#!/usr/bin/env python3
"""A FULL_TABLE stream cut between two checkpoints resumes after the last one (stdlib only).

  full_table_resume.py TAP CONFIG STREAM CHECKPOINT
      runs TAP --config CONFIG (uninterrupted), cuts its output right after the CHECKPOINT-th
      STATE whose bookmark of STREAM holds a resume point (the cursor the tap checkpointed
      after a page), runs TAP again from that STATE, and checks, printing `PASS`/`FAIL` lines:
        - the resumed run sends exactly the STREAM records after the cut, in order: none
          before (no resent page) and none lost;
        - under the table version of the cut run (RECORD `version`), and the ACTIVATE_VERSION
          of STREAM comes only after its last record (the table is not switched half-loaded);
        - a resumed run ends with a STATE without the resume point.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(tap, config, state=None):
    args = [tap, "--config", config] + (["--state", state] if state else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {tail[0][:300]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def bookmark(message, stream):
    return message.get("value", {}).get("bookmarks", {}).get(stream, {})


def cut_point(messages, stream, checkpoint):
    """The index of the CHECKPOINT-th STATE of STREAM with a resume point, and that STATE."""
    seen = 0
    for index, message in enumerate(messages):
        if message.get("type") == "STATE" and "resume_point" in bookmark(message, stream):
            seen += 1
            if seen == checkpoint:
                return index, message["value"]
    raise RuntimeError(f"only {seen} STATE messages of {stream} hold a resume point, "
                       f"cannot cut after the {checkpoint}th (is the page size smaller than the table?)")


def records(messages, stream):
    return [m for m in messages if m.get("type") == "RECORD" and m.get("stream") == stream]


def key_of(message):
    return message["record"].get("id")


def check(tap, config, stream, checkpoint):
    label = f"{os.path.basename(tap)} {stream}: FULL_TABLE resumed after checkpoint {checkpoint}"
    full = run(tap, config)
    index, state = cut_point(full, stream, checkpoint)
    before = [key_of(m) for m in records(full[:index + 1], stream)]
    after = [key_of(m) for m in records(full[index + 1:], stream)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(state, handle)
    try:
        resumed = run(tap, config, handle.name)
    finally:
        os.unlink(handle.name)
    got = [key_of(m) for m in records(resumed, stream)]
    if got == after:
        print(f"PASS {label}: {len(before)} rows before the cut, the resumed run sends the other "
              f"{len(got)} and nothing else (resume point {bookmark({'value': state}, stream)['resume_point']!r})")
    else:
        resent = sorted(set(got) & set(before), key=str)
        lost = sorted(set(after) - set(got), key=str)
        print(f"FAIL {label}: resumed run sent {len(got)} rows, expected {len(after)}; "
              f"resent {resent[:5]}, lost {lost[:5]}")
    version = bookmark({"value": state}, stream).get("version")
    versions = {m.get("version") for m in records(resumed, stream)}
    activations = [i for i, m in enumerate(resumed)
                   if m.get("type") == "ACTIVATE_VERSION" and m.get("stream") == stream]
    last_record = max((i for i, m in enumerate(resumed)
                       if m.get("type") == "RECORD" and m.get("stream") == stream), default=-1)
    if versions == {version} and activations and min(activations) > last_record \
            and {resumed[i].get("version") for i in activations} == {version}:
        print(f"PASS {label}: same table version {version}, ACTIVATE_VERSION only after the last row")
    else:
        print(f"FAIL {label}: state version {version}, resumed RECORD versions {sorted(versions, key=str)}, "
              f"ACTIVATE_VERSION at lines {activations} (last row at {last_record})")
    final = next((m["value"] for m in reversed(resumed) if m.get("type") == "STATE"), {})
    if "resume_point" in final.get("bookmarks", {}).get(stream, {}):
        print(f"FAIL {label}: the final STATE still holds a resume point: {json.dumps(final)[:300]}")
    else:
        print(f"PASS {label}: the final STATE holds no resume point")


def main(argv):
    try:
        check(*argv[1:4], int(argv[4]))
    except Exception as err:  # a tap that fails is one failed check, not a traceback
        print(f"FAIL {os.path.basename(argv[1])} {argv[3]}: FULL_TABLE resume: {type(err).__name__}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
