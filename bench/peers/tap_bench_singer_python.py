"""tap-bench written with singer-python (write_schema / write_record / write_state), as a
singer-python tap is usually written: the same 12-field `events` stream, INCREMENTAL on
`updated_at`, a STATE every 10,000 records and at the end. Usage: --config FILE with {"records": N}."""

import argparse
import json
import os
import sys

import singer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events import SCHEMA, event  # noqa: E402

STREAM = "events"
STATE_EVERY = 10_000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--state")
    args = parser.parse_args()
    with open(args.config) as f:
        n = json.load(f).get("records", 1_000_000)
    state = {"bookmarks": {}, "currently_syncing": STREAM}
    singer.write_state(state)
    singer.write_schema(STREAM, SCHEMA, ["id"], bookmark_properties=["updated_at"])
    extracted = singer.utils.now()
    bookmark = None
    for i in range(1, n + 1):
        record = event(i)
        singer.write_record(STREAM, record, time_extracted=extracted)
        bookmark = record["updated_at"]
        if i % STATE_EVERY == 0:
            state["bookmarks"][STREAM] = {
                "replication_key": "updated_at",
                "replication_key_value": bookmark,
            }
            singer.write_state(state)
    if bookmark is not None:
        state["bookmarks"][STREAM] = {
            "replication_key": "updated_at",
            "replication_key_value": bookmark,
        }
    state["currently_syncing"] = None
    singer.write_state(state)


if __name__ == "__main__":
    main()
