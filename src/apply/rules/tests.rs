//! Unit tests of the domain rules: no database.

use super::*;

// ---------------------------------------------------------------- helpers

const MIN: i64 = 60_000;
const NOW: i64 = 10_000_000;
const CLOCK: Clock = Clock {
    now: NOW,
    cooldown: 30 * MIN,
};
/// Well outside the cool-down.
const LONG_AGO: i64 = NOW - 120 * MIN;

const ANN: &str = "ann@contoso.com";
const BOB: &str = "bob@contoso.com";
const N1: &str = "+12025550101";
const N2: &str = "+12025550102";
const N3: &str = "+12025550103";

use Role::{Additional, Primary};

/// The i-th filler number (distinct from N1..N3).
fn nth(i: u32) -> String {
    format!("+1303555{:04}", 1000 + i)
}

fn user(upn: &str, plan: Plan) -> UserRec {
    UserRec {
        upn: upn.to_string(),
        display_name: String::new(),
        plan,
        voice_enabled: true,
        removed_at: None,
    }
}

fn unlicensed(upn: &str) -> UserRec {
    UserRec {
        voice_enabled: false,
        ..user(upn, Plan::Connect)
    }
}

fn removed(upn: &str) -> UserRec {
    UserRec {
        removed_at: Some(NOW - 10 * MIN),
        ..user(upn, Plan::Connect)
    }
}

/// A subscriber number nobody holds and nobody ever had.
fn num(e164: &str) -> NumberRec {
    NumberRec {
        e164: e164.to_string(),
        number_type: NumberType::Subscriber,
        state: NumberState::Available,
        given_to: None,
        given_at: None,
    }
}

fn service(e164: &str) -> NumberRec {
    NumberRec {
        number_type: NumberType::Service,
        ..num(e164)
    }
}

fn released(e164: &str) -> NumberRec {
    NumberRec {
        state: NumberState::Released,
        ..num(e164)
    }
}

/// A number `upn` holds in `role`, given to them long ago.
fn held(e164: &str, upn: &str, role: Role) -> NumberRec {
    NumberRec {
        state: NumberState::Assigned {
            holder: upn.to_string(),
            role,
        },
        ..given(num(e164), upn, LONG_AGO)
    }
}

/// `n` with its cool-down memory set: last given to `upn` at `at`.
fn given(n: NumberRec, upn: &str, at: i64) -> NumberRec {
    NumberRec {
        given_to: Some(upn.to_string()),
        given_at: Some(at),
        ..n
    }
}

/// `n` as the rules write it once held by `upn` in `role`, keeping its
/// cool-down memory (a move between a user's own roles).
fn moved(n: &NumberRec, upn: &str, role: Role) -> NumberRec {
    NumberRec {
        state: NumberState::Assigned {
            holder: upn.to_string(),
            role,
        },
        ..n.clone()
    }
}

/// `n` as the rules write it once newly given to `upn` in `role` now.
fn given_now(n: &NumberRec, upn: &str, role: Role) -> NumberRec {
    given(moved(n, upn, role), upn, NOW)
}

/// `n` available again, remembering who had it.
fn freed(n: &NumberRec) -> NumberRec {
    NumberRec {
        state: NumberState::Available,
        ..n.clone()
    }
}

/// `count` additional numbers held by `upn` (no primary among them).
fn additionals(upn: &str, count: u32) -> Vec<NumberRec> {
    (0..count).map(|i| held(&nth(i), upn, Additional)).collect()
}

/// `count` numbers held by `upn`: the first as primary, the rest additional.
fn with_primary(upn: &str, count: u32) -> Vec<NumberRec> {
    let mut v = additionals(upn, count);
    if let Some(first) = v.first_mut() {
        *first = moved(first, upn, Primary);
    }
    v
}

/// Snapshot builder.
#[derive(Default)]
struct Snap(Snapshot);

impl Snap {
    fn of(u: UserRec) -> Snap {
        Snap(Snapshot {
            user: Some(u),
            ..Snapshot::default()
        })
    }

    fn no_user() -> Snap {
        Snap::default()
    }

    /// The user holds `n` (not the number the row names). The snapshot
    /// carries its full record too, as the store loads it for the rows that
    /// `needs_held_records`.
    fn holds(mut self, n: NumberRec) -> Snap {
        if let Some((_, role)) = n.holder() {
            self.0.held.push(Holding {
                e164: n.e164.clone(),
                role,
            });
        }
        self.0.held_records.push(n);
        self
    }

    fn holds_all(self, ns: Vec<NumberRec>) -> Snap {
        ns.into_iter().fold(self, Snap::holds)
    }

    /// The number the row names.
    fn number(mut self, n: NumberRec) -> Snap {
        self.0.number = Some(n);
        self
    }

    /// The number the row names, which the user holds.
    fn holds_it(self, n: NumberRec) -> Snap {
        self.holds(n.clone()).number(n)
    }
}

fn row(action: Action, upn: &str, number: &str) -> Op {
    Op::Assignment {
        action,
        upn: (!upn.is_empty()).then(|| upn.to_string()),
        number: number.to_string(),
    }
}

fn upsert(upn: &str, name: Option<&str>, plan: Option<Plan>, voice: Option<bool>) -> Op {
    Op::User {
        action: Action::Upsert,
        upn: upn.to_string(),
        display_name: name.map(str::to_string),
        plan,
        voice_enabled: voice,
    }
}

fn remove(upn: &str) -> Op {
    Op::User {
        action: Action::Remove,
        upn: upn.to_string(),
        display_name: None,
        plan: None,
        voice_enabled: None,
    }
}

fn number_add(number: &str, t: Option<NumberType>) -> Op {
    Op::Number {
        action: Action::Add,
        number: number.to_string(),
        number_type: t,
    }
}

fn number_release(number: &str) -> Op {
    Op::Number {
        action: Action::Release,
        number: number.to_string(),
        number_type: None,
    }
}

/// Asserts the row applies and returns the records after it.
#[track_caller]
fn applied_with(op: &Op, s: &Snap, clock: Clock) -> Vec<Change> {
    match apply(op, &s.0, clock) {
        Ok(e) => {
            assert_eq!(e.outcome, Outcome::Applied, "{op:?}: {}", e.detail);
            assert!(!e.detail.is_empty(), "{op:?}: empty detail");
            e.changes
        }
        Err(e) => panic!("{op:?}: expected applied, got {} ({})", e.code, e.message),
    }
}

#[track_caller]
fn applied(op: &Op, s: &Snap) -> Vec<Change> {
    applied_with(op, s, CLOCK)
}

/// Asserts the row is unchanged; returns its detail.
#[track_caller]
fn unchanged(op: &Op, s: &Snap) -> String {
    match apply(op, &s.0, CLOCK) {
        Ok(e) => {
            assert_eq!(e.outcome, Outcome::Unchanged, "{op:?}: {}", e.detail);
            assert_eq!(e.changes, Vec::new(), "{op:?}: unchanged with changes");
            assert!(!e.detail.is_empty(), "{op:?}: empty detail");
            e.detail
        }
        Err(e) => panic!("{op:?}: expected unchanged, got {} ({})", e.code, e.message),
    }
}

/// Asserts the row fails with `code`, its message naming each of `names`.
#[track_caller]
fn fails_with(op: &Op, s: &Snap, clock: Clock, code: ErrorCode, names: &[&str]) -> String {
    match apply(op, &s.0, clock) {
        Ok(e) => panic!(
            "{op:?}: expected {code}, got {:?} ({}) with {:?}",
            e.outcome, e.detail, e.changes
        ),
        Err(e) => {
            assert_eq!(e.code, code, "{op:?}: {}", e.message);
            for name in names {
                assert!(
                    e.message.contains(name),
                    "{op:?}: {code} message does not name {name}: {}",
                    e.message
                );
            }
            e.message
        }
    }
}

#[track_caller]
fn fails(op: &Op, s: &Snap, code: ErrorCode, names: &[&str]) -> String {
    fails_with(op, s, CLOCK, code, names)
}

fn num_change(n: NumberRec) -> Change {
    Change::Number(n)
}

fn user_change(u: UserRec) -> Change {
    Change::User(u)
}

const GIVING: [Action; 4] = [Action::Assign, Action::Add, Action::Reassign, Action::Swap];

// ---------------------------------------------------------------- assign

#[test]
fn assign_free_number_makes_it_the_primary() {
    let s = Snap::of(user(ANN, Plan::Connect)).number(num(N1));
    assert_eq!(
        applied(&row(Action::Assign, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
}

#[test]
fn assign_alongside_additional_numbers() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 2))
        .number(num(N1));
    assert_eq!(
        applied(&row(Action::Assign, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
}

#[test]
fn assign_of_own_primary_is_unchanged() {
    let s = Snap::of(user(ANN, Plan::Connect)).holds_it(held(N1, ANN, Primary));
    unchanged(&row(Action::Assign, ANN, N1), &s);
}

#[test]
fn assign_of_a_number_held_by_another_is_number_assigned() {
    for role in [Primary, Additional] {
        let s = Snap::of(user(ANN, Plan::Connect)).number(held(N1, BOB, role));
        fails(
            &row(Action::Assign, ANN, N1),
            &s,
            ErrorCode::NumberAssigned,
            &[N1, BOB],
        );
    }
}

#[test]
fn assign_to_a_user_with_a_primary_is_user_has_primary() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .number(num(N1));
    fails(
        &row(Action::Assign, ANN, N1),
        &s,
        ErrorCode::UserHasPrimary,
        &[ANN, N2],
    );
}

#[test]
fn assign_without_a_user_is_missing_field() {
    let s = Snap::no_user().number(num(N1));
    for action in GIVING {
        fails(&row(action, "", N1), &s, ErrorCode::MissingField, &[]);
    }
}

// ---------------------------------------------------------------- add

#[test]
fn add_free_number_makes_it_additional() {
    let s = Snap::of(user(ANN, Plan::Connect)).number(num(N1));
    assert_eq!(
        applied(&row(Action::Add, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Additional))]
    );
}

#[test]
fn add_for_a_user_with_a_primary() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .number(num(N1));
    assert_eq!(
        applied(&row(Action::Add, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Additional))]
    );
}

#[test]
fn add_of_own_additional_is_unchanged() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .holds_it(held(N1, ANN, Additional));
    assert_eq!(
        unchanged(&row(Action::Add, ANN, N1), &s),
        format!("Number {N1} is already one of {ANN}'s additional numbers")
    );
}

#[test]
fn add_of_a_number_held_by_another_is_number_assigned() {
    for role in [Primary, Additional] {
        let s = Snap::of(user(ANN, Plan::Connect)).number(held(N1, BOB, role));
        fails(
            &row(Action::Add, ANN, N1),
            &s,
            ErrorCode::NumberAssigned,
            &[N1, BOB],
        );
    }
}

// ------------------------------------------------- moves between own roles

#[test]
fn add_of_own_primary_moves_it_to_additional_even_at_the_cap() {
    for plan in Plan::ALL {
        let mut nums = additionals(ANN, plan.cap() - 1);
        let p = held(N1, ANN, Primary);
        nums.push(p.clone());
        let s = Snap::of(user(ANN, plan)).holds_all(nums).number(p.clone());
        assert_eq!(
            applied(&row(Action::Add, ANN, N1), &s),
            vec![num_change(moved(&p, ANN, Additional))],
            "{plan:?}"
        );
    }
}

#[test]
fn assign_of_own_additional_without_primary_moves_it_to_primary_even_at_the_cap() {
    for plan in Plan::ALL {
        let mut nums = additionals(ANN, plan.cap() - 1);
        let a = held(N1, ANN, Additional);
        nums.push(a.clone());
        let s = Snap::of(user(ANN, plan)).holds_all(nums).number(a.clone());
        assert_eq!(
            applied(&row(Action::Assign, ANN, N1), &s),
            vec![num_change(moved(&a, ANN, Primary))],
            "{plan:?}"
        );
    }
}

#[test]
fn a_move_between_own_roles_keeps_the_cool_down_memory() {
    // Given to Ann 5 minutes ago: moving it must not restart nor trip the clock.
    let a = given(held(N1, ANN, Additional), ANN, NOW - 5 * MIN);
    let s = Snap::of(user(ANN, Plan::Connect)).holds_it(a.clone());
    assert_eq!(
        applied(&row(Action::Assign, ANN, N1), &s),
        vec![num_change(moved(&a, ANN, Primary))]
    );
}

#[test]
fn assign_of_own_additional_while_another_primary_is_user_has_primary() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .holds_it(held(N1, ANN, Additional));
    fails(
        &row(Action::Assign, ANN, N1),
        &s,
        ErrorCode::UserHasPrimary,
        &[ANN, N2],
    );
}

// ---------------------------------------------------------------- unassign

#[test]
fn unassign_from_the_named_holder_makes_it_available() {
    for role in [Primary, Additional] {
        let n = held(N1, ANN, role);
        let s = Snap::of(user(ANN, Plan::Connect)).holds_it(n.clone());
        let changes = applied(&row(Action::Unassign, ANN, N1), &s);
        assert_eq!(changes, vec![num_change(freed(&n))], "{role:?}");
        // The cool-down remembers who had it.
        assert_eq!(freed(&n).given_to.as_deref(), Some(ANN));
        assert_eq!(freed(&n).given_at, Some(LONG_AGO));
    }
}

#[test]
fn unassign_with_empty_upn_takes_it_from_whoever_holds_it() {
    for role in [Primary, Additional] {
        let n = held(N1, BOB, role);
        let s = Snap::no_user().number(n.clone());
        assert_eq!(
            applied(&row(Action::Unassign, "", N1), &s),
            vec![num_change(freed(&n))],
            "{role:?}"
        );
    }
}

#[test]
fn unassign_of_a_free_number_is_unchanged_with_or_without_upn() {
    let free = given(num(N1), BOB, NOW - MIN);
    unchanged(
        &row(Action::Unassign, ANN, N1),
        &Snap::of(user(ANN, Plan::Connect)).number(free.clone()),
    );
    unchanged(
        &row(Action::Unassign, "", N1),
        &Snap::no_user().number(free),
    );
    unchanged(
        &row(Action::Unassign, "", N1),
        &Snap::no_user().number(num(N1)),
    );
}

#[test]
fn unassign_of_a_number_held_by_someone_else_is_not_assigned_to_user() {
    let s = Snap::of(user(ANN, Plan::Connect)).number(held(N1, BOB, Primary));
    fails(
        &row(Action::Unassign, ANN, N1),
        &s,
        ErrorCode::NotAssignedToUser,
        &[N1, ANN, BOB],
    );
}

#[test]
fn unassign_naming_a_removed_or_unknown_user_is_user_not_found() {
    for u in [Some(removed(ANN)), None] {
        // Even when the number is held by that name, free, released or unknown.
        for n in [
            Some(held(N1, ANN, Primary)),
            Some(num(N1)),
            Some(released(N1)),
            None,
        ] {
            let s = Snap(Snapshot {
                user: u.clone(),
                number: n,
                ..Snapshot::default()
            });
            fails(
                &row(Action::Unassign, ANN, N1),
                &s,
                ErrorCode::UserNotFound,
                &[ANN],
            );
        }
    }
}

#[test]
fn unassign_naming_a_user_not_voice_enabled_is_fine() {
    // USER_NOT_VOICE_ENABLED applies only to rows that give a number.
    let s = Snap::of(unlicensed(ANN)).number(num(N1));
    unchanged(&row(Action::Unassign, ANN, N1), &s);
}

#[test]
fn unassign_of_a_released_number_is_number_released() {
    fails(
        &row(Action::Unassign, "", N1),
        &Snap::no_user().number(released(N1)),
        ErrorCode::NumberReleased,
        &[N1],
    );
    fails(
        &row(Action::Unassign, ANN, N1),
        &Snap::of(user(ANN, Plan::Connect)).number(released(N1)),
        ErrorCode::NumberReleased,
        &[N1],
    );
}

#[test]
fn unassign_of_an_unknown_number_is_number_not_found() {
    fails(
        &row(Action::Unassign, "", N1),
        &Snap::no_user(),
        ErrorCode::NumberNotFound,
        &[N1],
    );
    fails(
        &row(Action::Unassign, ANN, N1),
        &Snap::of(user(ANN, Plan::Connect)),
        ErrorCode::NumberNotFound,
        &[N1],
    );
}

// ---------------------------------------------------------------- reassign

#[test]
fn reassign_from_another_holder_moves_it_as_primary() {
    for role in [Primary, Additional] {
        let s = Snap::of(user(ANN, Plan::Connect)).number(held(N1, BOB, role));
        let changes = applied(&row(Action::Reassign, ANN, N1), &s);
        // One record: the number, now Ann's; Bob no longer holds it.
        assert_eq!(
            changes,
            vec![num_change(given_now(&held(N1, BOB, role), ANN, Primary))],
            "{role:?}"
        );
    }
}

#[test]
fn reassign_alongside_additional_numbers() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 3))
        .number(held(N1, BOB, Primary));
    assert_eq!(
        applied(&row(Action::Reassign, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
}

#[test]
fn reassign_of_a_free_number_acts_as_assign() {
    let s = Snap::of(user(ANN, Plan::Connect)).number(num(N1));
    assert_eq!(
        applied(&row(Action::Reassign, ANN, N1), &s),
        applied(&row(Action::Assign, ANN, N1), &s)
    );
    assert_eq!(
        applied(&row(Action::Reassign, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
}

#[test]
fn reassign_of_own_primary_is_unchanged() {
    let s = Snap::of(user(ANN, Plan::Connect)).holds_it(held(N1, ANN, Primary));
    unchanged(&row(Action::Reassign, ANN, N1), &s);
}

#[test]
fn reassign_of_own_additional_without_primary_moves_it_to_primary() {
    let a = held(N1, ANN, Additional);
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 4))
        .holds_it(a.clone());
    assert_eq!(
        applied(&row(Action::Reassign, ANN, N1), &s),
        vec![num_change(moved(&a, ANN, Primary))]
    );
}

#[test]
fn reassign_to_a_user_with_a_primary_is_user_has_primary() {
    for n in [held(N1, BOB, Primary), num(N1)] {
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds(held(N2, ANN, Primary))
            .number(n);
        fails(
            &row(Action::Reassign, ANN, N1),
            &s,
            ErrorCode::UserHasPrimary,
            &[ANN, N2],
        );
    }
    // Also of one of their own additional numbers.
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .holds_it(held(N1, ANN, Additional));
    fails(
        &row(Action::Reassign, ANN, N1),
        &s,
        ErrorCode::UserHasPrimary,
        &[ANN, N2],
    );
}

#[test]
fn reassign_of_a_number_given_to_another_within_the_cool_down_is_cooldown() {
    let n = given(held(N1, BOB, Primary), BOB, NOW - 5 * MIN);
    let s = Snap::of(user(ANN, Plan::Connect)).number(n);
    fails(
        &row(Action::Reassign, ANN, N1),
        &s,
        ErrorCode::Cooldown,
        &[N1],
    );
}

// ---------------------------------------------------------------- swap

#[test]
fn swap_of_a_free_number_replaces_the_primary() {
    let old = held(N1, ANN, Primary);
    let extra = held(N2, ANN, Additional);
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(old.clone())
        .holds(extra)
        .number(num(N3));
    assert_eq!(
        applied(&row(Action::Swap, ANN, N3), &s),
        vec![
            num_change(freed(&old)),
            num_change(given_now(&num(N3), ANN, Primary)),
        ]
    );
}

#[test]
fn swap_of_a_free_number_at_the_cap_is_not_plan_limit() {
    for plan in Plan::ALL {
        let nums = with_primary(ANN, plan.cap());
        let old = nums[0].clone();
        let s = Snap::of(user(ANN, plan)).holds_all(nums).number(num(N3));
        assert_eq!(
            applied(&row(Action::Swap, ANN, N3), &s),
            vec![
                num_change(freed(&old)),
                num_change(given_now(&num(N3), ANN, Primary)),
            ],
            "{plan:?}"
        );
    }
}

#[test]
fn swap_of_own_additional_trades_places_with_the_primary() {
    for plan in Plan::ALL {
        // At the cap: the count does not change.
        let mut nums = with_primary(ANN, plan.cap() - 1);
        let old = nums[0].clone();
        let a = given(held(N1, ANN, Additional), ANN, NOW - 3 * MIN);
        nums.push(a.clone());
        let s = Snap::of(user(ANN, plan)).holds_all(nums).number(a.clone());
        assert_eq!(
            applied(&row(Action::Swap, ANN, N1), &s),
            vec![
                num_change(moved(&old, ANN, Additional)),
                num_change(moved(&a, ANN, Primary)),
            ],
            "{plan:?}"
        );
    }
}

#[test]
fn swap_of_own_additional_without_primary_moves_it_to_primary() {
    let a = held(N1, ANN, Additional);
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 4))
        .holds_it(a.clone());
    assert_eq!(
        applied(&row(Action::Swap, ANN, N1), &s),
        vec![num_change(moved(&a, ANN, Primary))]
    );
}

#[test]
fn swap_of_own_primary_is_unchanged() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Additional))
        .holds_it(held(N1, ANN, Primary));
    unchanged(&row(Action::Swap, ANN, N1), &s);
}

#[test]
fn swap_for_a_user_without_primary_acts_as_assign() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 2))
        .number(num(N1));
    assert_eq!(
        applied(&row(Action::Swap, ANN, N1), &s),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
    assert_eq!(
        applied(&row(Action::Swap, ANN, N1), &s),
        applied(&row(Action::Assign, ANN, N1), &s)
    );
}

#[test]
fn swap_for_a_user_without_primary_at_the_cap_is_plan_limit() {
    for plan in Plan::ALL {
        let s = Snap::of(user(ANN, plan))
            .holds_all(additionals(ANN, plan.cap()))
            .number(num(N1));
        fails(
            &row(Action::Swap, ANN, N1),
            &s,
            ErrorCode::PlanLimit,
            &[ANN],
        );
    }
}

#[test]
fn swap_of_a_number_held_by_another_is_number_assigned() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .number(held(N1, BOB, Additional));
    fails(
        &row(Action::Swap, ANN, N1),
        &s,
        ErrorCode::NumberAssigned,
        &[N1, BOB],
    );
}

// ---------------------------------------------------------------- plan limit

#[test]
fn plan_limit_is_exactly_at_the_cap_for_each_plan() {
    for plan in Plan::ALL {
        for action in GIVING {
            // No primary, so assign, reassign and swap raise the count too.
            let below = Snap::of(user(ANN, plan))
                .holds_all(additionals(ANN, plan.cap() - 1))
                .number(num(N1));
            let role = if action == Action::Add {
                Additional
            } else {
                Primary
            };
            assert_eq!(
                applied(&row(action, ANN, N1), &below),
                vec![num_change(given_now(&num(N1), ANN, role))],
                "{plan:?} {action}"
            );
            let at = Snap::of(user(ANN, plan))
                .holds_all(additionals(ANN, plan.cap()))
                .number(num(N1));
            let msg = fails(&row(action, ANN, N1), &at, ErrorCode::PlanLimit, &[ANN]);
            assert!(msg.contains(&plan.cap().to_string()), "{msg}");
        }
    }
}

#[test]
fn add_at_the_cap_with_a_primary_is_plan_limit() {
    for plan in Plan::ALL {
        let below = Snap::of(user(ANN, plan))
            .holds_all(with_primary(ANN, plan.cap() - 1))
            .number(num(N1));
        assert_eq!(
            applied(&row(Action::Add, ANN, N1), &below),
            vec![num_change(given_now(&num(N1), ANN, Additional))],
            "{plan:?}"
        );
        let at = Snap::of(user(ANN, plan))
            .holds_all(with_primary(ANN, plan.cap()))
            .number(num(N1));
        fails(
            &row(Action::Add, ANN, N1),
            &at,
            ErrorCode::PlanLimit,
            &[ANN],
        );
    }
}

#[test]
fn reassign_from_another_at_the_cap_is_plan_limit() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(additionals(ANN, 5))
        .number(held(N1, BOB, Primary));
    fails(
        &row(Action::Reassign, ANN, N1),
        &s,
        ErrorCode::PlanLimit,
        &[ANN],
    );
}

// ---------------------------------------------------------------- cool-down

#[test]
fn cool_down_refuses_a_number_recently_given_to_another_even_if_unassigned_since() {
    for action in GIVING {
        // Available now, but given to Bob 5 minutes ago.
        let s = Snap::of(user(ANN, Plan::Connect)).number(given(num(N1), BOB, NOW - 5 * MIN));
        let msg = fails(&row(action, ANN, N1), &s, ErrorCode::Cooldown, &[N1]);
        assert!(msg.contains("25 min"), "{action}: {msg}");
    }
}

#[test]
fn cool_down_applies_to_swap_for_a_user_with_a_primary() {
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds(held(N2, ANN, Primary))
        .number(given(num(N1), BOB, NOW - MIN));
    fails(&row(Action::Swap, ANN, N1), &s, ErrorCode::Cooldown, &[N1]);
}

#[test]
fn cool_down_does_not_stop_the_same_user() {
    for action in GIVING {
        let n = given(num(N1), ANN, NOW - MIN);
        let s = Snap::of(user(ANN, Plan::Connect)).number(n.clone());
        let role = if action == Action::Add {
            Additional
        } else {
            Primary
        };
        assert_eq!(
            applied(&row(action, ANN, N1), &s),
            vec![num_change(given_now(&n, ANN, role))],
            "{action}"
        );
    }
}

#[test]
fn cool_down_zero_lets_it_go_at_once() {
    let zero = Clock {
        now: NOW,
        cooldown: 0,
    };
    for action in GIVING {
        let s = Snap::of(user(ANN, Plan::Connect)).number(given(num(N1), BOB, NOW));
        let changes = applied_with(&row(action, ANN, N1), &s, zero);
        assert_eq!(changes.len(), 1, "{action}");
    }
    // Reassign straight from the holder.
    let s = Snap::of(user(ANN, Plan::Connect)).number(given(held(N1, BOB, Primary), BOB, NOW));
    assert_eq!(
        applied_with(&row(Action::Reassign, ANN, N1), &s, zero),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
}

#[test]
fn cool_down_ends_exactly_at_the_boundary() {
    let at_boundary =
        Snap::of(user(ANN, Plan::Connect)).number(given(num(N1), BOB, NOW - 30 * MIN));
    assert_eq!(
        applied(&row(Action::Assign, ANN, N1), &at_boundary),
        vec![num_change(given_now(&num(N1), ANN, Primary))]
    );
    let just_inside =
        Snap::of(user(ANN, Plan::Connect)).number(given(num(N1), BOB, NOW - 30 * MIN + 1));
    fails(
        &row(Action::Assign, ANN, N1),
        &just_inside,
        ErrorCode::Cooldown,
        &[N1],
    );
}

#[test]
fn cool_down_honours_the_clock_given() {
    // 45 minutes ago: fine with 30 min, refused with 1 h.
    let s = Snap::of(user(ANN, Plan::Connect)).number(given(num(N1), BOB, NOW - 45 * MIN));
    applied(&row(Action::Assign, ANN, N1), &s);
    let hour = Clock {
        now: NOW,
        cooldown: 60 * MIN,
    };
    fails_with(
        &row(Action::Assign, ANN, N1),
        &s,
        hour,
        ErrorCode::Cooldown,
        &[N1],
    );
}

// ---------------------------------------------------------------- precedence

#[test]
fn user_not_found_comes_first_for_every_giving_row() {
    for action in GIVING {
        for u in [Some(removed(ANN)), None] {
            for n in [
                Some(released(N1)),
                None,
                Some(service(N1)),
                Some(held(N1, BOB, Primary)),
                Some(num(N1)),
            ] {
                let s = Snap(Snapshot {
                    user: u.clone(),
                    number: n.clone(),
                    ..Snapshot::default()
                });
                fails(&row(action, ANN, N1), &s, ErrorCode::UserNotFound, &[ANN]);
            }
        }
    }
}

#[test]
fn user_not_voice_enabled_comes_before_number_checks() {
    for action in GIVING {
        for n in [
            Some(service(N1)),
            Some(released(N1)),
            None,
            Some(held(N1, BOB, Primary)),
            Some(given(num(N1), BOB, NOW - MIN)),
            Some(num(N1)),
        ] {
            let s = Snap(Snapshot {
                user: Some(unlicensed(ANN)),
                number: n.clone(),
                ..Snapshot::default()
            });
            fails(
                &row(action, ANN, N1),
                &s,
                ErrorCode::UserNotVoiceEnabled,
                &[ANN],
            );
        }
    }
}

#[test]
fn number_not_found_and_released_for_every_giving_row() {
    for action in GIVING {
        let s = Snap::of(user(ANN, Plan::Connect));
        fails(&row(action, ANN, N1), &s, ErrorCode::NumberNotFound, &[N1]);
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(additionals(ANN, 5))
            .number(released(N1));
        fails(&row(action, ANN, N1), &s, ErrorCode::NumberReleased, &[N1]);
    }
}

#[test]
fn service_number_is_never_given_to_a_user() {
    for action in GIVING {
        let s = Snap::of(user(ANN, Plan::Connect)).number(service(N1));
        fails(&row(action, ANN, N1), &s, ErrorCode::ServiceNumber, &[N1]);
    }
}

#[test]
fn service_number_comes_before_number_assigned_and_the_rest() {
    for action in GIVING {
        // Held by another (a state that should not arise, but the order holds),
        // the user at the cap with a primary, and within the cool-down.
        let n = given(held(N1, BOB, Primary), BOB, NOW - MIN);
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(with_primary(ANN, 5))
            .number(NumberRec {
                number_type: NumberType::Service,
                ..n
            });
        fails(&row(action, ANN, N1), &s, ErrorCode::ServiceNumber, &[N1]);
    }
}

#[test]
fn number_assigned_before_user_has_primary_before_plan_limit_before_cooldown() {
    let recent = NOW - MIN;
    // Held by Bob (recently), Ann has a primary and is at the cap.
    for action in [Action::Assign, Action::Add, Action::Swap] {
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(with_primary(ANN, 5))
            .number(given(held(N1, BOB, Primary), BOB, recent));
        fails(&row(action, ANN, N1), &s, ErrorCode::NumberAssigned, &[N1]);
    }
    // Free (given to Bob recently), Ann has a primary and is at the cap.
    for action in [Action::Assign, Action::Reassign] {
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(with_primary(ANN, 5))
            .number(given(num(N1), BOB, recent));
        fails(&row(action, ANN, N1), &s, ErrorCode::UserHasPrimary, &[ANN]);
    }
    // Reassign from Bob: USER_HAS_PRIMARY before PLAN_LIMIT and COOLDOWN.
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(with_primary(ANN, 5))
        .number(given(held(N1, BOB, Primary), BOB, recent));
    fails(
        &row(Action::Reassign, ANN, N1),
        &s,
        ErrorCode::UserHasPrimary,
        &[ANN],
    );
    // No primary, at the cap, within the cool-down: PLAN_LIMIT.
    for action in GIVING {
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(additionals(ANN, 5))
            .number(given(num(N1), BOB, recent));
        fails(&row(action, ANN, N1), &s, ErrorCode::PlanLimit, &[ANN]);
    }
    // Add with a primary at the cap, within the cool-down: PLAN_LIMIT.
    let s = Snap::of(user(ANN, Plan::Connect))
        .holds_all(with_primary(ANN, 5))
        .number(given(num(N1), BOB, recent));
    fails(&row(Action::Add, ANN, N1), &s, ErrorCode::PlanLimit, &[ANN]);
    // Below the cap: COOLDOWN.
    for action in GIVING {
        let s = Snap::of(user(ANN, Plan::Connect))
            .holds_all(additionals(ANN, 4))
            .number(given(num(N1), BOB, recent));
        fails(&row(action, ANN, N1), &s, ErrorCode::Cooldown, &[N1]);
    }
}

#[test]
fn user_has_primary_for_own_additional_comes_before_plan_limit() {
    let mut nums = with_primary(ANN, 4);
    let a = held(N1, ANN, Additional);
    nums.push(a.clone());
    let s = Snap::of(user(ANN, Plan::Connect)).holds_all(nums).number(a);
    fails(
        &row(Action::Assign, ANN, N1),
        &s,
        ErrorCode::UserHasPrimary,
        &[ANN],
    );
}

// ---------------------------------------------------------------- users upsert

#[test]
fn upsert_creates_a_user_with_the_defaults() {
    let s = Snap::no_user();
    assert_eq!(
        applied(&upsert(ANN, None, None, None), &s),
        vec![user_change(user(ANN, Plan::Connect))]
    );
}

#[test]
fn upsert_creates_a_user_with_the_given_fields() {
    let s = Snap::no_user();
    assert_eq!(
        applied(
            &upsert(ANN, Some("Ann Lee"), Some(Plan::Max), Some(false)),
            &s
        ),
        vec![user_change(UserRec {
            upn: ANN.to_string(),
            display_name: "Ann Lee".to_string(),
            plan: Plan::Max,
            voice_enabled: false,
            removed_at: None,
        })]
    );
}

#[test]
fn upsert_updates_only_the_given_fields() {
    let before = UserRec {
        display_name: "Ann Lee".to_string(),
        ..user(ANN, Plan::Max)
    };
    let s = Snap::of(before.clone());
    assert_eq!(
        applied(&upsert(ANN, None, Some(Plan::Advanced), None), &s),
        vec![user_change(UserRec {
            plan: Plan::Advanced,
            ..before.clone()
        })]
    );
    assert_eq!(
        applied(&upsert(ANN, Some("Ann Smith"), None, None), &s),
        vec![user_change(UserRec {
            display_name: "Ann Smith".to_string(),
            ..before.clone()
        })]
    );
    assert_eq!(
        applied(&upsert(ANN, None, None, Some(false)), &s),
        vec![user_change(UserRec {
            voice_enabled: false,
            ..before.clone()
        })]
    );
    // Turning voice on.
    let s = Snap::of(unlicensed(ANN));
    assert_eq!(
        applied(&upsert(ANN, None, None, Some(true)), &s),
        vec![user_change(user(ANN, Plan::Connect))]
    );
}

#[test]
fn upsert_identical_is_unchanged() {
    let before = UserRec {
        display_name: "Ann Lee".to_string(),
        ..user(ANN, Plan::Advanced)
    };
    let s = Snap::of(before).holds_all(with_primary(ANN, 3));
    unchanged(&upsert(ANN, None, None, None), &s);
    unchanged(
        &upsert(ANN, Some("Ann Lee"), Some(Plan::Advanced), Some(true)),
        &s,
    );
    unchanged(&upsert(ANN, None, Some(Plan::Advanced), None), &s);
}

#[test]
fn upsert_brings_back_a_removed_user_keeping_their_values() {
    let gone = UserRec {
        display_name: "Ann Lee".to_string(),
        plan: Plan::Max,
        voice_enabled: false,
        ..removed(ANN)
    };
    let s = Snap::of(gone.clone());
    assert_eq!(
        applied(&upsert(ANN, None, None, None), &s),
        vec![user_change(UserRec {
            removed_at: None,
            ..gone.clone()
        })]
    );
    assert_eq!(
        applied(&upsert(ANN, None, Some(Plan::Connect), Some(true)), &s),
        vec![user_change(UserRec {
            removed_at: None,
            plan: Plan::Connect,
            voice_enabled: true,
            ..gone
        })]
    );
}

#[test]
fn upsert_turning_voice_off_while_holding_numbers_is_number_assigned() {
    let s = Snap::of(user(ANN, Plan::Connect)).holds(held(N1, ANN, Additional));
    fails(
        &upsert(ANN, None, None, Some(false)),
        &s,
        ErrorCode::NumberAssigned,
        &[ANN],
    );
}

#[test]
fn upsert_lowering_the_plan_below_the_count_is_plan_limit() {
    let s = Snap::of(user(ANN, Plan::Max)).holds_all(with_primary(ANN, 11));
    fails(
        &upsert(ANN, None, Some(Plan::Advanced), None),
        &s,
        ErrorCode::PlanLimit,
        &[ANN],
    );
    fails(
        &upsert(ANN, None, Some(Plan::Connect), None),
        &s,
        ErrorCode::PlanLimit,
        &[ANN],
    );
    let s = Snap::of(user(ANN, Plan::Advanced)).holds_all(with_primary(ANN, 6));
    fails(
        &upsert(ANN, None, Some(Plan::Connect), None),
        &s,
        ErrorCode::PlanLimit,
        &[ANN],
    );
}

#[test]
fn upsert_lowering_the_plan_to_exactly_the_count_is_fine() {
    for (from, to) in [(Plan::Max, Plan::Advanced), (Plan::Advanced, Plan::Connect)] {
        let s = Snap::of(user(ANN, from)).holds_all(with_primary(ANN, to.cap()));
        assert_eq!(
            applied(&upsert(ANN, None, Some(to), None), &s),
            vec![user_change(user(ANN, to))],
            "{from:?} -> {to:?}"
        );
    }
}

#[test]
fn upsert_voice_off_and_plan_too_small_is_number_assigned() {
    let s = Snap::of(user(ANN, Plan::Max)).holds_all(with_primary(ANN, 12));
    fails(
        &upsert(ANN, None, Some(Plan::Connect), Some(false)),
        &s,
        ErrorCode::NumberAssigned,
        &[ANN],
    );
}

// ---------------------------------------------------------------- users remove

#[test]
fn remove_unassigns_every_number_the_user_holds() {
    let nums = vec![
        held(N1, ANN, Primary),
        held(N2, ANN, Additional),
        given(held(N3, ANN, Additional), ANN, NOW - MIN),
    ];
    let u = user(ANN, Plan::Connect);
    let s = Snap::of(u.clone()).holds_all(nums.clone());
    assert_eq!(
        applied(&remove(ANN), &s),
        vec![
            num_change(freed(&nums[0])),
            num_change(freed(&nums[1])),
            num_change(freed(&nums[2])),
            user_change(UserRec {
                removed_at: Some(NOW),
                ..u
            }),
        ]
    );
}

#[test]
fn remove_of_a_user_holding_nothing() {
    let u = UserRec {
        display_name: "Ann Lee".to_string(),
        ..unlicensed(ANN)
    };
    assert_eq!(
        applied(&remove(ANN), &Snap::of(u.clone())),
        vec![user_change(UserRec {
            removed_at: Some(NOW),
            ..u
        })]
    );
}

#[test]
fn remove_of_a_removed_user_is_unchanged() {
    unchanged(&remove(ANN), &Snap::of(removed(ANN)));
}

#[test]
fn remove_of_a_user_who_never_existed_is_user_not_found() {
    fails(
        &remove(ANN),
        &Snap::no_user(),
        ErrorCode::UserNotFound,
        &[ANN],
    );
}

// ---------------------------------------------------------------- numbers add

#[test]
fn number_add_of_a_new_number_defaults_to_subscriber() {
    assert_eq!(
        applied(&number_add(N1, None), &Snap::no_user()),
        vec![num_change(num(N1))]
    );
    assert_eq!(
        applied(
            &number_add(N1, Some(NumberType::Subscriber)),
            &Snap::no_user()
        ),
        vec![num_change(num(N1))]
    );
    assert_eq!(
        applied(&number_add(N1, Some(NumberType::Service)), &Snap::no_user()),
        vec![num_change(service(N1))]
    );
}

#[test]
fn number_add_updates_the_type() {
    let n = given(num(N1), BOB, NOW - MIN);
    let s = Snap::no_user().number(n.clone());
    assert_eq!(
        applied(&number_add(N1, Some(NumberType::Service)), &s),
        vec![num_change(NumberRec {
            number_type: NumberType::Service,
            ..n
        })]
    );
    let s = Snap::no_user().number(service(N1));
    assert_eq!(
        applied(&number_add(N1, Some(NumberType::Subscriber)), &s),
        vec![num_change(num(N1))]
    );
}

#[test]
fn number_add_of_a_number_as_it_is_is_unchanged() {
    let s = Snap::no_user().number(num(N1));
    unchanged(&number_add(N1, None), &s);
    unchanged(&number_add(N1, Some(NumberType::Subscriber)), &s);
    let s = Snap::no_user().number(service(N1));
    unchanged(&number_add(N1, None), &s);
    unchanged(&number_add(N1, Some(NumberType::Service)), &s);
    // Held numbers too.
    let s = Snap::no_user().number(held(N1, BOB, Primary));
    unchanged(&number_add(N1, None), &s);
    unchanged(&number_add(N1, Some(NumberType::Subscriber)), &s);
}

#[test]
fn number_add_of_a_released_number_is_number_released() {
    for t in [
        None,
        Some(NumberType::Subscriber),
        Some(NumberType::Service),
    ] {
        fails(
            &number_add(N1, t),
            &Snap::no_user().number(released(N1)),
            ErrorCode::NumberReleased,
            &[N1],
        );
    }
}

#[test]
fn number_add_making_a_held_number_service_is_number_assigned() {
    for role in [Primary, Additional] {
        let s = Snap::no_user().number(held(N1, BOB, role));
        fails(
            &number_add(N1, Some(NumberType::Service)),
            &s,
            ErrorCode::NumberAssigned,
            &[N1, BOB],
        );
    }
}

// ---------------------------------------------------------------- numbers release

#[test]
fn release_of_a_free_number_releases_it() {
    for n in [num(N1), service(N1), given(num(N1), BOB, NOW - MIN)] {
        let s = Snap::no_user().number(n.clone());
        assert_eq!(
            applied(&number_release(N1), &s),
            vec![num_change(NumberRec {
                state: NumberState::Released,
                ..n
            })]
        );
    }
}

#[test]
fn release_of_a_held_number_is_number_assigned() {
    for role in [Primary, Additional] {
        let s = Snap::no_user().number(held(N1, BOB, role));
        fails(
            &number_release(N1),
            &s,
            ErrorCode::NumberAssigned,
            &[N1, BOB],
        );
    }
}

#[test]
fn release_of_a_released_number_is_unchanged() {
    unchanged(&number_release(N1), &Snap::no_user().number(released(N1)));
}

#[test]
fn release_of_an_unknown_number_is_number_not_found() {
    fails(
        &number_release(N1),
        &Snap::no_user(),
        ErrorCode::NumberNotFound,
        &[N1],
    );
}

// ------------------------------------------------- what the store must load

#[test]
fn only_a_swap_or_a_user_remove_needs_the_held_records() {
    for action in [
        Action::Assign,
        Action::Add,
        Action::Unassign,
        Action::Reassign,
    ] {
        assert!(!needs_held_records(&row(action, ANN, N1)), "{action:?}");
    }
    assert!(needs_held_records(&row(Action::Swap, ANN, N1)));
    assert!(needs_held_records(&remove(ANN)));
    assert!(!needs_held_records(&upsert(ANN, None, None, None)));
    assert!(!needs_held_records(&number_add(N1, None)));
    assert!(!needs_held_records(&number_release(N1)));
}

#[test]
fn a_swap_or_remove_without_the_held_records_is_refused_not_half_done() {
    // The store loads them for these rows (above); were they missing, the
    // row fails and changes nothing, rather than leave two primaries or
    // numbers held by a removed user.
    let strip = |s: Snap| {
        let mut s = s.0;
        s.held_records.clear();
        Snap(s)
    };
    for number in [num(N1), held(N1, ANN, Additional)] {
        let s = Snap::of(user(ANN, Plan::Connect)).holds(held(N2, ANN, Primary));
        let s = if number.holder().is_some() {
            s.holds_it(number)
        } else {
            s.number(number)
        };
        fails(
            &row(Action::Swap, ANN, N1),
            &strip(s),
            ErrorCode::UserHasPrimary,
            &[ANN, N2],
        );
    }
    let s = Snap::of(user(ANN, Plan::Connect)).holds_all(with_primary(ANN, 2));
    fails(&remove(ANN), &strip(s), ErrorCode::NumberAssigned, &[ANN]);
}
