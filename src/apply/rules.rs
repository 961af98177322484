//! The domain rules of SPEC §1–§3 as plain functions: given a row and the
//! records it touches, the new records and an outcome, or the row's error.
//! No database here: the store loads a `Snapshot` and writes the `Effect`.

use crate::codes::{ErrorCode, RowError};
use crate::model::{Action, NumberType, Op, Plan};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Additional,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Additional => "additional",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRec {
    pub upn: String,
    pub display_name: String,
    pub plan: Plan,
    pub voice_enabled: bool,
    /// When the user was removed (unix ms); `None` while present.
    pub removed_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum NumberState {
    Available,
    Assigned { holder: String, role: Role },
    Released,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRec {
    pub e164: String,
    pub number_type: NumberType,
    #[serde(flatten)]
    pub state: NumberState,
    /// Who the number was last given to, and when (unix ms): the cool-down.
    pub given_to: Option<String>,
    pub given_at: Option<i64>,
}

impl NumberRec {
    pub fn holder(&self) -> Option<(&str, Role)> {
        match &self.state {
            NumberState::Assigned { holder, role } => Some((holder, *role)),
            _ => None,
        }
    }
}

/// A number the row's user holds: its number and role, which is all most
/// rules need (the store reads it from the holder index alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub e164: String,
    pub role: Role,
}

/// The records a row touches, as they are before it applies.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The user the row names, if the directory has ever had them.
    pub user: Option<UserRec>,
    /// The numbers that user holds now.
    pub held: Vec<Holding>,
    /// The full records of those numbers, for a row that may change them
    /// (`needs_held_records`); empty for any other row.
    pub held_records: Vec<NumberRec>,
    /// The number the row names, if the inventory has ever had it.
    pub number: Option<NumberRec>,
}

impl Snapshot {
    fn primary(&self) -> Option<&Holding> {
        self.held.iter().find(|h| h.role == Role::Primary)
    }

    fn held_record(&self, e164: &str) -> Option<&NumberRec> {
        self.held_records.iter().find(|n| n.e164 == e164)
    }
}

/// Whether a row may change numbers its user holds besides the row's own (a
/// swap demotes or frees the old primary, a remove frees them all): its
/// snapshot must then carry their full records in `held_records`.
pub fn needs_held_records(op: &Op) -> bool {
    matches!(
        op,
        Op::Assignment {
            action: Action::Swap,
            ..
        } | Op::User {
            action: Action::Remove,
            ..
        }
    )
}

/// The clock and the cool-down a row is judged with.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Unix ms.
    pub now: i64,
    /// Milliseconds.
    pub cooldown: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Unchanged,
}

/// A record as it is after the row: written by the store, with an audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    User(UserRec),
    Number(NumberRec),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub outcome: Outcome,
    pub detail: String,
    pub changes: Vec<Change>,
}

impl Effect {
    fn unchanged(detail: impl Into<String>) -> Effect {
        Effect {
            outcome: Outcome::Unchanged,
            detail: detail.into(),
            changes: Vec::new(),
        }
    }

    fn applied(detail: impl Into<String>, changes: Vec<Change>) -> Effect {
        Effect {
            outcome: Outcome::Applied,
            detail: detail.into(),
            changes,
        }
    }
}

type Rule = Result<Effect, RowError>;

/// Applies one parsed row to the records it touches.
pub fn apply(op: &Op, s: &Snapshot, clock: Clock) -> Rule {
    match op {
        Op::Assignment {
            action: Action::Unassign,
            upn,
            number,
        } => unassign(upn.as_deref(), number, s),
        Op::Assignment {
            action,
            upn: Some(upn),
            number,
        } => give(*action, upn, number, s, clock),
        Op::Assignment { upn: None, .. } => Err(RowError::new(
            ErrorCode::MissingField,
            "UserPrincipalName is empty: fill in the user's UPN (name@domain)",
        )),
        Op::User {
            action: Action::Remove,
            upn,
            ..
        } => remove_user(upn, s, clock),
        Op::User {
            upn,
            display_name,
            plan,
            voice_enabled,
            ..
        } => upsert_user(upn, display_name.as_deref(), *plan, *voice_enabled, s),
        Op::Number {
            action: Action::Release,
            number,
            ..
        } => release(number, s),
        Op::Number {
            number,
            number_type,
            ..
        } => add_number(number, *number_type, s),
    }
}

fn err(code: ErrorCode, message: impl Into<String>) -> RowError {
    RowError::new(code, message)
}

/// USER_NOT_FOUND: every row that names a user.
fn present_user<'a>(upn: &str, s: &'a Snapshot) -> Result<&'a UserRec, RowError> {
    match &s.user {
        Some(u) if u.removed_at.is_none() => Ok(u),
        Some(_) => Err(err(
            ErrorCode::UserNotFound,
            format!("{upn} was removed: bring them back with a users upsert row first"),
        )),
        None => Err(err(
            ErrorCode::UserNotFound,
            format!(
                "{upn} is not in the directory: add them with a users file first, or check the spelling"
            ),
        )),
    }
}

/// NUMBER_NOT_FOUND and NUMBER_RELEASED.
fn known_number<'a>(number: &str, s: &'a Snapshot) -> Result<&'a NumberRec, RowError> {
    match &s.number {
        None => Err(err(
            ErrorCode::NumberNotFound,
            format!(
                "Number {number} is not in the number inventory: add it with a numbers file first, or check the digits"
            ),
        )),
        Some(n) if n.state == NumberState::Released => Err(err(
            ErrorCode::NumberReleased,
            format!(
                "Number {number} was released and can never be used again: pick another number"
            ),
        )),
        Some(n) => Ok(n),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Primary => "primary number",
        Role::Additional => "an additional number",
    }
}

/// `assign`, `add`, `reassign` and `swap`: the rows that give a user a number.
fn give(action: Action, upn: &str, number: &str, s: &Snapshot, clock: Clock) -> Rule {
    let user = present_user(upn, s)?;
    if !user.voice_enabled {
        return Err(err(
            ErrorCode::UserNotVoiceEnabled,
            format!(
                "{upn} is not voice-enabled: license them for voice (users file, VoiceEnabled true) first"
            ),
        ));
    }
    let n = known_number(number, s)?;
    if n.number_type == NumberType::Service {
        return Err(err(
            ErrorCode::ServiceNumber,
            format!(
                "Number {number} is a service number (for auto attendants and call queues) and cannot go to a user"
            ),
        ));
    }
    let wanted = if action == Action::Add {
        Role::Additional
    } else {
        Role::Primary
    };
    let primary = s.primary().filter(|p| p.e164 != number);
    match n.holder() {
        Some((holder, role)) if holder == upn => {
            if role == wanted {
                return Ok(Effect::unchanged(match role {
                    Role::Primary => format!("Number {number} is already {upn}'s primary number"),
                    Role::Additional => {
                        format!("Number {number} is already one of {upn}'s additional numbers")
                    }
                }));
            }
            match (wanted, primary) {
                // Moving between the user's own roles never changes the count.
                (Role::Additional, _) => Ok(Effect::applied(
                    format!("Number {number} moved from primary to an additional number of {upn}"),
                    vec![Change::Number(with_holder(n, upn, Role::Additional, None))],
                )),
                (Role::Primary, None) => Ok(Effect::applied(
                    format!("Number {number} moved from additional to primary number of {upn}"),
                    vec![Change::Number(with_holder(n, upn, Role::Primary, None))],
                )),
                (Role::Primary, Some(p)) if action == Action::Swap => {
                    let p = old_primary(upn, p, s)?;
                    Ok(Effect::applied(
                        format!(
                            "Number {number} is now {upn}'s primary number; {} became additional",
                            p.e164
                        ),
                        vec![
                            Change::Number(with_holder(p, upn, Role::Additional, None)),
                            Change::Number(with_holder(n, upn, Role::Primary, None)),
                        ],
                    ))
                }
                (Role::Primary, Some(p)) => Err(has_primary(upn, &p.e164)),
            }
        }
        Some((holder, role)) if action != Action::Reassign => Err(err(
            ErrorCode::NumberAssigned,
            format!(
                "Number {number} is held by {holder} as {}; use Action reassign to move it",
                role_name(role)
            ),
        )),
        previous => {
            // Free, or held by another user on a reassign.
            let swap_out = match (action, primary) {
                (Action::Swap, Some(p)) => Some(old_primary(upn, p, s)?),
                (_, Some(p)) if wanted == Role::Primary => {
                    return Err(has_primary(upn, &p.e164));
                }
                _ => None,
            };
            let count = s.held.len() as u32;
            if swap_out.is_none() && count >= user.plan.cap() {
                return Err(err(
                    ErrorCode::PlanLimit,
                    format!(
                        "{upn} already holds {count} numbers, the most the {} plan allows ({}): unassign one, or move them to a bigger plan",
                        user.plan.name(),
                        user.plan.cap()
                    ),
                ));
            }
            if let (Some(to), Some(at)) = (&n.given_to, n.given_at)
                && to != upn
                && clock.now - at < clock.cooldown
            {
                let wait = (clock.cooldown - (clock.now - at) + 59_999) / 60_000;
                return Err(err(
                    ErrorCode::Cooldown,
                    format!(
                        "Number {number} was given to {to} less than the cool-down ago: it can go to another user in about {wait} min (or run with --cooldown 0 if this is intended)"
                    ),
                ));
            }
            let mut changes = Vec::new();
            let mut detail = format!("Number {number} given to {upn} as {}", role_name(wanted));
            if let Some((from, role)) = previous {
                detail = format!(
                    "Number {number} moved from {from} ({}) to {upn} as primary number",
                    role.as_str()
                );
            }
            if let Some(p) = swap_out {
                detail.push_str(&format!("; {} is available again", p.e164));
                changes.push(Change::Number(without_holder(p)));
            }
            changes.push(Change::Number(with_holder(n, upn, wanted, Some(clock.now))));
            Ok(Effect::applied(detail, changes))
        }
    }
}

/// The full record of the primary a swap replaces. The store loads it
/// (`needs_held_records`); were it missing, the row is refused rather than
/// leave the user with two primaries.
fn old_primary<'a>(upn: &str, p: &Holding, s: &'a Snapshot) -> Result<&'a NumberRec, RowError> {
    s.held_record(&p.e164)
        .ok_or_else(|| has_primary(upn, &p.e164))
}

fn has_primary(upn: &str, primary: &str) -> RowError {
    err(
        ErrorCode::UserHasPrimary,
        format!(
            "{upn} already has the primary number {primary}: use Action swap to replace it, or add to give an additional number"
        ),
    )
}

/// The number held by `upn` in `role`; `given_at` set when it is newly given.
fn with_holder(n: &NumberRec, upn: &str, role: Role, given_at: Option<i64>) -> NumberRec {
    NumberRec {
        state: NumberState::Assigned {
            holder: upn.to_string(),
            role,
        },
        given_to: if given_at.is_some() {
            Some(upn.to_string())
        } else {
            n.given_to.clone()
        },
        given_at: given_at.or(n.given_at),
        ..n.clone()
    }
}

/// The number available again (the cool-down remembers who had it).
fn without_holder(n: &NumberRec) -> NumberRec {
    NumberRec {
        state: NumberState::Available,
        ..n.clone()
    }
}

fn unassign(upn: Option<&str>, number: &str, s: &Snapshot) -> Rule {
    if let Some(upn) = upn {
        present_user(upn, s)?;
    }
    let n = known_number(number, s)?;
    match (n.holder(), upn) {
        (None, _) => Ok(Effect::unchanged(format!(
            "Number {number} is not assigned"
        ))),
        (Some((holder, _)), Some(upn)) if holder != upn => Err(err(
            ErrorCode::NotAssignedToUser,
            format!(
                "Number {number} is held by {holder}, not {upn}: correct the user, or leave UserPrincipalName empty to unassign it from whoever holds it"
            ),
        )),
        (Some((holder, role)), _) => Ok(Effect::applied(
            format!(
                "Number {number} taken from {holder} ({}); it is available",
                role.as_str()
            ),
            vec![Change::Number(without_holder(n))],
        )),
    }
}

fn upsert_user(
    upn: &str,
    display_name: Option<&str>,
    plan: Option<Plan>,
    voice_enabled: Option<bool>,
    s: &Snapshot,
) -> Rule {
    let before = s.user.as_ref();
    let base = before.cloned().unwrap_or(UserRec {
        upn: upn.to_string(),
        display_name: String::new(),
        plan: Plan::Connect,
        voice_enabled: true,
        removed_at: None,
    });
    let after = UserRec {
        upn: upn.to_string(),
        display_name: display_name.map_or(base.display_name.clone(), str::to_string),
        plan: plan.unwrap_or(base.plan),
        voice_enabled: voice_enabled.unwrap_or(base.voice_enabled),
        removed_at: None,
    };
    let count = s.held.len() as u32;
    if !after.voice_enabled && count > 0 {
        return Err(err(
            ErrorCode::NumberAssigned,
            format!("{upn} holds {count} number(s): unassign them before turning VoiceEnabled off"),
        ));
    }
    if count > after.plan.cap() {
        return Err(err(
            ErrorCode::PlanLimit,
            format!(
                "{upn} holds {count} numbers, more than the {} plan allows ({}): unassign some first",
                after.plan.name(),
                after.plan.cap()
            ),
        ));
    }
    let detail = match before {
        None => format!("{upn} created"),
        Some(b) if b.removed_at.is_some() => format!("{upn} brought back"),
        Some(b) if *b == after => {
            return Ok(Effect::unchanged(format!("{upn} is already as given")));
        }
        Some(_) => format!("{upn} updated"),
    };
    Ok(Effect::applied(detail, vec![Change::User(after)]))
}

fn remove_user(upn: &str, s: &Snapshot, clock: Clock) -> Rule {
    let Some(user) = &s.user else {
        return Err(err(
            ErrorCode::UserNotFound,
            format!("{upn} is not in the directory: check the spelling"),
        ));
    };
    if user.removed_at.is_some() {
        return Ok(Effect::unchanged(format!("{upn} is already removed")));
    }
    if s.held_records.len() != s.held.len() {
        // The store loads them (`needs_held_records`); refuse rather than
        // leave numbers held by a removed user.
        return Err(err(
            ErrorCode::NumberAssigned,
            format!(
                "{upn} holds {} number(s) that could not be read: run the row again",
                s.held.len()
            ),
        ));
    }
    let mut changes: Vec<Change> = s
        .held_records
        .iter()
        .map(|n| Change::Number(without_holder(n)))
        .collect();
    changes.push(Change::User(UserRec {
        removed_at: Some(clock.now),
        ..user.clone()
    }));
    let detail = match s.held.len() {
        0 => format!("{upn} removed"),
        n => format!("{upn} removed; {n} number(s) available again"),
    };
    Ok(Effect::applied(detail, changes))
}

fn add_number(number: &str, number_type: Option<NumberType>, s: &Snapshot) -> Rule {
    let Some(n) = &s.number else {
        let t = number_type.unwrap_or(NumberType::Subscriber);
        return Ok(Effect::applied(
            format!("Number {number} added as {}", t.as_str()),
            vec![Change::Number(NumberRec {
                e164: number.to_string(),
                number_type: t,
                state: NumberState::Available,
                given_to: None,
                given_at: None,
            })],
        ));
    };
    if n.state == NumberState::Released {
        return Err(err(
            ErrorCode::NumberReleased,
            format!("Number {number} was released and can never be added back"),
        ));
    }
    match number_type {
        Some(t) if t != n.number_type => {
            if let (NumberType::Service, Some((holder, _))) = (t, n.holder()) {
                return Err(err(
                    ErrorCode::NumberAssigned,
                    format!(
                        "Number {number} is held by {holder}: unassign it before making it a service number"
                    ),
                ));
            }
            Ok(Effect::applied(
                format!("Number {number} is now a {} number", t.as_str()),
                vec![Change::Number(NumberRec {
                    number_type: t,
                    ..n.clone()
                })],
            ))
        }
        _ => Ok(Effect::unchanged(format!(
            "Number {number} is already in the inventory"
        ))),
    }
}

fn release(number: &str, s: &Snapshot) -> Rule {
    let Some(n) = &s.number else {
        return Err(err(
            ErrorCode::NumberNotFound,
            format!("Number {number} is not in the number inventory: check the digits"),
        ));
    };
    match n.holder() {
        _ if n.state == NumberState::Released => Ok(Effect::unchanged(format!(
            "Number {number} is already released"
        ))),
        Some((holder, _)) => Err(err(
            ErrorCode::NumberAssigned,
            format!("Number {number} is held by {holder}: unassign it before releasing it"),
        )),
        None => Ok(Effect::applied(
            format!("Number {number} released for good"),
            vec![Change::Number(NumberRec {
                state: NumberState::Released,
                ..n.clone()
            })],
        )),
    }
}

/// The assignments rows that reverse one change a job made to a number
/// (for `undo`), in the order to apply them. A change of type or state
/// that gave or took no number needs none.
pub fn reverse(before: Option<&NumberRec>, after: &NumberRec) -> Vec<Op> {
    let row = |action: Action, upn: &str| Op::Assignment {
        action,
        upn: Some(upn.to_string()),
        number: after.e164.clone(),
    };
    let give_back = |upn: &str, role: Role| match role {
        Role::Primary => row(Action::Assign, upn),
        Role::Additional => row(Action::Add, upn),
    };
    match (before.and_then(NumberRec::holder), after.holder()) {
        (None, None) => Vec::new(),
        (None, Some((now, _))) => vec![row(Action::Unassign, now)],
        (Some((was, role)), None) => vec![give_back(was, role)],
        (Some((was, role)), Some((now, _))) if was == now => vec![give_back(was, role)],
        (Some((was, Role::Primary)), Some(_)) => vec![row(Action::Reassign, was)],
        (Some((was, Role::Additional)), Some((now, _))) => {
            vec![row(Action::Unassign, now), row(Action::Add, was)]
        }
    }
}

#[cfg(test)]
mod tests;
