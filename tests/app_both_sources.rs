//! The window with a mailbox log attached: the Item history and SyncKey chains views show
//! Exchange's events and chain beside the capture's, driven headless through egui_kittest.

use easlens_app::{AppCommand, EaslensApp, View};
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until};

#[test]
fn history_and_synckeys_show_exchanges_view_when_a_log_is_attached() {
    let app = EaslensApp::new(Some(sample("calendar-lifecycle-iphone.saz")))
        .with_log(Some(sample("calendar-lifecycle-iphone.mailbox-log.txt")));
    let mut h = harness(app);
    step_until(&mut h, "the log to be aligned", |a| a.log.attached().is_some());
    step_until(&mut h, "the analysis", |a| !a.analysis.is_computing());
    h.state_mut().push(AppCommand::FollowItem("1:25".into()));
    h.run_steps(4);
    assert_eq!(h.state().view, View::History);
    let trace = h.state().history.events.clone();
    let log = h.state().history.log_events.clone();
    assert_eq!(log.len(), trace.len(), "{log:?}");
    // Every log entry is matched to the trace session of the same operation, in the capture's clock.
    for ((e, matched), t) in log.iter().zip(&trace) {
        assert_eq!(*matched, Some(t.session));
        assert_eq!((e.direction, e.action), (t.direction, t.action));
        let (a, b) = (e.time.unwrap(), t.time.unwrap());
        assert!((a - b).num_seconds().abs() <= 5, "{a} {b}");
    }
    h.get_by_label_contains("Exchange (mailbox log): 7 operations on this item");
    h.state_mut().view = View::SyncKeys;
    h.run_steps(3);
    h.get_by_label_contains("Exchange (mailbox log):");
}
