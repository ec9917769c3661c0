#!/usr/bin/env python3
"""Reads what a Singer target wrote and checks it (stdlib, plus duckdb for KIND=duckdb).

  check_output.py check KIND LOCATION LABEL EXPECT [SPOT...]
      EXPECT  "stream:rows stream:rows ..." (empty: no count check)
      SPOT    "stream|key=value|field=value|..."  the row whose `key` equals value must
              have those field values (compared after normalising numbers, booleans and
              date-times, since CSV gives strings and databases give typed values)
      prints one `PASS <what>` / `FAIL <what>: <why>` line per check.
  check_output.py count KIND LOCATION STREAM
      prints the number of rows of STREAM (0 when the target wrote nothing for it).

KIND/LOCATION: jsonl DIR (STREAM.jsonl or STREAM-*.jsonl), csv DIR (same, .csv),
duckdb FILE (table STREAM in schema main), sqlite FILE (table STREAM).
"""
import csv
import datetime as dt
import glob
import json
import os
import re
import sqlite3
import sys


def stream_files(directory, stream, ext):
    exact = os.path.join(directory, f"{stream}.{ext}")
    return sorted(set(glob.glob(exact) + glob.glob(os.path.join(directory, f"{stream}-*.{ext}"))))


def rows_jsonl(directory, stream):
    rows = []
    for path in stream_files(directory, stream, "jsonl"):
        with open(path, encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def rows_csv(directory, stream):
    rows = []
    for path in stream_files(directory, stream, "csv"):
        with open(path, encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def table_name(stream):
    return re.sub(r"[^a-z0-9_]", "_", stream.lower())


def rows_sql(connection, table):
    try:
        cursor = connection.execute(f'SELECT * FROM {table}')
    except Exception as err:  # missing table: the target wrote nothing for the stream
        if "does not exist" in str(err) or "no such table" in str(err):
            return []
        raise
    columns = [col[0] for col in cursor.description]
    return [dict(zip(columns, values)) for values in cursor.fetchall()]


def rows_duckdb(path, stream):
    import duckdb  # only present in the target-duckdb venv
    connection = duckdb.connect(path, read_only=True)
    try:
        return rows_sql(connection, f'main."{table_name(stream)}"')
    finally:
        connection.close()


def rows_sqlite(path, stream):
    connection = sqlite3.connect(path)
    try:
        return rows_sql(connection, f'"{table_name(stream)}"')
    finally:
        connection.close()


READERS = {"jsonl": rows_jsonl, "csv": rows_csv, "duckdb": rows_duckdb, "sqlite": rows_sqlite}
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def normalise(value):
    """One comparable string for a value however the target typed it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    if isinstance(value, (int, float)):
        return repr(float(value))
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        return repr(float(text))
    except ValueError:
        pass
    if DATE_LIKE.match(text):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is None:  # databases drop the zone; Singer date-times are UTC
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).isoformat()
    return text


def check_counts(rows_of, label, expect):
    for item in expect.split():
        stream, _, wanted = item.partition(":")
        got = len(rows_of(stream))
        if got == int(wanted):
            print(f"PASS {label}: {stream} has {got} rows")
        else:
            print(f"FAIL {label}: {stream} has {got} rows, expected {wanted}")


def check_spot(rows_of, label, spot):
    stream, *pairs = spot.split("|")
    fields = [pair.split("=", 1) for pair in pairs]
    (key, key_value), expected = fields[0], fields[1:]
    what = f"{label}: {stream} row {key}={key_value}"
    matches = [row for row in rows_of(stream) if normalise(row.get(key)) == normalise(key_value)]
    if len(matches) != 1:
        print(f"FAIL {what}: {len(matches)} rows match, expected 1")
        return
    row = matches[0]
    wrong = [f"{name}={row.get(name)!r} (expected {value!r})" for name, value in expected
             if normalise(row.get(name)) != normalise(value)]
    if wrong:
        print(f"FAIL {what}: " + ", ".join(wrong))
    else:
        print(f"PASS {what} has " + ", ".join(f"{n}={v}" for n, v in expected))


def cached_reader(kind, location):
    cache = {}

    def rows_of(stream):
        if stream not in cache:
            cache[stream] = READERS[kind](location, stream)
        return cache[stream]
    return rows_of


def main(argv):
    command, kind, location = argv[1:4]
    rows_of = cached_reader(kind, location)
    if command == "count":
        print(len(rows_of(argv[4])))
        return 0
    label, expect, spots = argv[4], argv[5], argv[6:]
    try:
        check_counts(rows_of, label, expect)
        for spot in spots:
            check_spot(rows_of, label, spot)
    except Exception as err:  # unreadable output is one failed check, not a traceback
        print(f"FAIL {label}: cannot read {kind} output at {location}: {type(err).__name__}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
