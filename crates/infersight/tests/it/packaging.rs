//! The packaging agrees with the binary: the Dockerfile, `deploy/kubernetes/` and
//! `deploy/compose/` carry configurations that pass `check-config`, use the ports the
//! code defaults to, pass only flags the binary has, and name the same paths.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;

/// `[server] listen`'s default port (`crates/infersight/src/config.rs`).
const API_PORT: u64 = 8490;
/// `[gateway] listen`'s default port (`crates/proxy/src/config.rs`).
const GATEWAY_PORT: u64 = 8491;
/// Where the image and the manifests keep the configuration file.
const CONFIG_PATH: &str = "/etc/infersight/infersight.toml";
/// The image's data volume, and `[storage] path` in every packaged configuration.
const DATA_DIR: &str = "/var/lib/infersight";
/// The image's numeric user and group.
const USER_ID: u64 = 65532;

const KUBERNETES: &[&str] = &["deploy/kubernetes/server.yaml", "deploy/kubernetes/agent.yaml"];
const COMPOSE: &str = "deploy/compose/docker-compose.yml";
/// The configuration the Dockerfile bakes into the image.
const IMAGE_CONFIG: &str = "deploy/container/infersight.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

fn yaml_documents(relative: &str) -> Vec<Value> {
    let text = read(relative);
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).unwrap_or_else(|e| panic!("{relative} is not YAML: {e}")))
        .filter(|document| !document.is_null())
        .collect()
}

fn infersight(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_infersight")).args(args).output().expect("run infersight")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The instructions of a Dockerfile as (keyword, arguments), continuation lines joined.
fn dockerfile() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, rest) = current.split_once(' ').unwrap_or((&current, ""));
                instructions.push((keyword.to_ascii_uppercase(), rest.trim().to_owned()));
                current.clear();
            }
        }
    }
    instructions
}

/// The arguments of the final stage's instruction `keyword`.
fn final_stage(keyword: &str) -> Vec<String> {
    let instructions = dockerfile();
    let start = instructions.iter().rposition(|(k, _)| k == "FROM").expect("a FROM");
    instructions[start..].iter().filter(|(k, _)| k == keyword).map(|(_, rest)| rest.clone()).collect()
}

fn json_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text:?} is not a JSON array of strings: {e}"))
}

/// The pod specs of the Deployments and DaemonSets in `relative`, by name.
fn pod_specs(relative: &str) -> Vec<(String, Value)> {
    yaml_documents(relative)
        .into_iter()
        .filter(|doc| matches!(doc["kind"].as_str(), Some("Deployment" | "DaemonSet")))
        .map(|doc| {
            (
                format!("{relative}: {}", doc["metadata"]["name"].as_str().unwrap_or("?")),
                doc["spec"]["template"]["spec"].clone(),
            )
        })
        .collect()
}

/// The infersight service of the compose file.
fn compose_service() -> Value {
    let compose = yaml_documents(COMPOSE).remove(0);
    let service = compose["services"]["infersight"].clone();
    assert!(service.is_mapping(), "{COMPOSE} has no service named infersight");
    service
}

/// The compose service's bind mounts and volumes as (source, target).
fn compose_volumes() -> Vec<(String, String)> {
    strings(&compose_service()["volumes"])
        .iter()
        .map(|volume| {
            let mut parts = volume.split(':');
            let source = parts.next().unwrap_or_default().to_owned();
            let target = parts.next().unwrap_or_else(|| panic!("{volume:?} has no target")).to_owned();
            (source, target)
        })
        .collect()
}

/// Every configuration file the packaging ships, as (where it is, its text).
fn packaged_configs() -> Vec<(String, String)> {
    let mut configs = vec![(IMAGE_CONFIG.to_owned(), read(IMAGE_CONFIG))];
    for file in KUBERNETES {
        for doc in yaml_documents(file).iter().filter(|doc| doc["kind"].as_str() == Some("ConfigMap")) {
            let name = doc["metadata"]["name"].as_str().unwrap_or("?");
            for (key, text) in doc["data"].as_mapping().expect("ConfigMap data") {
                let key = key.as_str().expect("string key");
                if key.ends_with(".toml") {
                    configs.push((format!("{file}: ConfigMap {name}, {key}"), text.as_str().expect("text").to_owned()));
                }
            }
        }
    }
    let (source, _) = compose_volumes()
        .into_iter()
        .find(|(_, target)| target == CONFIG_PATH)
        .unwrap_or_else(|| panic!("{COMPOSE} mounts nothing at {CONFIG_PATH}"));
    let compose_config = Path::new(COMPOSE).parent().expect("a directory").join(source.trim_start_matches("./"));
    let compose_config = compose_config.to_str().expect("utf-8").to_owned();
    configs.push((compose_config.clone(), read(&compose_config)));
    configs
}

/// Every command line the packaging runs infersight with, as (where, arguments).
fn invocations() -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let entrypoint = final_stage("ENTRYPOINT");
    assert_eq!(entrypoint.len(), 1, "one ENTRYPOINT in the final stage");
    assert_eq!(json_array(&entrypoint[0]), ["/usr/local/bin/infersight"]);
    for cmd in final_stage("CMD") {
        found.push(("Dockerfile CMD".to_owned(), json_array(&cmd)));
    }
    for file in KUBERNETES {
        for (name, spec) in pod_specs(file) {
            for container in spec["containers"].as_sequence().expect("containers") {
                assert!(container["command"].is_null(), "{name}: the image's ENTRYPOINT runs infersight; use args");
                found.push((name.clone(), strings(&container["args"])));
            }
        }
    }
    found.push((COMPOSE.to_owned(), strings(&compose_service()["command"])));
    found
}

fn port_of(address: &str) -> u64 {
    address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("{address:?} has no port"))
}

/// Whether a `--help` text lists `flag` (`--config`, `-h`).
fn help_lists(help: &str, flag: &str) -> bool {
    help.lines().any(|line| line.trim_start().starts_with('-') && line.split([' ', ',']).any(|word| word == flag))
}

#[test]
fn every_packaged_config_passes_check_config() {
    let configs = packaged_configs();
    assert_eq!(configs.len(), 4, "the image's, the server's, the agent's and compose's: {configs:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, (place, text)) in configs.iter().enumerate() {
        let file = dir.path().join(format!("{i}.toml"));
        std::fs::write(&file, text).expect("write");
        let out = infersight(&["check-config", file.to_str().expect("utf-8")]);
        assert!(out.status.success(), "{place} fails check-config:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn ports_are_the_defaults_of_the_code() {
    let server_defaults = read("crates/infersight/src/config.rs");
    assert!(
        server_defaults.contains(&format!("listen: \"127.0.0.1:{API_PORT}\".into()")),
        "server.listen's default moved"
    );
    let gateway_defaults = read("crates/proxy/src/config.rs");
    assert!(
        gateway_defaults.contains(&format!("listen: \"127.0.0.1:{GATEWAY_PORT}\".into()")),
        "gateway.listen's default moved"
    );

    for (place, text) in packaged_configs() {
        let config: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{place}: {e}"));
        let listen = config["server"]["listen"].as_str().unwrap_or_else(|| panic!("{place} sets no server.listen"));
        assert_eq!(port_of(listen), API_PORT, "{place}: server.listen");
        if let Some(listen) = config.get("gateway").and_then(|g| g.get("listen")).and_then(toml::Value::as_str) {
            assert_eq!(port_of(listen), GATEWAY_PORT, "{place}: gateway.listen");
        }
    }

    let exposed: BTreeSet<u64> = final_stage("EXPOSE")
        .iter()
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(|port| port.trim_end_matches("/tcp").parse::<u64>().expect("a port"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(exposed, BTreeSet::from([API_PORT, GATEWAY_PORT]), "Dockerfile EXPOSE");

    // Every pod names its API port `http` (the PodMonitor and the Prometheus job select it by name).
    let mut named_ports = Vec::new();
    for file in KUBERNETES {
        for (name, spec) in pod_specs(file) {
            let ports = &spec["containers"][0]["ports"];
            let by_name = |port_name: &str| {
                ports
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"].as_str() == Some(port_name))
                    .map(|p| p["containerPort"].as_u64())
            };
            assert_eq!(by_name("http"), Some(Some(API_PORT)), "{name}: containerPort http");
            if let Some(gateway) = by_name("gateway") {
                assert_eq!(gateway, Some(GATEWAY_PORT), "{name}: containerPort gateway");
            }
            named_ports.push((name, ports.clone()));
        }
    }
    let server_ports = &named_ports
        .iter()
        .find(|(name, _)| name.starts_with("deploy/kubernetes/server.yaml"))
        .expect("the server Deployment")
        .1;
    let service = yaml_documents("deploy/kubernetes/server.yaml")
        .into_iter()
        .find(|doc| doc["kind"].as_str() == Some("Service"))
        .expect("a Service in server.yaml");
    let mut service_ports = BTreeSet::new();
    for port in service["spec"]["ports"].as_sequence().expect("Service ports") {
        let number = port["port"].as_u64().expect("Service port");
        let target = match &port["targetPort"] {
            Value::String(name) => server_ports
                .as_sequence()
                .into_iter()
                .flatten()
                .find(|p| p["name"].as_str() == Some(name))
                .and_then(|p| p["containerPort"].as_u64())
                .unwrap_or_else(|| panic!("Service targetPort {name:?} names no container port")),
            Value::Null => number,
            other => other.as_u64().expect("targetPort"),
        };
        assert_eq!(number, target, "the Service's port {number} reaches container port {target}");
        service_ports.insert(number);
    }
    assert_eq!(service_ports, BTreeSet::from([API_PORT, GATEWAY_PORT]), "Service ports");

    let pod_monitor = yaml_documents("deploy/kubernetes/podmonitor.yaml").remove(0);
    assert_eq!(pod_monitor["spec"]["podMetricsEndpoints"][0]["port"].as_str(), Some("http"), "PodMonitor port");
    let prometheus = yaml_documents("deploy/kubernetes/prometheus-scrape.yml").remove(0);
    let relabels = prometheus["scrape_configs"][0]["relabel_configs"].as_sequence().expect("relabel_configs");
    assert!(
        relabels.iter().any(|r| strings(&r["source_labels"]) == ["__meta_kubernetes_pod_container_port_name"]
            && r["regex"].as_str() == Some("http")),
        "the Prometheus job keeps the port named http"
    );

    let published: BTreeSet<u64> = strings(&compose_service()["ports"])
        .iter()
        .map(|mapping| mapping.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a container port"))
        .collect();
    assert_eq!(published, BTreeSet::from([API_PORT, GATEWAY_PORT]), "{COMPOSE} ports");
}

#[test]
fn flags_in_the_manifests_are_flags_of_the_binary() {
    let top = infersight(&["--help"]);
    assert!(top.status.success());
    let top = String::from_utf8_lossy(&top.stdout).into_owned();
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(commands.contains(&"serve"), "commands in --help: {commands:?}");
    for (place, args) in invocations() {
        let command = args
            .iter()
            .find(|arg| commands.contains(&arg.as_str()))
            .unwrap_or_else(|| panic!("{place}: no command in {args:?}"));
        let help = infersight(&[command, "--help"]);
        assert!(help.status.success(), "{place}: {command} --help failed");
        let help = String::from_utf8_lossy(&help.stdout);
        for arg in args.iter().filter(|arg| arg.starts_with('-')) {
            let flag = arg.split_once('=').map_or(arg.as_str(), |(flag, _)| flag);
            assert!(help_lists(&help, flag), "{place}: `infersight {command}` has no flag {flag}:\n{help}");
        }
    }
}

#[test]
fn config_path_data_dir_and_user_agree() {
    for (place, args) in invocations() {
        let config = args.iter().position(|arg| arg == "--config").map(|i| args[i + 1].as_str());
        assert_eq!(config, Some(CONFIG_PATH), "{place}: --config in {args:?}");
    }
    for (place, text) in packaged_configs() {
        let config: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{place}: {e}"));
        assert_eq!(config["storage"]["path"].as_str(), Some(DATA_DIR), "{place}: storage.path");
    }

    assert!(
        dockerfile().iter().any(|(keyword, rest)| keyword == "COPY"
            && rest.split_whitespace().collect::<Vec<_>>() == [IMAGE_CONFIG, format!("/rootfs{CONFIG_PATH}").as_str()]),
        "the Dockerfile copies {IMAGE_CONFIG} to {CONFIG_PATH}"
    );
    assert_eq!(final_stage("VOLUME").iter().map(|v| json_array(v)).collect::<Vec<_>>(), [[DATA_DIR]]);
    assert_eq!(final_stage("USER"), [format!("{USER_ID}:{USER_ID}")]);

    let (config_dir, config_file) = CONFIG_PATH.rsplit_once('/').expect("an absolute path");
    for file in KUBERNETES {
        let config_maps: Vec<Value> =
            yaml_documents(file).into_iter().filter(|doc| doc["kind"].as_str() == Some("ConfigMap")).collect();
        for (name, spec) in pod_specs(file) {
            for key in ["runAsUser", "runAsGroup", "fsGroup"] {
                assert_eq!(spec["securityContext"][key].as_u64(), Some(USER_ID), "{name}: securityContext.{key}");
            }
            let mounts = spec["containers"][0]["volumeMounts"].as_sequence().expect("volumeMounts").clone();
            let volume_at = |path: &str| {
                let mount = mounts
                    .iter()
                    .find(|m| m["mountPath"].as_str() == Some(path))
                    .unwrap_or_else(|| panic!("{name}: nothing mounted at {path}"));
                let volume_name = mount["name"].as_str().expect("a volume name");
                spec["volumes"]
                    .as_sequence()
                    .expect("volumes")
                    .iter()
                    .find(|v| v["name"].as_str() == Some(volume_name))
                    .cloned()
                    .expect("the mounted volume")
            };
            let config_map = volume_at(config_dir)["configMap"]["name"].as_str().map(str::to_owned);
            let config_map = config_maps
                .iter()
                .find(|doc| doc["metadata"]["name"].as_str() == config_map.as_deref())
                .unwrap_or_else(|| panic!("{name}: {config_dir} is not a ConfigMap of {file}"));
            assert!(config_map["data"][config_file].is_string(), "{name}: the ConfigMap has no key {config_file}");
            let data = volume_at(DATA_DIR);
            assert!(
                data["persistentVolumeClaim"].is_mapping() || data["emptyDir"].is_mapping(),
                "{name}: {DATA_DIR} is a volume"
            );
        }
    }

    let targets: Vec<String> = compose_volumes().into_iter().map(|(_, target)| target).collect();
    assert!(
        targets.iter().any(|t| t == CONFIG_PATH) && targets.iter().any(|t| t == DATA_DIR),
        "{COMPOSE} volumes: {targets:?}"
    );
}
