//! A minimal writer (and reader, for tests) of NumPy `.npy` files: version 1.0, little-endian
//! `float64` (and `float32`, `int64` for the training engine's exports), C order — the format
//! `numpy.load`, `torch.from_numpy(np.load(..))` and `jax.numpy.load` read directly.

use std::io::Write;

use crate::error::{Error, Result};

/// The bytes of a `.npy` file holding `data` (row-major) with the given `shape`.
///
/// # Errors
/// [`Error::InvalidParameter`] when `data.len()` is not the product of `shape`.
pub fn to_bytes(data: &[f64], shape: &[usize]) -> Result<Vec<u8>> {
    encode("<f8", data.len(), shape, |out| {
        for x in data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    })
}

/// As [`to_bytes`], for `float32` data.
///
/// # Errors
/// As [`to_bytes`].
pub fn to_bytes_f32(data: &[f32], shape: &[usize]) -> Result<Vec<u8>> {
    encode("<f4", data.len(), shape, |out| {
        for x in data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    })
}

/// As [`to_bytes`], for `int64` data.
///
/// # Errors
/// As [`to_bytes`].
pub fn to_bytes_i64(data: &[i64], shape: &[usize]) -> Result<Vec<u8>> {
    encode("<i8", data.len(), shape, |out| {
        for x in data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    })
}

fn encode(
    descr: &str,
    len: usize,
    shape: &[usize],
    body: impl FnOnce(&mut Vec<u8>),
) -> Result<Vec<u8>> {
    let n: usize = shape.iter().product();
    if n != len {
        return Err(Error::invalid(
            "shape",
            n as f64,
            "a shape whose product is the number of elements",
        ));
    }
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
    // 64 bytes and ended by a newline, as the format specifies.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * len);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    let hlen = u16::try_from(header.len())
        .map_err(|_| Error::invalid("shape", shape.len() as f64, "fewer dimensions"))?;
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    body(&mut out);
    Ok(out)
}

/// Writes a new `.npy` file: `path` must not exist (it is never overwritten). Directory
/// outputs write into their staging area ([`crate::output::OutputDir`]), which makes the
/// whole set of files appear atomically per file.
///
/// # Errors
/// As [`to_bytes`]; [`Error::Io`] if `path` exists or cannot be written.
pub fn write(path: &std::path::Path, data: &[f64], shape: &[usize]) -> Result<()> {
    write_bytes(path, &to_bytes(data, shape)?)
}

/// Writes the bytes of a `.npy` file (from [`to_bytes`], [`to_bytes_f32`], [`to_bytes_i64`])
/// to a new file `path`, as [`write()`] does.
///
/// # Errors
/// [`Error::Io`] if `path` exists or cannot be written.
pub fn write_bytes(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        reason: format!("writing: {e}"),
    };
    let mut f = std::fs::File::create_new(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

/// Parses the bytes of a `.npy` file written by [`to_bytes`], [`to_bytes_f32`] or
/// [`to_bytes_i64`] (little-endian, C order): `(data as f64, shape)` (exact for all three).
///
/// # Errors
/// [`Error::Parse`] for anything else.
pub fn from_bytes(bytes: &[u8]) -> Result<(Vec<f64>, Vec<usize>)> {
    let bad = |reason: &str| Error::Parse {
        what: "npy file",
        input: String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned(),
        reason: reason.into(),
    };
    if bytes.len() < 10 || &bytes[..8] != b"\x93NUMPY\x01\x00" {
        return Err(bad("not a version 1.0 .npy file"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or_else(|| bad("short"))?)
        .map_err(|_| bad("header is not UTF-8"))?;
    let size = if header.contains("'descr': '<f8'") || header.contains("'descr': '<i8'") {
        8
    } else if header.contains("'descr': '<f4'") {
        4
    } else {
        return Err(bad(
            "only little-endian float64, float32 and int64 are supported",
        ));
    };
    if !header.contains("'fortran_order': False") {
        return Err(bad("only C order is supported"));
    }
    let int = header.contains("'descr': '<i8'");
    let open = header.find("'shape': (").ok_or_else(|| bad("no shape"))? + 10;
    let close = open + header[open..].find(')').ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = header[open..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    let body = &bytes[10 + hlen..];
    let n: usize = shape.iter().product();
    if body.len() != size * n {
        return Err(bad("data length does not match the shape"));
    }
    let data = body
        .chunks_exact(size)
        .map(|c| match (size, int) {
            (4, _) => f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))),
            (_, true) => i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64,
            _ => f64::from_le_bytes(c.try_into().expect("8 bytes")),
        })
        .collect();
    Ok((data, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header alignment, round trip, and a byte-exact header for a small matrix (the layout
    /// `numpy.save` produces for `np.zeros((2, 3))`).
    #[test]
    fn round_trip_and_layout() {
        let data: Vec<f64> = (0..6).map(|i| i as f64 * 0.5 - 1.0).collect();
        let b = to_bytes(&data, &[2, 3]).unwrap();
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(b[10 + hlen - 1], b'\n');
        let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
        assert!(header.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"));
        assert_eq!(b.len(), 10 + hlen + 48);
        assert_eq!(from_bytes(&b).unwrap(), (data, vec![2, 3]));
        let v = to_bytes(&[1.0, 2.0], &[2]).unwrap();
        assert_eq!(from_bytes(&v).unwrap().1, vec![2]);
        assert!(to_bytes(&[1.0], &[2]).is_err());
        let f = to_bytes_f32(&[0.1, -2.5], &[1, 2]).unwrap();
        assert_eq!(
            from_bytes(&f).unwrap(),
            (vec![f64::from(0.1f32), -2.5], vec![1, 2])
        );
        assert!(std::str::from_utf8(&f[10..70]).unwrap().contains("'<f4'"));
        let i = to_bytes_i64(&[3, -7, 9], &[3]).unwrap();
        assert_eq!(from_bytes(&i).unwrap(), (vec![3.0, -7.0, 9.0], vec![3]));
    }
}
