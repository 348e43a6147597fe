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

/// Temp file of this process for the output `path`: `.NAME.PID.tmp` beside it (a process killed
/// mid-write leaves it; [`clean_stale_temps`] removes it on a later run).
pub fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| IoError::new(path, "not a file path"))?;
    Ok(path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id())))
}

/// True while a process with this id exists (a zombie counts; so may an unrelated process that
/// reused the id, which only means a stale temp file is kept a little longer).
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temp files of the output `path` left by choreo processes that are gone:
/// plain files named `.NAME.PID.tmp` (NAME the output's file name) whose PID is no longer alive.
/// Nothing else is touched. Best effort: a folder that cannot be read is left alone.
pub fn clean_stale_temps(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else { return };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else { continue };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid == std::process::id() || pid_alive(pid) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Gets the output `path` ready to be written: refuses anything there that is not a regular file
/// (a folder, a device such as /dev/full, a pipe, a socket), creates missing parent folders (the
/// one rule for every output of every command), and removes stale temp files of dead choreo
/// processes for this output.
pub fn prepare_output(path: &Path) -> Result<()> {
    if path.file_name().is_none() {
        return Err(IoError::new(path, "not a file path"));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(IoError::new(path, "is a directory")),
        Ok(m) if !m.is_file() => {
            return Err(IoError::new(path, "not a regular file (outputs are written only to regular files)"))
        }
        _ => {}
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| IoError::new(dir, e))?;
    }
    clean_stale_temps(path);
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temp file beside it is written, synced and renamed over
/// the target, so a failed write leaves any previous file byte-identical. Missing parent folders
/// are created; a target that exists and is not a regular file is refused (see [`prepare_output`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    prepare_output(path)?;
    let tmp = temp_path(path)?;
    let res = (|| -> std::io::Result<()> {
        // A leftover of an earlier process with this id is ours to replace; never follow a link.
        let _ = fs::remove_file(&tmp);
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
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

/// A uint8 .npy of `shape` holding `data` (C order), as NumPy writes it.
pub fn npy_u8(data: &[u8], shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({}), }}", dims.join(", "));
    header.push_str(&" ".repeat((64 - (10 + header.len() + 1) % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
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
        // A read-only folder makes the temp file fail: `p` keeps its bytes, no temp is left.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let can_write_anyway = fs::File::create(dir.path().join("probe")).is_ok(); // root ignores modes
        let res = write_atomic(&p, b"new");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        if !can_write_anyway {
            assert!(res.is_err());
            assert_eq!(fs::read(&p).unwrap(), b"old");
        }
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn missing_parent_folders_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/w.bin");
        write_atomic(&p, b"x").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn special_files_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(dir.path(), b"x").unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = write_atomic(Path::new("/dev/full"), b"x").unwrap_err().to_string();
        assert!(e.starts_with("/dev/full: not a regular file"), "{e}");
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/full").unwrap().file_type().is_char_device());
        let e = write_atomic(Path::new("/dev/null"), b"x").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.mp4");
        // A pid that cannot be alive (above pid_max), one that is (this process' parent), and
        // names that only look alike.
        let dead = dir.path().join(".x.mp4.4194999.tmp");
        let alive = dir.path().join(format!(".x.mp4.{}.tmp", std::os::unix::process::parent_id()));
        let others = [".x.mp4.12a.tmp", ".y.mp4.4194999.tmp", "x.mp4.4194999.tmp", ".x.mp4.4194999.tmp.bak", ".x.mp4..tmp"];
        for p in [&dead, &alive] {
            fs::write(p, b"partial").unwrap();
        }
        for o in others {
            fs::write(dir.path().join(o), b"user").unwrap();
        }
        write_atomic(&out, b"done").unwrap();
        assert!(!dead.exists());
        assert!(alive.exists());
        for o in others {
            assert!(dir.path().join(o).exists(), "{o}");
        }
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
