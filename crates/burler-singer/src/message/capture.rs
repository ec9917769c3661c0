//! A serializer that writes a record with serde_json and, on the way, copies the JSON of one
//! top-level field into a side buffer and leaves out the top-level fields it is told to skip.
//!
//! This is how the hot path learns a record's replication key without building a
//! `serde_json::Value` or reading the encoded line back (only the one field is serialized twice),
//! and drops fields the catalog deselected without a `Value` round trip.
//!
//! A record that is JSON text already (`Box<RawValue>`, `&RawValue`: passed through as the source
//! sent it) is written verbatim; its field is read from the text and, only when fields are
//! skipped, the object is written again without them (see [`super::raw`]).

use std::io;

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::Serializer as JsonSerializer;

/// Where the captured field goes, shared by the serializer and its compound states.
pub(super) struct Capture<'c> {
    /// The top-level field to capture, if any.
    pub(super) field: Option<&'c str>,
    /// Top-level fields left out of the output.
    pub(super) skip: &'c [String],
    /// The field's JSON (cleared before it is written).
    pub(super) json: &'c mut Vec<u8>,
    /// Set once the field has been seen (the first occurrence wins).
    pub(super) found: bool,
}

impl Capture<'_> {
    fn skips(&self, key: &str) -> bool {
        self.skip.iter().any(|s| s == key)
    }

    fn captures(&self, key: &str) -> bool {
        !self.found && self.field == Some(key)
    }

    fn take<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        self.json.clear();
        serde_json::to_writer(&mut *self.json, value)?;
        self.found = true;
        Ok(())
    }
}

/// The top-level serializer: objects (structs and maps) get a capturing compound, anything else is
/// written as serde_json writes it.
pub(super) struct FieldCapture<'a, 'c, W> {
    pub(super) inner: &'a mut JsonSerializer<W>,
    pub(super) capture: &'a mut Capture<'c>,
}

type Json<'a, W> = &'a mut JsonSerializer<W>;

macro_rules! delegate {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<(), serde_json::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'a, 'c, W: io::Write> ser::Serializer for FieldCapture<'a, 'c, W> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = <Json<'a, W> as ser::Serializer>::SerializeSeq;
    type SerializeTuple = <Json<'a, W> as ser::Serializer>::SerializeTuple;
    type SerializeTupleStruct = <Json<'a, W> as ser::Serializer>::SerializeTupleStruct;
    type SerializeTupleVariant = <Json<'a, W> as ser::Serializer>::SerializeTupleVariant;
    type SerializeMap = CaptureMap<'a, 'c, W>;
    type SerializeStruct = CaptureStruct<'a, 'c, W>;
    type SerializeStructVariant = <Json<'a, W> as ser::Serializer>::SerializeStructVariant;

    delegate! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), serde_json::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        // A newtype around the record (or `#[serde(transparent)]`) is the record itself.
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.inner
            .serialize_newtype_variant(name, index, variant, value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, serde_json::Error> {
        self.inner.serialize_seq(len)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, serde_json::Error> {
        self.inner.serialize_tuple(len)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, serde_json::Error> {
        self.inner.serialize_tuple_struct(name, len)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, serde_json::Error> {
        self.inner
            .serialize_tuple_variant(name, index, variant, len)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, serde_json::Error> {
        Ok(CaptureMap {
            inner: self.inner.serialize_map(len)?,
            capture: self.capture,
            next_value_is_field: false,
            skip_next_value: false,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, serde_json::Error> {
        Ok(CaptureStruct {
            inner: self.inner.serialize_struct(name, len)?,
            capture: self.capture,
            raw: name == super::raw::RAW_VALUE_TOKEN,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, serde_json::Error> {
        self.inner
            .serialize_struct_variant(name, index, variant, len)
    }
}

/// A struct being written: the field named like the capture is also copied.
pub(super) struct CaptureStruct<'a, 'c, W: io::Write> {
    inner: <Json<'a, W> as ser::Serializer>::SerializeStruct,
    capture: &'a mut Capture<'c>,
    /// serde_json's raw-value struct: its one field is the record's JSON text.
    raw: bool,
}

impl<W: io::Write> CaptureStruct<'_, '_, W> {
    /// Writes a record given as JSON text: the captured field is read from the text, skipped
    /// fields are left out by writing the object again, line breaks become spaces (the text as
    /// it is otherwise).
    fn write_raw(&mut self, key: &'static str, text: &str) -> Result<(), serde_json::Error> {
        if let Some(field) = self.capture.field
            && let Some(json) = super::raw::field_of(text, field)
        {
            self.capture.json.clear();
            self.capture.json.extend_from_slice(json.as_bytes());
            self.capture.found = true;
        }
        let kept = if self.capture.skip.is_empty() {
            std::borrow::Cow::Borrowed(text)
        } else {
            super::raw::without_fields(text, self.capture.skip)
        };
        let line = super::raw::on_one_line(&kept);
        ser::SerializeStruct::serialize_field(&mut self.inner, key, line.as_ref())
    }
}

impl<W: io::Write> ser::SerializeStruct for CaptureStruct<'_, '_, W> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        if self.raw {
            let mut written = None;
            let read = value.serialize(StrOf(&mut |text: &str| {
                written = Some(self.write_raw(key, text));
            }));
            return match (read, written) {
                (Ok(()), Some(written)) => written,
                // Not text after all: written as serde_json writes it.
                _ => self.inner.serialize_field(key, value),
            };
        }
        if self.capture.skips(key) {
            return Ok(());
        }
        if self.capture.captures(key) {
            self.capture.take(value)?;
        }
        self.inner.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), serde_json::Error> {
        self.inner.skip_field(key)
    }

    fn end(self) -> Result<(), serde_json::Error> {
        ser::SerializeStruct::end(self.inner)
    }
}

/// A map being written (a `Map<String, Value>`, a `HashMap`, a `#[serde(flatten)]` struct): the value
/// of the key named like the capture is also copied.
pub(super) struct CaptureMap<'a, 'c, W: io::Write> {
    inner: <Json<'a, W> as ser::Serializer>::SerializeMap,
    capture: &'a mut Capture<'c>,
    next_value_is_field: bool,
    skip_next_value: bool,
}

impl<W: io::Write> ser::SerializeMap for CaptureMap<'_, '_, W> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), serde_json::Error> {
        let capture = &*self.capture;
        // serde_json writes the separating comma with the key: a skipped entry writes nothing.
        self.skip_next_value = !capture.skip.is_empty()
            && key
                .serialize(StrOf(&mut |k: &str| capture.skips(k)))
                .unwrap_or(false);
        if self.skip_next_value {
            return Ok(());
        }
        self.next_value_is_field = key
            .serialize(StrOf(&mut |k: &str| capture.captures(k)))
            .unwrap_or(false);
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        if std::mem::take(&mut self.skip_next_value) {
            return Ok(());
        }
        if std::mem::take(&mut self.next_value_is_field) {
            self.capture.take(value)?;
        }
        self.inner.serialize_value(value)
    }

    fn end(self) -> Result<(), serde_json::Error> {
        ser::SerializeMap::end(self.inner)
    }
}

/// Hands a value that serializes as a string (a map key, a raw value's text) to `.0` without
/// writing anything, and gives back what `.0` returns. Anything else is an error.
struct StrOf<'k, T>(&'k mut dyn FnMut(&str) -> T);

/// The error of [`StrOf`] for values that are not strings.
#[derive(Debug)]
struct NotAString;

impl std::fmt::Display for NotAString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("map key is not a string")
    }
}

impl std::error::Error for NotAString {}

impl ser::Error for NotAString {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        NotAString
    }
}

macro_rules! not_a_string {
    ($($method:ident($($ty:ty),*);)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<T, NotAString> {
                Err(NotAString)
            }
        )*
    };
}

impl<T> ser::Serializer for StrOf<'_, T> {
    type Ok = T;
    type Error = NotAString;
    type SerializeSeq = Impossible<T, NotAString>;
    type SerializeTuple = Impossible<T, NotAString>;
    type SerializeTupleStruct = Impossible<T, NotAString>;
    type SerializeTupleVariant = Impossible<T, NotAString>;
    type SerializeMap = Impossible<T, NotAString>;
    type SerializeStruct = Impossible<T, NotAString>;
    type SerializeStructVariant = Impossible<T, NotAString>;

    fn serialize_str(self, v: &str) -> Result<T, NotAString> {
        Ok((self.0)(v))
    }

    fn serialize_char(self, v: char) -> Result<T, NotAString> {
        let mut buf = [0u8; 4];
        Ok((self.0)(v.encode_utf8(&mut buf)))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<T, NotAString> {
        Ok((self.0)(variant))
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &V,
    ) -> Result<T, NotAString> {
        value.serialize(self)
    }

    not_a_string! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_some<V: Serialize + ?Sized>(self, _value: &V) -> Result<T, NotAString> {
        Err(NotAString)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &V,
    ) -> Result<T, NotAString> {
        Err(NotAString)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotAString> {
        Err(NotAString)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotAString> {
        Err(NotAString)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotAString> {
        Err(NotAString)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAString> {
        Err(NotAString)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotAString> {
        Err(NotAString)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NotAString> {
        Err(NotAString)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotAString> {
        Err(NotAString)
    }
}
