//! Calendar functions (`hour`, `month`, `days_in_month`, …), in UTC.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// A calendar function of whole seconds since the epoch.
pub(super) type CalendarFn = fn(i64) -> f64;

/// The calendar function called `name`.
pub(super) fn lookup(name: &str) -> Option<CalendarFn> {
    Some(match name {
        "days_in_month" => |s| with_date(s, |d| days_in_month(d.year(), d.month()) as f64),
        "day_of_month" => |s| with_date(s, |d| f64::from(d.day())),
        "day_of_week" => |s| with_date(s, |d| f64::from(d.weekday().num_days_from_sunday())),
        "day_of_year" => |s| with_date(s, |d| f64::from(d.ordinal())),
        "hour" => |s| with_date(s, |d| f64::from(d.hour())),
        "minute" => |s| with_date(s, |d| f64::from(d.minute())),
        "month" => |s| with_date(s, |d| f64::from(d.month())),
        "year" => |s| with_date(s, |d| f64::from(d.year())),
        _ => return None,
    })
}

/// Applies `f` to a sample value read as seconds since the epoch (truncated, as Go's `int64(v)`).
pub(super) fn of_value(v: f64, f: CalendarFn) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    f(v as i64)
}

fn with_date(seconds: i64, f: impl Fn(DateTime<Utc>) -> f64) -> f64 {
    DateTime::from_timestamp(seconds, 0).map_or(f64::NAN, f)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}
