//! Domain vocabulary shared by every stage: file kinds, actions, plans,
//! number types and the parsed row (`Op`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The three kinds of CSV file (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Assignments,
    Users,
    Numbers,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Assignments, Kind::Users, Kind::Numbers];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Assignments => "assignments",
            Kind::Users => "users",
            Kind::Numbers => "numbers",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The template's columns, in the template's order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Assignments => &[Column::Upn, Column::Phone, Column::Action],
            Kind::Users => &[
                Column::Upn,
                Column::DisplayName,
                Column::Plan,
                Column::VoiceEnabled,
                Column::Action,
            ],
            Kind::Numbers => &[Column::Phone, Column::NumberType, Column::Action],
        }
    }

    /// The actions of this kind; the first is the default for an empty cell.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Kind::Assignments => &[
                Action::Assign,
                Action::Add,
                Action::Unassign,
                Action::Reassign,
                Action::Swap,
            ],
            Kind::Users => &[Action::Upsert, Action::Remove],
            Kind::Numbers => &[Action::Add, Action::Release],
        }
    }

    /// The blank template, compiled in.
    pub fn template(self) -> &'static str {
        match self {
            Kind::Assignments => include_str!("../templates/assignments.csv"),
            Kind::Users => include_str!("../templates/users.csv"),
            Kind::Numbers => include_str!("../templates/numbers.csv"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A column of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Upn,
    Phone,
    Action,
    DisplayName,
    Plan,
    VoiceEnabled,
    NumberType,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Upn,
        Column::Phone,
        Column::Action,
        Column::DisplayName,
        Column::Plan,
        Column::VoiceEnabled,
        Column::NumberType,
    ];

    /// The header as the templates spell it.
    pub fn name(self) -> &'static str {
        match self {
            Column::Upn => "UserPrincipalName",
            Column::Phone => "PhoneNumber",
            Column::Action => "Action",
            Column::DisplayName => "DisplayName",
            Column::Plan => "Plan",
            Column::VoiceEnabled => "VoiceEnabled",
            Column::NumberType => "NumberType",
        }
    }

    /// Accepted spellings after normalisation (lower case, no spaces, `_`, `-`).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Upn => &["userprincipalname", "upn", "user", "email"],
            Column::Phone => &["phonenumber", "number", "ddi", "did", "telephonenumber"],
            Column::Action => &["action"],
            Column::DisplayName => &["displayname"],
            Column::Plan => &["plan"],
            Column::VoiceEnabled => &["voiceenabled"],
            Column::NumberType => &["numbertype"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Assign,
    Add,
    Unassign,
    Reassign,
    Swap,
    Upsert,
    Remove,
    Release,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Assign,
        Action::Add,
        Action::Unassign,
        Action::Reassign,
        Action::Swap,
        Action::Upsert,
        Action::Remove,
        Action::Release,
    ];

    /// An action as the queue stores it (`as_str`).
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Add => "add",
            Action::Unassign => "unassign",
            Action::Reassign => "reassign",
            Action::Swap => "swap",
            Action::Upsert => "upsert",
            Action::Remove => "remove",
            Action::Release => "release",
        }
    }

    /// Does this assignments action give the number to the named user?
    pub fn gives(self) -> bool {
        matches!(
            self,
            Action::Assign | Action::Add | Action::Reassign | Action::Swap
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Plan {
    Connect,
    Advanced,
    Max,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Connect, Plan::Advanced, Plan::Max];

    /// How many numbers (primary and additional together) the plan allows.
    pub fn cap(self) -> u32 {
        match self {
            Plan::Connect => 5,
            Plan::Advanced => 10,
            Plan::Max => 20,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Plan::Connect => "Connect",
            Plan::Advanced => "Advanced",
            Plan::Max => "Max",
        }
    }

    /// The spelling stored in the database.
    pub fn key(self) -> &'static str {
        match self {
            Plan::Connect => "connect",
            Plan::Advanced => "advanced",
            Plan::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        Plan::ALL
            .into_iter()
            .find(|p| p.key().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NumberType {
    Subscriber,
    Service,
}

impl NumberType {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Subscriber => "subscriber",
            NumberType::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<NumberType> {
        [NumberType::Subscriber, NumberType::Service]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// `true/false`, `yes/no`, `y/n`, `1/0`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// A row that passed the row-local checks: what it asks the directory to do.
/// UPNs are lower-cased, numbers are E.164.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// An assignments row. `upn` is `None` only for an `unassign`.
    Assignment {
        action: Action,
        upn: Option<String>,
        number: String,
    },
    /// A users row (`upsert` or `remove`); empty cells are `None`.
    User {
        action: Action,
        upn: String,
        display_name: Option<String>,
        plan: Option<Plan>,
        voice_enabled: Option<bool>,
    },
    /// A numbers row (`add` or `release`).
    Number {
        action: Action,
        number: String,
        number_type: Option<NumberType>,
    },
}

impl Op {
    pub fn action(&self) -> Action {
        match self {
            Op::Assignment { action, .. } | Op::User { action, .. } | Op::Number { action, .. } => {
                *action
            }
        }
    }

    pub fn upn(&self) -> Option<&str> {
        match self {
            Op::Assignment { upn, .. } => upn.as_deref(),
            Op::User { upn, .. } => Some(upn),
            Op::Number { .. } => None,
        }
    }

    pub fn number(&self) -> Option<&str> {
        match self {
            Op::Assignment { number, .. } | Op::Number { number, .. } => Some(number),
            Op::User { .. } => None,
        }
    }

    /// What DUPLICATE_IN_FILE tracks the row by: the user in a users file,
    /// the number otherwise.
    pub fn key(&self) -> &str {
        match self {
            Op::Assignment { number, .. } | Op::Number { number, .. } => number,
            Op::User { upn, .. } => upn,
        }
    }

    /// The row as the succeeded report and exports write it, in the
    /// template's columns.
    pub fn cells(&self) -> Vec<String> {
        let opt = |s: Option<&str>| s.unwrap_or_default().to_string();
        match self {
            Op::Assignment {
                action,
                upn,
                number,
            } => vec![opt(upn.as_deref()), number.clone(), action.to_string()],
            Op::User {
                action,
                upn,
                display_name,
                plan,
                voice_enabled,
            } => vec![
                upn.clone(),
                opt(display_name.as_deref()),
                opt(plan.map(Plan::name)),
                opt(voice_enabled.map(|v| if v { "true" } else { "false" })),
                action.to_string(),
            ],
            Op::Number {
                action,
                number,
                number_type,
            } => vec![
                number.clone(),
                opt(number_type.map(NumberType::as_str)),
                action.to_string(),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_case_insensitively() {
        assert_eq!(Plan::parse("MAX"), Some(Plan::Max));
        assert_eq!(Plan::parse(" advanced "), Some(Plan::Advanced));
        assert_eq!(Plan::parse("gold"), None);
        assert_eq!(NumberType::parse("Service"), Some(NumberType::Service));
        assert_eq!(parse_bool("Y"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(Kind::parse("Users"), Some(Kind::Users));
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("Assign"), None, "the stored spelling only");
    }

    #[test]
    fn templates_have_the_columns_in_order() {
        for kind in Kind::ALL {
            let header: Vec<&str> = kind.columns().iter().map(|c| c.name()).collect();
            assert_eq!(kind.template().trim_end(), header.join(","));
        }
    }
}
