import { describe, expect, it } from "vitest";
import { FIELD_CODES, type FieldValues, fieldCodesIn, renderTemplate, TemplateError, templateErrors } from "../../workers/workflow/field-codes.ts";

const now = Date.UTC(2026, 10, 24, 14, 5); // 24 November 2026, 14:05 UTC
const full: FieldValues = {
  contact: { firstName: "Pat", lastName: "O'Neil", email: "pat@example.com", phone: "+441234567890" },
  interaction: { id: "i-123", subject: "Printer on fire", tag: "K7Q2M", receivedAt: Date.UTC(2026, 10, 23, 9, 30) },
  agent: { fullName: "Ben  van Dijk" },
  tenant: { name: "Demo & Co" },
  mailbox: { address: "support@demo.parley.test" },
  now,
};

describe("renderTemplate", () => {
  it("fills every known code", () => {
    const src = FIELD_CODES.map((c) => `${c}=<$${c}$>`).join("\n");
    expect(renderTemplate(src, full).split("\n")).toEqual([
      "Contact.FirstName=Pat",
      "Contact.LastName=O'Neil",
      "Contact.FullName=Pat O'Neil",
      "Contact.Email=pat@example.com",
      "Contact.Phone=+441234567890",
      "Interaction.Id=i-123",
      "Interaction.Subject=Printer on fire",
      "Interaction.Tag=K7Q2M",
      "Interaction.ReceivedDate=23 November 2026 at 09:30 UTC",
      "Agent.FullName=Ben  van Dijk",
      "Agent.FirstName=Ben",
      "Tenant.Name=Demo & Co",
      "Mailbox.Address=support@demo.parley.test",
      "Date.Today=24 November 2026",
      "Date.Now=24 November 2026 at 14:05 UTC",
    ]);
  });
  it("allows whitespace inside the delimiters or none", () => {
    expect(renderTemplate("Hi <$Contact.FirstName$>, <$   Contact.LastName   $>!", full)).toBe("Hi Pat, O'Neil!");
  });
  it("renders the fallback, or nothing, for a missing value", () => {
    const none: FieldValues = { now, contact: { firstName: null, lastName: "  " } };
    expect(renderTemplate('Dear <$ Contact.FirstName | "there" $>,', none)).toBe("Dear there,");
    expect(renderTemplate('Dear <$Contact.LastName|"customer"$>,', none)).toBe("Dear customer,");
    expect(renderTemplate("Dear <$ Contact.FirstName $>,", none)).toBe("Dear ,");
    expect(renderTemplate('<$ Agent.FirstName | "our team" $> / <$ Interaction.ReceivedDate | "today" $>', none)).toBe("our team / today");
    expect(renderTemplate('<$ Contact.FullName | "x" $>', { now, contact: { lastName: "Smith" } })).toBe("Smith");
    // a present value wins over the fallback
    expect(renderTemplate('Dear <$ Contact.FirstName | "there" $>', full)).toBe("Dear Pat");
  });
  it('reads \\" and \\\\ in a fallback', () => {
    expect(renderTemplate('<$ Contact.FirstName | "the \\"best\\" \\\\ one" $>', { now })).toBe('the "best" \\ one');
  });
  it("escapes inserted values for HTML but not the template", () => {
    const v: FieldValues = { ...full, contact: { firstName: '<script>alert("x")</script>' }, tenant: { name: "A&B's" } };
    expect(renderTemplate("<p>Hi <b><$Contact.FirstName$></b> from <$Tenant.Name$></p>", v, { html: true })).toBe(
      "<p>Hi <b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b> from A&amp;B&#39;s</p>",
    );
    expect(renderTemplate("Hi <$Contact.FirstName$>", v)).toBe('Hi <script>alert("x")</script>');
  });
  it("formats dates in the time zone and locale given", () => {
    const late = Date.UTC(2026, 10, 24, 23, 30);
    expect(renderTemplate("<$Date.Today$>", { now: late })).toBe("24 November 2026");
    expect(renderTemplate("<$Date.Today$>", { now: late, timeZone: "Asia/Tokyo" })).toBe("25 November 2026");
    expect(renderTemplate("<$Date.Now$>", { now: late, timeZone: "Asia/Tokyo" })).toBe("25 November 2026 at 08:30 GMT+9");
    expect(renderTemplate("<$Date.Today$>", { now, locale: "fr-FR", timeZone: "Europe/Paris" })).toBe("24 novembre 2026");
    expect(renderTemplate("<$Date.Today$>", { now, locale: "en-US" })).toBe("November 24, 2026");
  });
  it("falls back to UTC and en-GB for a bad zone or locale", () => {
    expect(renderTemplate("<$Date.Now$>", { now, timeZone: "Mars/Olympus" })).toBe("24 November 2026 at 14:05 UTC");
    expect(renderTemplate("<$Date.Today$>", { now, locale: "not a locale!" })).toBe("24 November 2026");
  });
  it("throws TemplateError on any problem, with every message", () => {
    try {
      renderTemplate("<$ Contact.Frist $> <$ Agent.Nick $>", full);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).errors).toEqual(["unknown field code 'Contact.Frist'", "unknown field code 'Agent.Nick'"]);
    }
  });
});

describe("templateErrors", () => {
  it("is empty for a valid template, including one without codes", () => {
    expect(templateErrors('Dear <$ Contact.FirstName | "there" $>, ticket [#<$Interaction.Tag$>] <$Date.Now$>')).toEqual([]);
    expect(templateErrors("plain text with $ and < and $> alone")).toEqual([]);
  });
  it("reports every unknown code", () => {
    expect(templateErrors("<$Contact.Frist$> <$contact.firstname$> <$Date.Now$> <$Foo.Bar$>")).toEqual([
      "unknown field code 'Contact.Frist'",
      "unknown field code 'contact.firstname'",
      "unknown field code 'Foo.Bar'",
    ]);
  });
  it("reports an unclosed <$ with its position", () => {
    expect(templateErrors("Hi <$ Contact.FirstName")).toEqual(["unclosed '<$' at position 3"]);
    expect(templateErrors("Hi <$ Contact.FirstName <$ Contact.LastName $>")).toEqual(["unclosed '<$' at position 3"]);
  });
  it("reports bad fallbacks, empty and malformed codes", () => {
    expect(templateErrors("<$ Contact.FirstName | there $>")).toEqual([
      "bad fallback for 'Contact.FirstName' at position 0: expected a double-quoted string after '|'",
    ]);
    expect(templateErrors('<$ Contact.FirstName | "there $>')[0]).toMatch(/bad fallback/);
    expect(templateErrors('<$ Contact.FirstName | "a" "b" $>')[0]).toMatch(/bad fallback/);
    expect(templateErrors("<$ Contact.FirstName | $>")[0]).toMatch(/bad fallback/);
    expect(templateErrors("x <$ $>")).toEqual(["empty field code at position 2"]);
    expect(templateErrors("<$ FirstName $>")).toEqual(["invalid field code 'FirstName' at position 0"]);
  });
});

describe("fieldCodesIn", () => {
  it("lists the codes named, each once, in order, known or not", () => {
    expect(fieldCodesIn('<$Date.Now$> <$ Contact.FirstName | "x" $> <$Date.Now$> <$Nope.Code$>')).toEqual(["Date.Now", "Contact.FirstName", "Nope.Code"]);
    expect(fieldCodesIn("no codes")).toEqual([]);
  });
});
