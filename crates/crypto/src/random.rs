//! Randomness from the operating system. A failing RNG is reported, never papered over.

use strongroom_core::Error;

/// `N` bytes from the OS random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::internal(format!("operating system RNG failed: {e}")))?;
    Ok(bytes)
}

/// A new random identifier of any id type from `strongroom_core::ids`.
pub fn new_id<T>(make: fn([u8; 16]) -> T) -> Result<T, Error> {
    Ok(make(random_bytes::<16>()?))
}
