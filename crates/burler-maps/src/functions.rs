//! The functions stream-map expressions can call besides CEL's standard library and its strings
//! extension: singer-sdk's (`md5`, `sha256`), the Python built-ins singer-sdk exposes (`str`,
//! `float`, `int`/`bool` of more types), its `json` and `datetime` modules in the spellings maps
//! use, and the Python string methods common in maps (`lower`, `upper`, `strip`, `startswith`,
//! `endswith`). Everything is a pure function of its arguments (and the clock): no I/O.

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelNull, CelString, CelTimestamp, CelUInt,
    DYN_TYPE,
};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use md5::Digest;

use crate::json_text::python_dumps;
use crate::value::{is_truthy, json_into_val, python_isoformat, val_to_json};

/// CEL's standard library, its strings extension, and the functions above.
pub(crate) fn environment() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)?;
    cel::add_overload!(env, fn md5: (CelString) -> CelString)?;
    cel::add_overload!(env, fn sha256: (CelString) -> CelString)?;
    env.add_overload("str", "str(dyn)", vec![DYN_TYPE], py_str)?;
    env.add_overload("float", "float(dyn)", vec![DYN_TYPE], py_float)?;
    cel::add_overload!(env, fn int_of_bool: (CelBool) -> CelInt, name = "int")?;
    add_truthiness(&mut env)?;
    env.add_overload("json.dumps", "json.dumps(dyn)", vec![DYN_TYPE], json_dumps)?;
    env.add_overload(
        "json.loads",
        "json.loads(string)",
        vec![cel::common::types::STRING_TYPE],
        json_loads,
    )?;
    add_datetime(&mut env)?;
    cel::add_member_overload!(env, fn lower: (CelString) -> CelString)?;
    cel::add_member_overload!(env, fn upper: (CelString) -> CelString)?;
    cel::add_member_overload!(env, fn strip: (CelString) -> CelString)?;
    cel::add_member_overload!(env, fn startswith: (CelString, CelString) -> CelBool)?;
    cel::add_member_overload!(env, fn endswith: (CelString, CelString) -> CelBool)?;
    Ok(env)
}

fn md5(s: &CelString<'_>) -> CelString<'static> {
    hex(&md5::Md5::digest(s.inner().as_bytes()))
}

fn sha256(s: &CelString<'_>) -> CelString<'static> {
    hex(&sha2::Sha256::digest(s.inner().as_bytes()))
}

fn hex(bytes: &[u8]) -> CelString<'static> {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    CelString::from(out)
}

fn first<'a, 'b, 'v>(args: &'a [CowVal<'b, 'v>]) -> Result<&'a (dyn Val + 'v), ExecutionError> {
    args.first()
        .map(AsRef::as_ref)
        .ok_or_else(|| ExecutionError::invalid_argument_count(1, 0))
}

/// Python's `str()`: `True`, `None`, `1.0`, `[1, 'a']`, timestamps with a space.
fn py_str<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let val = first(&args)?;
    if let Some(s) = val.downcast_ref::<CelString>() {
        return Ok(CowVal::owned(CelString::from(s.inner().to_owned())));
    }
    if let Some(t) = val.downcast_ref::<CelTimestamp>() {
        return Ok(CowVal::owned(CelString::from(
            python_isoformat(t.inner()).replacen('T', " ", 1),
        )));
    }
    let json = val_to_json(val).map_err(|e| ExecutionError::function_error("str", e))?;
    Ok(CowVal::owned(CelString::from(python_repr(&json))))
}

/// Python's `repr()` of a JSON value (what `str()` prints for anything but a string).
fn python_repr(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) if n.is_f64() => python_float_repr(n.as_f64().unwrap_or(f64::NAN)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!(
            "'{}'",
            s.replace('\\', "\\\\")
                .replace('\'', "\\'")
                .replace('\n', "\\n")
        ),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        python_repr(&Value::String(k.clone())),
                        python_repr(v)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional for exponents -4..16 (with
/// `.0` when whole), else `1e+16` style.
pub(crate) fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{x}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Python's `float()`: numbers, numeric strings (surrounding spaces allowed), booleans.
fn py_float<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let val = first(&args)?;
    let x = if let Some(d) = val.downcast_ref::<CelDouble>() {
        *d.inner()
    } else if let Some(i) = val.downcast_ref::<CelInt>() {
        *i.inner() as f64
    } else if let Some(u) = val.downcast_ref::<CelUInt>() {
        *u.inner() as f64
    } else if let Some(b) = val.downcast_ref::<CelBool>() {
        f64::from(u8::from(*b.inner()))
    } else if let Some(s) = val.downcast_ref::<CelString>() {
        s.inner().trim().parse::<f64>().map_err(|_| {
            ExecutionError::function_error(
                "float",
                format!("could not convert string to float: {:?}", s.inner()),
            )
        })?
    } else {
        return Err(ExecutionError::function_error(
            "float",
            format!("cannot convert a {} to float", val.get_type().name()),
        ));
    };
    Ok(CowVal::owned(CelDouble::from(x)))
}

fn int_of_bool(b: &CelBool) -> CelInt {
    CelInt::from(i64::from(*b.inner()))
}

/// `bool()` of what CEL's own `bool()` does not take, with Python's truthiness.
fn add_truthiness(env: &mut Env) -> Result<(), DeclarationError> {
    fn truthy(v: &dyn Val) -> CelBool {
        CelBool::from(is_truthy(v))
    }
    fn of_int(v: &CelInt) -> CelBool {
        truthy(v)
    }
    fn of_uint(v: &CelUInt) -> CelBool {
        truthy(v)
    }
    fn of_double(v: &CelDouble) -> CelBool {
        truthy(v)
    }
    fn of_null(v: &CelNull) -> CelBool {
        truthy(v)
    }
    fn of_list(v: &CelList<'_>) -> CelBool {
        truthy(v)
    }
    fn of_map(v: &CelMap<'_>) -> CelBool {
        truthy(v)
    }
    cel::add_overload!(env, fn of_int: (CelInt) -> CelBool, name = "bool")?;
    cel::add_overload!(env, fn of_uint: (CelUInt) -> CelBool, name = "bool")?;
    cel::add_overload!(env, fn of_double: (CelDouble) -> CelBool, name = "bool")?;
    cel::add_overload!(env, fn of_null: (CelNull) -> CelBool, name = "bool")?;
    cel::add_overload!(env, fn of_list: (CelList) -> CelBool, name = "bool")?;
    cel::add_overload!(env, fn of_map: (CelMap) -> CelBool, name = "bool")?;
    Ok(())
}

fn json_dumps<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let json =
        val_to_json(first(&args)?).map_err(|e| ExecutionError::function_error("json.dumps", e))?;
    Ok(CowVal::owned(CelString::from(python_dumps(&json))))
}

fn json_loads<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let text = first(&args)?
        .downcast_ref::<CelString>()
        .ok_or_else(|| ExecutionError::function_error("json.loads", "needs a string"))?;
    let value: serde_json::Value = serde_json::from_str(text.inner())
        .map_err(|e| ExecutionError::function_error("json.loads", e))?;
    Ok(CowVal::Owned(json_into_val(value)))
}

/// Python's `datetime` spellings: `datetime.datetime.now()`/`utcnow()`/`fromisoformat(s)`
/// give timestamps; `datetime.date.today()`/`fromisoformat(s)` and `t.date()` give
/// `YYYY-MM-DD` strings (CEL has no date type); `t.isoformat()`, `t.timestamp()`.
fn add_datetime(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn now: () -> CelTimestamp, name = "datetime.datetime.now")?;
    cel::add_overload!(env, fn now: () -> CelTimestamp, name = "datetime.datetime.utcnow")?;
    cel::add_overload!(env, fn from_iso_datetime: (CelString) -> Result<CelTimestamp>,
        name = "datetime.datetime.fromisoformat")?;
    cel::add_overload!(env, fn today: () -> CelString, name = "datetime.date.today")?;
    cel::add_overload!(env, fn from_iso_date: (CelString) -> Result<CelString>,
        name = "datetime.date.fromisoformat")?;
    cel::add_member_overload!(env, fn date: (CelTimestamp) -> CelString)?;
    cel::add_member_overload!(env, fn isoformat: (CelTimestamp) -> CelString)?;
    cel::add_member_overload!(env, fn timestamp: (CelTimestamp) -> CelDouble)?;
    Ok(())
}

fn now() -> CelTimestamp {
    CelTimestamp::from(Utc::now().fixed_offset())
}

fn today() -> CelString<'static> {
    CelString::from(Utc::now().date_naive().to_string())
}

/// ISO 8601 as Python 3.11 reads it (with or without offset — none means UTC here —, `T` or a
/// space, optional fraction, no seconds, or a date alone): the workspace's one date-time parser.
pub(crate) fn parse_iso_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    burler_singer::datetime::parse(text.trim())
}

fn from_iso_datetime(s: &CelString<'_>) -> Result<CelTimestamp, ExecutionError> {
    parse_iso_datetime(s.inner())
        .map(CelTimestamp::from)
        .ok_or_else(|| {
            ExecutionError::function_error(
                "datetime.datetime.fromisoformat",
                format!("invalid isoformat string: {:?}", s.inner()),
            )
        })
}

fn from_iso_date(s: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    NaiveDate::parse_from_str(s.inner().trim(), "%Y-%m-%d")
        .map(|d| CelString::from(d.to_string()))
        .map_err(|_| {
            ExecutionError::function_error(
                "datetime.date.fromisoformat",
                format!("invalid isoformat string: {:?}", s.inner()),
            )
        })
}

fn date(t: &CelTimestamp) -> CelString<'static> {
    CelString::from(t.inner().date_naive().to_string())
}

fn isoformat(t: &CelTimestamp) -> CelString<'static> {
    CelString::from(python_isoformat(t.inner()))
}

fn timestamp(t: &CelTimestamp) -> CelDouble {
    let t = t.inner();
    CelDouble::from(t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6)
}

fn lower(s: &CelString<'_>) -> CelString<'static> {
    CelString::from(s.inner().to_lowercase())
}

fn upper(s: &CelString<'_>) -> CelString<'static> {
    CelString::from(s.inner().to_uppercase())
}

fn strip(s: &CelString<'_>) -> CelString<'static> {
    CelString::from(s.inner().trim().to_owned())
}

fn startswith(s: &CelString<'_>, prefix: &CelString<'_>) -> CelBool {
    CelBool::from(s.inner().starts_with(prefix.inner()))
}

fn endswith(s: &CelString<'_>, suffix: &CelString<'_>) -> CelBool {
    CelBool::from(s.inner().ends_with(suffix.inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (x, want) in [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (0.1, "0.1"),
        ] {
            assert_eq!(python_float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn iso_datetimes_parse_as_python_reads_them() {
        let utc = |s: &str| parse_iso_datetime(s).map(|t| python_isoformat(&t));
        assert_eq!(
            utc("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02T03:04:05+00:00")
        );
        assert_eq!(
            utc("2024-01-02 03:04:05.5+02:00").as_deref(),
            Some("2024-01-02T03:04:05.500000+02:00")
        );
        assert_eq!(
            utc("2024-01-02T03:04:05").as_deref(),
            Some("2024-01-02T03:04:05+00:00")
        );
        assert_eq!(
            utc("2024-01-02").as_deref(),
            Some("2024-01-02T00:00:00+00:00")
        );
        assert_eq!(utc("yesterday"), None);
    }
}
