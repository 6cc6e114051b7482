//! The backup file: plain SQL, gzip-compressed, one statement per row (pure: no I/O beyond the
//! reader and writer it is given).
//!
//! ```sql
//! -- TapPass backup, format 1, schema 2
//! BEGIN;
//! INSERT INTO agents (agent_id, description, status, created_at, updated_at, flag_grants) VALUES ('billing', '', 'active', '…', '…', '');
//! INSERT INTO audit_events (seq, …) VALUES (1, …);
//! UPDATE audit_head SET seq = 1, hash = '…' WHERE id = 1;
//! COMMIT;
//! ```
//!
//! Why SQL and not a binary copy of the database: the same file restores into SQLite or
//! PostgreSQL, an operator can read it with `zcat`, and in an emergency `psql` can replay it into
//! a freshly migrated database (the seed's `gunzip -c … | psql`). `tappass restore` never hands
//! the file to a database as SQL, though: [`Reader`] accepts exactly the statements
//! [`Writer`] writes — known tables, their exact columns, literals only — and the rows are then
//! bound as parameters, so a doctored file cannot run anything. A file cut short has no
//! `COMMIT` and is refused.

use std::io::{self, BufRead, Write};

/// The version of this layout, written in the header and checked by the reader.
pub const FORMAT: u32 = 1;

/// Longest statement the reader accepts (an audit event is a few KiB).
const MAX_STATEMENT: usize = 16 * 1024 * 1024;

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    NullableText,
    Int,
}

/// The tables a backup holds, in the order they are written and restored (parents first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Agents,
    ApiKeys,
    AuditEvents,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Agents, Table::ApiKeys, Table::AuditEvents];

    pub fn name(self) -> &'static str {
        match self {
            Table::Agents => "agents",
            Table::ApiKeys => "api_keys",
            Table::AuditEvents => "audit_events",
        }
    }

    fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The columns, in file order (the schema of migration 2).
    pub fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::*;
        match self {
            Table::Agents => &[
                ("agent_id", Text),
                ("description", Text),
                ("status", Text),
                ("created_at", Text),
                ("updated_at", Text),
                ("flag_grants", Text),
            ],
            Table::ApiKeys => &[
                ("key_id", Text),
                ("agent_id", NullableText),
                ("role", Text),
                ("key_hash", Text),
                ("status", Text),
                ("created_at", Text),
                ("revoked_at", NullableText),
                ("replaced_by", NullableText),
            ],
            Table::AuditEvents => &[
                ("seq", Int),
                ("audit_id", Text),
                ("ts", Text),
                ("event_type", Text),
                ("agent_id", NullableText),
                ("canonical", Text),
                ("hash", Text),
            ],
        }
    }

    /// The column that orders the rows (the primary key).
    pub fn key(self) -> &'static str {
        self.columns()[0].0
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// What a backup file says, statement by statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    Row {
        table: Table,
        values: Vec<Value>,
    },
    /// The recorded chain head (`audit_head`): last seq and hash.
    Head {
        seq: i64,
        hash: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("statement {statement}: {message}")]
    Invalid { statement: u64, message: String },
}

/// Writes a backup: header, rows, head, `COMMIT`.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    pub fn start(mut out: W, schema_version: i64) -> io::Result<Writer<W>> {
        writeln!(
            out,
            "-- TapPass backup, format {FORMAT}, schema {schema_version}"
        )?;
        writeln!(
            out,
            "-- Restore with `tappass restore FILE`; psql can replay it into a freshly migrated \
             database."
        )?;
        writeln!(out, "BEGIN;")?;
        Ok(Writer { out })
    }

    /// One row of `table`; the values must match its columns (checked: a mismatch is a bug).
    pub fn row(&mut self, table: Table, values: &[Value]) -> io::Result<()> {
        let cols = table.columns();
        if let Some(problem) = row_problem(cols, values) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {problem}", table.name()),
            ));
        }
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        write!(
            self.out,
            "INSERT INTO {} ({}) VALUES (",
            table.name(),
            names.join(", ")
        )?;
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b", ")?;
            }
            literal(&mut self.out, v)?;
        }
        self.out.write_all(b");\n")
    }

    /// The chain head and `COMMIT`; returns the inner writer.
    pub fn finish(mut self, seq: i64, hash: Option<&str>) -> io::Result<W> {
        write!(self.out, "UPDATE audit_head SET seq = {seq}, hash = ")?;
        literal(
            &mut self.out,
            &hash.map_or(Value::Null, |h| Value::Text(h.into())),
        )?;
        self.out.write_all(b" WHERE id = 1;\nCOMMIT;\n")?;
        Ok(self.out)
    }
}

fn literal(out: &mut impl Write, v: &Value) -> io::Result<()> {
    match v {
        Value::Null => out.write_all(b"NULL"),
        Value::Int(n) => write!(out, "{n}"),
        Value::Text(s) => {
            if s.contains('\0') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a text value holds a NUL character, which SQL text cannot carry",
                ));
            }
            out.write_all(b"'")?;
            out.write_all(s.replace('\'', "''").as_bytes())?;
            out.write_all(b"'")
        }
    }
}

fn row_problem(cols: &[(&str, Kind)], values: &[Value]) -> Option<String> {
    if cols.len() != values.len() {
        return Some(format!(
            "{} values for {} columns",
            values.len(),
            cols.len()
        ));
    }
    cols.iter().zip(values).find_map(|((name, kind), v)| {
        let fits = matches!(
            (kind, v),
            (Kind::Int, Value::Int(_))
                | (Kind::Text | Kind::NullableText, Value::Text(_))
                | (Kind::NullableText, Value::Null)
        );
        (!fits).then(|| format!("column {name} cannot hold {v:?}"))
    })
}

/// Reads a backup back, statement by statement, accepting only what [`Writer`] writes.
pub struct Reader<R: BufRead> {
    input: R,
    statement: u64,
    began: bool,
    committed: bool,
    /// `(format, schema)` from the header line.
    pub header: Option<(u32, i64)>,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            statement: 0,
            began: false,
            committed: false,
            header: None,
        }
    }

    fn invalid(&self, message: impl Into<String>) -> FormatError {
        FormatError::Invalid {
            statement: self.statement,
            message: message.into(),
        }
    }

    /// The next row or head; `None` after `COMMIT` (a file that ends before it is an error).
    pub fn next_statement(&mut self) -> Result<Option<Statement>, FormatError> {
        loop {
            if self.committed {
                return match self.raw()? {
                    None => Ok(None),
                    Some(_) => Err(self.invalid("a statement after COMMIT")),
                };
            }
            let Some(text) = self.raw()? else {
                return Err(self.invalid(
                    "the file ends before COMMIT: the backup is incomplete (cut short or \
                     still being written)",
                ));
            };
            self.statement += 1;
            let tokens = tokenize(&text).map_err(|m| self.invalid(m))?;
            match tokens.first() {
                Some(Token::Word(w)) if w == "BEGIN" && tokens.len() == 1 => {
                    if self.began {
                        return Err(self.invalid("a second BEGIN"));
                    }
                    if self.header.is_none() {
                        return Err(self.invalid("no TapPass backup header before BEGIN"));
                    }
                    self.began = true;
                }
                Some(Token::Word(w)) if w == "COMMIT" && tokens.len() == 1 => {
                    if !self.began {
                        return Err(self.invalid("COMMIT before BEGIN"));
                    }
                    self.committed = true;
                }
                _ if !self.began => return Err(self.invalid("a statement before BEGIN")),
                Some(Token::Word(w)) if w == "INSERT" => {
                    return parse_insert(&tokens).map(Some).map_err(|m| self.invalid(m))
                }
                Some(Token::Word(w)) if w == "UPDATE" => {
                    return parse_head(&tokens).map(Some).map_err(|m| self.invalid(m))
                }
                _ => return Err(self.invalid("not a statement a TapPass backup holds")),
            }
        }
    }

    /// The next statement's text without its `;`, skipping comments (the first comment line
    /// must be the header). `None` at the end of the input.
    fn raw(&mut self) -> Result<Option<String>, FormatError> {
        let mut text = Vec::new();
        let mut quoted = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return if text.iter().all(u8::is_ascii_whitespace) {
                    Ok(None)
                } else {
                    Err(self.invalid("the file ends inside a statement"))
                };
            }
            let mut used = 0;
            let mut done = false;
            let mut comment = false;
            for &b in buf {
                used += 1;
                if !quoted && b == b'-' && text.last() == Some(&b'-') && text.len() == 1 {
                    comment = true;
                    break;
                }
                if !quoted && b == b';' {
                    done = true;
                    break;
                }
                if b == b'\'' {
                    quoted = !quoted;
                }
                if text.is_empty() && b.is_ascii_whitespace() {
                    continue;
                }
                text.push(b);
            }
            self.input.consume(used);
            if comment {
                let mut line = String::new();
                self.input.read_line(&mut line)?;
                self.comment(line.trim())?;
                text.clear();
                continue;
            }
            if text.len() > MAX_STATEMENT {
                return Err(self.invalid("a statement longer than 16 MiB"));
            }
            if done {
                return String::from_utf8(text)
                    .map(Some)
                    .map_err(|_| self.invalid("not UTF-8"));
            }
        }
    }

    fn comment(&mut self, line: &str) -> Result<(), FormatError> {
        if self.header.is_some() {
            return Ok(());
        }
        let parsed = line
            .strip_prefix("TapPass backup, format ")
            .and_then(|rest| rest.split_once(", schema "))
            .and_then(|(f, s)| Some((f.parse().ok()?, s.parse().ok()?)));
        match parsed {
            Some((f, _)) if f != FORMAT => Err(self.invalid(format!(
                "backup format {f}, this tappass reads format {FORMAT}"
            ))),
            Some(h) => {
                self.header = Some(h);
                Ok(())
            }
            None => Err(self.invalid("not a TapPass backup (no header line)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Int(i64),
    Text(String),
    Punct(char),
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_ascii_whitespace() => {}
            '(' | ')' | ',' | '=' => out.push(Token::Punct(c)),
            '\'' => {
                let mut t = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) if chars.peek().map(|p| p.1) == Some('\'') => {
                            chars.next();
                            t.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => t.push(c),
                        None => return Err("an unterminated text literal".into()),
                    }
                }
                out.push(Token::Text(t));
            }
            c if c == '-' || c.is_ascii_digit() => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = j + 1;
                    chars.next();
                }
                let n = s[i..end]
                    .parse()
                    .map_err(|_| format!("{:?} is not an integer", &s[i..end]))?;
                out.push(Token::Int(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if !(d.is_ascii_alphanumeric() || d == '_') {
                        break;
                    }
                    end = j + 1;
                    chars.next();
                }
                out.push(Token::Word(s[i..end].to_owned()));
            }
            c => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(out)
}

/// A cursor over a statement's tokens that expects exact words and punctuation.
struct Cursor<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.at);
        self.at += 1;
        t
    }
    fn word(&mut self, w: &str) -> Result<(), String> {
        match self.next() {
            Some(Token::Word(x)) if x == w => Ok(()),
            other => Err(format!("expected {w}, found {other:?}")),
        }
    }
    fn punct(&mut self, p: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(x)) if *x == p => Ok(()),
            other => Err(format!("expected {p:?}, found {other:?}")),
        }
    }
    fn any_word(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(x)) => Ok(x.clone()),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }
    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Word(x)) if x == "NULL" => Ok(Value::Null),
            Some(Token::Int(n)) => Ok(Value::Int(*n)),
            Some(Token::Text(t)) => Ok(Value::Text(t.clone())),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
    fn end(&self) -> Result<(), String> {
        match self.tokens.get(self.at) {
            None => Ok(()),
            Some(t) => Err(format!("unexpected {t:?} at the end")),
        }
    }
}

fn parse_insert(tokens: &[Token]) -> Result<Statement, String> {
    let mut c = Cursor { tokens, at: 0 };
    c.word("INSERT")?;
    c.word("INTO")?;
    let name = c.any_word()?;
    let table = Table::from_name(&name).ok_or_else(|| format!("unknown table {name:?}"))?;
    c.punct('(')?;
    for (i, (col, _)) in table.columns().iter().enumerate() {
        if i > 0 {
            c.punct(',')?;
        }
        let got = c.any_word()?;
        if got != *col {
            return Err(format!(
                "{name}: column {} is {got:?}, expected {col:?}",
                i + 1
            ));
        }
    }
    c.punct(')')?;
    c.word("VALUES")?;
    c.punct('(')?;
    let mut values = Vec::with_capacity(table.columns().len());
    for i in 0..table.columns().len() {
        if i > 0 {
            c.punct(',')?;
        }
        values.push(c.value()?);
    }
    c.punct(')')?;
    c.end()?;
    if let Some(p) = row_problem(table.columns(), &values) {
        return Err(format!("{name}: {p}"));
    }
    Ok(Statement::Row { table, values })
}

fn parse_head(tokens: &[Token]) -> Result<Statement, String> {
    let mut c = Cursor { tokens, at: 0 };
    c.word("UPDATE")?;
    c.word("audit_head")?;
    c.word("SET")?;
    c.word("seq")?;
    c.punct('=')?;
    let seq = match c.value()? {
        Value::Int(n) if n >= 0 => n,
        v => return Err(format!("audit_head.seq cannot be {v:?}")),
    };
    c.punct(',')?;
    c.word("hash")?;
    c.punct('=')?;
    let hash = match c.value()? {
        Value::Text(h) => Some(h),
        Value::Null => None,
        v => return Err(format!("audit_head.hash cannot be {v:?}")),
    };
    c.word("WHERE")?;
    c.word("id")?;
    c.punct('=')?;
    match c.value()? {
        Value::Int(1) => {}
        v => return Err(format!("audit_head has only the row id = 1, not {v:?}")),
    }
    c.end()?;
    Ok(Statement::Head { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, description: &str) -> Vec<Value> {
        [id, description, "active", "2026-12-04T00:00:00Z", "t", ""]
            .map(|s| Value::Text(s.into()))
            .to_vec()
    }

    fn event(seq: i64) -> Vec<Value> {
        vec![
            Value::Int(seq),
            Value::Text(format!("evt_{seq}")),
            Value::Text("ts".into()),
            Value::Text("llm_call".into()),
            Value::Null,
            Value::Text(r#"{"a":"it's; -- not SQL"}"#.into()),
            Value::Text("ab".repeat(32)),
        ]
    }

    fn write(rows: &[(Table, Vec<Value>)], head: (i64, Option<&str>)) -> Vec<u8> {
        let mut w = Writer::start(Vec::new(), 2).unwrap();
        for (t, v) in rows {
            w.row(*t, v).unwrap();
        }
        w.finish(head.0, head.1).unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Statement>, FormatError> {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while let Some(s) = r.next_statement()? {
            out.push(s);
        }
        assert_eq!(r.header, Some((FORMAT, 2)));
        Ok(out)
    }

    #[test]
    fn rows_and_head_round_trip_with_quotes_newlines_and_semicolons() {
        let rows = vec![
            (
                Table::Agents,
                agent("o'brien", "line one;\nline two -- 'quoted' ''"),
            ),
            (Table::Agents, agent("b", "")),
            (Table::AuditEvents, event(1)),
            (Table::AuditEvents, event(2)),
        ];
        let bytes = write(&rows, (2, Some("ff")));
        let back = read_all(&bytes).unwrap();
        let mut expected: Vec<Statement> = rows
            .into_iter()
            .map(|(table, values)| Statement::Row { table, values })
            .collect();
        expected.push(Statement::Head {
            seq: 2,
            hash: Some("ff".into()),
        });
        assert_eq!(back, expected);
    }

    #[test]
    fn an_empty_database_round_trips() {
        let back = read_all(&write(&[], (0, None))).unwrap();
        assert_eq!(back, vec![Statement::Head { seq: 0, hash: None }]);
    }

    #[test]
    fn a_file_cut_short_is_refused_wherever_it_is_cut() {
        let bytes = write(&[(Table::AuditEvents, event(1))], (1, Some("aa")));
        // Every proper prefix that is not the whole file minus trailing whitespace.
        let whole = std::str::from_utf8(&bytes).unwrap().trim_end().len();
        for cut in 0..whole {
            let r = read_all(&bytes[..cut]);
            assert!(r.is_err(), "a file cut at byte {cut} was accepted");
        }
    }

    #[test]
    fn foreign_sql_is_refused() {
        let header = "-- TapPass backup, format 1, schema 2\nBEGIN;\n";
        for bad in [
            "DROP TABLE agents;",
            "INSERT INTO users (id) VALUES (1);",
            "INSERT INTO agents (agent_id) VALUES ('a');",
            "INSERT INTO agents (agent_id, description, status, created_at, updated_at, flag_grants) VALUES ('a', '', 'active', 't', 't', lower('x'));",
            "INSERT INTO agents (agent_id, description, status, created_at, updated_at, flag_grants) VALUES ('a', '', 'active', 't', 't', ''); DELETE FROM agents;",
            "INSERT INTO audit_events (seq, audit_id, ts, event_type, agent_id, canonical, hash) VALUES ('1', 'a', 't', 'e', NULL, '{}', 'h');",
            "INSERT INTO agents (agent_id, description, status, created_at, updated_at, flag_grants) VALUES (NULL, '', 'active', 't', 't', '');",
            "UPDATE audit_head SET seq = 1, hash = 'h' WHERE id = 2;",
            "UPDATE agents SET status = 'active';",
            "BEGIN;",
        ] {
            let file = format!("{header}{bad}\nCOMMIT;\n");
            assert!(read_all(file.as_bytes()).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn a_missing_or_foreign_header_is_refused() {
        assert!(read_all(b"BEGIN;\nCOMMIT;\n").is_err());
        let mut r = Reader::new(&b"-- TapPass backup, format 9, schema 2\nBEGIN;\nCOMMIT;\n"[..]);
        let e = r.next_statement().unwrap_err().to_string();
        assert!(e.contains("format 9"), "{e}");
        assert!(read_all(b"-- pg_dump\nBEGIN;\nCOMMIT;\n").is_err());
    }

    #[test]
    fn statements_after_commit_are_refused() {
        let mut bytes = write(&[], (0, None));
        bytes.extend_from_slice(b"UPDATE audit_head SET seq = 5, hash = 'x' WHERE id = 1;\n");
        assert!(read_all(&bytes).is_err());
    }

    #[test]
    fn the_writer_refuses_rows_that_do_not_fit() {
        let mut w = Writer::start(Vec::new(), 2).unwrap();
        assert!(w.row(Table::Agents, &[Value::Int(1)]).is_err());
        let mut bad = agent("a", "");
        bad[1] = Value::Text("nul\0".into());
        assert!(w.row(Table::Agents, &bad).is_err());
        let mut null_id = event(1);
        null_id[0] = Value::Null;
        assert!(w.row(Table::AuditEvents, &null_id).is_err());
    }

    #[test]
    fn negative_and_large_integers_round_trip() {
        let mut e = event(i64::MAX);
        e[0] = Value::Int(i64::MAX);
        let bytes = write(&[(Table::AuditEvents, e.clone())], (0, None));
        assert_eq!(
            read_all(&bytes).unwrap()[0],
            Statement::Row {
                table: Table::AuditEvents,
                values: e
            }
        );
        let t = tokenize("-5 12").unwrap();
        assert_eq!(t, vec![Token::Int(-5), Token::Int(12)]);
        assert!(tokenize("99999999999999999999").is_err());
    }
}
