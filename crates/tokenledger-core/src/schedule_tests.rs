use super::*;

fn args(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

fn daily() -> Schedule {
    Schedule::new(
        None,
        "20:00",
        "Europe/Berlin",
        args("report daily --send telegram --rotate"),
    )
    .unwrap()
}

#[test]
fn the_name_defaults_to_the_command_words() {
    let s = daily();
    assert_eq!(s.name, "report-daily");
    assert_eq!(s.cron_expr().unwrap(), "0 20 * * *");
    assert_eq!(s.on_calendar().unwrap(), "*-*-* 20:00:00 Europe/Berlin");
}

#[test]
fn times_are_normalized_and_checked() {
    let s = Schedule::new(Some("x"), "7:05", "UTC", args("report")).unwrap();
    assert_eq!(s.at, "07:05");
    for bad in ["24:00", "20", "20:5", "ab:cd", "-1:00", "20:60", "120:00"] {
        let err = Schedule::new(Some("x"), bad, "UTC", args("report")).unwrap_err();
        assert!(err.to_string().contains("--at"), "{bad}: {err}");
    }
}

#[test]
fn bad_input_names_the_flag() {
    let tz = Schedule::new(None, "20:00", "Mars/Olympus", args("report")).unwrap_err();
    assert!(tz.to_string().contains("--tz"), "{tz}");
    let name = Schedule::new(Some("a b"), "20:00", "UTC", args("report")).unwrap_err();
    assert!(name.to_string().contains("--name"), "{name}");
    let empty = Schedule::new(None, "20:00", "UTC", vec![]).unwrap_err();
    assert!(empty.to_string().contains("after `--`"), "{empty}");
    let newline = Schedule::new(None, "20:00", "UTC", vec!["a\nb".into()]).unwrap_err();
    assert!(newline.to_string().contains("line break"), "{newline}");
}

#[test]
fn next_run_follows_the_zone_across_dst() {
    let s = daily();
    // 2026-03-29 is the spring-forward day in Berlin: 20:00 is UTC+2.
    let now: Timestamp = "2026-03-29T12:00:00Z".parse().unwrap();
    assert_eq!(s.next_run(now).unwrap().to_string(), "2026-03-29T18:00:00Z");
    let after: Timestamp = "2026-03-29T18:00:00Z".parse().unwrap();
    assert_eq!(
        s.next_run(after).unwrap().to_string(),
        "2026-03-30T18:00:00Z"
    );
    let winter: Timestamp = "2026-01-10T19:30:00Z".parse().unwrap();
    assert_eq!(
        s.next_run(winter).unwrap().to_string(),
        "2026-01-11T19:00:00Z"
    );
}

#[test]
fn upsert_is_idempotent_and_the_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = Schedules::path_in(dir.path());
    let mut all = Schedules::load(&path).unwrap();
    assert!(all.schedules.is_empty());
    assert_eq!(all.upsert(daily()), Change::Added);
    assert_eq!(all.upsert(daily()), Change::Unchanged);
    let mut later = daily();
    later.at = "21:00".into();
    assert_eq!(
        all.upsert(later.clone()),
        Change::Replaced(Box::new(daily()))
    );
    all.save(&path).unwrap();
    let loaded = Schedules::load(&path).unwrap();
    assert_eq!(loaded, all);
    assert_eq!(loaded.get("report-daily"), Some(&later));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[[schedule]]"), "{text}");
    let mut loaded = loaded;
    assert_eq!(loaded.remove("report-daily"), Some(later));
    assert_eq!(loaded.remove("report-daily"), None);
}

#[test]
fn a_malformed_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = Schedules::path_in(dir.path());
    std::fs::write(&path, "[[schedule]]\nname = 3\n").unwrap();
    let err = Schedules::load(&path).unwrap_err().to_string();
    assert!(err.contains("schedules.toml"), "{err}");
}

#[test]
fn a_run_is_claimed_once_and_old_claims_are_removed() {
    let home = tempfile::tempdir().unwrap();
    let due: Timestamp = "2026-03-01T20:00:00Z".parse().unwrap();
    assert!(claim_run_in(home.path(), "report-daily", due).unwrap());
    assert!(!claim_run_in(home.path(), "report-daily", due).unwrap());
    assert!(claim_run_in(home.path(), "alert-check", due).unwrap());
    let later = due + jiff::SignedDuration::from_hours(24 * 40);
    assert!(claim_run_in(home.path(), "report-daily", later).unwrap());
    let left = std::fs::read_dir(home.path().join(RUNS_DIR))
        .unwrap()
        .count();
    assert_eq!(left, 1, "claims older than 30 days are removed");
    assert!(claim_run_in(home.path(), "../x", due).is_err());
}
