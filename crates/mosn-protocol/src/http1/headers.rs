//! Header fields as they arrived: names keep their case and order, so that an upstream sees
//! what the client wrote. Lookups ignore case.
//!
//! The fields of a parsed head are spans of the bytes it came in (shared with the head, so no
//! copy, allocation or reference count per field); fields added or changed later are copied
//! into a buffer of the head's own.
//!
//! Each name falls in one of 64 slots ([`name_slot`]), kept with its field. Most lookups are
//! for fields a head does not have (Transfer-Encoding, Upgrade, the hop-by-hop ones): a head
//! keeps a bit per slot its names have held, so such a lookup usually ends without reading a
//! field, and one that scans compares only the names in its slot.

use std::fmt;
use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::head::range_in;

#[derive(Clone, Default)]
pub struct Headers {
    /// The received bytes the parsed fields lie in.
    wire: Bytes,
    /// The bytes of fields added since.
    added: Vec<u8>,
    fields: Vec<Field>,
    /// The [`name_bit`]s of every name added or parsed (removed ones stay): a name whose bit
    /// is not here is not in `fields`.
    names: u64,
}

/// Which of 64 slots a field name falls in, the same for names that are equal ignoring ASCII
/// case. Names in different slots differ; names in the same slot may not be the same.
pub const fn name_slot(name: &[u8]) -> u8 {
    let (first, last) = match name {
        [] => (0, 0),
        [first, .., last] | [first @ last] => (*first, *last),
    };
    // `| 0x20` makes an ASCII letter lowercase and leaves any byte equal to itself.
    let mix = (name.len() as u32).wrapping_mul(7) ^ ((first | 0x20) as u32).wrapping_mul(3);
    ((mix ^ (last | 0x20) as u32) % 64) as u8
}

/// The slot of a name as a bit of a set of slots.
pub const fn name_bit(name: &[u8]) -> u64 {
    1 << name_slot(name)
}

/// The [`name_bit`]s of `names`.
pub const fn name_bits(names: &[&str]) -> u64 {
    let mut bits = 0;
    let mut i = 0;
    while i < names.len() {
        bits |= name_bit(names[i].as_bytes());
        i += 1;
    }
    bits
}

#[derive(Clone, Copy)]
struct Field {
    name: Span,
    value: Span,
    /// The name's [`name_slot`].
    slot: u8,
    /// The received bytes from the name on are `name: value\r\n`, the line this field is
    /// written out as: received lines still next to each other go out in one copy.
    as_written: bool,
}

impl Field {
    fn new(name: &[u8], at: Span, value: Span) -> Field {
        Field {
            name: at,
            value,
            slot: name_slot(name),
            as_written: false,
        }
    }

    /// Where its line lies in `wire`, when it is there as written: neither part was changed
    /// since it was received.
    fn line_in_wire(&self) -> Option<Range<usize>> {
        let unchanged = !self.name.is_added() && !self.value.is_added();
        (self.as_written && unchanged).then(|| self.name.range().start..self.value.range().end + 2)
    }
}

/// Whether `name` and `value`, found in `base`, are followed and separated there exactly as
/// [`Headers::write_lines`] writes them.
fn is_as_written(base: &[u8], name: &Range<usize>, value: &Range<usize>) -> bool {
    !name.is_empty()
        && base.get(name.end..value.start) == Some(b": ")
        && base.get(value.end..value.end + 2) == Some(b"\r\n")
}

/// Where a name or a value lies: in `wire`, or in `added` when `start` has the [`ADDED`] bit.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

const ADDED: u32 = 1 << 31;

impl Span {
    /// `len` bytes from `start` of a head's buffer. Heads are capped far below 2 GiB (64 KiB
    /// for HTTP/1, the header list limit for HTTP/2), so every offset fits below [`ADDED`].
    fn at(start: usize, len: usize) -> Span {
        let start = u32::try_from(start).ok();
        let len = u32::try_from(len).ok();
        let (start, len) = start
            .zip(len)
            .filter(|(start, len)| start.checked_add(*len).is_some_and(|end| end < ADDED))
            .expect("a head's fields stay under 2 GiB");
        Span { start, len }
    }

    fn is_added(self) -> bool {
        self.start & ADDED != 0
    }

    /// Where it lies in its buffer.
    fn range(self) -> Range<usize> {
        let start = (self.start & !ADDED) as usize;
        start..start + self.len as usize
    }
}

fn text<'a>(wire: &'a [u8], added: &'a [u8], span: Span) -> &'a [u8] {
    let buf = if span.is_added() { added } else { wire };
    &buf[span.range()]
}

/// Whether `field` is named `name`, whose slot is `slot`: a field in another slot is told
/// apart without reading its name.
fn is_named(wire: &[u8], added: &[u8], field: &Field, name: &[u8], slot: u8) -> bool {
    field.slot == slot && text(wire, added, field.name).eq_ignore_ascii_case(name)
}

/// The fields httparse found in a buffer, as spans to keep once the buffer is frozen, and
/// their names' bits.
pub(super) struct Parsed(Vec<Field>, u64);

impl Parsed {
    pub(super) fn of(base: &[u8], fields: &[httparse::Header<'_>]) -> Parsed {
        let span = |range: Range<usize>| Span::at(range.start, range.len());
        let mut names = 0;
        let fields = fields
            .iter()
            .map(|f| {
                let name = f.name.as_bytes();
                let (name_at, value_at) = (range_in(base, name), range_in(base, f.value));
                let as_written = is_as_written(base, &name_at, &value_at);
                let field = Field {
                    as_written,
                    ..Field::new(name, span(name_at), span(value_at))
                };
                names |= 1 << field.slot;
                field
            })
            .collect();
        Parsed(fields, names)
    }

    /// The fields, as spans of `wire`: the bytes they were parsed from, frozen.
    pub(super) fn on(self, wire: Bytes) -> Headers {
        Headers {
            wire,
            added: Vec::new(),
            fields: self.0,
            names: self.1,
        }
    }
}

impl Headers {
    /// Copies `bytes` into `added`.
    fn add(&mut self, bytes: &[u8]) -> Span {
        let span = Span::at(self.added.len(), bytes.len());
        self.added.extend_from_slice(bytes);
        Span {
            start: span.start | ADDED,
            len: span.len,
        }
    }

    fn text(&self, span: Span) -> &[u8] {
        text(&self.wire, &self.added, span)
    }

    /// Whether a field named like one of `names` ([`name_bits`]) may be here; if not, none is.
    pub fn may_have_any(&self, names: u64) -> bool {
        self.names & names != 0
    }

    /// The fields to scan for `name`: none when no name in its slot was ever here.
    fn candidates(&self, name: &[u8]) -> &[Field] {
        match self.may_have_any(name_bit(name)) {
            true => &self.fields,
            false => &[],
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        let name = name.as_bytes();
        let slot = name_slot(name);
        self.candidates(name)
            .iter()
            .position(|f| is_named(&self.wire, &self.added, f, name, slot))
    }

    pub fn push(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let name = name.as_ref();
        let at = self.add(name);
        let value = self.add(value.as_ref());
        let field = Field::new(name, at, value);
        self.names |= 1 << field.slot;
        self.fields.push(field);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|f| (self.text(f.name), self.text(f.value)))
    }

    /// The fields with each value as `Bytes`: a slice of the received head (no copy) or, for
    /// an added field, a copy.
    pub fn iter_shared(&self) -> impl Iterator<Item = (&[u8], Bytes)> {
        self.fields.iter().map(|f| {
            let value = match f.value.is_added() {
                false => self.wire.slice(f.value.range()),
                true => Bytes::copy_from_slice(self.text(f.value)),
            };
            (self.text(f.name), value)
        })
    }

    /// Writes the fields as `name: value\r\n` lines, in their order. A run of lines that came
    /// in that form, one after the other, is copied as it came, at once.
    pub fn write_lines(&self, dst: &mut BytesMut) {
        let mut run = 0..0;
        for field in &self.fields {
            match field.line_in_wire() {
                Some(line) if line.start == run.end => run.end = line.end,
                Some(line) => {
                    dst.extend_from_slice(&self.wire[std::mem::replace(&mut run, line)]);
                }
                None => {
                    dst.extend_from_slice(&self.wire[std::mem::take(&mut run)]);
                    let (name, value) = (self.text(field.name), self.text(field.value));
                    dst.reserve(name.len() + value.len() + 4);
                    dst.extend_from_slice(name);
                    dst.extend_from_slice(b": ");
                    dst.extend_from_slice(value);
                    dst.extend_from_slice(b"\r\n");
                }
            }
        }
        dst.extend_from_slice(&self.wire[run]);
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.position(name).map(|i| self.text(self.fields[i].value))
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let name = name.as_bytes();
        let slot = name_slot(name);
        self.candidates(name)
            .iter()
            .filter(move |f| is_named(&self.wire, &self.added, f, name, slot))
            .map(|f| self.text(f.value))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.remove_after(name.as_bytes(), None);
    }

    /// Removes every field named `name` after the one at `kept` (all of them when `None`).
    /// Usually there is none, and no field moves.
    fn remove_after(&mut self, name: &[u8], kept: Option<usize>) {
        let slot = name_slot(name);
        let from = kept.map_or(0, |kept| kept + 1);
        let (wire, added) = (&self.wire, &self.added);
        let Some(first) = self
            .candidates(name)
            .get(from..)
            .unwrap_or_default()
            .iter()
            .position(|f| is_named(wire, added, f, name, slot))
        else {
            return;
        };
        let mut i = 0;
        self.fields.retain(|f| {
            i += 1;
            i <= from + first || !is_named(wire, added, f, name, slot)
        });
    }

    /// Replaces every field named `name` by one with `value`, in place of the first (whose
    /// bytes stay where they are when it already has that value).
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) {
        match self.position(name) {
            Some(first) => {
                let value = value.as_ref();
                if self.text(self.fields[first].value) != value {
                    self.fields[first].value = self.add(value);
                }
                self.remove_after(name.as_bytes(), Some(first));
            }
            None => self.push(name, value),
        }
    }

    /// Whether a comma-separated field (`Connection: keep-alive, Upgrade`) lists `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .any(|value| tokens(value).any(|t| t.eq_ignore_ascii_case(token.as_bytes())))
    }

    /// Removes the fields whose names are in the slots of `names` ([`name_bits`]) and pass
    /// `is`; the names of other fields are not read.
    pub fn remove_where(&mut self, names: u64, mut is: impl FnMut(&[u8]) -> bool) {
        if !self.may_have_any(names) {
            return;
        }
        let (wire, added) = (&self.wire, &self.added);
        self.fields
            .retain(|f| names & (1 << f.slot) == 0 || !is(text(wire, added, f.name)));
    }
}

/// Equal when they hold the same fields in the same order, wherever their bytes are kept.
impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// A head built from parts (an HTTP/2 one) in one buffer: `prefix` (a request target), then
/// the fields. The buffer is shared by what [`HeadWriter::finish`] returns, so clones of the
/// head copy no bytes.
pub struct HeadWriter {
    buf: BytesMut,
    prefix: usize,
    fields: Vec<Field>,
    names: u64,
}

impl HeadWriter {
    /// `prefix`, with room for `fields` fields whose names and values take `bytes` bytes.
    pub fn new(prefix: &[u8], fields: usize, bytes: usize) -> HeadWriter {
        let mut buf = BytesMut::with_capacity(prefix.len() + bytes);
        buf.extend_from_slice(prefix);
        HeadWriter {
            buf,
            prefix: prefix.len(),
            fields: Vec::with_capacity(fields),
            names: 0,
        }
    }

    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        let mut span = |bytes: &[u8]| {
            let span = Span::at(self.buf.len() - self.prefix, bytes.len());
            self.buf.extend_from_slice(bytes);
            span
        };
        let field = Field::new(name, span(name), span(value));
        self.names |= 1 << field.slot;
        self.fields.push(field);
    }

    /// The prefix, and the fields.
    pub fn finish(mut self) -> (Bytes, Headers) {
        let prefix = match self.prefix {
            0 => Bytes::new(),
            n => self.buf.split_to(n).freeze(),
        };
        let headers = Headers {
            wire: self.buf.freeze(),
            added: Vec::new(),
            fields: self.fields,
            names: self.names,
        };
        (prefix, headers)
    }
}

/// The comma-separated, trimmed, non-empty items of a field value.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| *b == b',')
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_order_is_kept() {
        let mut h = Headers::default();
        h.push("X-Trace", "a");
        h.push("content-TYPE", "text/plain");
        h.push("x-trace", "b");
        assert_eq!(h.get("CONTENT-type"), Some(&b"text/plain"[..]));
        assert_eq!(h.get_all("x-trace").collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        h.set("X-TRACE", "c");
        let names: Vec<_> = h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        assert_eq!(
            names,
            [
                (b"X-Trace".to_vec(), b"c".to_vec()),
                (b"content-TYPE".to_vec(), b"text/plain".to_vec())
            ]
        );
    }

    #[test]
    fn parsed_fields_and_added_ones_read_and_change_alike() {
        let raw = &b"GET / HTTP/1.1\r\nHost: a\r\nX-Trace: 1\r\nx-trace: 2\r\n\r\n"[..];
        let limits = crate::http1::Limits::default();
        let mut h = crate::http1::head::parse_request(&mut bytes::BytesMut::from(raw), &limits)
            .unwrap()
            .unwrap()
            .headers;
        assert_eq!(h.get_all("X-TRACE").collect::<Vec<_>>(), [&b"1"[..], b"2"]);
        h.set("x-trace", "3");
        h.push("Via", "mosn");
        h.remove("HOST");
        let mut expected = Headers::default();
        expected.push("X-Trace", "3");
        expected.push("Via", "mosn");
        assert_eq!(h, expected, "the same fields, whether parsed or added");
        assert_eq!(format!("{h:?}"), r#"[("X-Trace", "3"), ("Via", "mosn")]"#);
    }

    #[test]
    fn a_written_head_shares_one_buffer_with_its_prefix() {
        let mut writer = HeadWriter::new(b"/a?b", 2, 16);
        writer.push(b"host", b"example.com");
        writer.push(b"x-one", b"1");
        let (target, mut h) = writer.finish();
        assert_eq!(&target[..], b"/a?b");
        let shared: Vec<(Vec<u8>, Bytes)> = h.iter_shared().map(|(n, v)| (n.to_vec(), v)).collect();
        assert_eq!(
            shared[0],
            (b"host".to_vec(), Bytes::from_static(b"example.com"))
        );
        assert_eq!(shared[1], (b"x-one".to_vec(), Bytes::from_static(b"1")));
        h.set("X-ONE", "1");
        h.set("host", "other");
        h.push("via", "mosn");
        let values: Vec<Bytes> = h.iter_shared().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            ["other", "1", "mosn"].map(|v| Bytes::from_static(v.as_bytes()))
        );
    }

    #[test]
    fn a_lookup_finds_what_a_scan_of_every_field_finds() {
        let present = ["Host", "content-LENGTH", "X-A", "a", "@"];
        let mut h = Headers::default();
        for name in present {
            h.push(name, name);
        }
        let absent = ["Upgrade", "TE", "x-b", "b", "`", "hosts", ""];
        let upper = present.map(str::to_ascii_uppercase);
        let lower = present.map(str::to_ascii_lowercase);
        let queries = absent
            .iter()
            .copied()
            .chain(upper.iter().chain(&lower).map(String::as_str));
        for name in queries {
            let scanned = h
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()));
            assert_eq!(h.get(name), scanned.map(|(_, v)| v), "{name:?}");
            assert_eq!(
                h.get_all(name).count(),
                usize::from(scanned.is_some()),
                "{name:?}"
            );
        }
        h.remove("HOST");
        assert_eq!(h.get("host"), None);
        h.set("Host", "b");
        assert_eq!(h.get("HOST"), Some(&b"b"[..]));
    }

    #[test]
    fn tokens_are_found_in_lists() {
        let mut h = Headers::default();
        h.push("Connection", "keep-alive , Upgrade");
        assert!(h.has_token("connection", "upgrade"));
        assert!(!h.has_token("connection", "close"));
    }

    /// The lines `write_lines` writes for the fields of `raw`, a response head, after `change`.
    fn written(raw: &[u8], change: impl FnOnce(&mut Headers)) -> String {
        let mut buf = BytesMut::from(raw);
        let limits = super::super::Limits::default();
        let head = super::super::head::parse_response(&mut buf, &limits);
        let mut headers = head.unwrap().unwrap().headers;
        change(&mut headers);
        let mut out = BytesMut::new();
        headers.write_lines(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn received_lines_go_out_as_they_came_and_changed_ones_anew() {
        let raw = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";
        assert_eq!(
            written(raw, |_| {}),
            "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"
        );
        let changed = written(raw, |h| {
            h.remove("b");
            h.set("d", "44");
            h.push("F", "6");
        });
        assert_eq!(changed, "A: 1\r\nC: 3\r\nD: 44\r\nE: 5\r\nF: 6\r\n");
    }

    #[test]
    fn lines_received_in_another_form_go_out_in_the_usual_one() {
        let raw = b"HTTP/1.1 200 OK\r\nA:1\r\nB: 2  \r\nC:  3\r\nD: 4\r\n\r\n";
        assert_eq!(written(raw, |_| {}), "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n");
        let bare_lf = b"HTTP/1.1 200 OK\nA: 1\nB: 2\n\n";
        assert_eq!(written(bare_lf, |_| {}), "A: 1\r\nB: 2\r\n");
    }
}
