//! JSON Schemas from WSDL/XSD, for SOAP sources.
//!
//! Every named `complexType`, and every top-level `element` with an anonymous complex type, becomes
//! one entry `{TypeName: schema}` (in document order; all schemas of a WSDL's `types` together,
//! names taken without their namespace prefix). Mapping:
//! - complex types → objects; `sequence`, `all`, `choice` (members nullable), `group` refs and
//!   nested/anonymous types are flattened into `properties`; `complexContent/extension` starts
//!   from the base type's properties; `simpleContent` gives a `value` property for the text plus
//!   the attributes; attributes are properties under their own name (nullable unless
//!   `use="required"`);
//! - `minOccurs="0"` or `nillable="true"` → nullable (`["null", T]`); `maxOccurs` > 1 or
//!   `unbounded` → an array of the element's type;
//! - simple types: `restriction` facets map to `enum` (numbers for numeric bases), `pattern`,
//!   `length`/`minLength`/`maxLength`, `minInclusive`/`maxInclusive` (`minimum`/`maximum`),
//!   exclusive bounds (draft 4 style), `fractionDigits` → `multipleOf`; `list` → array, `union` →
//!   `anyOf`;
//! - built-ins: `date` → string `format: date`, `dateTime` → `format: date-time`, `time` →
//!   `format: time`, `decimal`/`float`/`double` → number, `int`/`long`/`short`/`byte`/`integer`
//!   and the unsigned ones → integer (`minimum: 0` where unsigned), `boolean`, everything else
//!   → string; `anyType` → `{}`;
//! - a type that contains itself is expanded once; its inner occurrence is `{}` (any value).
//!
//! `import`/`include` of other documents are not followed; an unknown type is an error naming it.

use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value, json};

use crate::SchemaError;

const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// The JSON Schemas of the types declared in a WSDL document's `types` section.
pub fn from_wsdl(text: &str) -> Result<IndexMap<String, Value>, SchemaError> {
    let root = parse(text)?;
    if !matches!(root.local(), "definitions" | "description") {
        return Err(xml_error(
            "WSDL",
            &format!("the root element is <{}>, not <definitions>", root.name),
        ));
    }
    let mut schemas = Vec::new();
    for types in root.children_named("types") {
        collect_schemas(types, &mut schemas);
    }
    Converter::new(&schemas).convert_all()
}

/// The JSON Schemas of the types declared in an XSD document.
pub fn from_xsd(text: &str) -> Result<IndexMap<String, Value>, SchemaError> {
    let root = parse(text)?;
    if root.local() != "schema" {
        return Err(xml_error(
            "XSD",
            &format!("the root element is <{}>, not <schema>", root.name),
        ));
    }
    Converter::new(&[&root]).convert_all()
}

/// `from_wsdl` or `from_xsd`, whichever the root element calls for.
pub fn from_wsdl_or_xsd(text: &str) -> Result<IndexMap<String, Value>, SchemaError> {
    let root = parse(text)?;
    if root.local() == "schema" {
        from_xsd(text)
    } else {
        from_wsdl(text)
    }
}

fn xml_error(context: &str, message: &str) -> SchemaError {
    SchemaError::Xml {
        context: context.to_owned(),
        message: message.to_owned(),
    }
}

/// A parsed XML element (text content is not needed for schemas).
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    /// Namespace prefixes in scope (`""` for the default namespace).
    scope: Rc<HashMap<String, String>>,
}

impl Element {
    fn local(&self) -> &str {
        local_name(&self.name)
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local() == local)
    }

    fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local() == local)
    }

    fn describe(&self) -> String {
        match self.attr("name") {
            Some(name) => format!("{} {name}", self.local()),
            None => self.local().to_owned(),
        }
    }
}

fn local_name(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, local)| local)
}

fn collect_schemas<'a>(el: &'a Element, out: &mut Vec<&'a Element>) {
    if el.local() == "schema" {
        out.push(el);
    } else {
        for child in &el.children {
            collect_schemas(child, out);
        }
    }
}

fn parse(text: &str) -> Result<Element, SchemaError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let position_error = |reader: &quick_xml::Reader<&[u8]>, message: String| {
        xml_error(
            &format!("XML at byte {}", reader.error_position()),
            &message,
        )
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| position_error(&reader, e.to_string()))?;
        match event {
            Event::Start(start) => {
                let scope = stack.last().map(|p| p.scope.clone()).unwrap_or_default();
                let el = element(&start, scope).map_err(|m| position_error(&reader, m))?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let scope = stack.last().map(|p| p.scope.clone()).unwrap_or_default();
                let el = element(&start, scope).map_err(|m| position_error(&reader, m))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(position_error(&reader, "unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(xml_error("XML", "the document ends inside an element"));
    }
    root.ok_or_else(|| xml_error("XML", "the document has no element"))
}

fn element(start: &BytesStart<'_>, scope: Rc<HashMap<String, String>>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    let mut declared = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("<{name}>: {e}"))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|e| format!("<{name}> attribute {key}: {e}"))?
            .into_owned();
        if key == "xmlns" {
            declared.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            declared.push((prefix.to_owned(), value));
        } else {
            attrs.push((key, value));
        }
    }
    let scope = if declared.is_empty() {
        scope
    } else {
        let mut map = (*scope).clone();
        map.extend(declared);
        Rc::new(map)
    };
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        scope,
    })
}

/// Turns the declarations of one or more schemas into JSON Schemas.
struct Converter<'d> {
    schemas: Vec<&'d Element>,
    complex: HashMap<&'d str, &'d Element>,
    simple: HashMap<&'d str, &'d Element>,
    elements: HashMap<&'d str, &'d Element>,
    groups: HashMap<&'d str, &'d Element>,
    attribute_groups: HashMap<&'d str, &'d Element>,
    /// Named complex types being expanded, to stop recursion.
    expanding: Vec<&'d str>,
}

impl<'d> Converter<'d> {
    fn new(schemas: &[&'d Element]) -> Self {
        let mut c = Converter {
            schemas: schemas.to_vec(),
            complex: HashMap::new(),
            simple: HashMap::new(),
            elements: HashMap::new(),
            groups: HashMap::new(),
            attribute_groups: HashMap::new(),
            expanding: Vec::new(),
        };
        for schema in schemas {
            for decl in &schema.children {
                let Some(name) = decl.attr("name") else {
                    continue;
                };
                let table = match decl.local() {
                    "complexType" => &mut c.complex,
                    "simpleType" => &mut c.simple,
                    "element" => &mut c.elements,
                    "group" => &mut c.groups,
                    "attributeGroup" => &mut c.attribute_groups,
                    _ => continue,
                };
                table.entry(name).or_insert(decl);
            }
        }
        c
    }

    fn convert_all(mut self) -> Result<IndexMap<String, Value>, SchemaError> {
        let mut out = IndexMap::new();
        for schema in self.schemas.clone() {
            for decl in &schema.children {
                let (Some(name), local) = (decl.attr("name"), decl.local()) else {
                    continue;
                };
                let schema = match local {
                    "complexType" => self.named_complex(name)?,
                    "element" if decl.child("complexType").is_some() && !out.contains_key(name) => {
                        self.element_type(decl)?
                    }
                    _ => continue,
                };
                out.insert(name.to_owned(), schema);
            }
        }
        Ok(out)
    }

    fn named_complex(&mut self, name: &'d str) -> Result<Value, SchemaError> {
        if self.expanding.contains(&name) {
            return Ok(json!({}));
        }
        let Some(decl) = self.complex.get(name).copied() else {
            return Err(xml_error(&format!("complexType {name}"), "not declared"));
        };
        self.expanding.push(name);
        let out = self.complex_type(decl);
        self.expanding.pop();
        out
    }

    /// The schema a `type="p:Name"` attribute (written on `at`) refers to.
    fn type_ref(&mut self, qname: &str, at: &'d Element) -> Result<Value, SchemaError> {
        let (prefix, local) = qname.rsplit_once(':').unwrap_or(("", qname));
        let namespace = at.scope.get(prefix).map(String::as_str);
        let builtin = builtin(local);
        if namespace == Some(XSD_NS)
            && let Some(schema) = builtin
        {
            return Ok(schema);
        }
        if let Some((name, _)) = self.complex.get_key_value(local).map(|(k, v)| (*k, *v)) {
            return self.named_complex(name);
        }
        if let Some(decl) = self.simple.get(local).copied() {
            return self.simple_type(decl);
        }
        builtin.ok_or_else(|| {
            xml_error(
                &at.describe(),
                &format!("unknown type {qname:?} (not declared in this document)"),
            )
        })
    }

    /// The schema of an element's content (its type, without occurrence rules).
    fn element_type(&mut self, el: &'d Element) -> Result<Value, SchemaError> {
        if let Some(ty) = el.attr("type") {
            self.type_ref(ty, el)
        } else if let Some(ct) = el.child("complexType") {
            self.complex_type(ct)
        } else if let Some(st) = el.child("simpleType") {
            self.simple_type(st)
        } else {
            Ok(json!({}))
        }
    }

    /// A particle element: its property name and schema (occurrence rules applied).
    fn element_property(
        &mut self,
        el: &'d Element,
        optional: bool,
    ) -> Result<(String, Value), SchemaError> {
        let (name, content, nillable) = match el.attr("ref") {
            Some(reference) => {
                let local = local_name(reference);
                let Some(target) = self.elements.get(local).copied() else {
                    return Err(xml_error(
                        &el.describe(),
                        &format!("ref {reference:?} names no top-level element"),
                    ));
                };
                let nillable = target.attr("nillable") == Some("true");
                (local.to_owned(), self.element_type(target)?, nillable)
            }
            None => {
                let Some(name) = el.attr("name") else {
                    return Err(xml_error("element", "has neither name nor ref"));
                };
                let nillable = el.attr("nillable") == Some("true");
                (name.to_owned(), self.element_type(el)?, nillable)
            }
        };
        let optional = optional || el.attr("minOccurs") == Some("0");
        let repeated = match el.attr("maxOccurs") {
            Some("unbounded") => true,
            Some(n) => n.parse::<u64>().is_ok_and(|n| n > 1),
            None => false,
        };
        let schema = if repeated {
            let items = if nillable { nullable(content) } else { content };
            let array = json!({"type": "array", "items": items});
            if optional { nullable(array) } else { array }
        } else if optional || nillable {
            nullable(content)
        } else {
            content
        };
        Ok((name, schema))
    }

    fn complex_type(&mut self, ct: &'d Element) -> Result<Value, SchemaError> {
        let mut props = Map::new();
        for child in &ct.children {
            match child.local() {
                "simpleContent" => self.simple_content(child, &mut props)?,
                "complexContent" => {
                    if let Some(array) = self.complex_content(child, &mut props)? {
                        return Ok(array);
                    }
                }
                _ => self.content_item(child, false, &mut props)?,
            }
        }
        Ok(json!({"type": "object", "properties": props}))
    }

    /// A particle (`sequence`, `all`, `choice`, `group`, `element`) or an attribute declaration.
    fn content_item(
        &mut self,
        item: &'d Element,
        optional: bool,
        props: &mut Map<String, Value>,
    ) -> Result<(), SchemaError> {
        let optional = optional || item.attr("minOccurs") == Some("0");
        match item.local() {
            "element" => {
                let (name, schema) = self.element_property(item, optional)?;
                props.insert(name, schema);
            }
            "sequence" | "all" => {
                for child in &item.children {
                    self.content_item(child, optional, props)?;
                }
            }
            "choice" => {
                for child in &item.children {
                    self.content_item(child, true, props)?;
                }
            }
            "group" | "attributeGroup" => {
                let table = if item.local() == "group" {
                    &self.groups
                } else {
                    &self.attribute_groups
                };
                let target = match item.attr("ref") {
                    Some(reference) => {
                        table.get(local_name(reference)).copied().ok_or_else(|| {
                            xml_error(
                                &item.describe(),
                                &format!("ref {reference:?} names no {}", item.local()),
                            )
                        })?
                    }
                    None => item,
                };
                for child in &target.children {
                    self.content_item(child, optional, props)?;
                }
            }
            "attribute" => {
                if let Some(name) = item.attr("name") {
                    let content = match (item.attr("type"), item.child("simpleType")) {
                        (Some(ty), _) => self.type_ref(ty, item)?,
                        (None, Some(st)) => self.simple_type(st)?,
                        (None, None) => json!({"type": "string"}),
                    };
                    let schema = if item.attr("use") == Some("required") {
                        content
                    } else {
                        nullable(content)
                    };
                    props.insert(name.to_owned(), schema);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `complexContent`: extension of a base type, restriction, or a SOAP-encoded array.
    fn complex_content(
        &mut self,
        cc: &'d Element,
        props: &mut Map<String, Value>,
    ) -> Result<Option<Value>, SchemaError> {
        for derivation in &cc.children {
            let base = derivation.attr("base");
            match derivation.local() {
                "extension" => {
                    if let Some(base) = base {
                        let base_schema = self.type_ref(base, derivation)?;
                        if let Some(Value::Object(base_props)) = base_schema.get("properties") {
                            props.extend(base_props.clone());
                        }
                    }
                }
                "restriction" if base.is_some_and(|b| local_name(b) == "Array") => {
                    if let Some(array) = self.soap_encoded_array(derivation)? {
                        return Ok(Some(array));
                    }
                }
                "restriction" => {}
                _ => continue,
            }
            for child in &derivation.children {
                self.content_item(child, false, props)?;
            }
        }
        Ok(None)
    }

    /// `soapenc:Array` restricted with `wsdl:arrayType="tns:Item[]"`.
    fn soap_encoded_array(
        &mut self,
        restriction: &'d Element,
    ) -> Result<Option<Value>, SchemaError> {
        for attr in restriction.children_named("attribute") {
            let array_type = attr
                .attrs
                .iter()
                .find(|(k, _)| local_name(k) == "arrayType")
                .map(|(_, v)| v.as_str());
            if let Some(item_type) = array_type {
                let item_type = item_type.trim_end_matches("[]");
                let items = self.type_ref(item_type, attr)?;
                return Ok(Some(json!({"type": "array", "items": items})));
            }
        }
        Ok(None)
    }

    /// `simpleContent`: the element's text as `value`, plus its attributes.
    fn simple_content(
        &mut self,
        sc: &'d Element,
        props: &mut Map<String, Value>,
    ) -> Result<(), SchemaError> {
        for derivation in &sc.children {
            let value = match derivation.local() {
                "extension" => match derivation.attr("base") {
                    Some(base) => self.type_ref(base, derivation)?,
                    None => json!({"type": "string"}),
                },
                "restriction" => self.restriction(derivation)?,
                _ => continue,
            };
            let value = match value.get("properties").and_then(|p| p.get("value")) {
                Some(inner) => inner.clone(),
                None => value,
            };
            props.insert("value".into(), value);
            for child in &derivation.children {
                self.content_item(child, false, props)?;
            }
        }
        Ok(())
    }

    fn simple_type(&mut self, st: &'d Element) -> Result<Value, SchemaError> {
        for child in &st.children {
            match child.local() {
                "restriction" => return self.restriction(child),
                "list" => {
                    let items = match (child.attr("itemType"), child.child("simpleType")) {
                        (Some(ty), _) => self.type_ref(ty, child)?,
                        (None, Some(inner)) => self.simple_type(inner)?,
                        (None, None) => json!({"type": "string"}),
                    };
                    return Ok(json!({"type": "array", "items": items}));
                }
                "union" => {
                    let mut branches = Vec::new();
                    for member in child.attr("memberTypes").unwrap_or("").split_whitespace() {
                        branches.push(self.type_ref(member, child)?);
                    }
                    for inner in child.children_named("simpleType") {
                        branches.push(self.simple_type(inner)?);
                    }
                    return Ok(json!({"anyOf": branches}));
                }
                _ => {}
            }
        }
        Ok(json!({"type": "string"}))
    }

    /// A simple-type restriction: the base's schema narrowed by the facets.
    fn restriction(&mut self, r: &'d Element) -> Result<Value, SchemaError> {
        let mut schema = match (r.attr("base"), r.child("simpleType")) {
            (Some(base), _) => self.type_ref(base, r)?,
            (None, Some(inner)) => self.simple_type(inner)?,
            (None, None) => json!({"type": "string"}),
        };
        let Value::Object(obj) = &mut schema else {
            return Ok(schema);
        };
        let numeric = matches!(
            obj.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        );
        let mut values = Vec::new();
        let mut patterns = Vec::new();
        for facet in &r.children {
            let Some(v) = facet.attr("value") else {
                continue;
            };
            let number = || v.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
            let integer = || v.parse::<u64>().ok();
            match facet.local() {
                "enumeration" => values.push(match (numeric, v.parse::<i64>(), number()) {
                    (true, Ok(i), _) => Value::from(i),
                    (true, _, Some(n)) => Value::Number(n),
                    _ => Value::from(v),
                }),
                "pattern" => patterns.push(v.to_owned()),
                "length" => {
                    if let Some(n) = integer() {
                        obj.insert("minLength".into(), n.into());
                        obj.insert("maxLength".into(), n.into());
                    }
                }
                "minLength" | "maxLength" => {
                    if let Some(n) = integer() {
                        obj.insert(facet.local().into(), n.into());
                    }
                }
                "minInclusive" | "maxInclusive" | "minExclusive" | "maxExclusive" => {
                    let key = if facet.local().starts_with("min") {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    let bound = v
                        .parse::<i64>()
                        .map(Value::from)
                        .ok()
                        .or_else(|| number().map(Value::Number));
                    if let Some(n) = bound {
                        obj.insert(key.into(), n);
                        if facet.local().ends_with("Exclusive") {
                            let flag = if key == "minimum" {
                                "exclusiveMinimum"
                            } else {
                                "exclusiveMaximum"
                            };
                            obj.insert(flag.into(), Value::Bool(true));
                        }
                    }
                }
                "fractionDigits" => {
                    if let Some(n) = integer().filter(|n| *n <= 15)
                        && let Some(step) = format!("1e-{n}")
                            .parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                    {
                        obj.insert("multipleOf".into(), Value::Number(step));
                    }
                }
                _ => {}
            }
        }
        if !values.is_empty() {
            obj.insert("enum".into(), Value::Array(values));
        }
        match patterns.len() {
            0 => {}
            1 => {
                obj.insert("pattern".into(), Value::from(anchor(&patterns[0])));
            }
            _ => {
                let any: Vec<String> = patterns.iter().map(|p| format!("(?:{p})")).collect();
                obj.insert("pattern".into(), Value::from(anchor(&any.join("|"))));
            }
        }
        Ok(schema)
    }
}

/// XSD patterns match the whole value; JSON Schema patterns match anywhere.
fn anchor(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// The schema of an XSD built-in type, if `local` names one.
fn builtin(local: &str) -> Option<Value> {
    Some(match local {
        "string" | "normalizedString" | "token" | "anyURI" | "QName" | "NCName" | "Name"
        | "NMTOKEN" | "NMTOKENS" | "ID" | "IDREF" | "IDREFS" | "ENTITY" | "ENTITIES"
        | "language" | "base64Binary" | "hexBinary" | "duration" | "gYear" | "gYearMonth"
        | "gMonth" | "gMonthDay" | "gDay" | "NOTATION" | "anySimpleType" => {
            json!({"type": "string"})
        }
        "date" => json!({"type": "string", "format": "date"}),
        "dateTime" => json!({"type": "string", "format": "date-time"}),
        "time" => json!({"type": "string", "format": "time"}),
        "decimal" | "float" | "double" => json!({"type": "number"}),
        "int" | "integer" | "long" | "short" | "byte" | "negativeInteger"
        | "nonPositiveInteger" => json!({"type": "integer"}),
        "unsignedInt" | "unsignedLong" | "unsignedShort" | "unsignedByte"
        | "nonNegativeInteger" => json!({"type": "integer", "minimum": 0}),
        "positiveInteger" => json!({"type": "integer", "minimum": 1}),
        "boolean" => json!({"type": "boolean"}),
        "anyType" => json!({}),
        _ => return None,
    })
}

/// Allows null as well: `"null"` first in `type`, `null` in an `enum`, a null branch in `anyOf`.
fn nullable(mut schema: Value) -> Value {
    let Value::Object(obj) = &mut schema else {
        return schema;
    };
    match obj.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            obj.insert("type".into(), json!(["null", t]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.insert(0, json!("null"));
        }
        Some(_) => {}
        None => {
            if let Some(Value::Array(branches)) = obj.get_mut("anyOf")
                && !branches
                    .iter()
                    .any(|b| b.get("type") == Some(&json!("null")))
            {
                branches.insert(0, json!({"type": "null"}));
            }
        }
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    const XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t">
      <xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:length value="3"/></xs:restriction></xs:simpleType>
      <xs:simpleType name="Qty"><xs:restriction base="xs:unsignedShort"><xs:enumeration value="1"/><xs:enumeration value="2"/></xs:restriction></xs:simpleType>
      <xs:complexType name="Node"><xs:sequence>
        <xs:element name="code" type="t:Code" minOccurs="0"/>
        <xs:element name="qty" type="t:Qty"/>
        <xs:element name="child" type="t:Node" minOccurs="0"/>
      </xs:sequence><xs:attribute name="id" type="xs:long" use="required"/></xs:complexType>
    </xs:schema>"#;

    #[test]
    fn simple_types_recursion_and_attributes() {
        let types = from_xsd(XSD).unwrap();
        assert_eq!(
            types["Node"],
            json!({"type": "object", "properties": {
                "code": {"type": ["null", "string"], "minLength": 3, "maxLength": 3},
                "qty": {"type": "integer", "minimum": 0, "enum": [1, 2]},
                "child": {},
                "id": {"type": "integer"}}})
        );
    }

    #[test]
    fn malformed_documents_and_unknown_types_are_named() {
        let e = from_xsd("<xs:schema><oops></xs:schema>")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("XML at byte"), "{e}");
        let e = from_wsdl(XSD).unwrap_err().to_string();
        assert!(e.contains("not <definitions>"), "{e}");
        let unknown = r#"<schema xmlns="http://www.w3.org/2001/XMLSchema"><complexType name="A"><sequence>
            <element name="b" type="Missing"/></sequence></complexType></schema>"#;
        let e = from_xsd(unknown).unwrap_err().to_string();
        assert_eq!(
            e,
            "element b: unknown type \"Missing\" (not declared in this document)"
        );
    }
}
