"""tap-bench written with singer-sdk's Stream API: the same 12-field `events` stream, INCREMENTAL
on `updated_at` (sorted), STATE every 10,000 records (the SDK's STATE_MSG_FREQUENCY) and at the end.
Usage: --config FILE with {"records": N}."""

import os
import sys

from singer_sdk import Stream, Tap
from singer_sdk import typing as th

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events import event  # noqa: E402


class EventsStream(Stream):
    name = "events"
    primary_keys = ("id",)
    replication_key = "updated_at"
    is_sorted = True
    STATE_MSG_FREQUENCY = 10_000
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType, required=True),
        th.Property("uuid", th.StringType),
        th.Property("name", th.StringType),
        th.Property("email", th.StringType),
        th.Property("amount", th.NumberType),
        th.Property("quantity", th.IntegerType),
        th.Property("active", th.BooleanType),
        th.Property("created_at", th.DateTimeType),
        th.Property("updated_at", th.DateTimeType, required=True),
        th.Property("tags", th.ArrayType(th.StringType)),
        th.Property(
            "address",
            th.ObjectType(
                th.Property("street", th.StringType),
                th.Property("city", th.StringType),
                th.Property("zip", th.StringType),
            ),
        ),
        th.Property("note", th.StringType),
    ).to_dict()

    def get_records(self, context):
        n = self.config.get("records", 1_000_000)
        for i in range(1, n + 1):
            yield event(i)


class TapBench(Tap):
    name = "tap-bench-sdk"
    config_jsonschema = th.PropertiesList(th.Property("records", th.IntegerType)).to_dict()

    def discover_streams(self):
        return [EventsStream(self)]


if __name__ == "__main__":
    TapBench.cli()
