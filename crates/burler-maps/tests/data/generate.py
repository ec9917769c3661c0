"""Writes what singer-sdk makes of the cases in cases.json (expected.json) and the settings it
prints in --about for stream maps and flattening (settings.json).

Run with singer-sdk installed (see README.md in this folder):

    python generate.py cases.json expected.json settings.json
"""

import json
import logging
import sys

from singer_sdk.mapper import PluginMapper, RemoveRecordTransform
from singer_sdk.singerlib.json import serialize_json
from importlib import metadata


def run_case(case):
    config = json.loads(json.dumps(case["config"]))  # the mapper edits its config in place
    try:
        mapper = PluginMapper(plugin_config=config, logger=logging.getLogger("mapper"))
        for stream in case["streams"]:
            mapper.register_raw_stream_schema(
                stream["name"], stream["schema"], stream["key_properties"]
            )
        result = {}
        for stream in case["streams"]:
            outputs = []
            for stream_map in mapper.stream_maps[stream["name"]]:
                if isinstance(stream_map, RemoveRecordTransform):
                    continue  # singer-sdk writes no SCHEMA and no record for it
                records = []
                for record in case["records"].get(stream["name"], []):
                    mapped = stream_map.transform(json.loads(json.dumps(record)))
                    # As a RECORD message would carry it.
                    records.append(None if mapped is None else json.loads(serialize_json(mapped)))
                outputs.append(
                    {
                        "stream": stream_map.stream_alias,
                        "schema": stream_map.transformed_schema,
                        "key_properties": stream_map.transformed_key_properties,
                        "records": records,
                    }
                )
            result[stream["name"]] = outputs
        return {"outputs": result}
    except Exception as error:  # noqa: BLE001 - any failure is the expected result
        return {"error": f"{type(error).__name__}: {error}"}


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main(cases_path, expected_path, settings_path):
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    expected = {
        "generated_by": f"singer-sdk {metadata.version('singer-sdk')}",
        "cases": {case["name"]: run_case(case) for case in cases},
    }
    write_json(expected_path, expected)
    from singer_sdk.helpers.capabilities import FLATTENING_CONFIG, STREAM_MAPS_CONFIG

    write_json(
        settings_path,
        {
            "generated_by": expected["generated_by"],
            "properties": {**STREAM_MAPS_CONFIG["properties"], **FLATTENING_CONFIG["properties"]},
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
