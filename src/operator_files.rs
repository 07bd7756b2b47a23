//! Files the operator points a command at (PEM files for `import`, `serve --seed`): read whole,
//! bounded, as text that is wiped when dropped.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

/// A text file the operator pointed at (a PEM file, a seed file), read up to `max_bytes`;
/// zeroized when dropped, as it may hold a key. Why not, in words, if it cannot be.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<Zeroizing<String>, String> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|file| file.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("larger than {max_bytes} bytes"));
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err("not UTF-8 text".into()),
    }
}
