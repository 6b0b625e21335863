// A form post checked against its form's config: the honeypot, unknown fields, required fields,
// types and sizes. Every error names its field (`fields.email: not an email address`). Pure.
import { e164 } from "../kernel/phone.ts";
import * as z from "zod";
import type { Form } from "../config/schema.ts";
import { AppError, badRequest } from "../kernel/errors.ts";
import type { ContactInput } from "../ucs/identifiers.ts";
import type { Entry, UploadedFile } from "./entries.ts";

/** The client's own id for the post (a retry answers the first interaction), like Idempotency-Key. */
export const SUBMISSION_FIELD = "_submission";
export const TURNSTILE_FIELD = "cf-turnstile-response";
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const MAX_LENGTH: Record<string, number> = { text: 5_000, textarea: 50_000, email: 320, phone: 40 };
const MAX_FILES_PER_FIELD = 10;

export type FormField = Form["fields"][number];
export interface FieldValue { field: FormField; value: string }
export interface FileValue { field: FormField; file: UploadedFile }
export interface Submission {
  values: FieldValue[];
  files: FileValue[];
  submissionKey?: string;
  turnstileToken?: string;
}

const isEmail = (v: string) => v.length <= 320 && z.email().safeParse(v).success;
const show = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}…` : name);

/** A bot fills every input, the hidden honeypot too: refuse before anything else is looked at. */
export function checkHoneypot(form: Form, entries: Entry[]): void {
  const filled = entries.some((e) => e.name === form.honeypot && ("file" in e || e.value.trim() !== ""));
  if (filled) throw new AppError(400, "spam_suspected", "the submission looks automated");
}

function accepts(field: FormField, type: string): boolean {
  if (!field.accept) return true;
  const base = type.split(";")[0]!.trim();
  return field.accept.some((a) => {
    const want = a.toLowerCase();
    return want.endsWith("/*") ? base.startsWith(want.slice(0, -1)) : base === want;
  });
}

export function validateSubmission(form: Form, entries: Entry[]): Submission {
  checkHoneypot(form, entries);
  const byName = new Map(form.fields.map((f) => [f.name, f]));
  const issues: { path: string; message: string }[] = [];
  const bad = (name: string, message: string) => issues.push({ path: `fields.${show(name)}`, message });
  const texts = new Map<string, string>();
  const files: FileValue[] = [];
  const out: Submission = { values: [], files };

  for (const e of entries) {
    if (e.name === form.honeypot) continue;
    if (e.name === SUBMISSION_FIELD || e.name === TURNSTILE_FIELD) {
      if ("file" in e) bad(e.name, "must be text");
      else if (e.name === SUBMISSION_FIELD) out.submissionKey = e.value.trim() || undefined;
      else out.turnstileToken = e.value;
      continue;
    }
    const field = byName.get(e.name);
    if (!field) bad(e.name, "unknown field");
    else if ("file" in e) {
      if (field.type !== "file") bad(e.name, "not a file field");
      else files.push({ field, file: e.file });
    } else if (field.type === "file") {
      // An empty value is a file input left empty in an encoding that cannot carry files.
      if (e.value !== "") bad(e.name, "send files as multipart/form-data");
    } else if (texts.has(e.name)) bad(e.name, "given more than once");
    else texts.set(e.name, e.value);
  }

  for (const field of form.fields) {
    if (field.type === "file") {
      const mine = files.filter((f) => f.field === field);
      if (field.required && mine.length === 0) bad(field.name, "required");
      if (mine.length > MAX_FILES_PER_FIELD) bad(field.name, `at most ${MAX_FILES_PER_FIELD} files`);
      const max = field.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
      for (const { file } of mine) {
        if (!accepts(field, file.contentType)) bad(field.name, `file '${file.filename}' is ${file.contentType}; accepted: ${field.accept!.join(", ")}`);
        if (file.bytes.byteLength > max) bad(field.name, `file '${file.filename}' is over ${max} bytes`);
      }
      continue;
    }
    const raw = texts.get(field.name)?.replace(/\r\n?/g, "\n");
    const value = field.type === "textarea" ? raw?.replace(/^\s*\n|\s+$/g, "") : raw?.trim();
    if (!value) {
      if (field.required) bad(field.name, "required");
      continue;
    }
    const max = field.maxLength ?? MAX_LENGTH[field.type]!;
    if (value.length > max) {
      bad(field.name, `longer than ${max} characters`);
      continue;
    }
    if (field.type === "email" && !isEmail(value)) bad(field.name, "not an email address");
    else if (field.type === "phone") {
      const phone = e164(value);
      if (phone === null) bad(field.name, "not a phone number (include the country code, like +14155550100)");
      else out.values.push({ field, value: phone });
    } else out.values.push({ field, value });
  }
  if (out.submissionKey !== undefined && (out.submissionKey.length > 200 || /[\u0000-\u001f]/.test(out.submissionKey))) bad(SUBMISSION_FIELD, "use at most 200 printable characters");
  if (issues.length) throw badRequest("invalid_request", `${issues[0]!.path}: ${issues[0]!.message}`, issues);
  return out;
}

const FIRST = ["first_name", "first-name", "firstname", "first"];
const LAST = ["last_name", "last-name", "lastname", "last"];

/** What the interaction is made of: its subject, its text ("Label: value" lines) and who sent it. */
export function describe(form: Form, sub: Submission): { subject: string; text: string; contact: ContactInput } {
  const get = (names: string[]) => sub.values.find((v) => names.includes(v.field.name))?.value;
  const contact: ContactInput = {
    email: sub.values.find((v) => v.field.type === "email")?.value,
    phone: sub.values.find((v) => v.field.type === "phone")?.value,
    name: get(["name"]),
    firstName: get(FIRST),
    lastName: get(LAST),
  };
  // `title` names the field holding the subject when there is one; otherwise it is the subject.
  const titleField = form.title !== undefined ? get([form.title]) : undefined;
  const subject = (titleField?.replace(/\s+/g, " ") ?? form.title ?? `Web form: ${form.name}`).slice(0, 998);
  const lines: string[] = [];
  for (const field of form.fields) {
    const label = field.label || field.name;
    const v = sub.values.find((x) => x.field === field);
    if (v) lines.push(`${label}: ${v.value}`);
    for (const f of sub.files.filter((x) => x.field === field)) lines.push(`${label}: ${f.file.filename} (${f.file.bytes.byteLength} bytes)`);
  }
  return { subject, text: lines.join("\n"), contact };
}
