#!/usr/bin/env python3
"""Checks what a Singer target loaded from a tap run with stream maps, flattening or BATCH files,
against what that run must contain, derived here, in Python, from the records of a plain run of
the same tap (so the expectation is computed independently of the tap's own implementation).

  check_transforms.py CASE KIND LOCATION PLAIN LABEL
      CASE      map | flatten-rest | flatten-bench | batch (the configs are in transforms.sh)
      KIND LOCATION   the target's output, as check_output.py reads it (jsonl DIR, csv DIR,
                duckdb FILE)
      PLAIN     the stdout of the plain run (Singer messages)
      prints one `PASS <what>` / `FAIL <what>: <why>` line per check: per expected stream, its
      columns (names, exactly), its row count, and every row (matched by key, every value
      compared after check_output.normalise; JSON text compared as parsed JSON); per stream the
      config removes or renames, that the target has no rows of it.
  check_transforms.py messages OUT PLAIN LABEL
      checks the tap's own stdout of a BATCH run: BATCH messages and no RECORD, every manifest
      file present and readable in its format, holding as many records as the plain run has.
"""
import gzip
import hashlib
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_output import READERS, normalise  # noqa: E402

# The tap-rest stream maps of transforms.sh, case `map`, as singer-sdk would evaluate them.
SALT = "pepper-"


class JsonText:
    """An expected value that is JSON text: compared as parsed JSON, not byte for byte."""

    def __init__(self, value):
        self.value = value

    def matches(self, got):
        if not isinstance(got, str):
            return False
        try:
            return json.loads(got) == self.value
        except ValueError:
            return False

    def __repr__(self):
        return f"JSON text of {self.value!r}"


def plain_records(path):
    """The records of each stream of a plain run, and each stream's key properties."""
    records, keys = {}, {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            message = json.loads(line)
            if message.get("type") == "SCHEMA":
                keys[message["stream"]] = message.get("key_properties", [])
            elif message.get("type") == "RECORD":
                records.setdefault(message["stream"], []).append(message["record"])
    return records, keys


def expect_map(plain, keys):
    """customers: aliased to clients, email dropped, email_hash added, BR filtered out; cloned
    into customer_names (id, name_upper only); the other streams unchanged."""
    clients = [
        {**{k: v for k, v in r.items() if k != "email"},
         "email_hash": hashlib.md5((SALT + r["email"]).encode()).hexdigest()}
        for r in plain["customers"] if r["country"] != "BR"
    ]
    names = [{"id": r["id"], "name_upper": r["name"].upper()} for r in plain["customers"]]
    expected = {"clients": clients, "customer_names": names}
    for stream in ("products", "orders", "order_lines"):
        expected[stream] = plain[stream]
    keys = dict(keys, clients=["id"], customer_names=["id"])
    return expected, keys, ["customers"]


def expect_flatten_rest(plain, keys):
    """customers gains a two-level `profile` object (a stream map), flattened at depth 1:
    profile__name, and profile__contact as JSON text."""
    customers = [
        {**r, "profile__name": r["name"],
         "profile__contact": JsonText({"email": r["email"], "country": r["country"]})}
        for r in plain["customers"]
    ]
    return dict(plain, customers=customers), keys, []


def expect_flatten_bench(plain, keys):
    """tap-bench's events flattened at depth 1: address__street/city/zip, tags as JSON text."""
    events = []
    for r in plain["events"]:
        flat = {k: v for k, v in r.items() if k not in ("address", "tags")}
        flat.update({f"address__{k}": v for k, v in r["address"].items()})
        flat["tags"] = JsonText(r["tags"])
        events.append(flat)
    return {"events": events}, keys, []


def expect_batch(plain, keys):
    """Every record of every stream, unchanged."""
    return dict(plain), keys, []


CASES = {"map": expect_map, "flatten-rest": expect_flatten_rest,
         "flatten-bench": expect_flatten_bench, "batch": expect_batch}


def same(expected, got):
    if isinstance(expected, JsonText):
        return expected.matches(got)
    if isinstance(expected, (list, dict)):  # an array or object the target kept as JSON text
        if isinstance(got, str):
            try:
                got = json.loads(got)
            except ValueError:
                return False
        return json.dumps(expected, sort_keys=True) == json.dumps(got, sort_keys=True, default=str)
    return normalise(expected) == normalise(got)


def row_key(row, key):
    return tuple(normalise(row.get(k)) for k in key)


def check_stream(label, stream, want, got, key):
    what = f"{label}: {stream}"
    want_cols = sorted({c for row in want for c in row})
    got_cols = sorted({c for row in got for c in row})
    if got_cols == want_cols:
        print(f"PASS {what} has the columns {', '.join(want_cols)}")
    else:
        print(f"FAIL {what} columns: got {got_cols}, expected {want_cols}")
    if len(got) == len(want):
        print(f"PASS {what} has {len(got)} rows")
    else:
        print(f"FAIL {what} has {len(got)} rows, expected {len(want)}")
    by_key = {}
    for row in got:
        by_key.setdefault(row_key(row, key), []).append(row)
    wrong = []
    for row in want:
        found = by_key.get(row_key(row, key), [])
        if len(found) != 1:
            wrong.append(f"{dict((k, row[k]) for k in key)}: {len(found)} rows")
            continue
        bad = [f"{c}={found[0].get(c)!r} (expected {v!r})" for c, v in row.items() if not same(v, found[0].get(c))]
        if bad:
            wrong.append(f"{dict((k, row[k]) for k in key)}: " + ", ".join(bad))
    if wrong:
        print(f"FAIL {what} rows: {len(wrong)} differ, e.g. " + "; ".join(wrong[:3]))
    else:
        print(f"PASS {what}: every row has the expected values (by {', '.join(key)})")


def check_target(case, kind, location, plain_path, label):
    plain, keys = plain_records(plain_path)
    expected, keys, absent = CASES[case](plain, keys)
    read = READERS[kind]
    for stream, want in expected.items():
        check_stream(label, stream, want, read(location, stream), keys[stream])
    for stream in absent:
        rows = len(read(location, stream))
        if rows == 0:
            print(f"PASS {label}: no {stream} rows (the config replaces it)")
        else:
            print(f"FAIL {label}: {rows} {stream} rows, expected none (the config replaces it)")


def batch_file_rows(url, fmt, compression):
    """The number of records in one BATCH file."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"not a file:// URL: {url}")
    path = urllib.parse.unquote(parsed.path)
    if fmt == "jsonl":
        opener = gzip.open if compression == "gzip" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            return sum(1 for line in handle if json.loads(line) is not None)
    import pyarrow.parquet as pq  # only in the target-csv venv
    return pq.read_metadata(path).num_rows


def check_messages(out, plain_path, label):
    plain, _ = plain_records(plain_path)
    counts, records, problems = {}, 0, []
    with open(out, encoding="utf-8") as handle:
        for line in handle:
            message = json.loads(line)
            if message.get("type") == "RECORD":
                records += 1
            if message.get("type") != "BATCH":
                continue
            encoding = message.get("encoding", {})
            for url in message.get("manifest", []):
                try:
                    rows = batch_file_rows(url, encoding.get("format"), encoding.get("compression"))
                except Exception as err:  # a missing or unreadable file is one failed check
                    problems.append(f"{url}: {type(err).__name__}: {err}")
                    continue
                counts[message["stream"]] = counts.get(message["stream"], 0) + rows
    want = {stream: len(rows) for stream, rows in plain.items()}
    if records == 0 and counts:
        print(f"PASS {label}: BATCH messages only, no RECORD ({sum(counts.values())} records in files)")
    else:
        print(f"FAIL {label}: {records} RECORD messages, BATCH files for {sorted(counts)}")
    if problems:
        print(f"FAIL {label}: BATCH files unreadable: " + "; ".join(problems[:3]))
    elif counts == want:
        print(f"PASS {label}: the BATCH files hold every record (" +
              ", ".join(f"{s} {n}" for s, n in sorted(counts.items())) + ")")
    else:
        print(f"FAIL {label}: the BATCH files hold {counts}, the plain run has {want}")


def main(argv):
    try:
        if argv[1] == "messages":
            check_messages(argv[2], argv[3], argv[4])
        else:
            check_target(*argv[1:6])
    except Exception as err:  # unreadable output is one failed check, not a traceback
        print(f"FAIL {argv[-1]}: cannot check: {type(err).__name__}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
