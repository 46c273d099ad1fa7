//! Zero-copy decoders of remote-write 1.0 and 2.0 requests.
//!
//! Both walk the protobuf wire format of the decompressed body directly and
//! fill a [`WriteBatch`] whose label names and values borrow from it. Fields
//! the decoders do not know are skipped by wire type, so newer senders that
//! add fields still get through; known fields with the wrong wire type are
//! errors, as with any protobuf library.

use series::{LabelRef, Sample};

use crate::Result;
use crate::batch::WriteBatch;
use crate::wire::{Reader, WireError, WireType};

/// Decodes and validates a remote write 1.0 `prometheus.WriteRequest`.
///
/// Metadata is ignored; native histograms and exemplars are counted but not kept.
///
/// # Errors
///
/// [`crate::Error::Protobuf`] if `buf` is not a valid message, or one of the label
/// errors ([`crate::Error::InvalidLabelName`], ...) naming the first bad series.
pub fn decode_v1(buf: &[u8]) -> Result<WriteBatch<'_>> {
    let mut batch = WriteBatch::with_capacity_for(buf.len());
    let mut request = Reader::new(buf);
    while !request.is_empty() {
        match request.tag()? {
            (1, wire_type) => {
                request.expect(wire_type, WireType::Len)?;
                let series = request.message()?;
                decode_v1_series(series, &mut batch)?;
            }
            (field, wire_type) => request.skip(field, wire_type)?,
        }
    }
    Ok(batch)
}

fn decode_v1_series<'a>(mut series: Reader<'a>, batch: &mut WriteBatch<'a>) -> Result<()> {
    let start = batch.start_series();
    while !series.is_empty() {
        match series.tag()? {
            (1, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                let label = decode_v1_label(series.message()?)?;
                batch.push_label(label);
            }
            (2, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                batch.push_sample(decode_sample(series.message()?)?);
            }
            (3, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                series.bytes()?;
                batch.count_exemplar();
            }
            (4, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                series.bytes()?;
                batch.count_histogram();
            }
            (field, wire_type) => series.skip(field, wire_type)?,
        }
    }
    batch.finish_series(start)
}

#[inline]
fn decode_v1_label(mut label: Reader<'_>) -> Result<LabelRef<'_>, WireError> {
    let (mut name, mut value) = ("", "");
    while !label.is_empty() {
        match label.tag()? {
            (1, wire_type) => {
                label.expect(wire_type, WireType::Len)?;
                name = label.str()?;
            }
            (2, wire_type) => {
                label.expect(wire_type, WireType::Len)?;
                value = label.str()?;
            }
            (field, wire_type) => label.skip(field, wire_type)?,
        }
    }
    Ok(LabelRef { name, value })
}

/// Decodes a `Sample`, the same message in both versions.
#[inline]
fn decode_sample(mut sample: Reader<'_>) -> Result<Sample, WireError> {
    let (mut t, mut v) = (0, 0.0);
    while !sample.is_empty() {
        match sample.tag()? {
            (1, wire_type) => {
                sample.expect(wire_type, WireType::Fixed64)?;
                v = f64::from_bits(sample.fixed64()?);
            }
            (2, wire_type) => {
                sample.expect(wire_type, WireType::Varint)?;
                // int64 is the two's complement of the varint's 64 bits.
                t = sample.varint()? as i64;
            }
            (field, wire_type) => sample.skip(field, wire_type)?,
        }
    }
    Ok(Sample { t, v })
}

/// Decodes and validates a remote write 2.0 `io.prometheus.write.v2.Request`.
///
/// Metadata and created timestamps are ignored; native histograms and
/// exemplars are counted but not kept.
///
/// # Errors
///
/// [`crate::Error::Protobuf`] if `buf` is not a valid message or a label reference
/// is out of range, or one of the label errors naming the first bad series.
pub fn decode_v2(buf: &[u8]) -> Result<WriteBatch<'_>> {
    // Symbols may come after the series that use them, so collect them first.
    let mut symbols = Vec::new();
    let mut request = Reader::new(buf);
    while !request.is_empty() {
        match request.tag()? {
            (4, wire_type) => {
                request.expect(wire_type, WireType::Len)?;
                symbols.push(request.str()?);
            }
            (field, wire_type) => request.skip(field, wire_type)?,
        }
    }
    let mut batch = WriteBatch::with_capacity_for(buf.len());
    let mut request = Reader::new(buf);
    while !request.is_empty() {
        match request.tag()? {
            (5, wire_type) => {
                request.expect(wire_type, WireType::Len)?;
                let series = request.message()?;
                decode_v2_series(series, &symbols, &mut batch)?;
            }
            (field, wire_type) => request.skip(field, wire_type)?,
        }
    }
    Ok(batch)
}

fn decode_v2_series<'a>(mut series: Reader<'a>, symbols: &[&'a str], batch: &mut WriteBatch<'a>) -> Result<()> {
    let series_offset = series.offset();
    let start = batch.start_series();
    let mut refs = LabelRefs { symbols, name: None };
    while !series.is_empty() {
        match series.tag()? {
            // Repeated scalars may be sent packed or one per field.
            (1, WireType::Len) => {
                let mut packed = series.message()?;
                while !packed.is_empty() {
                    let offset = packed.offset();
                    let index = packed.varint()?;
                    refs.push(index, batch).map_err(|reason| WireError { offset, reason })?;
                }
            }
            (1, WireType::Varint) => {
                let offset = series.offset();
                let index = series.varint()?;
                refs.push(index, batch).map_err(|reason| WireError { offset, reason })?;
            }
            (1, _) => return Err(series.error("field has the wrong wire type").into()),
            (2, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                batch.push_sample(decode_sample(series.message()?)?);
            }
            (3, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                series.bytes()?;
                batch.count_histogram();
            }
            (4, wire_type) => {
                series.expect(wire_type, WireType::Len)?;
                series.bytes()?;
                batch.count_exemplar();
            }
            (field, wire_type) => series.skip(field, wire_type)?,
        }
    }
    if refs.name.is_some() {
        return Err(WireError { offset: series_offset, reason: "odd number of label references in series" }.into());
    }
    batch.finish_series(start)
}

/// Pairs up a series' label references as they arrive.
struct LabelRefs<'s, 'a> {
    symbols: &'s [&'a str],
    /// The name of a label whose value reference has not arrived yet.
    name: Option<&'a str>,
}

impl<'a> LabelRefs<'_, 'a> {
    #[inline]
    fn push(&mut self, index: u64, batch: &mut WriteBatch<'a>) -> Result<(), &'static str> {
        let symbol = usize::try_from(index)
            .ok()
            .and_then(|index| self.symbols.get(index))
            .ok_or("label reference out of range of the symbols")?;
        match self.name.take() {
            Some(name) => batch.push_label(LabelRef { name, value: symbol }),
            None => self.name = Some(symbol),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
