// Classifier: one per tenant, named by the bare tenant id; the Knowledge Manager's trainer. `train()`
// gathers the tenant's training objects (imported examples, agents' categorisations, the text of
// each category's standard responses), splits off a stratified held-out set, and trains a new model
// version in slices on its alarm: each slice does a bounded number of updates (well under the
// platform's CPU limit), then checkpoints to R2, so an evicted or restarted object resumes where the
// last slice ended. The finished model goes to R2 with its test report in D1; activation is separate.
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import { DEFAULT_TRAINING, Trainer, dimFor, distinctFeatures, type Example, type TrainOptions } from "../workers/analyzer/train.ts";
import { serialize, modelBytes } from "../workers/analyzer/model.ts";
import { evaluate } from "../workers/analyzer/report.ts";
import { trainingSet, MAX_TRAINING_EXAMPLES } from "../workers/analyzer/training-set.ts";
import { stratifiedSplit } from "../workers/analyzer/split.ts";
import { checkpointKey, modelKey } from "../workers/analyzer/keys.ts";
import { classifierSettings, failModel, failOrphanedTraining, finishModel, newModelVersion, setModelProgress, trainingExamples } from "../workers/ucs/classifier.ts";
import { conflict } from "../workers/kernel/errors.ts";
import { hasSchema } from "./schema.ts";
import { guard, type Result } from "./result.ts";

const SCHEMA = "1";
/** Multiply-adds per slice: about 2-4 s of CPU, far below the 30 s an alarm may use. */
const SLICE_WORK = 1.5e9;
/** A short message's typical feature count, to turn that work into a number of updates. */
const FEATURES_PER_TEXT = 120;

interface Job {
  version: number;
  options: TrainOptions;
  sliceUpdates: number;
  startedAt: number;
  outOfScopeBelow: number;
  autoPrecision: number;
  slices: number;
}

export interface TrainRequest {
  by: string | null;
  /** Tests and benches: fewer updates per slice, or other training options. */
  sliceUpdates?: number;
  options?: Partial<TrainOptions>;
}

export interface TrainStarted {
  version: number;
  examples: number;
  heldOut: number;
  labels: string[];
  skipped: number;
}

export class Classifier extends DurableObject<Env> {
  /** This object's tenant's env: its shard, bucket and objects in its jurisdiction. */
  protected te = () => objectEnv(this.env, this.tenant);
  private readonly sql: SqlStorage;
  private readonly tenant: string;
  /** The trainer of the running job, while this instance lives; rebuilt from the checkpoint after an eviction. */
  private trainer: { version: number; trainer: Trainer } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name;
    if (!name || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`Classifier created without a tenant id as its name: ${name}`);
    this.tenant = name;
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA)) this.sql.exec(`
      CREATE TABLE IF NOT EXISTS job (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS examples (i INTEGER PRIMARY KEY, text TEXT NOT NULL, label TEXT NOT NULL, held_out INTEGER NOT NULL);
    `);
  }

  train(req: TrainRequest): Promise<Result<TrainStarted>> {
    return guard(() => this.start(req));
  }

  private async start(req: TrainRequest): Promise<TrainStarted> {
    if (this.job()) throw conflict("training_running", "a model is already training for this tenant; wait for it to finish");
    const cfg = await getConfig((await this.te()).DB, this.tenant);
    const stored = await trainingExamples((await this.te()).DB, this.tenant, MAX_TRAINING_EXAMPLES);
    const set = trainingSet(cfg.raw.categories, cfg.raw.standardResponses, stored);
    const { train, test } = stratifiedSplit(set.examples);
    const labels = [...new Set(set.examples.map((e) => e.label))].sort();
    if (labels.length < 2) throw conflict("not_enough_examples", "training needs examples of at least two categories (or of one and of '_none'): import some, or file standard responses under categories");
    const settings = await classifierSettings((await this.te()).DB, this.tenant);
    const row = { by: req.by, examples: set.examples.length, heldOut: test.length, labels, at: Date.now() };
    let version = await newModelVersion((await this.te()).DB, this.tenant, row);
    // This object is the only trainer of the tenant and has no job: a row still "training" is one it
    // wrote before stopping, and nothing will finish it.
    if (version === null && (await failOrphanedTraining((await this.te()).DB, this.tenant, Date.now())) > 0) version = await newModelVersion((await this.te()).DB, this.tenant, row);
    if (version === null) throw conflict("training_running", "a model is already training for this tenant; wait for it to finish");
    const options: TrainOptions = { ...DEFAULT_TRAINING, dim: dimFor(labels.length, distinctFeatures(train.map((e) => e.text))), ...req.options };
    const job: Job = {
      version, options, startedAt: Date.now(), slices: 0, outOfScopeBelow: settings.outOfScopeBelow, autoPrecision: settings.autoPrecision,
      sliceUpdates: req.sliceUpdates ?? Math.max(100, Math.floor(SLICE_WORK / (labels.length * FEATURES_PER_TEXT * 2))),
    };
    this.sql.exec("DELETE FROM examples");
    let i = 0;
    for (const e of train) this.sql.exec("INSERT INTO examples (i, text, label, held_out) VALUES (?, ?, ?, 0)", i++, e.text, e.label);
    for (const e of test) this.sql.exec("INSERT INTO examples (i, text, label, held_out) VALUES (?, ?, ?, 1)", i++, e.text, e.label);
    this.sql.exec("INSERT OR REPLACE INTO job (k, v) VALUES ('job', ?)", JSON.stringify(job));
    this.trainer = null;
    await this.ctx.storage.setAlarm(Date.now());
    return { version, examples: set.examples.length, heldOut: test.length, labels, skipped: set.skipped };
  }

  override async alarm(): Promise<void> {
    const job = this.job();
    if (!job) return;
    try {
      const trainer = await this.trainerFor(job);
      const done = trainer.run(job.sliceUpdates);
      job.slices++;
      if (!done) {
        await (await this.te()).BLOBS.put(checkpointKey(this.tenant, job.version), trainer.checkpoint());
        this.sql.exec("UPDATE job SET v = ? WHERE k = 'job'", JSON.stringify(job));
        await setModelProgress((await this.te()).DB, this.tenant, job.version, Math.round(trainer.progress.done * 1000) / 1000);
        await this.ctx.storage.setAlarm(Date.now());
        return;
      }
      const model = trainer.model();
      const test = this.examples(true);
      const report = evaluate(model, test, { outOfScopeBelow: job.outOfScopeBelow, autoRespondPrecision: job.autoPrecision });
      const bytes = serialize(model);
      await (await this.te()).BLOBS.put(modelKey(this.tenant, job.version), bytes);
      await finishModel((await this.te()).DB, this.tenant, job.version, {
        report: { ...report, slices: job.slices, bytesPerCategory: model.dim, modelBytes: modelBytes(model) }, bytes: bytes.byteLength, trainMs: Date.now() - job.startedAt, at: Date.now(),
      });
      await this.clear(job);
    } catch (err) {
      // A job that cannot go on is recorded as failed, with why, rather than retried for ever.
      await failModel((await this.te()).DB, this.tenant, job.version, err instanceof Error ? err.message : String(err), Date.now());
      await this.clear(job);
    }
  }

  private async clear(job: Job): Promise<void> {
    this.trainer = null;
    this.sql.exec("DELETE FROM job");
    this.sql.exec("DELETE FROM examples");
    await (await this.te()).BLOBS.delete(checkpointKey(this.tenant, job.version));
  }

  private job(): Job | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM job WHERE k = 'job'").toArray()[0];
    return row ? (JSON.parse(row.v) as Job) : null;
  }

  private examples(heldOut: boolean): Example[] {
    return this.sql.exec<{ text: string; label: string }>("SELECT text, label FROM examples WHERE held_out = ? ORDER BY i", heldOut ? 1 : 0).toArray().map((r) => ({ text: r.text, label: r.label }));
  }

  private async trainerFor(job: Job): Promise<Trainer> {
    if (this.trainer?.version === job.version) return this.trainer.trainer;
    // After an eviction: the same examples, in the same order, and the last slice's checkpoint.
    const saved = job.slices > 0 ? await (await this.te()).BLOBS.get(checkpointKey(this.tenant, job.version)) : null;
    if (job.slices > 0 && !saved) throw new Error("the training checkpoint is missing; train again");
    const trainer = new Trainer(this.examples(false), job.options, saved ? new Uint8Array(await saved.arrayBuffer()) : undefined);
    this.trainer = { version: job.version, trainer };
    return trainer;
  }

  /** Its tenant was deleted (the platform's delete): the object's storage goes with it, and any
   *  socket still open is told so. */
  async wipe(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "tenant deleted");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // The instance's memory (its schema made, its caches) goes too, once this answer is sent: a
    // tenant made later with the same id starts from nothing.
    setTimeout(() => this.ctx.abort("wiped"), 0);
  }
}
