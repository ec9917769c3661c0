#!/usr/bin/env python3
"""A small tap written the singer-python way (the library's own helpers only), so `burler check`
is tried on exactly what singer-python taps write: two INCREMENTAL streams, metadata from
`get_standard_metadata` (the replication key only in `valid-replication-keys`), bookmarks with
`singer.write_bookmark` under the replication key's name, `currently_syncing` set while a stream
syncs and cleared at the end. The data is generated (the same every run), so it runs offline.

Run with a Python that has singer-python (.ci/interop/requirements/singer-python.txt).
"""
import json

import singer
from singer import metadata, utils

LOGGER = singer.get_logger()

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

# stream -> number of rows; row i was updated at hour i of 2024-01-01.
STREAMS = {"users": 10, "orders": 15}


def rows(stream):
    for i in range(1, STREAMS[stream] + 1):
        yield {"id": i, "name": "%s %d" % (stream, i), "updated_at": "2024-01-01T%02d:00:00Z" % i}


def discover():
    streams = []
    for name in STREAMS:
        mdata = metadata.get_standard_metadata(
            schema=SCHEMA,
            key_properties=["id"],
            valid_replication_keys=["updated_at"],
            replication_method="INCREMENTAL",
        )
        streams.append({"tap_stream_id": name, "stream": name, "schema": SCHEMA, "metadata": mdata})
    return {"streams": streams}


def selected(catalog):
    for stream in catalog["streams"]:
        mdata = metadata.to_map(stream["metadata"])
        if metadata.get(mdata, (), "selected"):
            yield stream["tap_stream_id"]


def sync(catalog, state):
    for name in selected(catalog):
        state = singer.set_currently_syncing(state, name)
        singer.write_state(state)
        singer.write_schema(name, SCHEMA, ["id"], bookmark_properties=["updated_at"])
        since = singer.get_bookmark(state, name, "updated_at")
        with singer.metrics.record_counter(name) as counter:
            for row in rows(name):
                if since is None or row["updated_at"] > since:
                    singer.write_record(name, row)
                    counter.increment()
                    state = singer.write_bookmark(state, name, "updated_at", row["updated_at"])
                    if row["id"] % 4 == 0:
                        singer.write_state(state)
        singer.write_state(state)
    state = singer.set_currently_syncing(state, None)
    singer.write_state(state)


@utils.handle_top_exception(LOGGER)
def main():
    args = utils.parse_args([])
    if args.discover:
        print(json.dumps(discover()))
        return
    catalog = args.catalog.to_dict() if args.catalog else (args.properties or discover())
    sync(catalog, args.state or {})


if __name__ == "__main__":
    main()
