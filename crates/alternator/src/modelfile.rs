//! The model file: magic, version, JSON header, little-endian f32 blocks, crc32.
