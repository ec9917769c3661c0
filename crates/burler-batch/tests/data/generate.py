"""Writes settings.json: the `batch_config` setting singer-sdk adds to --about for the `batch`
capability (helpers/capabilities.py). Run with singer-sdk installed (see README.md):

    python generate.py settings.json
"""

import json
import sys
from importlib import metadata

from singer_sdk.helpers.capabilities import BATCH_CONFIG

with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(
        {"generated_by": f"singer-sdk {metadata.version('singer-sdk')}", "properties": BATCH_CONFIG["properties"]},
        f,
        indent=1,
    )
    f.write("\n")
