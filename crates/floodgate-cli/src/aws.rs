//! The CLI's AWS side: `analyze s3://bucket/prefix` and `sync`. Thin wrappers over
//! floodgate-aws, which the Lambda uses too.

use crate::state_file::StateFile;
use crate::Failure;
use anyhow::Context;
use clap::Args;
use floodgate_aws::sinks::{deliver_all, DecisionSink, IpSetSink, NotifySink, Outcome};
use floodgate_aws::sns::{Publisher, SnsPublisher};
use floodgate_aws::state_store::commit_expiry;
use floodgate_aws::{
    check_access, check_capacity, list_objects, parse_s3_url, read_objects, sdk_config_with,
    IpSetRef, IpVersion, ReadOptions, RetryPolicy, S3State, S3Store, Scope, StateBackend,
    SyncOptions, SyncReport, SyncTarget, WafIpSets,
};
use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::ingest::FileSummary;
use floodgate_core::state::State;
use std::sync::Arc;

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?)
}

/// Whether a PATH argument names S3.
pub fn is_s3(path: &std::path::Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("s3://"))
}

/// Read every object under the `s3://` URLs into `input` (in id order, after local files).
/// Objects the state already has are skipped; objects that cannot be read are reported as
/// incomplete files and not marked processed, so a later run reads them.
pub fn read_s3(
    config: &Config,
    state: &State,
    urls: &[String],
    jobs: Option<usize>,
    input: &mut RunInput,
) -> Result<(), Failure> {
    let rt = runtime()?;
    rt.block_on(async {
        let sdk = sdk_config_with(None, None).await;
        check_access(&sdk, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let store = S3Store::new(&sdk);
        let mut objects = Vec::new();
        for url in urls {
            let (bucket, prefix) = parse_s3_url(url).ok_or_else(|| {
                Failure::usage(anyhow::anyhow!("{url}: expected s3://bucket/prefix"))
            })?;
            let found = list_objects(&store, &bucket, &prefix)
                .await
                .with_context(|| format!("listing {url}"))?;
            objects.extend(found.into_iter().filter(|o| !o.key.ends_with('/')));
        }
        let mut opts = ReadOptions::default();
        if let Some(j) = jobs {
            opts.concurrency = j.max(1);
        }
        let pending = read_objects(
            &store,
            &Arc::new(config.clone()),
            state,
            &objects,
            &opts,
            None,
        )
        .await;
        for id in pending.skipped {
            input.skip(id);
        }
        for o in pending.read {
            input.add(o.id, o.summary, o.tally);
        }
        for f in pending.failed {
            eprintln!("floodgate: warning: {}: {}", f.object.url(), f.error);
            input.files.push(FileSummary::unread(
                f.object.url(),
                format!("not read: {}", f.error),
            ));
        }
        Ok(())
    })
}

/// Arguments of `sync`.
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// State file (or s3://bucket/key) holding the decision to push.
    #[arg(long)]
    state: String,
    /// An IPv4 IP set, NAME:ID; repeat (or comma-separate) for several, in placement order.
    #[arg(long = "ipv4-set")]
    ipv4_set: Vec<String>,
    /// An IPv6 IP set, NAME:ID; repeat (or comma-separate) for several.
    #[arg(long = "ipv6-set")]
    ipv6_set: Vec<String>,
    /// Configuration (TOML) to decide with and whose ban.max_entries the sets must hold;
    /// default: the one the state was decided with, else the built-in one.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// REGIONAL or CLOUDFRONT (CLOUDFRONT calls go to us-east-1).
    #[arg(long)]
    scope: String,
    /// AWS region (default: from the environment).
    #[arg(long)]
    region: Option<String>,
    /// Endpoint URL (a local test endpoint, a VPC endpoint).
    #[arg(long = "endpoint-url")]
    endpoint_url: Option<String>,
    /// Read the sets and print what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the sync report as JSON.
    #[arg(long)]
    json: bool,
    /// Also send the decision's notification to this SNS topic (as the Lambda does).
    #[arg(long = "notify-topic")]
    notify_topic: Option<String>,
    /// Decide at this time (RFC 3339); default: the wall clock, so bans that ended by the
    /// clock leave the sets even when no log arrived since the state's last run.
    #[arg(long)]
    now: Option<String>,
}

/// `floodgate sync`: make the IP sets equal the state's blocklist, touching only floodgate's
/// own entries. Exit 1 when a set could not be synced.
pub fn sync(args: SyncArgs) -> Result<u8, Failure> {
    let scope: Scope = args
        .scope
        .parse()
        .map_err(|e: String| Failure::usage(anyhow::anyhow!("--scope: {e}")))?;
    let mut targets = Vec::new();
    for (arg, values, version) in [
        ("--ipv4-set", &args.ipv4_set, IpVersion::V4),
        ("--ipv6-set", &args.ipv6_set, IpVersion::V6),
    ] {
        for v in values {
            let sets = IpSetRef::parse_list(v)
                .map_err(|e| Failure::usage(anyhow::anyhow!("{arg}: {e}")))?;
            targets.extend(sets.into_iter().map(|set| SyncTarget { set, version }));
        }
    }
    if targets.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "give --ipv4-set NAME:ID, --ipv6-set NAME:ID, or both (each may repeat)"
        )));
    }
    // `--config`, else the configuration the state was decided with (as every command).
    let recorded = crate::state_file::load_any(std::path::Path::new(&args.state))?.0;
    let (mut config, source) =
        crate::config_for_state(args.config.as_deref(), &recorded.unwrap_or_default())?;
    check_capacity(&config.ban, &targets, ["--ipv4-set", "--ipv6-set"])
        .map_err(|p| Failure::usage(anyhow::anyhow!("{}", p.join("\n"))))?;
    // Capacity follows the IP sets given where the configuration sets none.
    let count = |v: IpVersion| targets.iter().filter(|t| t.version == v).count();
    config.ban.ip_sets = Some((count(IpVersion::V4), count(IpVersion::V6)));
    let opts = SyncOptions::default();
    let now = crate::parse_now(args.now.as_deref())?.unwrap_or_else(crate::wall_clock_ms);
    let rt = runtime()?;
    let dry_run = args.dry_run;
    let report = rt.block_on(async {
        let sdk = sdk_config_with(args.region.clone(), args.endpoint_url.clone()).await;
        // Without credentials (or a region) say so at once, instead of each call retrying.
        let needs_region = scope == Scope::Regional || args.state.starts_with("s3://");
        check_access(&sdk, needs_region)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let waf = WafIpSets::new(&sdk, scope);
        let notify = args
            .notify_topic
            .clone()
            .map(|arn| Arc::new(SnsPublisher::new(&sdk, arn)) as Arc<dyn Publisher>);
        let run = SyncRun {
            config: &config,
            source: &source,
            targets: &targets,
            opts,
            dry_run,
            notify,
            now,
        };
        if args.state.starts_with("s3://") {
            let (bucket, key) = parse_s3_url(&args.state)
                .filter(|(_, k)| !k.is_empty())
                .ok_or_else(|| {
                    Failure::usage(anyhow::anyhow!(
                        "--state {}: expected s3://bucket/key",
                        args.state
                    ))
                })?;
            let backend = S3State {
                store: S3Store::new(&sdk),
                bucket,
                key,
            };
            run.sync(waf, backend).await
        } else {
            let backend = StateFile::new(&args.state);
            backend.load_existing().map_err(Failure::usage)?;
            run.sync(waf, backend).await
        }
    })?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.failures() > 0 { 1 } else { 0 })
}

/// What `sync` delivers: the same sinks as the Lambda (IP sets, and the notification when a
/// topic is given), over the saved state's last decision.
struct SyncRun<'a> {
    config: &'a Config,
    /// The configuration as the state records it (as `analyze` records it).
    source: &'a floodgate_core::config::ConfigSource,
    targets: &'a [SyncTarget],
    opts: SyncOptions,
    dry_run: bool,
    notify: Option<Arc<dyn Publisher>>,
    /// The decision time.
    now: i64,
}

impl SyncRun<'_> {
    async fn sync<B: StateBackend + Clone + 'static>(
        &self,
        waf: WafIpSets,
        backend: B,
    ) -> Result<SyncReport, Failure> {
        // Decide at `now` as the Lambda's schedule does: expire what ended by then, record it in
        // the state (so every command sees the same decision), then sync that. A dry run
        // decides in memory and writes nothing.
        let (state, decision) = if self.dry_run {
            let (mut state, _) = backend.load().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let decision = engine::expire(self.config, &mut state, self.now, true)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            (state, decision)
        } else {
            let done = commit_expiry(
                &backend,
                RetryPolicy::STATE,
                self.config,
                Some(self.source),
                self.now,
                false,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            (done.state, done.value)
        };
        let mut sinks: Vec<Box<dyn DecisionSink>> = vec![Box::new(IpSetSink {
            waf,
            backend: backend.clone(),
            targets: self.targets.to_vec(),
            options: self.opts,
        })];
        if let Some(p) = &self.notify {
            sinks.push(Box::new(NotifySink {
                publisher: p.clone(),
                backend,
                state_retry: RetryPolicy::STATE,
            }));
        }
        let outcome = Outcome {
            config: self.config,
            state: &state,
            decision: &decision,
            now_ms: self.now,
            run: "sync",
            dry_run: self.dry_run,
            state_conflicts: 0,
            started: std::time::Instant::now(),
        };
        let deliveries = deliver_all(&sinks, &outcome).await;
        for d in deliveries.iter().skip(1).filter(|d| d.failed()) {
            eprintln!("floodgate: warning: {}", d.failure().unwrap_or_default());
        }
        Ok(deliveries
            .into_iter()
            .next()
            .and_then(|d| d.sync)
            .unwrap_or_default())
    }
}

fn print_report(report: &SyncReport) {
    for s in &report.sets {
        let verb = if report.dry_run { "would add" } else { "added" };
        let status = match (&s.error, s.wrote, report.dry_run) {
            (Some(e), _, _) => format!("FAILED: {e}"),
            (None, true, _) => "updated".to_string(),
            (None, false, true) => "dry run, nothing written".to_string(),
            (None, false, false) => "unchanged".to_string(),
        };
        outln!(
            "{} {} ({}): {status}; {verb} {}, removed {}, kept {} entries of others, {} entries{}",
            s.version,
            s.name,
            s.id,
            s.added.len(),
            s.removed.len(),
            s.foreign_kept,
            s.entries,
            if s.not_fitted.is_empty() {
                String::new()
            } else {
                format!(", {} did not fit", s.not_fitted.len())
            }
        );
        for a in s.added.iter().take(20) {
            outln!("  + {a}");
        }
        for r in s.removed.iter().take(20) {
            outln!("  - {r}");
        }
    }
}

/// The state object at `s3://bucket/key` (`--state s3://…` of `analyze`, `report`, `explain`).
fn s3_state(url: &str) -> Result<(S3State<S3Store>, tokio::runtime::Runtime), Failure> {
    let (bucket, key) = parse_s3_url(url)
        .filter(|(_, k)| !k.is_empty())
        .ok_or_else(|| {
            Failure::usage(anyhow::anyhow!("--state {url}: expected s3://bucket/key"))
        })?;
    let rt = runtime()?;
    let sdk = rt.block_on(sdk_config_with(None, None));
    rt.block_on(check_access(&sdk, true))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((
        S3State {
            store: S3Store::new(&sdk),
            bucket,
            key,
        },
        rt,
    ))
}

/// Read the state at an `s3://` URL with its version (`None`: there is none yet).
pub fn load_s3_state(
    url: &str,
) -> Result<(Option<State>, floodgate_aws::state_store::Version), Failure> {
    let (backend, rt) = s3_state(url)?;
    let (state, version) = rt
        .block_on(backend.load())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((version.is_some().then_some(state), version))
}

/// Write the state back to an `s3://` URL only if it is still the version read (the Lambda's
/// conditional write): another writer's commit meanwhile is an error, never overwritten.
pub fn save_s3_state(
    url: &str,
    state: &State,
    version: &floodgate_aws::state_store::Version,
) -> Result<(), Failure> {
    let (backend, rt) = s3_state(url)?;
    rt.block_on(backend.store(state.save(), version))
        .map_err(|e| match e {
            floodgate_aws::objects::StoreError::Conflict(_) => anyhow::anyhow!(
                "{url} changed since this run read it (another writer, the Lambda?): nothing was written; run again"
            ),
            e => anyhow::anyhow!("writing {url}: {e}"),
        })?;
    Ok(())
}

/// `floodgate rollback`: put version `version_id` of the state at `url` back as the current
/// one, written conditionally on the current version. What must not go back in time is kept from
/// the current state: the IP set entries floodgate owns (an entry added since would otherwise
/// become "someone else's" and never be removed) and the operator's manual decisions (bans,
/// unbans, the emergency stop). Returns the restored state's last decision time.
pub fn rollback_s3_state(url: &str, version_id: &str) -> Result<i64, Failure> {
    let (backend, rt) = s3_state(url)?;
    let (current, version) = rt
        .block_on(backend.load())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let object = floodgate_aws::objects::ObjectRef {
        version_id: Some(version_id.to_string()),
        ..floodgate_aws::objects::ObjectRef::new(&backend.bucket, &backend.key)
    };
    let bytes = rt.block_on(async {
        use floodgate_aws::objects::ObjectStore as _;
        let mut body = backend.store.open(&object).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.chunks.recv().await {
            bytes.extend_from_slice(
                &chunk.map_err(|e| floodgate_aws::objects::StoreError::Other(e.to_string()))?,
            );
        }
        Ok::<_, floodgate_aws::objects::StoreError>(bytes)
    });
    let bytes = bytes.map_err(|e| anyhow::anyhow!("{url} version {version_id}: {e}"))?;
    let mut restored = State::load(&bytes)
        .map_err(|e| anyhow::anyhow!("{url} version {version_id} is not a state: {e}"))?;
    for (set, owned) in &current.ip_sets {
        restored
            .ip_sets
            .entry(set.clone())
            .or_default()
            .extend(owned.iter().cloned());
    }
    restored.manual = current.manual;
    let now = restored.last_run.now_ms;
    save_s3_state(url, &restored, &version)?;
    Ok(now)
}
