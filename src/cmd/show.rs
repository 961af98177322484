//! `numbatch show UPN-or-NUMBER`: one user or number, with its history.

use super::Config;
use crate::apply::rules::{NumberRec, NumberState, UserRec};
use crate::error::{Error, ExitCode, Result};
use crate::read::clean;
use crate::store::{Prepared, directory, show_time};
use crate::text::escape;
use crate::validate::phone;
use serde_json::json;

fn describe_number(n: &Option<NumberRec>) -> String {
    match n {
        None => "not in the inventory".to_string(),
        Some(n) => match &n.state {
            NumberState::Available => format!("available ({})", n.number_type.as_str()),
            NumberState::Assigned { holder, role } => format!("{} of {holder}", role.as_str()),
            NumberState::Released => "released".to_string(),
        },
    }
}

fn describe_user(u: &Option<UserRec>) -> String {
    match u {
        None => "not in the directory".to_string(),
        Some(u) if u.removed_at.is_some() => "removed".to_string(),
        Some(u) => format!(
            "{}{}, {}",
            if u.display_name.is_empty() {
                String::new()
            } else {
                format!("{}, ", u.display_name)
            },
            u.plan.name(),
            if u.voice_enabled {
                "voice-enabled"
            } else {
                "not voice-enabled"
            }
        ),
    }
}

fn parse<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Result<Option<T>> {
    s.as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(Error::from)
}

pub fn run(config: &Config, subject: &str, as_json: bool) -> Result<ExitCode> {
    let store = config.store()?;
    let subject = clean(subject);
    let (number, upn) = if subject.contains('@') {
        (None, Some(subject.to_lowercase()))
    } else {
        let n = phone::parse_number(subject, None).map_err(|e| Error::Usage(e.message))?;
        (Some(n), None)
    };
    let history = directory::history(&store.conn, number.as_deref(), upn.as_deref())?;
    let mut events = Vec::with_capacity(history.len());
    for e in &history {
        let (before, after) = if e.number.is_some() {
            (
                describe_number(&parse(&e.before)?),
                describe_number(&parse(&e.after)?),
            )
        } else {
            (
                describe_user(&parse(&e.before)?),
                describe_user(&parse(&e.after)?),
            )
        };
        events.push((e, before, after));
    }
    let mut out = json!({});
    let mut lines = Vec::new();
    let db = &mut Prepared::new(&store.conn);
    if let Some(upn) = &upn {
        let user = directory::user(db, upn)?;
        let Some(u) = &user else {
            return Err(Error::NotFound(format!(
                "{} has never been in the directory",
                escape(upn)
            )));
        };
        let held = directory::held_by(db, upn)?;
        lines.push(format!("user {}", u.upn));
        lines.push(format!(
            "  status:  {}",
            if u.removed_at.is_some() {
                "removed"
            } else {
                "present"
            }
        ));
        lines.push(format!("  name:    {}", escape(&u.display_name)));
        lines.push(format!(
            "  plan:    {} (holds {} of {})",
            u.plan.name(),
            held.len(),
            u.plan.cap()
        ));
        lines.push(format!(
            "  voice:   {}",
            if u.voice_enabled {
                "enabled"
            } else {
                "not enabled"
            }
        ));
        for n in &held {
            lines.push(format!("  number:  {} ({})", n.e164, n.role.as_str()));
        }
        out = json!({
            "type": "user",
            "upn": u.upn,
            "display_name": u.display_name,
            "plan": u.plan.name(),
            "voice_enabled": u.voice_enabled,
            "removed": u.removed_at.is_some(),
            "numbers": held.iter().map(|n| json!({
                "number": n.e164,
                "role": n.role.as_str(),
            })).collect::<Vec<_>>(),
        });
    }
    if let Some(number) = &number {
        let Some(n) = directory::number(db, number)? else {
            return Err(Error::NotFound(format!(
                "{number} has never been in the inventory"
            )));
        };
        lines.push(format!("number {}", n.e164));
        lines.push(format!("  type:    {}", n.number_type.as_str()));
        lines.push(format!("  state:   {}", describe_number(&Some(n.clone()))));
        if let (Some(to), Some(at)) = (&n.given_to, n.given_at) {
            lines.push(format!("  last given to {to} at {}", show_time(at)));
        }
        out = json!({
            "type": "number",
            "number": n.e164,
            "number_type": n.number_type.as_str(),
            "state": match n.state { NumberState::Available => "available", NumberState::Assigned { .. } => "assigned", NumberState::Released => "released" },
            "holder": n.holder().map(|(h, _)| h),
            "role": n.holder().map(|(_, r)| r.as_str()),
            "given_to": n.given_to,
            "given_at": n.given_at.map(show_time),
        });
    }
    out["history"] = events
        .iter()
        .map(|(e, before, after)| {
            json!({
                "at": show_time(e.at),
                "job": e.job_id,
                "row": e.row,
                "action": e.action,
                "number": e.number,
                "upn": e.upn,
                "before": before,
                "after": after,
            })
        })
        .collect();
    if as_json {
        println!("{out}");
        return Ok(ExitCode::Ok);
    }
    for l in lines {
        println!("{l}");
    }
    println!("history:");
    if events.is_empty() {
        println!("  (none)");
    }
    for (e, before, after) in &events {
        let place = match (e.job_id, e.row) {
            (Some(j), Some(r)) => format!("job {j} row {r}"),
            (Some(j), None) => format!("job {j}"),
            _ => String::new(),
        };
        let what = e.number.clone().or(e.upn.clone()).unwrap_or_default();
        println!(
            "  {}  {place:<16} {:<9} {what}: {} -> {}",
            show_time(e.at),
            e.action,
            escape(before),
            escape(after)
        );
    }
    Ok(ExitCode::Ok)
}
