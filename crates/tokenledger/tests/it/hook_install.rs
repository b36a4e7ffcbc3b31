//! `hook install|uninstall`: real settings files, edited by the real binary.

use crate::common::{TestContext, bin};
use std::path::{Path, PathBuf};

/// A user settings file the way Claude Code writes it (two-space JSON), with
/// unrelated settings and hooks of the user's own on two of our events.
const USER_SETTINGS: &str = r#"{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "model": "opus",
  "permissions": {
    "allow": [
      "Bash(npm run lint)",
      "Read(~/.zshrc)"
    ],
    "deny": []
  },
  "env": {
    "DISABLE_TELEMETRY": "1"
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "~/bin/check-bash.sh",
            "timeout": 5
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "say \"done\""
          }
        ]
      }
    ]
  },
  "statusLine": {
    "type": "command",
    "command": "~/.claude/statusline.sh"
  },
  "cleanupPeriodDays": 99
}
"#;

/// The command `install` writes: this test binary's real path.
fn hook_command() -> String {
    let exe = std::fs::canonicalize(bin()).unwrap();
    format!("{} hook claude-code", exe.display())
}

fn group(matcher: Option<&str>, indent: &str) -> String {
    let command = hook_command();
    let matcher = matcher
        .map(|m| format!("{indent}  \"matcher\": \"{m}\",\n"))
        .unwrap_or_default();
    format!(
        "{indent}{{\n{matcher}{indent}  \"hooks\": [\n{indent}    {{\n{indent}      \"type\": \"command\",\n{indent}      \"command\": \"{command}\"\n{indent}    }}\n{indent}  ]\n{indent}}}"
    )
}

/// USER_SETTINGS after install, byte for byte: every user byte in place, our
/// groups appended to the user's events, new events after the user's.
fn expected_after_install() -> String {
    let g = |m| group(m, "      ");
    let with_ours = USER_SETTINGS
        .replace(
            "            \"timeout\": 5\n          }\n        ]\n      }\n    ],",
            &format!(
                "            \"timeout\": 5\n          }}\n        ]\n      }},\n{}\n    ],",
                g(Some("Task|Agent"))
            ),
        )
        .replace(
            "            \"command\": \"say \\\"done\\\"\"\n          }\n        ]\n      }\n    ]\n  },",
            &format!(
                "            \"command\": \"say \\\"done\\\"\"\n          }}\n        ]\n      }},\n{}\n    ],\n    \"SessionStart\": [\n{}\n    ],\n    \"SessionEnd\": [\n{}\n    ],\n    \"SubagentStop\": [\n{}\n    ]\n  }},",
                g(None),
                g(None),
                g(None),
                g(None)
            ),
        );
    assert_ne!(
        with_ours, USER_SETTINGS,
        "the test's anchors no longer match"
    );
    with_ours
}

fn user_settings_path(t: &TestContext) -> PathBuf {
    // TestContext sets HOME to its temporary directory.
    t.dir.path().join(".claude/settings.json")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn backups(path: &Path) -> Vec<PathBuf> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut found: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.bak-"))
        })
        .collect();
    found.sort();
    found
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn install_keeps_every_user_byte_and_uninstall_restores_the_file() {
    let t = TestContext::new();
    let path = user_settings_path(&t);
    write(&path, USER_SETTINGS);

    let run = t.run(&["hook", "install", "claude-code"]).success();
    let out = stdout(&run);
    assert!(
        out.contains(&format!(
            "Installed tokenledger's Claude Code hooks in {}",
            path.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "added:   SessionStart, SessionEnd, Stop, SubagentStop, PreToolUse (Task|Agent)"
        ),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        expected_after_install()
    );

    // The backup is the file as it was, and the output names it.
    let found = backups(&path);
    assert_eq!(found.len(), 1);
    assert_eq!(std::fs::read_to_string(&found[0]).unwrap(), USER_SETTINGS);
    assert!(out.contains(&found[0].display().to_string()), "{out}");

    let run = t.run(&["hook", "uninstall", "claude-code"]).success();
    assert!(
        stdout(&run).contains("Removed tokenledger's Claude Code hooks from"),
        "{}",
        stdout(&run)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), USER_SETTINGS);
}

#[test]
fn installing_twice_changes_nothing_and_writes_no_second_backup() {
    let t = TestContext::new();
    let path = user_settings_path(&t);
    write(&path, USER_SETTINGS);
    t.run(&["hook", "install", "claude-code"]).success();
    let after_first = std::fs::read(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

    let run = t.run(&["hook", "install", "claude-code"]).success();
    assert!(
        stdout(&run).contains("already installed"),
        "{}",
        stdout(&run)
    );
    assert_eq!(std::fs::read(&path).unwrap(), after_first);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(backups(&path).len(), 1);

    // Uninstalling twice is just as calm.
    t.run(&["hook", "uninstall", "claude-code"]).success();
    let run = t.run(&["hook", "uninstall", "claude-code"]).success();
    assert!(stdout(&run).contains("No tokenledger hooks to remove"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), USER_SETTINGS);
}

#[test]
fn malformed_settings_are_left_untouched_with_the_reason() {
    for (text, reason) in [
        (
            "{\n  \"model\": \"opus\",\n}\n",
            ".claude/settings.json:3:1: not valid JSON",
        ),
        (
            "{\n  \"hooks\": \"Stop\"\n}\n",
            ".claude/settings.json:2:17: unexpected settings shape: invalid type: string \"Stop\", expected a map",
        ),
        (
            "{\n  \"hooks\": {\n    \"Stop\": {\"command\": \"x\"}\n  }\n}\n",
            ".claude/settings.json:3:12: unexpected settings shape: invalid type: map, expected a sequence (Claude Code expects \"hooks\": {\"EventName\": [{\"matcher\"",
        ),
        (
            "[]\n",
            ".claude/settings.json:1:1: unexpected settings shape: the top level is an array",
        ),
    ] {
        for verb in ["install", "uninstall"] {
            let t = TestContext::new();
            let path = user_settings_path(&t);
            write(&path, text);
            let run = t.run(&["hook", verb, "claude-code"]).code(2);
            let err = stderr(&run);
            assert!(err.contains(reason), "{verb} {text:?}: {err}");
            assert!(err.contains("was left untouched"), "{err}");
            assert!(stdout(&run).is_empty());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
            assert!(backups(&path).is_empty());
        }
    }
}

#[test]
fn a_missing_settings_file_is_created() {
    let t = TestContext::new();
    let path = user_settings_path(&t);
    t.run(&["hook", "install", "claude-code"]).success();
    let text = std::fs::read_to_string(&path).unwrap();
    let expected = format!(
        "{{\n  \"hooks\": {{\n    \"SessionStart\": [\n{g}\n    ],\n    \"SessionEnd\": [\n{g}\n    ],\n    \"Stop\": [\n{g}\n    ],\n    \"SubagentStop\": [\n{g}\n    ],\n    \"PreToolUse\": [\n{p}\n    ]\n  }}\n}}\n",
        g = group(None, "      "),
        p = group(Some("Task|Agent"), "      ")
    );
    assert_eq!(text, expected);
    assert!(backups(&path).is_empty(), "nothing existed to back up");

    // What we added is all there was, so uninstall leaves an empty object.
    t.run(&["hook", "uninstall", "claude-code"]).success();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
}

#[test]
fn project_settings_are_edited_in_the_current_directory() {
    let t = TestContext::new();
    let project = t.dir.path().join("work/app");
    let path = project.join(".claude/settings.json");
    write(
        &path,
        "{\n  \"permissions\": {\n    \"allow\": []\n  }\n}\n",
    );
    let run = t
        .cmd()
        .current_dir(&project)
        .args(["hook", "install", "claude-code", "--project"])
        .assert()
        .success();
    assert!(stdout(&run).contains(&path.display().to_string()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\n  \"permissions\": {\n    \"allow\": []\n  },\n  \"hooks\": {"));
    assert_eq!(text.matches(" hook claude-code\"").count(), 5);
    assert!(!user_settings_path(&t).exists(), "user settings untouched");

    t.cmd()
        .current_dir(&project)
        .args(["hook", "uninstall", "claude-code", "--project"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\n  \"permissions\": {\n    \"allow\": []\n  }\n}\n"
    );
}

#[test]
fn claude_config_dir_wins_over_home() {
    let t = TestContext::new();
    let first = t.dir.path().join("cc-config");
    let second = t.dir.path().join("other");
    t.cmd()
        .env(
            "CLAUDE_CONFIG_DIR",
            format!("{},{}", first.display(), second.display()),
        )
        .args(["hook", "install", "claude-code"])
        .assert()
        .success();
    assert!(first.join("settings.json").exists());
    assert!(!second.join("settings.json").exists());
    assert!(!user_settings_path(&t).exists());
}

#[cfg(unix)]
#[test]
fn permissions_of_the_settings_file_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestContext::new();
    let path = user_settings_path(&t);
    write(&path, USER_SETTINGS);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    t.run(&["hook", "install", "claude-code"]).success();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&backups(&path)[0]), 0o600);
}

#[test]
fn uninstall_removes_only_our_handlers() {
    let t = TestContext::new();
    let path = user_settings_path(&t);
    // An older install from another path, sharing a group with a user hook.
    let text = "{\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"say done\"\n          },\n          {\n            \"type\": \"command\",\n            \"command\": \"/old/place/tokenledger hook claude-code\"\n          }\n        ]\n      }\n    ]\n  }\n}\n";
    write(&path, text);
    t.run(&["hook", "uninstall", "claude-code"]).success();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"say done\"\n          }\n        ]\n      }\n    ]\n  }\n}\n"
    );
}

#[test]
fn openclaw_install_prints_the_agents_section_and_uninstall_has_nothing_to_do() {
    let t = TestContext::new();
    let run = t.run(&["hook", "install", "openclaw"]).success();
    let out = stdout(&run);
    let exe = std::fs::canonicalize(bin()).unwrap();
    assert!(out.starts_with("## 📊 Session-End Token Logging (CRITICAL)\n"));
    assert!(out.contains(&format!(
        "{} log --session YOUR_SESSION_KEY --agent YOUR_AGENT_ID",
        exe.display()
    )));
    assert!(out.contains(&t.register_path().display().to_string()));
    assert!(stderr(&run).contains("paste the section above into AGENTS.md"));
    assert!(
        !t.register_path().exists(),
        "install openclaw writes nothing"
    );

    let run = t.run(&["hook", "uninstall", "openclaw"]).success();
    assert!(stdout(&run).starts_with("Nothing to remove"));

    t.run(&["hook", "install", "openclaw", "--project"]).code(2);
}
