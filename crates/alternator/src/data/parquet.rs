//! Interactions from Parquet: one file, or a directory of part files as Spark writes it.
//!
//! Columns are chosen by name (or position in the schema) with the same options as text
//! columns. Ids may be any integer type or strings, values any integer or floating-point
//! type, times integers or timestamps (read as seconds). A null in a used column, an empty
//! id or a non-finite value is an error naming the file, the row and the column (or, with
//! `skip_invalid`, a skipped row).
//!
//! The rows are read in parallel: each row group (a large one in slices) is a task that
//! decodes its columns and codes its ids with chunk-local tables, and the tables are merged
//! in row order — exactly as the text reader merges its chunks, so the same data numbers its
//! ids in the same order of first appearance whichever format it comes in.

use std::fmt::Write as _;
use std::path::Path;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, Schema, TimeUnit};
use rayon::prelude::*;

use super::local_ids::{DIRECT_LIMIT, LocalIds, global_index};
use super::{Column, InputFormat, Interactions, ReadOptions, SKIP_EXAMPLES, SkipReport};
use crate::error::{Error, Result};
use crate::ids::IdMap;
use crate::tables::read::{Part, Table};

/// Rows per task at least: slicing a row group costs a partial page decode at each cut.
const MIN_TASK_ROWS: usize = 64 << 10;

/// Reads a Parquet file or directory of part files.
pub(super) fn read_path(path: &Path, opts: &ReadOptions) -> Result<Interactions> {
    read_table(&Table::open(path, false)?, opts)
}

/// Reads a Parquet file held in memory; `name` is used in messages.
pub(super) fn read_bytes(bytes: Vec<u8>, name: &Path, opts: &ReadOptions) -> Result<Interactions> {
    read_table(&Table::from_bytes(bytes.into(), name, false)?, opts)
}

/// What a column is read as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    User,
    Item,
    Value,
    Time,
}

impl Role {
    fn param(self) -> &'static str {
        match self {
            Role::User => "user_col",
            Role::Item => "item_col",
            Role::Value => "rating_col",
            Role::Time => "time_col",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Role::User => "user id",
            Role::Item => "item id",
            Role::Value => "value",
            Role::Time => "time",
        }
    }

    fn accepts(self, t: &DataType) -> bool {
        let int = t.is_integer();
        match self {
            Role::User | Role::Item => {
                int || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            }
            Role::Value => int || matches!(t, DataType::Float32 | DataType::Float64),
            Role::Time => int || matches!(t, DataType::Timestamp(_, _)),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Role::User | Role::Item => "an integer or string column",
            Role::Value => "an integer, float or double column",
            Role::Time => "an integer or timestamp column",
        }
    }
}

/// The columns to read, by name (so that every part is read by name).
struct Plan {
    user: String,
    item: String,
    value: Option<String>,
    time: Option<String>,
    /// The time column was found, not named: used only when every row has a time.
    time_optional: bool,
    /// Every column name of the first part, for the header.
    names: Vec<String>,
}

fn resolve(schema: &Schema, col: &Column, role: Role, path: &Path) -> Result<String> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let field = match col {
        Column::Index(i) => schema.fields().get(*i).ok_or_else(|| {
            Error::param(
                role.param(),
                format!(
                    "{}: column {i} does not exist (the table has {} columns: {})",
                    path.display(),
                    names.len(),
                    names.join(", ")
                ),
            )
        })?,
        Column::Name(n) => schema.field_with_name(n).map_err(|_| {
            Error::param(
                role.param(),
                format!(
                    "{}: no column {n:?}; the columns are {}",
                    path.display(),
                    names.join(", ")
                ),
            )
        })?,
    };
    if !role.accepts(field.data_type()) {
        return Err(Error::Table {
            path: path.into(),
            row: None,
            column: Some(field.name().clone()),
            message: format!(
                "a {} column must be {}, not {}",
                role.what(),
                role.expected(),
                field.data_type()
            ),
        });
    }
    Ok(field.name().clone())
}

impl Plan {
    fn new(schema: &Schema, opts: &ReadOptions, path: &Path) -> Result<Plan> {
        let user = resolve(schema, &opts.user_col, Role::User, path)?;
        let item = resolve(schema, &opts.item_col, Role::Item, path)?;
        let value =
            opts.rating_col.as_ref().map(|c| resolve(schema, c, Role::Value, path)).transpose()?;
        let (time, time_optional) = match &opts.time_col {
            Some(c) => (Some(resolve(schema, c, Role::Time, path)?), false),
            None if opts.ignore_times => (None, false),
            None => {
                // As in text files: a column named timestamp/time, else the fourth column,
                // when it holds times.
                let used = [Some(&user), Some(&item), value.as_ref()];
                let found = schema
                    .fields()
                    .iter()
                    .find(|f| {
                        matches!(f.name().to_ascii_lowercase().as_str(), "timestamp" | "time")
                    })
                    .or_else(|| schema.fields().get(3))
                    .filter(|f| Role::Time.accepts(f.data_type()))
                    .filter(|f| !used.contains(&Some(f.name())))
                    .map(|f| f.name().clone());
                (found, true)
            }
        };
        let names = schema.fields().iter().map(|f| f.name().clone()).collect();
        Ok(Plan { user, item, value, time, time_optional, names })
    }

    /// The used columns of a part, as (role, name).
    fn roles(&self) -> Vec<(Role, &str)> {
        let mut v = vec![(Role::User, self.user.as_str()), (Role::Item, self.item.as_str())];
        if let Some(n) = &self.value {
            v.push((Role::Value, n));
        }
        if let Some(n) = &self.time {
            v.push((Role::Time, n));
        }
        v
    }
}

/// One task: rows `offset..offset + len` of a row group of a part.
struct Task {
    part: usize,
    row_group: usize,
    offset: usize,
    len: usize,
    /// 1-based number of the task's first row in its part.
    part_row1: u64,
    /// 1-based number of the task's first row in the whole table.
    table_row1: u64,
}

/// A task's region of the output arrays (`times` and `lines` empty when not collected).
struct Out<'a> {
    users: &'a mut [u32],
    items: &'a mut [u32],
    values: &'a mut [f32],
    times: &'a mut [i64],
    lines: &'a mut [u64],
}

/// What a task found.
#[derive(Default)]
struct TaskResult {
    users: LocalIds,
    items: LocalIds,
    /// Rows written.
    n: usize,
    skipped: u64,
    skip_examples: Vec<(u64, String)>,
    /// Every row had a time (for a time column that was found, not named).
    times_ok: bool,
}

fn read_table(table: &Table, opts: &ReadOptions) -> Result<Interactions> {
    let Some(schema) = table.schema() else {
        return Err(Error::Empty { path: table.path.clone(), message: "no Parquet files".into() });
    };
    let plan = Plan::new(schema, opts, &table.path)?;
    // Every part must have the used columns, of types we read.
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(table.parts.len());
    for part in &table.parts {
        let mut cols = Vec::new();
        for (role, name) in plan.roles() {
            let Ok(i) = part.schema().index_of(name) else {
                return Err(Error::Table {
                    path: part.path.clone(),
                    row: None,
                    column: Some(name.into()),
                    message: format!("this part has no {} column {name:?}", role.what()),
                });
            };
            let col = Column::Index(i);
            resolve(part.schema(), &col, role, &part.path)?;
            cols.push(i);
        }
        cols.sort_unstable();
        cols.dedup();
        columns.push(cols);
    }

    // Tasks: row groups, large ones in slices, in table order.
    let mut group_rows = Vec::with_capacity(table.parts.len());
    for part in &table.parts {
        group_rows.push(part.row_group_rows()?);
    }
    let total: usize = group_rows.iter().flatten().sum();
    let target = (total / (4 * rayon::current_num_threads().max(1))).max(MIN_TASK_ROWS);
    let mut tasks = Vec::new();
    let mut table_row1 = 1u64;
    for (p, rgs) in group_rows.iter().enumerate() {
        let mut part_row1 = 1u64;
        for (g, &rows) in rgs.iter().enumerate() {
            let mut offset = 0;
            while offset < rows {
                let len = target.min(rows - offset);
                tasks.push(Task { part: p, row_group: g, offset, len, part_row1, table_row1 });
                offset += len;
                part_row1 += len as u64;
                table_row1 += len as u64;
            }
        }
    }

    let with_times = plan.time.is_some();
    let mut user_idx = vec![0u32; total];
    let mut item_idx = vec![0u32; total];
    let mut values = vec![1f32; total];
    let mut times = vec![0i64; if with_times { total } else { 0 }];
    let mut lines = vec![0u64; if opts.keep_lines { total } else { 0 }];
    let results: Vec<Result<TaskResult>> = {
        let mut jobs = Vec::with_capacity(tasks.len());
        let (mut u, mut i, mut v, mut t, mut l) =
            (&mut user_idx[..], &mut item_idx[..], &mut values[..], &mut times[..], &mut lines[..]);
        for task in &tasks {
            let n = task.len;
            let (u0, u1) = u.split_at_mut(n);
            let (i0, i1) = i.split_at_mut(n);
            let (v0, v1) = v.split_at_mut(n);
            let (t0, t1) = t.split_at_mut(n.min(t.len()));
            let (l0, l1) = l.split_at_mut(n.min(l.len()));
            (u, i, v, t, l) = (u1, i1, v1, t1, l1);
            jobs.push((task, Out { users: u0, items: i0, values: v0, times: t0, lines: l0 }));
        }
        jobs.into_par_iter()
            .map(|(task, out)| {
                let part = table.parts.get(task.part).ok_or_else(|| {
                    Error::Internal("a Parquet task names a part that does not exist".into())
                })?;
                let cols = columns.get(task.part).map_or(&[][..], |c| &c[..]);
                run_task(part, cols, task, &plan, opts, out)
            })
            .collect()
    };
    // The earliest error, in row order.
    let mut chunks = Vec::with_capacity(results.len());
    for r in results {
        chunks.push(r?);
    }

    // Merge the task-local ids in row order: global first-appearance order.
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let (mut user_table, mut item_table) = (Vec::new(), Vec::new());
    let str_globals: Vec<(Vec<u32>, Vec<u32>)> = chunks
        .iter()
        .map(|c| {
            (
                c.users.globalize(&mut users, &mut user_table),
                c.items.globalize(&mut items, &mut item_table),
            )
        })
        .collect();
    if users.len() >= u32::MAX as usize || items.len() >= u32::MAX as usize {
        return Err(Error::table(&table.path, "more than 4 billion distinct ids"));
    }
    {
        let (mut u_rest, mut i_rest) = (&mut user_idx[..], &mut item_idx[..]);
        let mut jobs = Vec::with_capacity(chunks.len());
        for ((c, task), (su, si)) in chunks.iter().zip(&tasks).zip(&str_globals) {
            let (u, ur) = u_rest.split_at_mut(task.len);
            let (i, ir) = i_rest.split_at_mut(task.len);
            (u_rest, i_rest) = (ur, ir);
            jobs.push((u, i, c.n, su, si));
        }
        let (ut, it) = (&user_table[..], &item_table[..]);
        jobs.into_par_iter().for_each(|(u, i, n, su, si)| {
            for x in u.iter_mut().take(n) {
                *x = global_index(*x, ut, su);
            }
            for x in i.iter_mut().take(n) {
                *x = global_index(*x, it, si);
            }
        });
    }
    let kept: usize = chunks.iter().map(|c| c.n).sum();
    if kept < total {
        let regions: Vec<(usize, usize)> = {
            let mut start = 0;
            tasks
                .iter()
                .zip(&chunks)
                .map(|(t, c)| {
                    let r = (start, c.n);
                    start += t.len;
                    r
                })
                .collect()
        };
        compact(&mut user_idx, &regions, kept);
        compact(&mut item_idx, &regions, kept);
        compact(&mut values, &regions, kept);
        if with_times {
            compact(&mut times, &regions, kept);
        }
        if opts.keep_lines {
            compact(&mut lines, &regions, kept);
        }
    }
    if opts.binary {
        values.iter_mut().for_each(|v| *v = 1.0);
    }
    let mut skipped = SkipReport::default();
    for c in &chunks {
        skipped.add(c.skipped, &c.skip_examples);
    }
    if kept == 0 {
        let message = if skipped.count > 0 {
            format!("no valid interactions: all {} rows were skipped as invalid", skipped.count)
        } else {
            "no interactions: the table has no rows".to_string()
        };
        return Err(Error::Empty { path: table.path.clone(), message });
    }
    let times_valid = with_times && (!plan.time_optional || chunks.iter().all(|c| c.times_ok));
    Ok(Interactions {
        path: table.path.clone(),
        users,
        items,
        user_idx,
        item_idx,
        values,
        times: times_valid.then_some(times),
        lines: opts.keep_lines.then_some(lines),
        header: Some(plan.names),
        delimiter: None,
        skipped,
        format: InputFormat::Parquet,
    })
}

/// Moves the `(start, len)` regions of `v` together, in order, and keeps the first `total`.
fn compact<T: Copy>(v: &mut Vec<T>, regions: &[(usize, usize)], total: usize) {
    let mut to = 0usize;
    for &(start, len) in regions {
        if start != to {
            v.copy_within(start..start + len, to);
        }
        to += len;
    }
    v.truncate(total);
}

/// A problem with one row of a batch: the row (0-based in the batch), column and what.
type Problem = (usize, String, String);

fn run_task(
    part: &Part,
    cols: &[usize],
    task: &Task,
    plan: &Plan,
    opts: &ReadOptions,
    out: Out<'_>,
) -> Result<TaskResult> {
    let mut res = TaskResult { times_ok: true, ..TaskResult::default() };
    let mut done = 0usize; // rows of the task seen
    let mut vals: Vec<f32> = Vec::new();
    let mut tms: Vec<i64> = Vec::new();
    let mut buf = String::new();
    let Out { users, items, values, times, lines } = out;
    part.for_each_batch(cols, task.row_group, task.offset, task.len, |batch| {
        let n = batch.num_rows();
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| Error::table(&part.path, format!("a batch has no column {name:?}")))
        };
        let (ucol, icol) = (col(&plan.user)?, col(&plan.item)?);
        let mut problems: Vec<Problem> = Vec::new();
        id_problems(ucol.as_ref(), &plan.user, Role::User, &mut problems);
        id_problems(icol.as_ref(), &plan.item, Role::Item, &mut problems);
        if let Some(name) = &plan.value {
            let c = col(name)?;
            values_of(c.as_ref(), &mut vals);
            for (r, v) in vals.iter().enumerate() {
                if c.is_null(r) {
                    problems.push((r, name.clone(), "null value".into()));
                } else if !v.is_finite() {
                    problems.push((r, name.clone(), format!("the value {v} is not a finite f32")));
                }
            }
        }
        if let Some(name) = &plan.time {
            let c = col(name)?;
            times_of(c.as_ref(), &mut tms);
            if c.null_count() > 0 {
                if plan.time_optional {
                    res.times_ok = false;
                } else {
                    for r in (0..n).filter(|&r| c.is_null(r)) {
                        problems.push((r, name.clone(), "null time".into()));
                    }
                }
            }
        }
        let mut bad: Vec<usize> = Vec::new();
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.0);
            if !opts.skip_invalid {
                let (r, column, message) = problems.swap_remove(0);
                return Err(Error::Table {
                    path: part.path.clone(),
                    row: Some(task.part_row1 + (done + r) as u64),
                    column: Some(column),
                    message: format!("{message} (use skip_invalid to skip such rows)"),
                });
            }
            for (r, column, message) in problems {
                if bad.last() == Some(&r) {
                    continue;
                }
                bad.push(r);
                res.skipped += 1;
                if res.skip_examples.len() < SKIP_EXAMPLES {
                    let row = task.table_row1 + (done + r) as u64;
                    res.skip_examples
                        .push((row, format!("row {row}, column {column:?}: {message}")));
                }
            }
        }
        let at = res.n;
        if users.len() < at + n - bad.len() {
            return Err(Error::table(
                &part.path,
                format!("a row group holds more rows than its metadata says ({})", task.len),
            ));
        }
        let too_many = || Error::table(&part.path, "more than 2^31 distinct ids in one row group");
        let (u_out, i_out) = (users.get_mut(at..), items.get_mut(at..));
        code_ids(ucol.as_ref(), &bad, &mut res.users, u_out.unwrap_or_default(), &mut buf)
            .ok_or_else(too_many)?;
        code_ids(icol.as_ref(), &bad, &mut res.items, i_out.unwrap_or_default(), &mut buf)
            .ok_or_else(too_many)?;
        if plan.value.is_some() {
            for (o, r) in values.iter_mut().skip(at).zip(Kept::new(n, &bad)) {
                *o = vals.get(r).copied().unwrap_or(1.0);
            }
        }
        if plan.time.is_some() {
            for (o, r) in times.iter_mut().skip(at).zip(Kept::new(n, &bad)) {
                *o = tms.get(r).copied().unwrap_or(0);
            }
        }
        for (o, r) in lines.iter_mut().skip(at).zip(Kept::new(n, &bad)) {
            *o = task.table_row1 + (done + r) as u64;
        }
        res.n += n - bad.len();
        done += n;
        Ok(())
    })?;
    if done != task.len {
        return Err(Error::table(
            &part.path,
            format!("a row group holds {done} rows where its metadata says {}", task.len),
        ));
    }
    Ok(res)
}

/// The rows `0..n` not in `bad` (ascending).
struct Kept<'a> {
    next: usize,
    n: usize,
    bad: &'a [usize],
}

impl<'a> Kept<'a> {
    fn new(n: usize, bad: &'a [usize]) -> Kept<'a> {
        Kept { next: 0, n, bad }
    }
}

impl Iterator for Kept<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.next < self.n {
            let r = self.next;
            self.next += 1;
            match self.bad.first() {
                Some(&b) if b == r => self.bad = self.bad.get(1..).unwrap_or_default(),
                _ => return Some(r),
            }
        }
        None
    }
}

/// Nulls and empty strings in an id column.
fn id_problems(c: &dyn Array, name: &str, role: Role, problems: &mut Vec<Problem>) {
    if c.null_count() > 0 {
        for r in (0..c.len()).filter(|&r| c.is_null(r)) {
            problems.push((r, name.into(), format!("null {}", role.what())));
        }
    }
    let mut empty = |r: usize| problems.push((r, name.into(), format!("empty {}", role.what())));
    if let Some(a) = c.as_string_opt::<i32>() {
        a.iter().enumerate().filter(|(_, s)| s == &Some("")).for_each(|(r, _)| empty(r));
    } else if let Some(a) = c.as_string_opt::<i64>() {
        a.iter().enumerate().filter(|(_, s)| s == &Some("")).for_each(|(r, _)| empty(r));
    } else if let Some(a) = c.as_string_view_opt() {
        a.iter().enumerate().filter(|(_, s)| s == &Some("")).for_each(|(r, _)| empty(r));
    }
}

/// The code of an integer id: itself when small (as the text reader codes `"123"`), else its
/// decimal text.
#[inline(always)]
fn code_int(v: i128, ids: &mut LocalIds, buf: &mut String) -> Option<u32> {
    if (0..DIRECT_LIMIT as i128).contains(&v) {
        Some(ids.code_small(v as usize))
    } else {
        buf.clear();
        let _ = write!(buf, "{v}");
        ids.code(buf, None)
    }
}

/// Codes the ids of the rows not in `bad` into `out`. `None` past 2^31 distinct string ids.
fn code_ids(
    c: &dyn Array,
    bad: &[usize],
    ids: &mut LocalIds,
    out: &mut [u32],
    buf: &mut String,
) -> Option<()> {
    macro_rules! ints {
        ($($t:ty),*) => {$(
            if let Some(a) = c.as_primitive_opt::<$t>() {
                let v = a.values();
                for (o, r) in out.iter_mut().zip(Kept::new(a.len(), bad)) {
                    *o = code_int(i128::from(v.get(r).copied().unwrap_or_default()), ids, buf)?;
                }
                return Some(());
            }
        )*};
    }
    ints!(Int32Type, Int64Type, Int16Type, Int8Type, UInt32Type, UInt64Type, UInt16Type, UInt8Type);
    macro_rules! strs {
        ($a:expr) => {
            if let Some(a) = $a {
                for (o, r) in out.iter_mut().zip(Kept::new(a.len(), bad)) {
                    *o = ids.code(a.value(r), None)?;
                }
                return Some(());
            }
        };
    }
    strs!(c.as_string_opt::<i32>());
    strs!(c.as_string_opt::<i64>());
    strs!(c.as_string_view_opt());
    Some(())
}

/// The values of a value column as f32 (a double out of f32's range becomes infinite, which
/// the caller reports).
fn values_of(c: &dyn Array, out: &mut Vec<f32>) {
    out.clear();
    macro_rules! nums {
        ($($t:ty),*) => {$(
            if let Some(a) = c.as_primitive_opt::<$t>() {
                out.extend(a.values().iter().map(|&x| x as f32));
                return;
            }
        )*};
    }
    nums!(
        Float32Type,
        Float64Type,
        Int32Type,
        Int64Type,
        Int16Type,
        Int8Type,
        UInt32Type,
        UInt64Type,
        UInt16Type,
        UInt8Type
    );
    out.resize(c.len(), f32::NAN);
}

/// The values of a time column, in seconds for timestamps.
fn times_of(c: &dyn Array, out: &mut Vec<i64>) {
    out.clear();
    macro_rules! ints {
        ($($t:ty),*) => {$(
            if let Some(a) = c.as_primitive_opt::<$t>() {
                out.extend(a.values().iter().map(|&x| i64::try_from(x).unwrap_or(i64::MAX)));
                return;
            }
        )*};
    }
    ints!(Int32Type, Int64Type, Int16Type, Int8Type, UInt32Type, UInt64Type, UInt16Type, UInt8Type);
    let per_second = match c.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => 1,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
        _ => 1,
    };
    macro_rules! stamps {
        ($($t:ty),*) => {$(
            if let Some(a) = c.as_primitive_opt::<$t>() {
                out.extend(a.values().iter().map(|&x| x.div_euclid(per_second)));
                return;
            }
        )*};
    }
    stamps!(
        TimestampSecondType,
        TimestampMillisecondType,
        TimestampMicrosecondType,
        TimestampNanosecondType
    );
    out.resize(c.len(), 0);
}

#[cfg(test)]
#[path = "parquet_tests.rs"]
mod tests;
