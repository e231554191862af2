//! QuestDB's Rust client (questdb-rs) driven against a QWP server, for
//! qwire's cross-checks (tests/peers/questdb_rs_test.cpp).
//!
//!     qwire-questdb-rs-peer chunk CONF     column sender: table rs_chunk, every type below, with NULLs
//!     qwire-questdb-rs-peer rows CONF      row sender: table rs_rows, five rows
//!     qwire-questdb-rs-peer read CONF SQL [BIND...]
//!         egress reader: prints each row as tab-separated cells ("null"
//!         for NULL), then "rows N"; BIND is long:N, double:X, varchar:S
//!         or timestamp_nanos:N, bound to $1, $2, ... in order; credit:N
//!         sets the query's initial_credit (bytes) instead
//!
//! Prints "done" after a write that the server acknowledged, or
//! "error: ..." (and exits 1) when the client reports one.

use std::time::Duration;

use questdb::{
    egress::{Bind, ColumnView, Reader},
    ingress::{
        column_sender::{Chunk, Validity},
        AckLevel, TimestampNanos, TimestampUnit,
    },
    QuestDb,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const ACK: Duration = Duration::from_secs(30);

fn chunk(conf: &str) -> Res<()> {
    let n = 10usize;
    let b: Vec<i8> = (0..n).map(|i| i as i8 - 5).collect();
    let s: Vec<i16> = (0..n).map(|i| (i as i16) * -300).collect();
    let i32s: Vec<i32> = (0..n).map(|i| (i as i32) * 100_000).collect();
    let l: Vec<i64> = (0..n).map(|i| (i as i64) * 1_000_000_007).collect();
    let f: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
    let d: Vec<f64> = (0..n).map(|i| i as f64 * 1.25).collect();
    // BOOLEAN: bits LSB first; true for even rows.
    let flags: Vec<u8> = vec![0b0101_0101, 0b0000_0001];
    let codes: Vec<i8> = (0..n).map(|i| (i % 2) as i8).collect();
    let dict_bytes = b"AAPLMSFT".to_vec();
    let dict_offsets: Vec<i32> = vec![0, 4, 8];
    let mut v_bytes = Vec::new();
    let mut v_offsets: Vec<i32> = vec![0];
    for i in 0..n {
        if i != 7 {
            v_bytes.extend_from_slice(format!("v\u{e9}{i}").as_bytes());
        }
        v_offsets.push(v_bytes.len() as i32);
    }
    let ts: Vec<i64> = (0..n).map(|i| 1_700_000_000_000_000 + i as i64).collect();
    let at: Vec<i64> = (0..n).map(|i| 1_700_000_000_000_000_000 + i as i64).collect();
    // NULLs: l at row 3, d at row 5, v at row 7 (validity bit 0 = NULL).
    let valid = |null_row: usize| -> Vec<u8> {
        let mut bits = vec![0xffu8, 0x03];
        bits[null_row / 8] &= !(1 << (null_row % 8));
        bits
    };
    let dec: Vec<i64> = (0..n).map(|i| i as i64 * 100 + 25).collect(); // scale 2: i.25
    let arr: Vec<f64> = (0..n).flat_map(|i| [i as f64, 0.5, -1.0, 2.0 * i as f64]).collect(); // 2x2 per row
    // UUID in RFC byte order: 00 01 .. 0e then the row number.
    let uuids: Vec<[u8; 16]> = (0..n).map(|i| { let mut u = [0u8; 16]; for (k, b) in u.iter_mut().enumerate() { *b = k as u8; } u[15] = i as u8; u }).collect();
    let l256: Vec<[u8; 32]> = (0..n).map(|i| { let mut v = [0u8; 32]; v[0] = i as u8 + 1; v[31] = 0x80; v }).collect();
    let ips: Vec<u32> = (0..n).map(|i| 0x0a00_0001 + i as u32).collect();
    let dates: Vec<i64> = (0..n).map(|i| 1_700_000_000_000 + i as i64).collect();
    let mut bin_bytes = Vec::new();
    let mut bin_offsets: Vec<i32> = vec![0];
    for i in 0..n {
        bin_bytes.extend_from_slice(&[i as u8, 0xff]);
        bin_offsets.push(bin_bytes.len() as i32);
    }
    let codes32: Vec<i32> = (0..n).map(|i| (i % 3) as i32).collect();
    let dict3_bytes = b"XNASXLONXTKS".to_vec();
    let dict3_offsets: Vec<i32> = vec![0, 4, 8, 12];
    let mut big_bytes = Vec::new();
    let mut big_offsets: Vec<i64> = vec![0];
    for i in 0..n {
        big_bytes.extend_from_slice(format!("big{i}").as_bytes());
        big_offsets.push(big_bytes.len() as i64);
    }
    let (vl, vd, vv) = (valid(3), valid(5), valid(7));
    let l_valid = Validity::from_bitmap(&vl, n)?;
    let d_valid = Validity::from_bitmap(&vd, n)?;
    let v_valid = Validity::from_bitmap(&vv, n)?;

    let db = QuestDb::connect(conf)?;
    let mut sender = db.borrow_sender()?;
    let mut c = Chunk::new("rs_chunk");
    c.column_i8("b", &b, None)?;
    c.column_i16("s", &s, None)?;
    c.column_i32("i", &i32s, None)?;
    c.column_i64("l", &l, Some(&l_valid))?;
    c.column_f32("f", &f, None)?;
    c.column_f64("d", &d, Some(&d_valid))?;
    c.column_bool("flag", &flags, n, None)?;
    c.symbol_i8("sym", &codes, &dict_offsets, &dict_bytes, None)?;
    c.column_str("v", &v_offsets, &v_bytes, Some(&v_valid))?;
    c.column_ts("ts", &ts, TimestampUnit::Micros, None)?;
    c.column_decimal64("dec", &dec, 2, None)?;
    c.column_f64_array("arr", &arr, n, &[2, 2], None)?;
    c.column_uuid("u", &uuids, None)?;
    c.column_long256("l256", &l256, None)?;
    c.column_ipv4("ip", &ips, None)?;
    c.column_date("dt", &dates, None)?;
    c.column_binary("bin", &bin_offsets, &bin_bytes, None)?;
    c.symbol_i32("venue", &codes32, &dict3_offsets, &dict3_bytes, None)?;
    c.column_str_large("big", &big_offsets, &big_bytes, None)?;
    c.at_nanos(&at)?;
    sender.flush(&mut c)?;
    sender.wait(AckLevel::Ok, ACK)?;
    Ok(())
}

fn rows(conf: &str) -> Res<()> {
    let db = QuestDb::connect(conf)?;
    let mut sender = db.borrow_sender()?;
    let mut buf = sender.new_buffer();
    for i in 0..5i64 {
        buf.table("rs_rows")?
            .symbol("sym", if i % 2 == 0 { "ETH" } else { "BTC" })?
            .column_i64("qty", i * 10)?
            .column_f64("px", 100.0 + i as f64 / 4.0)?
            .column_bool("up", i % 2 == 1)?
            .column_str("note", format!("n{i}"))?
            .at(TimestampNanos::new(1_700_000_000_000_000_000 + i))?;
    }
    sender.flush_buffer(&mut buf)?;
    sender.wait(AckLevel::Ok, ACK)?;
    Ok(())
}

fn cell(col: &ColumnView<'_>, row: usize) -> String {
    macro_rules! fixed {
        ($c:expr) => {
            if $c.is_null(row) { "null".to_string() } else { format!("{:?}", $c.value(row)) }
        };
    }
    match col {
        ColumnView::Boolean(c) => if c.value(row) != 0 { "true".into() } else { "false".into() },
        ColumnView::Byte(c) => fixed!(c),
        ColumnView::Short(c) => fixed!(c),
        ColumnView::Int(c) => fixed!(c),
        ColumnView::Long(c) => fixed!(c),
        ColumnView::Float(c) => fixed!(c),
        ColumnView::Double(c) => fixed!(c),
        ColumnView::Timestamp(c) => fixed!(c),
        ColumnView::TimestampNanos(c) => fixed!(c),
        ColumnView::Date(c) => fixed!(c),
        ColumnView::Char(c) => fixed!(c),
        ColumnView::Symbol(c) => c.resolve(row).map(|s| s.to_string()).unwrap_or_else(|| "null".into()),
        ColumnView::Varchar(c) => {
            if c.is_null(row) {
                "null".into()
            } else {
                let o = c.offsets();
                String::from_utf8_lossy(&c.data()[o[row] as usize..o[row + 1] as usize]).into_owned()
            }
        }
        _ => "?".into(),
    }
}

fn read(conf: &str, sql: &str, binds: &[String]) -> Res<()> {
    let mut reader = Reader::from_conf(conf)?;
    let mut q = reader.prepare(sql);
    for b in binds {
        let (kind, value) = b.split_once(':').ok_or("a bind is KIND:VALUE")?;
        q = match kind {
            "long" => q.bind(Bind::I64(value.parse()?)),
            "double" => q.bind(Bind::F64(value.parse()?)),
            "timestamp_nanos" => q.bind(Bind::TimestampNanos(value.parse()?)),
            "varchar" => q.bind_varchar(value),
            "credit" => q.initial_credit(value.parse()?),
            _ => return Err(format!("unknown bind kind {kind}").into()),
        };
    }
    let mut cursor = q.execute()?;
    let mut total = 0usize;
    while let Some(batch) = cursor.next_batch()? {
        let n = batch.row_count();
        let mut cols = Vec::new();
        let mut i = 0;
        while let Ok(c) = batch.column(i) {
            cols.push(c);
            i += 1;
        }
        for row in 0..n {
            let cells: Vec<String> = cols.iter().map(|c| cell(c, row)).collect();
            println!("{}", cells.join("\t"));
        }
        total += n;
    }
    println!("rows {total}");
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: qwire-questdb-rs-peer chunk|rows|read CONF [SQL [BIND...]]");
        std::process::exit(2);
    }
    let r = match args[1].as_str() {
        "chunk" => chunk(&args[2]).map(|_| println!("done")),
        "rows" => rows(&args[2]).map(|_| println!("done")),
        "read" if args.len() >= 4 => read(&args[2], &args[3], &args[4..]),
        _ => Err("unknown scenario".into()),
    };
    if let Err(e) = r {
        println!("error: {}", e.to_string().replace('\n', " "));
        std::process::exit(1);
    }
}
