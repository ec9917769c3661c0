"""The benchmark workload shared by the Python peer taps: the same `events` records as
examples/tap-bench (src/lib.rs, `Event::new`), derived cheaply and deterministically from the id."""

import time

BASE_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
CITIES = ["Lisbon", "Nairobi", "Osaka", "Quito", "Tromso", "Perth", "Leeds", "Tucson"]
MASK64 = (1 << 64) - 1


def uuid_for(i):
    h = (i * 0x9E3779B97F4A7C15) & MASK64
    return "%08x-%04x-4%03x-8%03x-%012x" % (
        (h >> 32) & 0xFFFFFFFF,
        (h >> 16) & 0xFFFF,
        (h >> 4) & 0xFFF,
        i & 0xFFF,
        i & 0xFFFFFFFFFFFF,
    )


def timestamp(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def event(i):
    even = i % 2 == 0
    return {
        "id": i,
        "uuid": uuid_for(i),
        "name": "user-%07d" % (i % 10_000_000),
        "email": "user%d@example.com" % i,
        "amount": (i % 100_000) / 100.0,
        "quantity": i % 50,
        "active": even,
        "created_at": timestamp(BASE_EPOCH + i),
        "updated_at": timestamp(BASE_EPOCH + i + 60),
        "tags": ["t%d" % (i % 7), "t%d" % (i % 11), "t%d" % (i % 13)],
        "address": {
            "street": "%d Main St" % (i % 1000),
            "city": CITIES[i % 8],
            "zip": "%05d" % (i % 100_000),
        },
        "note": ("note %d" % i) if even else None,
    }


# The JSON Schema of the records (as tap-bench declares it, without descriptions).
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "uuid": {"type": "string"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "amount": {"type": "number"},
        "quantity": {"type": "integer"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "zip": {"type": "string"},
            },
        },
        "note": {"type": ["null", "string"]},
    },
}
