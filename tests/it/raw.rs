//! A minimal frontend speaking the PostgreSQL protocol message by message,
//! for what drivers do that tokio-postgres does not expose: command tags,
//! row limits on Execute (PortalSuspended), the transaction status of
//! ReadyForQuery, pipelines of Parse/Bind/Execute.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A backend message, decoded as far as the tests need.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// RowDescription: (name, type OID) per column.
    Columns(Vec<(String, u32)>),
    /// DataRow: each value as text (or lossy UTF-8 of binary), None for NULL.
    Row(Vec<Option<String>>),
    /// CommandComplete with its tag.
    Complete(String),
    /// ErrorResponse: SQLSTATE and message.
    Error(String, String),
    /// ReadyForQuery with its transaction status (`I`, `T` or `E`).
    Ready(char),
    PortalSuspended,
    ParseComplete,
    BindComplete,
    CloseComplete,
    NoData,
    EmptyQuery,
    ParameterDescription(Vec<u32>),
    /// Any other message, by type byte.
    Other(char),
}

pub struct Raw {
    stream: TcpStream,
    pub pid: i32,
    pub secret: i32,
}

fn cstr(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

impl Raw {
    /// Connects and completes start-up (through the first ReadyForQuery).
    pub async fn connect(addr: SocketAddr) -> Raw {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut body = 196608i32.to_be_bytes().to_vec();
        for (k, v) in [("user", "augur"), ("database", "augur")] {
            cstr(&mut body, k);
            cstr(&mut body, v);
        }
        body.push(0);
        let mut startup = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        startup.extend_from_slice(&body);
        stream.write_all(&startup).await.unwrap();
        let mut raw = Raw {
            stream,
            pid: 0,
            secret: 0,
        };
        loop {
            let (kind, body) = raw.read().await;
            match kind {
                b'K' => {
                    raw.pid = i32::from_be_bytes(body[0..4].try_into().unwrap());
                    raw.secret = i32::from_be_bytes(body[4..8].try_into().unwrap());
                }
                b'Z' => break,
                b'E' => panic!("start-up failed: {body:?}"),
                _ => {}
            }
        }
        raw
    }

    async fn read(&mut self) -> (u8, Vec<u8>) {
        let kind = self.stream.read_u8().await.expect("message");
        let len = self.stream.read_i32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        self.stream.read_exact(&mut body).await.unwrap();
        (kind, body)
    }

    pub async fn recv(&mut self) -> Msg {
        let (kind, body) = self.read().await;
        let mut pos = 0;
        let mut take_str = |body: &[u8]| {
            let end = pos + body[pos..].iter().position(|b| *b == 0).unwrap();
            let s = String::from_utf8_lossy(&body[pos..end]).into_owned();
            pos = end + 1;
            s
        };
        match kind {
            b'T' => {
                let n = i16::from_be_bytes([body[0], body[1]]) as usize;
                let mut cols = Vec::with_capacity(n);
                let mut at = 2;
                for _ in 0..n {
                    let end = at + body[at..].iter().position(|b| *b == 0).unwrap();
                    let name = String::from_utf8_lossy(&body[at..end]).into_owned();
                    at = end + 1 + 4 + 2;
                    let oid = u32::from_be_bytes(body[at..at + 4].try_into().unwrap());
                    at += 4 + 2 + 4 + 2;
                    cols.push((name, oid));
                }
                Msg::Columns(cols)
            }
            b'D' => {
                let n = i16::from_be_bytes([body[0], body[1]]) as usize;
                let mut at = 2;
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = i32::from_be_bytes(body[at..at + 4].try_into().unwrap());
                    at += 4;
                    if len < 0 {
                        values.push(None);
                    } else {
                        let v = &body[at..at + len as usize];
                        values.push(Some(String::from_utf8_lossy(v).into_owned()));
                        at += len as usize;
                    }
                }
                Msg::Row(values)
            }
            b'C' => Msg::Complete(take_str(&body)),
            b'E' => {
                let (mut code, mut text) = (String::new(), String::new());
                let mut at = 0;
                while at < body.len() && body[at] != 0 {
                    let field = body[at];
                    let end = at + 1 + body[at + 1..].iter().position(|b| *b == 0).unwrap();
                    let value = String::from_utf8_lossy(&body[at + 1..end]).into_owned();
                    match field {
                        b'C' => code = value,
                        b'M' => text = value,
                        _ => {}
                    }
                    at = end + 1;
                }
                Msg::Error(code, text)
            }
            b'Z' => Msg::Ready(body[0] as char),
            b's' => Msg::PortalSuspended,
            b'1' => Msg::ParseComplete,
            b'2' => Msg::BindComplete,
            b'3' => Msg::CloseComplete,
            b'n' => Msg::NoData,
            b'I' => Msg::EmptyQuery,
            b't' => {
                let n = i16::from_be_bytes([body[0], body[1]]) as usize;
                Msg::ParameterDescription(
                    (0..n)
                        .map(|i| u32::from_be_bytes(body[2 + 4 * i..6 + 4 * i].try_into().unwrap()))
                        .collect(),
                )
            }
            other => Msg::Other(other as char),
        }
    }

    /// Messages up to and including the next ReadyForQuery (notices skipped).
    pub async fn until_ready(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        loop {
            let m = self.recv().await;
            if m == Msg::Other('N') || m == Msg::Other('S') {
                continue;
            }
            let done = matches!(m, Msg::Ready(_));
            out.push(m);
            if done {
                return out;
            }
        }
    }

    pub async fn send(&mut self, messages: &[Vec<u8>]) {
        let bytes: Vec<u8> = messages.concat();
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// A simple Query and its answer through ReadyForQuery.
    pub async fn simple(&mut self, sql: &str) -> Vec<Msg> {
        self.send(&[query(sql)]).await;
        self.until_ready().await
    }
}

pub fn query(sql: &str) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, sql);
    message(b'Q', &b)
}

pub fn parse(name: &str, sql: &str) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, name);
    cstr(&mut b, sql);
    b.extend_from_slice(&0i16.to_be_bytes());
    message(b'P', &b)
}

/// Bind without parameters; `binary` asks for all results in binary.
pub fn bind(portal: &str, statement: &str, binary: bool) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, portal);
    cstr(&mut b, statement);
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&0i16.to_be_bytes());
    if binary {
        b.extend_from_slice(&1i16.to_be_bytes());
        b.extend_from_slice(&1i16.to_be_bytes());
    } else {
        b.extend_from_slice(&0i16.to_be_bytes());
    }
    message(b'B', &b)
}

pub fn describe_portal(portal: &str) -> Vec<u8> {
    let mut b = vec![b'P'];
    cstr(&mut b, portal);
    message(b'D', &b)
}

pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, portal);
    b.extend_from_slice(&max_rows.to_be_bytes());
    message(b'E', &b)
}

pub fn close_portal(portal: &str) -> Vec<u8> {
    let mut b = vec![b'P'];
    cstr(&mut b, portal);
    message(b'C', &b)
}

pub fn sync() -> Vec<u8> {
    message(b'S', &[])
}
