//! Each Airbyte manifest of this directory runs as a Singer tap (burler-manifest, in-process,
//! the same runner as `burler run`) against a local server answering as its API does.

use airbyte_manifests::{exchange_rates, nasa, pokeapi, spacex, spawn};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

fn manifest(file: &str) -> burler_manifest::Manifest {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    burler_manifest::Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `tap` with `config` (and `state`); its messages.
fn run(manifest: burler_manifest::Manifest, config: &Value, state: Option<&Value>) -> Vec<Value> {
    burler::init_logging();
    let dir = std::env::temp_dir().join(format!(
        "airbyte-manifests-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut args = vec![
        "tap".to_owned(),
        "--config".into(),
        config_path.display().to_string(),
    ];
    if let Some(state) = state {
        let state_path = dir.join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        args.extend(["--state".into(), state_path.display().to_string()]);
    }
    let sink = burler::CaptureBuffer::new();
    let outcome = manifest.into_tap().run_with(args, Box::new(sink.clone()));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(outcome.exit_code, 0, "the sync failed");
    sink.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn records<'a>(messages: &'a [Value], stream: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

fn last_state(messages: &[Value]) -> Value {
    messages.iter().rfind(|m| m["type"] == "STATE").unwrap()["value"].clone()
}

#[test]
fn nasa_apod_syncs_monthly_windows_and_resumes_with_its_lookback() {
    let url = spawn(nasa::router("DEMO_KEY")).unwrap();
    let today = Utc::now().date_naive();
    let start = today - Duration::days(40);
    let config = json!({"api_key": "DEMO_KEY", "start_date": start.format("%Y-%m-%d").to_string()});
    let messages = run(
        manifest("nasa.yaml").rebase("https://api.nasa.gov", &url),
        &config,
        None,
    );
    let apod = records(&messages, "nasa_apod");
    // Monthly windows; the API answers each window's start_date with every day up to today.
    assert_eq!(apod.len() as i64, apod_records(start, today));
    assert_eq!(apod[0]["date"], start.format("%Y-%m-%d").to_string());
    let state = last_state(&messages);
    let bookmark = state["bookmarks"]["nasa_apod"]["replication_key_value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        bookmark.starts_with(&today.format("%Y-%m-%d").to_string()),
        "{state}"
    );

    // From the state: one window starting 31 days (the lookback) before the bookmark.
    let again = run(
        manifest("nasa.yaml").rebase("https://api.nasa.gov", &url),
        &config,
        Some(&state),
    );
    let apod = records(&again, "nasa_apod");
    let resumed = today - Duration::days(31);
    assert_eq!(apod[0]["date"], resumed.format("%Y-%m-%d").to_string());
    assert_eq!(apod.len() as i64, apod_records(resumed, today));
}

/// What the APOD API returns over the CDK's monthly slices from `start` to today (each slice
/// ends a microsecond before the next month, the next starts at that month): from each slice's
/// start to today.
fn apod_records(start: chrono::NaiveDate, today: chrono::NaiveDate) -> i64 {
    let mut at = start;
    let mut total = 0;
    while at <= today {
        total += (today - at).num_days() + 1;
        at = at.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    total
}

#[test]
fn nasa_with_a_wrong_key_fails_naming_the_stream() {
    let url = spawn(nasa::router("DEMO_KEY")).unwrap();
    let dir = std::env::temp_dir().join(format!("airbyte-nasa-bad-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        json!({"api_key": "wrong", "start_date": "2024-01-01"}).to_string(),
    )
    .unwrap();
    let tap = manifest("nasa.yaml")
        .rebase("https://api.nasa.gov", &url)
        .into_tap();
    let outcome = tap.run_with(
        ["tap", "--config", config.to_str().unwrap()],
        Box::new(burler::CaptureBuffer::new()),
    );
    assert_eq!(outcome.exit_code, 1);
    assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
    assert!(
        outcome.failures[0].starts_with("nasa_apod: ") && outcome.failures[0].contains("403"),
        "{:?}",
        outcome.failures
    );
}

#[test]
fn exchange_rates_sends_the_api_key_header_and_keeps_a_date_bookmark() {
    let url = spawn(exchange_rates::router("secret")).unwrap();
    let config = json!({"access_key": "secret", "start_date": "2024-01-01", "base": "EUR"});
    let tap = manifest("exchange-rates.yaml").rebase("https://api.apilayer.com", &url);
    let messages = run(tap, &config, None);
    let rates = records(&messages, "exchange_rates");
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0]["rates"]["USD"], 1.0841);
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(rates[0]["date"], today);
    let state = last_state(&messages);
    assert_eq!(
        state["bookmarks"]["exchange_rates"]["replication_key_value"],
        format!("{today}T00:00:00Z")
    );
    let schema = messages.iter().find(|m| m["type"] == "SCHEMA").unwrap();
    assert!(schema["schema"]["properties"]["rates"]["properties"]["USD"].is_object());
}

#[test]
fn spacex_syncs_thirteen_streams_of_lists_and_single_objects() {
    let url = spawn(spacex::router()).unwrap();
    let messages = run(
        manifest("spacex-api.yaml").rebase("https://api.spacexdata.com", &url),
        &json!({}),
        None,
    );
    for (resource, n) in spacex::LISTS {
        assert_eq!(records(&messages, resource).len(), n, "{resource}");
    }
    assert_eq!(records(&messages, "company")[0]["name"], "SpaceX");
    assert_eq!(records(&messages, "roadster").len(), 1);
    assert_eq!(
        records(&messages, "launches")[0]["name"],
        "Crew-5",
        "path falls back to 'latest'"
    );
    let past = run(
        manifest("spacex-api.yaml").rebase("https://api.spacexdata.com", &url),
        &json!({"options": "past"}),
        None,
    );
    assert_eq!(records(&past, "launches")[0]["id"], "past-1");
    let versions = messages
        .iter()
        .filter(|m| m["type"] == "ACTIVATE_VERSION")
        .count();
    assert!(
        versions >= 13,
        "FULL_TABLE streams activate their versions: {versions}"
    );
}

#[test]
fn pokeapi_reads_the_pokemon_named_in_the_config() {
    let url = spawn(pokeapi::router()).unwrap();
    let tap = manifest("pokeapi.yaml").rebase("https://pokeapi.co", &url);
    let messages = run(tap, &json!({"pokemon_name": "pikachu"}), None);
    let pokemon = records(&messages, "pokemon");
    assert_eq!(pokemon.len(), 1);
    assert_eq!(
        (pokemon[0]["id"].as_u64(), pokemon[0]["name"].as_str()),
        (Some(25), Some("pikachu"))
    );
    let schema = messages.iter().find(|m| m["type"] == "SCHEMA").unwrap();
    assert_eq!(schema["key_properties"], json!(["id"]));
}

#[test]
fn every_manifest_passes_the_check() {
    for file in [
        "nasa.yaml",
        "exchange-rates.yaml",
        "spacex-api.yaml",
        "pokeapi.yaml",
    ] {
        let m = manifest(file);
        assert_eq!(m.flavor(), burler_manifest::Flavor::Airbyte, "{file}");
    }
    assert_eq!(manifest("nasa.yaml").name(), "tap-nasa");
}

/// Messages without what differs between two runs: extraction times and table versions.
fn comparable(messages: Vec<Value>) -> Vec<Value> {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| k != "time_extracted")
                    .map(|(k, v)| {
                        if k == "version" {
                            (k, json!("V"))
                        } else {
                            (k, strip(v))
                        }
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    messages.into_iter().map(strip).collect()
}

#[test]
fn records_passed_through_or_parsed_into_trees_give_the_same_messages() {
    // SpaceX's lists pass through; its single objects (`company`, `roadster`, a `latest`
    // launch) are no list of records, so those pages are parsed into trees either way.
    let url = spawn(spacex::router()).unwrap();
    let spacex = || manifest("spacex-api.yaml").rebase("https://api.spacexdata.com", &url);
    let fast = spacex();
    assert_eq!(fast.passthrough_streams(), fast.stream_names());
    let passed = run(fast, &json!({}), None);
    let parsed = run(spacex().without_passthrough(), &json!({}), None);
    assert_eq!(comparable(passed), comparable(parsed));
}
