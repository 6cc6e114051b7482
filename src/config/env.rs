//! Environment overrides: `TAPPASS_<SECTION>__<KEY>[__<KEY>…]=value`.
//!
//! Only variables that start with `TAPPASS_` and contain `__` after that prefix take part;
//! everything else (including the client-side `TAPPASS_URL`, `TAPPASS_API_KEY`,
//! `TAPPASS_FLAGS`, the secret `TAPPASS_ADMIN_API_KEY` and the base-URL fallbacks
//! `TAPPASS_OPENAI_BASE_URL` / `TAPPASS_ANTHROPIC_BASE_URL`) is ignored here.

use toml::{Table, Value};

use super::error::{ConfigError, Origin};
use super::locate::{self, Problem};
use super::schema::RawConfig;
use super::validate::dotted;

/// Prefix of every TapPass environment variable.
pub const ENV_PREFIX: &str = "TAPPASS_";
/// Separator between path segments in an override variable name.
pub const ENV_SEPARATOR: &str = "__";

/// One environment override, already checked against the schema on its own.
#[derive(Debug, Clone)]
pub(super) struct EnvOverride {
    /// The variable name.
    pub(super) var: String,
    /// Lower-cased key path, e.g. `["providers", "openai", "base_url"]`.
    pub(super) path: Vec<String>,
    /// The value (parsed TOML literal or plain string).
    pub(super) value: Value,
}

impl EnvOverride {
    /// Every key path this override sets: its own and, for an inline-table value, all paths
    /// below it.
    pub(super) fn paths(&self) -> Vec<Vec<String>> {
        let mut out = vec![self.path.clone()];
        fn walk(prefix: &[String], v: &Value, out: &mut Vec<Vec<String>>) {
            if let Value::Table(t) = v {
                for (k, v) in t {
                    let mut p = prefix.to_vec();
                    p.push(k.clone());
                    out.push(p.clone());
                    walk(&p, v, out);
                }
            }
        }
        walk(&self.path, &self.value, &mut out);
        out
    }
}

/// The key path a variable name addresses, when the variable takes part in overrides.
/// `Some(Err(..))` for a malformed name (an empty segment).
fn path_of(name: &str) -> Option<Result<Vec<String>, String>> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if !rest.contains(ENV_SEPARATOR) {
        return None;
    }
    let segments: Vec<String> = rest.split(ENV_SEPARATOR).map(str::to_lowercase).collect();
    if segments.iter().any(String::is_empty) {
        return Some(Err(format!(
            "malformed variable name: empty key segment (write {ENV_PREFIX}<SECTION>{ENV_SEPARATOR}<KEY>)"
        )));
    }
    Some(Ok(segments))
}

/// Whether `name` is a configuration override variable (`TAPPASS_…__…`).
pub fn is_override_var(name: &str) -> bool {
    path_of(name).is_some()
}

/// Parses an environment value: a TOML value literal when it is one (`123`, `true`,
/// `"quoted"`, `["a", "b"]`, `{ kind = "openai" }`), else the plain string.
pub(super) fn parse_value(raw: &str) -> Value {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) if t.len() == 1 => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        _ => Value::String(raw.to_owned()),
    }
}

/// Builds `{ path[0] = { path[1] = … value } }`.
fn nest(path: &[String], value: Value) -> Table {
    let mut v = value;
    for seg in path.iter().rev() {
        let mut t = Table::new();
        t.insert(seg.clone(), v);
        v = Value::Table(t);
    }
    match v {
        Value::Table(t) => t,
        _ => Table::new(),
    }
}

/// Checks one override against the schema on its own.
fn check_alone(path: &[String], value: &Value) -> Result<(), Problem> {
    let table = nest(path, value.clone());
    let text = toml::to_string(&table).map_err(|e| Problem::Parse {
        span: None,
        message: e.to_string(),
    })?;
    locate::deserialize::<RawConfig>(&text).map(|_| ())
}

/// Collects and checks the override variables in `env`, in the order they must be applied
/// (shallower paths first, then by name). Empty values are ignored (treated as unset).
pub(super) fn collect(env: &[(String, String)]) -> Result<Vec<EnvOverride>, ConfigError> {
    let mut out: Vec<EnvOverride> = Vec::new();
    for (name, raw) in env {
        let Some(path) = path_of(name) else { continue };
        let origin = || Origin::Env { var: name.clone() };
        let path = path.map_err(|message| ConfigError::Parse {
            origin: origin(),
            message,
        })?;
        if raw.is_empty() {
            continue;
        }
        let mut value = parse_value(raw);
        if let Err(problem) = check_alone(&path, &value) {
            // A literal of the wrong type (`TAPPASS_PROVIDERS__X__API_KEY=12345`) may still be
            // fine as the plain string.
            let as_string = Value::String(raw.clone());
            if value == as_string {
                return Err(problem_to_error(problem, origin(), &path));
            }
            match check_alone(&path, &as_string) {
                Ok(()) => value = as_string,
                // Report the string reading when the literal merely had the wrong type and the
                // string says more (`TAPPASS_SERVER__LISTEN=1234` → invalid socket address).
                Err(string_problem)
                    if is_type_mismatch(&problem) && !is_type_mismatch(&string_problem) =>
                {
                    return Err(problem_to_error(string_problem, origin(), &path))
                }
                Err(_) => return Err(problem_to_error(problem, origin(), &path)),
            }
        }
        out.push(EnvOverride {
            var: name.clone(),
            path,
            value,
        });
    }
    out.sort_by(|a, b| (a.path.len(), &a.var).cmp(&(b.path.len(), &b.var)));
    for pair in out.windows(2) {
        if pair[0].path == pair[1].path {
            return Err(ConfigError::Invalid {
                origin: Origin::Env {
                    var: pair[1].var.clone(),
                },
                key: dotted(&pair[1].path),
                message: format!("also set by {}; set it only once", pair[0].var),
            });
        }
    }
    Ok(out)
}

fn is_type_mismatch(problem: &Problem) -> bool {
    matches!(problem, Problem::Invalid { message, .. } if message.starts_with("invalid type:"))
}

fn problem_to_error(problem: Problem, origin: Origin, path: &[String]) -> ConfigError {
    match problem {
        Problem::Unknown {
            section,
            key,
            expected,
            ..
        } => ConfigError::UnknownKey {
            origin,
            section: section.map(|s| dotted(&s)),
            key,
            expected,
        },
        Problem::Invalid { key, message, .. } => ConfigError::Invalid {
            origin,
            key: dotted(&key),
            message,
        },
        Problem::Parse { message, .. } => ConfigError::Invalid {
            origin,
            key: dotted(path),
            message,
        },
    }
}

/// Deep-merges `value` at `path` into `table`: tables merge key by key, anything else
/// replaces.
pub(super) fn merge_at(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = table;
    for seg in parents {
        let entry = cur
            .entry(seg.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else {
            unreachable!("just made a table")
        };
        cur = next;
    }
    match (cur.get_mut(last), value) {
        (Some(Value::Table(existing)), Value::Table(new)) => {
            for (k, v) in new {
                merge_at(existing, &[k], v);
            }
        }
        (_, v) => {
            cur.insert(last.clone(), v);
        }
    }
}

/// The last non-empty value of `name` in `env`.
pub(super) fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}
