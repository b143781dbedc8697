//! Config errors as the CLI prints them.

use sessionkeeper_tests::*;

#[test]
fn broken_configs_name_file_line_and_key() {
    let env = TestEnv::new("c-broken");
    let path = env.config_path();
    let cases = [
        (
            "[profiles.mtn]\ntracked_ttl = \"soon\"\n",
            2,
            "profiles.mtn.tracked_ttl",
            "\"24h\"",
        ),
        (
            "[profiles.mtn]\ncapture = \"manual\"\nwarn_befor = \"5m\"\n",
            3,
            "profiles.mtn.warn_befor",
            "warn_before",
        ),
        (
            "[profiles.mtn]\ncapture = \"manual\"\n[profiles.mtn.validate]\nurl = \"http://example.com/api\"\n",
            4,
            "profiles.mtn.validate.url",
            "loopback",
        ),
        (
            "[[profiles.mtn.push]]\nto = \"nowhere\"\n",
            2,
            "profiles.mtn.push[0].to",
            "valid values are file",
        ),
        ("[profiles.mtn\n", 1, "", "unclosed table"),
    ];
    for (text, line, key, hint) in cases {
        env.write_config(text);
        let run = env.run(&["validate", "--config", path.to_str().expect("utf-8 path")]);
        run.assert_code(2);
        let expected_prefix = format!("sessionkeeper: {}:{line}:", path.display());
        assert!(
            run.stderr.starts_with(&expected_prefix),
            "want {expected_prefix:?} in {:?}",
            run.stderr
        );
        if !key.is_empty() {
            assert!(
                run.stderr.contains(&format!("key `{key}`")),
                "want key {key} in {:?}",
                run.stderr
            );
        }
        assert!(
            run.stderr.contains(hint),
            "want hint {hint:?} in {:?}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_config_says_how_to_make_one() {
    let env = TestEnv::new("c-missing");
    let run = env.run(&["status"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("file not found") && run.stderr.contains("--config"),
        "{}",
        run.stderr
    );
}
