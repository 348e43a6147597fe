//! Small file helpers: atomic writes (temp file in the same folder, fsync, rename) and .npy output.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be read or written, with the path first: `path: what went wrong`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct IoError {
    pub path: PathBuf,
    pub reason: String,
}

impl IoError {
    pub fn new(path: &Path, reason: impl std::fmt::Display) -> Self {
        IoError { path: path.to_path_buf(), reason: reason.to_string() }
    }
}

pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// SHA-256 of `bytes`, lowercase hex (weights and index files record it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(bytes);
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` atomically: a temp file beside it is written, synced and renamed over
/// the target, so a failed write leaves any previous file byte-identical.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let name = path.file_name().ok_or_else(|| IoError::new(path, "not a file path"))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(IoError::new(path, e));
    }
    Ok(())
}

/// Encodes a row-major `rows × cols` float32 matrix as a NumPy .npy (format 1.0) byte buffer.
pub fn npy_f32(data: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols, "npy_f32: data does not match its shape");
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Reads a float32 2-D .npy written by [`npy_f32`] or NumPy (little-endian, C order).
pub fn read_npy_f32(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let bytes = fs::read(path).map_err(|e| IoError::new(path, e))?;
    let bad = |why: &str| IoError::new(path, format!("not a float32 2-D .npy file ({why})"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no NumPy magic"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or_else(|| bad("truncated header"))?)
        .map_err(|_| bad("header is not text"))?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("dtype must be <f4 in C order"));
    }
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        _ => return Err(bad("shape must be 1-D or 2-D")),
    };
    let body = &bytes[10 + hlen..];
    if body.len() != rows * cols * 4 {
        return Err(bad("data length does not match the shape"));
    }
    let data = body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((data, rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_roundtrip_and_alignment() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let data: Vec<f32> = (0..39).map(|i| i as f32 * 0.5).collect();
        let bytes = npy_f32(&data, 3, 13);
        assert_eq!((bytes.len() - data.len() * 4) % 64, 0);
        write_atomic(&p, &bytes).unwrap();
        let (back, r, c) = read_npy_f32(&p).unwrap();
        assert_eq!((r, c), (3, 13));
        assert_eq!(back, data);
    }

    #[test]
    fn failed_atomic_write_keeps_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.bin");
        write_atomic(&p, b"old").unwrap();
        // Writing into a folder that does not exist fails and must not touch `p`.
        assert!(write_atomic(&dir.path().join("missing/w.bin"), b"new").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
    }
}

/// Writes an RGB8 image as PNG (atomically).
pub fn write_png_rgb(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| IoError::new(path, e))?;
        w.write_image_data(rgb).map_err(|e| IoError::new(path, e))?;
    }
    write_atomic(path, &buf)
}
