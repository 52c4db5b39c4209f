//! What `kinora serve` tells a person at start-up, in plain words, and the `--listen`/`--port`
//! forms it accepts.

use std::net::{Ipv4Addr, SocketAddr};

use kinora_server::Settings;

/// `--listen`: `HOST:PORT`, or a bare `PORT` on loopback.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    s.parse().map_err(|_| {
        format!("'{s}' is not an address: give PORT (8001) or HOST:PORT (0.0.0.0:8001, [::1]:8001)")
    })
}

/// Why the socket could not be bound, with what to do about it.
pub fn bind_error(addr: SocketAddr, e: &std::io::Error) -> anyhow::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "another program (perhaps another kinora) is using {addr}; pick a free port with \
             --port {} or --listen HOST:PORT",
            addr.port().wrapping_add(1).max(1)
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "ports below 1024 need privileges; use --port {} or another port above 1023",
            8000
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address; try --listen 127.0.0.1:8000 \
             or --listen 0.0.0.0:8000"
                .to_string()
        }
        _ => "check --listen".to_string(),
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}. {hint}")
}

/// The host part of a PostgreSQL URL (`host:port/db`), never its user or password.
fn postgres_place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// One line per fact a person starting the server wants to know.
pub fn describe(s: &Settings, addr: SocketAddr, asm: bool) -> Vec<String> {
    let keys = s.api_keys.len() + s.projects.iter().map(|p| p.api_keys.len()).sum::<usize>();
    let auth = match keys {
        0 => "off (no API keys; loopback only, any key or none is accepted)".to_string(),
        1 => "on, 1 API key".to_string(),
        n => format!("on, {n} API keys"),
    };
    let store = match &s.database_url {
        Some(url) => format!("PostgreSQL at {}", postgres_place(&url.0)),
        None => format!("SQLite at {}", s.data_dir.join("kinora.db").display()),
    };
    let media = match &s.blob_url {
        Some(url) => url.clone(),
        None => format!("directory {}", s.data_dir.join("blobs").display()),
    };
    let workers = match s.worker_count() {
        0 => "none in this process (API only; remote workers render)".to_string(),
        1 => "1 in-process render worker".to_string(),
        n => format!("{n} in-process render workers"),
    };
    let remote = if s.worker_tokens.is_empty() {
        "off (no --worker-token)"
    } else {
        "on (/internal/v1)"
    };
    let encoder = if asm {
        "OpenH264 with its nasm assembly (fast path)"
    } else {
        "OpenH264 without nasm: about half the speed; install Debian's nasm and rebuild"
    };
    vec![
        format!("  studio:   http://{addr}/  (the web page; the API is under /v1)"),
        format!("  auth:     {auth}"),
        format!("  metadata: {store}"),
        format!("  media:    {media}"),
        format!("  workers:  {workers}; remote workers {remote}"),
        format!("  encoder:  {encoder}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinora_server::settings::Secret;

    #[test]
    fn a_bare_port_means_loopback() {
        assert_eq!(parse_listen("8001").unwrap().to_string(), "127.0.0.1:8001");
        assert_eq!(parse_listen("0.0.0.0:9").unwrap().to_string(), "0.0.0.0:9");
        assert_eq!(parse_listen("[::1]:80").unwrap().to_string(), "[::1]:80");
        assert!(parse_listen("localhost").unwrap_err().contains("HOST:PORT"));
    }

    #[test]
    fn address_in_use_names_the_address_and_the_way_out() {
        let addr: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let e = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let msg = bind_error(addr, &e).to_string();
        assert!(
            msg.contains("127.0.0.1:8000") && msg.contains("--port 8001"),
            "{msg}"
        );
    }

    #[test]
    fn the_summary_says_it_plainly_and_hides_secrets() {
        let s = Settings {
            api_keys: vec![Secret("sk-a".into()), Secret("sk-b".into())],
            database_url: Some(Secret("postgres://kinora:hunter2@db:5432/kinora".into())),
            workers: Some(2),
            ..Settings::default()
        };
        let lines = describe(&s, "127.0.0.1:8000".parse().unwrap(), true).join("\n");
        assert!(lines.contains("on, 2 API keys"), "{lines}");
        assert!(lines.contains("PostgreSQL at db:5432/kinora"), "{lines}");
        assert!(
            !lines.contains("hunter2") && !lines.contains("sk-a"),
            "{lines}"
        );
        assert!(lines.contains("http://127.0.0.1:8000/") && lines.contains("2 in-process"));
        assert!(lines.contains("nasm"));
    }
}
