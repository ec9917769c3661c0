//! The messages of PostgreSQL's built-in logical decoding plugin, `pgoutput` (protocol version 1),
//! as `pg_logical_slot_peek_binary_changes` returns them: one message per row.
//!
//! Only what a change stream needs is decoded: transactions (begin with the commit time and xid,
//! commit with its end LSN), relations (names and key columns), inserts, updates, deletes,
//! truncates and logical messages. Values are in text form.

/// One value of a row in a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Datum<'a> {
    /// NULL.
    Null,
    /// A TOASTed value the update did not change: not sent.
    Unchanged,
    /// The value's text form.
    Text(&'a [u8]),
}

/// A column of a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelationColumn {
    pub(crate) name: String,
    /// Part of the replica identity (the primary key by default).
    pub(crate) key: bool,
}

/// A relation (table) as the change stream describes it before its first change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relation {
    pub(crate) id: u32,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) columns: Vec<RelationColumn>,
}

/// One pgoutput message.
#[derive(Debug, PartialEq)]
pub(crate) enum Message<'a> {
    /// A transaction starts: where its commit record is, its commit time (µs after 2000-01-01)
    /// and its xid.
    Begin {
        commit_lsn: u64,
        commit_time: i64,
        xid: u32,
    },
    /// The transaction ends; `end_lsn` is where the next one can start.
    Commit { end_lsn: u64 },
    /// A relation's description.
    Relation(Relation),
    /// A new row.
    Insert { relation: u32, new: Vec<Datum<'a>> },
    /// A changed row, with the old one when the replica identity (or a key change) sends it.
    Update {
        relation: u32,
        old: Option<Vec<Datum<'a>>>,
        new: Vec<Datum<'a>>,
    },
    /// A deleted row: its key columns (`key_only`), or the whole old row (replica identity FULL).
    Delete {
        relation: u32,
        old: Vec<Datum<'a>>,
        key_only: bool,
    },
    /// Tables emptied.
    Truncate { relations: Vec<u32> },
    /// A logical message (`pg_logical_emit_message`).
    Logical { prefix: String, content: &'a [u8] },
    /// Anything else (origin, type): not needed.
    Other,
}

/// A cursor over one message's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "message ends early: {} byte(s) wanted, {} left",
                n,
                self.0.len()
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }

    fn string(&mut self) -> Result<String, String> {
        let end = self
            .0
            .iter()
            .position(|b| *b == 0)
            .ok_or("string without its NUL")?;
        let s = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = &self.0[end + 1..];
        Ok(s)
    }

    fn tuple(&mut self) -> Result<Vec<Datum<'a>>, String> {
        let n = self.u16()?;
        (0..n)
            .map(|_| match self.u8()? {
                b'n' => Ok(Datum::Null),
                b'u' => Ok(Datum::Unchanged),
                b't' => {
                    let len = self.u32()? as usize;
                    Ok(Datum::Text(self.take(len)?))
                }
                other => Err(format!("tuple value of kind {:?}", other as char)),
            })
            .collect()
    }
}

/// Decodes one message.
pub(crate) fn parse(data: &[u8]) -> Result<Message<'_>, String> {
    let mut r = Reader(data);
    let kind = r.u8()?;
    Ok(match kind {
        b'B' => {
            let commit_lsn = r.u64()?;
            let commit_time = r.u64()? as i64;
            Message::Begin {
                commit_lsn,
                commit_time,
                xid: r.u32()?,
            }
        }
        b'C' => {
            let _flags = r.u8()?;
            let _commit_lsn = r.u64()?;
            Message::Commit { end_lsn: r.u64()? }
        }
        b'R' => Message::Relation(relation(&mut r)?),
        b'I' => {
            let relation = r.u32()?;
            expect(&mut r, b'N')?;
            Message::Insert {
                relation,
                new: r.tuple()?,
            }
        }
        b'U' => update(&mut r)?,
        b'D' => {
            let relation = r.u32()?;
            let key_only = r.u8()? == b'K';
            Message::Delete {
                relation,
                old: r.tuple()?,
                key_only,
            }
        }
        b'T' => {
            let n = r.u32()?;
            let _options = r.u8()?;
            Message::Truncate {
                relations: (0..n).map(|_| r.u32()).collect::<Result<_, _>>()?,
            }
        }
        b'M' => {
            let _transactional = r.u8()?;
            let _lsn = r.u64()?;
            let prefix = r.string()?;
            let len = r.u32()? as usize;
            Message::Logical {
                prefix,
                content: r.take(len)?,
            }
        }
        _ => Message::Other,
    })
}

fn expect(r: &mut Reader<'_>, tag: u8) -> Result<(), String> {
    match r.u8()? {
        t if t == tag => Ok(()),
        t => Err(format!(
            "expected tuple tag {:?}, found {:?}",
            tag as char, t as char
        )),
    }
}

fn relation(r: &mut Reader<'_>) -> Result<Relation, String> {
    let id = r.u32()?;
    let namespace = r.string()?;
    let name = r.string()?;
    let _identity = r.u8()?;
    let n = r.u16()?;
    let mut columns = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let flags = r.u8()?;
        let name = r.string()?;
        let _type_oid = r.u32()?;
        let _typmod = r.u32()?;
        columns.push(RelationColumn {
            name,
            key: flags & 1 == 1,
        });
    }
    Ok(Relation {
        id,
        namespace,
        name,
        columns,
    })
}

fn update<'a>(r: &mut Reader<'a>) -> Result<Message<'a>, String> {
    let relation = r.u32()?;
    let mut old = None;
    let mut tag = r.u8()?;
    if tag == b'K' || tag == b'O' {
        old = Some(r.tuple()?);
        tag = r.u8()?;
    }
    if tag != b'N' {
        return Err(format!(
            "update without its new tuple (tag {:?})",
            tag as char
        ));
    }
    Ok(Message::Update {
        relation,
        old,
        new: r.tuple()?,
    })
}

/// `16/B374D848` as a number.
pub(crate) fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.split_once('/')?;
    Some(u64::from_str_radix(hi, 16).ok()? << 32 | u64::from_str_radix(lo, 16).ok()?)
}

/// A number as `16/B374D848`.
pub(crate) fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(values: &[Option<&str>]) -> Vec<u8> {
        let mut out = (values.len() as u16).to_be_bytes().to_vec();
        for v in values {
            match v {
                None => out.push(b'n'),
                Some(t) => {
                    out.push(b't');
                    out.extend((t.len() as u32).to_be_bytes());
                    out.extend(t.as_bytes());
                }
            }
        }
        out
    }

    #[test]
    fn messages_decode_with_their_fields() {
        let mut begin = vec![b'B'];
        begin.extend(7u64.to_be_bytes());
        begin.extend(86_400_000_000u64.to_be_bytes());
        begin.extend(42u32.to_be_bytes());
        assert_eq!(
            parse(&begin).unwrap(),
            Message::Begin {
                commit_lsn: 7,
                commit_time: 86_400_000_000,
                xid: 42
            }
        );
        let mut rel = vec![b'R'];
        rel.extend(16_385u32.to_be_bytes());
        rel.extend(b"public\0items\0d");
        rel.extend(2u16.to_be_bytes());
        rel.extend(b"\x01id\0");
        rel.extend([0u8; 8]);
        rel.extend(b"\x00label\0");
        rel.extend([0u8; 8]);
        let Message::Relation(r) = parse(&rel).unwrap() else {
            panic!("a relation")
        };
        assert_eq!(
            (r.id, r.namespace.as_str(), r.name.as_str()),
            (16_385, "public", "items")
        );
        assert_eq!(
            r.columns[0],
            RelationColumn {
                name: "id".into(),
                key: true
            }
        );
        assert!(!r.columns[1].key);
        let mut insert = vec![b'I'];
        insert.extend(16_385u32.to_be_bytes());
        insert.push(b'N');
        insert.extend(tuple(&[Some("1"), None]));
        assert_eq!(
            parse(&insert).unwrap(),
            Message::Insert {
                relation: 16_385,
                new: vec![Datum::Text(b"1"), Datum::Null]
            }
        );
        let mut delete = vec![b'D'];
        delete.extend(16_385u32.to_be_bytes());
        delete.push(b'K');
        delete.extend(tuple(&[Some("1"), None]));
        assert!(matches!(
            parse(&delete).unwrap(),
            Message::Delete { key_only: true, .. }
        ));
        assert!(parse(&insert[..8]).unwrap_err().contains("ends early"));
    }

    #[test]
    fn lsns_read_and_print_as_postgresql_does() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(format_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("nope"), None);
    }
}
