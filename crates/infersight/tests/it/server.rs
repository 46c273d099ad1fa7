//! Starting and stopping `infersight serve` processes for tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use prost::Message;
use receivers::remote_write::proto::v1::{Label, Sample, TimeSeries, WriteRequest};
use tokio::process::{Child, Command};

/// A running server on a loopback port.
pub struct Server {
    pub child: Child,
    pub base: String,
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Writes a config for `data_dir` on `port` and returns its path.
pub fn write_config(dir: &Path, data_dir: &Path, port: u16) -> PathBuf {
    write_config_with(dir, data_dir, port, "", "")
}

/// Writes a config for `data_dir` on `port`, with `server` added to its
/// `[server]` section and `rest` after it, and returns its path.
pub fn write_config_with(dir: &Path, data_dir: &Path, port: u16, server: &str, rest: &str) -> PathBuf {
    let path = dir.join(format!("config-{port}.toml"));
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n{server}\n[storage]\npath = {:?}\nwal_fsync_interval = \"1s\"\n{rest}\n",
        data_dir.display().to_string()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

impl Server {
    /// Starts a server on `data_dir` and waits until it is ready.
    pub async fn start(dir: &Path, data_dir: &Path) -> Server {
        let port = free_port();
        Server::start_with_config(write_config(dir, data_dir, port), port).await
    }

    /// Starts a server with the config file at `config`, listening on `port`.
    pub async fn start_with_config(config: PathBuf, port: u16) -> Server {
        let config = config.to_str().expect("utf-8").to_owned();
        Server::start_with_args(&["serve", "--config", &config], Path::new("."), port).await
    }

    /// Runs `infersight` with `args` in the directory `cwd` and waits until
    /// the server on `port` is ready.
    pub async fn start_with_args(args: &[&str], cwd: &Path, port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_infersight"))
            .args(args)
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn infersight");
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::Client::new();
        while Instant::now() < deadline {
            if let Ok(resp) = client.get(format!("{}/-/ready", server.base)).send().await
                && resp.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become ready");
    }

    /// Sends SIGTERM and returns whether the process exited with status 0.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
        assert!(status.success());
        let exit =
            tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await.expect("exits").expect("wait");
        exit.success()
    }
}

/// A snappy-compressed remote-write 1.0 body: `n_series` series of metric
/// `name`, each with one sample at `t` and value `v`.
pub fn write_body(name: &str, n_series: usize, t: i64, v: f64) -> Vec<u8> {
    let timeseries = (0..n_series)
        .map(|i| TimeSeries {
            labels: vec![
                Label { name: "__name__".into(), value: name.into() },
                Label { name: "series".into(), value: format!("s{i:04}") },
            ],
            samples: vec![Sample { value: v, timestamp: t }],
            ..Default::default()
        })
        .collect();
    let request = WriteRequest { timeseries, ..Default::default() };
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec()).expect("snappy")
}

/// Posts a remote-write 1.0 body; returns the status code.
pub async fn post_write(client: &reqwest::Client, base: &str, body: Vec<u8>) -> reqwest::Result<u16> {
    let resp = client
        .post(format!("{base}/api/v1/write"))
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .await?;
    Ok(resp.status().as_u16())
}
