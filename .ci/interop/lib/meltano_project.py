#!/usr/bin/env python3
"""Writes a throwaway meltano.yml for one of our taps (stdlib only).

The tap becomes a custom extractor whose `executable` is the tap binary and whose
`settings` come from the tap's `--about --format json` output:
  * `settings` as a list  -> Meltano's own format, used as is;
  * `settings` as an object, or `settings_schema` / `config_schema` -> a JSON Schema,
    converted property by property.
Loaders are custom plugins too (namespace + absolute executable, no pip_url, no variant),
so Meltano never installs anything nor asks Meltano Hub. JSON is valid YAML, so the file
is written as JSON.

Usage: meltano_project.py ABOUT_JSON CONFIG_JSON TAP_NAME TAP_EXE VENVS OUT_DIR
"""
import json
import sys

JSON_TO_KIND = {"integer": "integer", "number": "decimal", "boolean": "boolean",
                "array": "array", "object": "object", "string": "string"}


def first_type(prop):
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "string" and "anyOf" in prop:
        kind = first_type(prop["anyOf"][0])
    return kind


def setting_from_property(name, prop):
    kind = JSON_TO_KIND.get(first_type(prop), "string")
    if kind == "string":
        if prop.get("secret") or prop.get("writeOnly"):
            kind = "password"
        elif prop.get("format") == "date-time":
            kind = "date_iso8601"
        elif "enum" in prop:
            kind = "options"
    setting = {"name": name, "kind": kind}
    if kind == "options":
        setting["options"] = [{"label": str(v), "value": v} for v in prop["enum"] if v is not None]
    for src, dst in (("title", "label"), ("description", "description"), ("default", "value")):
        if src in prop:
            setting[dst] = prop[src]
    return setting


def settings_from_about(about):
    settings = about.get("settings")
    if isinstance(settings, list):
        return settings
    schema = settings if isinstance(settings, dict) else (
        about.get("settings_schema") or about.get("config_schema") or {})
    props = schema.get("properties", {})
    return [setting_from_property(name, prop) for name, prop in props.items()]


def loaders(venvs, out_dir):
    return [
        {"name": "target-jsonl", "namespace": "target_jsonl",
         "executable": f"{venvs}/target-jsonl/bin/target-jsonl",
         "settings": [{"name": "destination_path"},
                      {"name": "do_timestamp_file", "kind": "boolean"}],
         "config": {"destination_path": f"{out_dir}/jsonl", "do_timestamp_file": False}},
    ]


def main():
    about_path, config_path, tap_name, tap_exe, venvs, out_dir = sys.argv[1:7]
    with open(about_path, encoding="utf-8") as handle:
        about = json.load(handle)
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    capabilities = sorted(set(about.get("capabilities", [])) & {"catalog", "discover", "state", "about",
                                                                "properties"})
    for needed in ("catalog", "discover", "state", "about"):
        if needed not in capabilities:
            capabilities.append(needed)
    project = {
        "project_id": "burler-interop-selftest",
        "send_anonymous_usage_stats": False,
        "default_environment": "ci",
        "environments": [{"name": "ci"}],
        "plugins": {
            "extractors": [{
                "name": tap_name,
                "namespace": tap_name.replace("-", "_"),
                "executable": tap_exe,
                "capabilities": capabilities,
                "settings": settings_from_about(about),
                "config": config,
            }],
            "loaders": loaders(venvs, out_dir),
        },
    }
    with open(f"{out_dir}/meltano.yml", "w", encoding="utf-8") as handle:
        json.dump(project, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
