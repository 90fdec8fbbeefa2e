//! Bytes into `Model::from_bytes`: raw (almost always a checksum error), or with the
//! checksum made to match so that mutations reach the header and the blocks. A model that
//! loads must answer queries and save to the same bytes.
#![no_main]

use alternator::{IdKind, Model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let mut bytes = bytes.to_vec();
    if mode & 1 == 1 && bytes.len() >= 4 {
        // The checksum is the last 4 bytes, a crc32 of everything before.
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok((model, info)) = Model::from_bytes(&bytes, "fuzz.alt") else { return };
    assert_eq!(info.bytes, bytes.len() as u64);
    let (users, items) = (model.users().len(), model.items().len());
    assert_eq!(model.user_factors().rows(), users);
    assert_eq!(model.item_factors().rows(), items);
    if let Some(user) = model.users().ids().next().map(str::to_string) {
        let _ = model.recommend(&user, 3);
        let _ = model.similar_users(&user, 3);
        assert!(model.index_of(IdKind::User, &user).is_ok());
    }
    if let Some(item) = model.items().ids().next().map(str::to_string) {
        let _ = model.similar_items(&item, 3);
        let _ = model.recommend_users(&item, 3);
        let _ = model.recommend_for_liked(&[(item.as_str(), 5.0)], 3);
    }
    // Saving gives a file that loads back to the same model.
    let again = model.to_bytes().expect("a loaded model saves");
    let (back, _) = Model::from_bytes(&again, "again.alt").expect("a saved model loads");
    assert_eq!(back.to_bytes().expect("saves again"), again);
});
