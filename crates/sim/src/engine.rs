//! The engine model: continuous batching over a paged KV cache, stepped in simulated time.
//!
//! One engine iteration schedules the batch (running sequences first, then
//! waiting ones while batch slots, KV blocks and the token budget allow),
//! takes `base + per_seq · batch + prefill · new tokens` milliseconds (slowed
//! by a throttled GPU), and gives every running sequence one token at its end.
//! A sequence that needs a KV block when none is free preempts the newest
//! running sequence, which frees its blocks and goes back to the front of the
//! queue to be recomputed later, as vLLM's V1 scheduler does.

use std::collections::VecDeque;

use inference::GapSummary;
use tokio::sync::mpsc;

use crate::config::ReplicaConfig;

/// Tokens per KV-cache block (vLLM's default `block_size`).
pub(crate) const BLOCK_SIZE: u32 = 16;

/// Why a sequence ended, as vLLM's `finished_reason` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    Stop,
    Length,
    /// The client gave up waiting in the queue.
    Abort,
    /// The engine died under it.
    Error,
}

impl Finish {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
            Finish::Abort => "abort",
            Finish::Error => "error",
        }
    }
}

/// What the HTTP handler of a live request hears from the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Event {
    /// Output token `index` (0-based) exists at simulated time `at_ms`.
    Token { index: u32, at_ms: f64 },
    /// The sequence ended at `at_ms`.
    Done { at_ms: f64, finish: Finish },
}

/// A request as the engine sees it; `tag` rides along untouched for whoever built it.
#[derive(Debug)]
pub(crate) struct Job<T> {
    pub(crate) arrival_ms: f64,
    pub(crate) prompt_tokens: u32,
    /// Prompt tokens found in the prefix cache on first admission.
    pub(crate) cached_tokens: u32,
    /// Tokens it will produce before stopping.
    pub(crate) output_tokens: u32,
    /// `max_tokens` of the request.
    pub(crate) max_tokens: u32,
    /// How it ends when it runs to `output_tokens`.
    pub(crate) finish: Finish,
    pub(crate) stream: bool,
    pub(crate) events: Option<mpsc::UnboundedSender<Event>>,
    pub(crate) tag: T,
}

/// A finished sequence with the times the engine measured.
#[derive(Debug)]
pub(crate) struct Finished<T> {
    pub(crate) job: Job<T>,
    pub(crate) finish: Finish,
    pub(crate) generated: u32,
    pub(crate) preemptions: u32,
    pub(crate) scheduled_ms: Option<f64>,
    pub(crate) first_token_ms: Option<f64>,
    pub(crate) finished_ms: f64,
    /// Prompt tokens computed on the first prefill (uncached).
    pub(crate) prefill_computed: u32,
    pub(crate) gaps: GapSummary,
}

impl<T> Finished<T> {
    pub(crate) fn queue_s(&self) -> f64 {
        (self.scheduled_ms.unwrap_or(self.finished_ms) - self.job.arrival_ms).max(0.0) / 1000.0
    }
    pub(crate) fn ttft_s(&self) -> Option<f64> {
        self.first_token_ms.map(|t| (t - self.job.arrival_ms).max(0.0) / 1000.0)
    }
    pub(crate) fn e2e_s(&self) -> f64 {
        (self.finished_ms - self.job.arrival_ms).max(0.0) / 1000.0
    }
    pub(crate) fn prefill_s(&self) -> f64 {
        match (self.scheduled_ms, self.first_token_ms) {
            (Some(s), Some(f)) => (f - s).max(0.0) / 1000.0,
            _ => 0.0,
        }
    }
    pub(crate) fn decode_s(&self) -> f64 {
        self.first_token_ms.map(|f| (self.finished_ms - f).max(0.0) / 1000.0).unwrap_or(0.0)
    }
    pub(crate) fn inference_s(&self) -> f64 {
        self.scheduled_ms.map(|s| (self.finished_ms - s).max(0.0) / 1000.0).unwrap_or(0.0)
    }
    /// (e2e − TTFT) / (tokens − 1), 0 with fewer than two tokens.
    pub(crate) fn tpot_s(&self) -> f64 {
        match self.ttft_s() {
            Some(ttft) if self.generated > 1 => (self.e2e_s() - ttft) / f64::from(self.generated - 1),
            _ => 0.0,
        }
    }
}

/// What happened during one iteration, for the engine's own counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IterationReport {
    pub(crate) prefill_tokens: u32,
    pub(crate) cached_tokens: u32,
    pub(crate) decode_tokens: u32,
    /// Output tokens produced (one per running sequence, first tokens included).
    pub(crate) generated_tokens: u32,
    pub(crate) preemptions: u32,
}

/// Receives what the engine measures as it happens.
pub(crate) trait Observer<T> {
    fn iteration(&mut self, report: &IterationReport);
    fn token_gap(&mut self, gap_s: f64);
    fn finished(&mut self, finished: Finished<T>);
}

#[derive(Debug)]
struct Seq<T> {
    job: Job<T>,
    generated: u32,
    blocks: u32,
    preemptions: u32,
    scheduled_ms: Option<f64>,
    first_token_ms: Option<f64>,
    last_token_ms: f64,
    prefill_computed: u32,
    /// Whether the next iteration prefills it (first admission or after preemption).
    prefilling: bool,
    gaps: GapSummary,
}

impl<T> Seq<T> {
    fn context(&self) -> u32 {
        self.job.prompt_tokens + self.generated
    }
}

/// Engine speed and capacity, from the replica's config, scaled by scenarios.
#[derive(Debug, Clone)]
pub(crate) struct EngineParams {
    pub(crate) max_batch: u32,
    pub(crate) kv_blocks: u32,
    pub(crate) max_batched_tokens: u32,
    pub(crate) prefill_ms_per_token: f64,
    pub(crate) decode_base_ms: f64,
    pub(crate) decode_ms_per_seq: f64,
    pub(crate) queue_timeout_ms: f64,
}

impl EngineParams {
    pub(crate) fn from_config(replica: &ReplicaConfig) -> EngineParams {
        EngineParams {
            max_batch: replica.max_batch,
            kv_blocks: replica.kv_blocks,
            max_batched_tokens: replica.max_batched_tokens,
            prefill_ms_per_token: replica.prefill_ms_per_token,
            decode_base_ms: replica.decode_base_ms,
            decode_ms_per_seq: replica.decode_ms_per_seq,
            queue_timeout_ms: replica.queue_timeout.0 as f64,
        }
    }
}

/// One engine process: its queue, running batch and KV cache.
#[derive(Debug)]
pub(crate) struct Engine<T> {
    pub(crate) params: EngineParams,
    /// Usable KV blocks now (a scenario may shrink them below `params.kv_blocks`).
    usable_blocks: u32,
    used_blocks: u32,
    now_ms: f64,
    /// Jobs submitted but not yet arrived (their arrival is later in the current step).
    pending: VecDeque<Job<T>>,
    waiting: VecDeque<Seq<T>>,
    running: Vec<Seq<T>>,
    /// Milliseconds the GPU was busy since the last [`Engine::take_busy_ms`].
    busy_ms: f64,
    tokens_since: u64,
}

impl<T> Engine<T> {
    pub(crate) fn new(params: EngineParams, now_ms: f64) -> Engine<T> {
        Engine {
            usable_blocks: params.kv_blocks,
            params,
            used_blocks: 0,
            now_ms,
            pending: VecDeque::new(),
            waiting: VecDeque::new(),
            running: Vec::new(),
            busy_ms: 0.0,
            tokens_since: 0,
        }
    }

    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    pub(crate) fn waiting(&self) -> usize {
        self.waiting.len() + self.pending.len()
    }

    pub(crate) fn used_blocks(&self) -> u32 {
        self.used_blocks
    }

    pub(crate) fn usable_blocks(&self) -> u32 {
        self.usable_blocks
    }

    /// Fraction of the usable KV cache in use (what `kv_cache_usage_perc` reports): a
    /// shrunken cache fills up.
    pub(crate) fn kv_usage(&self) -> f64 {
        (f64::from(self.used_blocks) / f64::from(self.usable_blocks.max(1))).min(1.0)
    }

    /// Shrinks or restores the usable KV cache; a shrink below current use preempts at the next iteration.
    pub(crate) fn set_usable_blocks(&mut self, blocks: u32) {
        self.usable_blocks = blocks.clamp(16, self.params.kv_blocks);
    }

    /// Busy milliseconds and generated tokens since the last call.
    pub(crate) fn take_activity(&mut self) -> (f64, u64) {
        let out = (self.busy_ms, self.tokens_since);
        self.busy_ms = 0.0;
        self.tokens_since = 0;
        out
    }

    /// Queues a job; it becomes schedulable at its arrival time.
    pub(crate) fn submit(&mut self, job: Job<T>) {
        // Arrivals come in time order within a step; keep `pending` sorted anyway.
        let pos = self.pending.iter().rposition(|p| p.arrival_ms <= job.arrival_ms).map_or(0, |i| i + 1);
        self.pending.insert(pos, job);
    }

    /// Runs iterations until simulated time `to_ms`; `slowdown` ≥ 1 stretches each iteration.
    pub(crate) fn run_until(&mut self, to_ms: f64, slowdown: f64, observer: &mut dyn Observer<T>) {
        loop {
            self.admit_arrivals();
            self.expire_waiting(observer);
            if self.running.is_empty() && self.waiting.is_empty() {
                match self.pending.front() {
                    Some(job) if job.arrival_ms < to_ms => {
                        self.now_ms = self.now_ms.max(job.arrival_ms);
                        continue;
                    }
                    _ => {
                        self.now_ms = self.now_ms.max(to_ms);
                        return;
                    }
                }
            }
            if self.now_ms >= to_ms {
                return;
            }
            self.iterate(slowdown, observer);
        }
    }

    /// Fails every sequence (the process died) and empties the cache.
    pub(crate) fn crash(&mut self, observer: &mut dyn Observer<T>) {
        let now = self.now_ms;
        let seqs: Vec<Seq<T>> = self.running.drain(..).chain(self.waiting.drain(..)).collect();
        for seq in seqs {
            self.finish(seq, Finish::Error, now, observer);
        }
        for job in self.pending.drain(..).collect::<Vec<_>>() {
            let seq = new_seq(job);
            self.finish(seq, Finish::Error, now, observer);
        }
        self.used_blocks = 0;
    }

    /// Moves time forward without work (a down replica).
    pub(crate) fn idle_until(&mut self, to_ms: f64) {
        self.now_ms = self.now_ms.max(to_ms);
    }

    fn admit_arrivals(&mut self) {
        while let Some(job) = self.pending.front() {
            if job.arrival_ms > self.now_ms {
                break;
            }
            if let Some(job) = self.pending.pop_front() {
                self.waiting.push_back(new_seq(job));
            }
        }
    }

    fn expire_waiting(&mut self, observer: &mut dyn Observer<T>) {
        let now = self.now_ms;
        let timeout = self.params.queue_timeout_ms;
        if timeout <= 0.0 || !self.waiting.iter().any(|s| now - s.job.arrival_ms > timeout) {
            return;
        }
        let (expired, kept): (Vec<Seq<T>>, Vec<Seq<T>>) =
            self.waiting.drain(..).partition(|s| now - s.job.arrival_ms > timeout);
        self.waiting = kept.into();
        for seq in expired {
            self.finish(seq, Finish::Abort, now, observer);
        }
    }

    fn iterate(&mut self, slowdown: f64, observer: &mut dyn Observer<T>) {
        let mut report = IterationReport::default();
        // 1. Every running sequence needs room for one more token; the newest yield first.
        let mut idx = 0;
        while idx < self.running.len() {
            let needed = blocks_for(self.running[idx].context() + 1).saturating_sub(self.running[idx].blocks);
            if self.used_blocks + needed <= self.usable_blocks {
                self.running[idx].blocks += needed;
                self.used_blocks += needed;
                idx += 1;
                continue;
            }
            let Some(mut victim) = self.running.pop() else { break };
            self.used_blocks -= victim.blocks;
            victim.blocks = 0;
            victim.preemptions += 1;
            victim.prefilling = true;
            self.waiting.push_front(victim);
            report.preemptions += 1;
        }
        // 2. Admit waiting sequences while batch slots, blocks and the token budget allow.
        let mut budget = self.params.max_batched_tokens.saturating_sub(self.running.len() as u32);
        let mut admitted = 0usize;
        while (self.running.len() as u32) < self.params.max_batch {
            let Some(front) = self.waiting.front() else { break };
            let context = front.context();
            let cached = if front.preemptions == 0 { front.job.cached_tokens.min(context) } else { 0 };
            let compute = context - cached;
            let need = blocks_for(context + 1);
            let fits_alone = need > self.usable_blocks && self.running.is_empty() && admitted == 0;
            if need + self.used_blocks > self.usable_blocks && !fits_alone {
                break;
            }
            if compute > budget && admitted > 0 {
                break;
            }
            let Some(mut seq) = self.waiting.pop_front() else { break };
            let need = need.min(self.usable_blocks.saturating_sub(self.used_blocks));
            seq.blocks = need;
            self.used_blocks += need;
            if seq.scheduled_ms.is_none() {
                seq.scheduled_ms = Some(self.now_ms);
                seq.prefill_computed = compute;
            }
            seq.prefilling = true;
            budget = budget.saturating_sub(compute);
            report.prefill_tokens += compute;
            report.cached_tokens += cached;
            self.running.push(seq);
            admitted += 1;
        }
        if self.running.is_empty() {
            // Nothing fits (a single prompt larger than the cache): let time pass.
            self.now_ms += self.params.decode_base_ms;
            return;
        }
        // 3. The iteration's cost.
        let decoding = self.running.iter().filter(|s| !s.prefilling).count() as u32;
        report.decode_tokens = decoding;
        let duration = (self.params.decode_base_ms
            + self.params.decode_ms_per_seq * self.running.len() as f64
            + self.params.prefill_ms_per_token * f64::from(report.prefill_tokens))
            * slowdown.max(1.0);
        let end = self.now_ms + duration;
        self.busy_ms += duration;
        // 4. One token per running sequence at the end of the iteration.
        for seq in &mut self.running {
            seq.prefilling = false;
            if seq.first_token_ms.is_none() {
                seq.first_token_ms = Some(end);
            } else {
                let gap = end - seq.last_token_ms;
                seq.gaps.record(std::time::Duration::from_secs_f64(gap.max(0.0) / 1000.0));
                observer.token_gap(gap / 1000.0);
            }
            seq.last_token_ms = end;
            if let Some(events) = &seq.job.events {
                let _ = events.send(Event::Token { index: seq.generated, at_ms: end });
            }
            seq.generated += 1;
        }
        self.tokens_since += self.running.len() as u64;
        report.generated_tokens = self.running.len() as u32;
        self.now_ms = end;
        observer.iteration(&report);
        // 5. Retire finished sequences.
        if self.running.iter().any(|s| s.generated >= s.job.output_tokens) {
            let (done, still): (Vec<Seq<T>>, Vec<Seq<T>>) =
                self.running.drain(..).partition(|s| s.generated >= s.job.output_tokens);
            self.running = still;
            for seq in done {
                self.used_blocks -= seq.blocks;
                let finish = seq.job.finish;
                self.finish(seq, finish, end, observer);
            }
        }
    }

    fn finish(&mut self, seq: Seq<T>, finish: Finish, at_ms: f64, observer: &mut dyn Observer<T>) {
        if let Some(events) = &seq.job.events {
            let _ = events.send(Event::Done { at_ms, finish });
        }
        let finished = Finished {
            finish,
            generated: seq.generated,
            preemptions: seq.preemptions,
            scheduled_ms: seq.scheduled_ms,
            first_token_ms: seq.first_token_ms,
            finished_ms: at_ms,
            prefill_computed: seq.prefill_computed,
            gaps: seq.gaps,
            job: seq.job,
        };
        observer.finished(finished);
    }
}

fn new_seq<T>(job: Job<T>) -> Seq<T> {
    Seq {
        last_token_ms: job.arrival_ms,
        job,
        generated: 0,
        blocks: 0,
        preemptions: 0,
        scheduled_ms: None,
        first_token_ms: None,
        prefill_computed: 0,
        prefilling: true,
        gaps: GapSummary::default(),
    }
}

pub(crate) fn blocks_for(tokens: u32) -> u32 {
    tokens.div_ceil(BLOCK_SIZE)
}
