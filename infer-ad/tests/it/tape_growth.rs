//! The count of parameter bindings on a tape since it was cleared, and the one-time
//! warning of a debug build when a loop forgets `Tape::clear`.

use infer_ad::{ParamStore, Tape, UNCLEARED_BINDS_WARNING};
use ndarray::arr1;

#[test]
fn bindings_are_counted_until_the_tape_is_cleared() {
    let mut s = ParamStore::new();
    s.add("w", arr1(&[1.0, 2.0])).unwrap();
    let mut tape = Tape::new();
    assert_eq!(tape.binds_since_clear(), 0);
    for k in 1..=5 {
        let b = s.bind(&tape);
        b.leaves()[0].sum().backward();
        assert_eq!(tape.binds_since_clear(), k);
    }
    let _ = s.bind_flat(&tape, &[0.0, 0.0]).unwrap();
    assert_eq!(tape.binds_since_clear(), 6);
    tape.clear();
    assert_eq!(tape.binds_since_clear(), 0);
    // a cleared loop never counts past one
    for _ in 0..10 {
        tape.clear();
        let _ = s.bind(&tape);
        assert_eq!(tape.binds_since_clear(), 1);
    }
}

/// Set in the child process of `forgotten_clear_warns_once_in_debug_builds`.
const CHILD: &str = "INFER_AD_TAPE_GROWTH_CHILD";

#[test]
fn forgotten_clear_warns_once_in_debug_builds() {
    let mut s = ParamStore::new();
    s.add("w", arr1(&[1.0])).unwrap();
    if std::env::var_os(CHILD).is_some() {
        // the child: a training loop without `tape.clear()`, on two tapes
        for _ in 0..2 {
            let tape = Tape::new();
            for _ in 0..3 * UNCLEARED_BINDS_WARNING {
                let b = s.bind(&tape);
                b.leaves()[0].square().sum().backward();
            }
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "tape_growth::forgotten_clear_warns_once_in_debug_builds",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings = stderr.matches("infer-ad warning").count();
    if cfg!(debug_assertions) {
        assert_eq!(warnings, 1, "{stderr}");
        assert!(stderr.contains("without Tape::clear"), "{stderr}");
    } else {
        assert_eq!(warnings, 0, "release builds only count: {stderr}");
    }
}
