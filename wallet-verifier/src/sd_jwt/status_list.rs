//! The Token Status List codec (draft-ietf-oauth-status-list): `bits` bits per credential,
//! packed least significant bits first in each byte, zlib-compressed (RFC 1950), base64url
//! in the `lst` claim. Entry `i` lives in byte `i * bits / 8`, at bit `(i * bits) % 8`.

use std::fmt;
use std::io::{Read as _, Write as _};

use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::json::{b64, b64_decode};

pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
pub const SUSPENDED: u8 = 2;

/// Largest list we build or inflate (bytes, uncompressed): 16 MiB is 67 million 2-bit
/// entries; more from a server is a zip bomb.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    #[error("bits per status must be 1, 2, 4 or 8, not {0}")]
    BadBits(u8),
    #[error("status index {0} is outside the list")]
    IndexOutOfRange(u64),
    #[error("status value {value} does not fit in {bits} bits")]
    ValueTooLarge { value: u8, bits: u8 },
    #[error("a status list may hold at most {MAX_LIST_BYTES} bytes uncompressed")]
    TooLarge,
    #[error("the status list is empty")]
    Empty,
    #[error("lst is not base64url of a zlib stream")]
    Garbage,
}

/// A list of statuses, one per issued credential.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    len: u64,
    bytes: Vec<u8>,
}

impl fmt::Debug for StatusList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl StatusList {
    /// `len` entries of `bits` bits, all VALID.
    pub fn new(bits: u8, len: u64) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        if len == 0 {
            return Err(StatusListError::Empty);
        }
        let bytes = len
            .checked_mul(u64::from(bits))
            .map(|b| b.div_ceil(8))
            .and_then(|b| usize::try_from(b).ok())
            .filter(|b| *b <= MAX_LIST_BYTES)
            .ok_or(StatusListError::TooLarge)?;
        Ok(StatusList {
            bits,
            len,
            bytes: vec![0; bytes],
        })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries. A list read from `lst` has as many as its bytes can hold.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed bytes, uncompressed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn get(&self, idx: u64) -> Option<u8> {
        let (byte, shift) = self.position(idx)?;
        Some((self.bytes[byte] >> shift) & self.mask())
    }

    pub fn set(&mut self, idx: u64, value: u8) -> Result<(), StatusListError> {
        if value > self.mask() {
            return Err(StatusListError::ValueTooLarge {
                value,
                bits: self.bits,
            });
        }
        let (byte, shift) = self
            .position(idx)
            .ok_or(StatusListError::IndexOutOfRange(idx))?;
        let mask = self.mask() << shift;
        self.bytes[byte] = (self.bytes[byte] & !mask) | (value << shift);
        Ok(())
    }

    /// `base64url(zlib(bytes))` at the best compression: lists are published often and
    /// fetched by every verifier.
    pub fn to_lst(&self) -> Result<String, StatusListError> {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&self.bytes)
            .map_err(|_| StatusListError::Garbage)?;
        let compressed = z.finish().map_err(|_| StatusListError::Garbage)?;
        Ok(b64(&compressed))
    }

    /// Decodes `lst`, inflating at most [`MAX_LIST_BYTES`] (a zip bomb is refused, not
    /// inflated) and refusing bytes after the zlib stream.
    pub fn from_lst(bits: u8, lst: &str) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        let compressed = b64_decode(lst).ok_or(StatusListError::Garbage)?;
        let mut z = ZlibDecoder::new(compressed.as_slice());
        let mut bytes = Vec::new();
        (&mut z)
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Garbage)?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusListError::TooLarge);
        }
        if !z.get_ref().is_empty() {
            return Err(StatusListError::Garbage);
        }
        if bytes.is_empty() {
            return Err(StatusListError::Empty);
        }
        Ok(StatusList {
            bits,
            len: bytes.len() as u64 * 8 / u64::from(bits),
            bytes,
        })
    }

    fn mask(&self) -> u8 {
        ((1u16 << self.bits) - 1) as u8
    }

    /// (byte index, bit shift) of entry `idx`.
    fn position(&self, idx: u64) -> Option<(usize, u32)> {
        if idx >= self.len {
            return None;
        }
        let bit = idx * u64::from(self.bits);
        Some((usize::try_from(bit / 8).ok()?, (bit % 8) as u32))
    }
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(StatusListError::BadBits(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_example_one_bit() {
        // draft-ietf-oauth-status-list, section 4.1: 16 entries, bits 1,
        // statuses 1 0 0 1 1 1 0 1 | 1 1 0 0 0 1 0 1 -> bytes B9 A3.
        let list = StatusList::from_lst(1, "eNrbuRgAAhcBXQ").expect("the draft's example");
        assert_eq!(list.bytes(), [0xb9, 0xa3]);
        let statuses: Vec<u8> = (0..16).map(|i| list.get(i).unwrap_or(9)).collect();
        assert_eq!(statuses, [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
    }

    #[test]
    fn lsb_first_two_bits() {
        let mut list = StatusList::new(2, 8).expect("small list");
        list.set(0, INVALID).expect("in range");
        list.set(1, SUSPENDED).expect("in range");
        list.set(3, 3).expect("in range");
        list.set(4, INVALID).expect("in range");
        // byte 0: entry0=01, entry1=10, entry2=00, entry3=11 -> 0b11_00_10_01
        assert_eq!(list.bytes(), [0b1100_1001, 0b0000_0001]);
        assert_eq!(list.set(8, 1), Err(StatusListError::IndexOutOfRange(8)));
        assert_eq!(
            list.set(0, 4),
            Err(StatusListError::ValueTooLarge { value: 4, bits: 2 })
        );
        let back = StatusList::from_lst(2, &list.to_lst().expect("compresses")).expect("decodes");
        assert_eq!(back, list);
    }

    #[test]
    fn sizes_are_bounded() {
        assert_eq!(StatusList::new(3, 8), Err(StatusListError::BadBits(3)));
        assert_eq!(StatusList::new(1, 0), Err(StatusListError::Empty));
        assert_eq!(
            StatusList::new(8, MAX_LIST_BYTES as u64 + 1),
            Err(StatusListError::TooLarge)
        );
        assert_eq!(StatusList::new(8, u64::MAX), Err(StatusListError::TooLarge));
    }
}
