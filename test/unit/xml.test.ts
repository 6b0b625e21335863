// The lenient XML reader behind MM7 (workers/sms/xml.ts): what sloppy relays send is read, what
// can't be read is an XmlSyntaxError, hostile input is refused on a limit or read in linear time.
import { describe, expect, it } from "vitest";
import { attr, childEl, findAll, findEl, MAX_MM7_XML_BYTES, MAX_MM7_XML_DEPTH, MAX_MM7_XML_ELEMENTS, namespaceOf, parseXml, textOf, XmlLimitError, XmlSyntaxError, type XmlEl } from "../../workers/sms/xml.ts";

/** An element as `[qualified name, attributes, ...children]`, text as itself: the whole tree in one comparable value. */
type Shape = string | [string, Record<string, string>, ...Shape[]];
const shape = (el: XmlEl | string): Shape => (typeof el === "string" ? el : [el.prefix ? `${el.prefix}:${el.name}` : el.name, { ...el.attrs }, ...el.children.map(shape)]);
const read = (src: string) => parseXml(src).children.map(shape);

const errorOf = (src: string): Error => {
  try {
    parseXml(src);
  } catch (e) {
    if (e instanceof XmlLimitError || e instanceof XmlSyntaxError) return e;
    throw e;
  }
  throw new Error("read");
};

describe("parseXml: elements", () => {
  it("keeps prefixes, matches local names whatever the prefix or case, and resolves namespaces up the tree", () => {
    const doc = parseXml(`<env:Envelope xmlns:env="urn:soap" xmlns="urn:mm7"><env:Body><mm7:DeliverReq xmlns:mm7="urn:x"><Sender/></mm7:DeliverReq></env:Body></env:Envelope>`);
    const req = findEl(doc, "deliverreq")!;
    expect(req).toMatchObject({ name: "DeliverReq", prefix: "mm7" });
    expect(namespaceOf(req)).toBe("urn:x");
    expect(namespaceOf(findEl(doc, "Body")!)).toBe("urn:soap");
    expect(namespaceOf(childEl(req, "SENDER")!)).toBe("urn:mm7");
    expect(findEl(doc, "Body")!.parent).toBe(findEl(doc, "Envelope"));
    expect(findAll(doc, (e) => e.name !== "#document").map((e) => e.name)).toEqual(["Envelope", "Body", "DeliverReq", "Sender"]);
    expect(read("<:a/><a:b:c/>")).toEqual([["a", {}], ["a:b:c", {}]]);
  });

  it("closes the innermost open element at any close tag, whatever its name, and the ones left open at the end", () => {
    expect(read("<a><b>x</a>y</b>z")).toEqual([["a", {}, ["b", {}, "x"], "y"], "z"]);
    expect(read("</stray><a><b>t")).toEqual([["a", {}, ["b", {}, "t"]]]);
    expect(read("<a></>b")).toEqual([["a", {}], "b"]);
  });

  it("keeps text as written (no trimming), and no empty text", () => {
    expect(read("<a> x \n</a><b></b><c><![CDATA[]]></c>")).toEqual([["a", {}, " x \n"], ["b", {}], ["c", {}]]);
  });
});

describe("parseXml: attributes", () => {
  it("reads double-, single- and unquoted values, valueless ones as '', and the last of a repeated name", () => {
    const [a] = read(`<a d="x 'y' >" s='x "y"' u=plain/x b c = "spaced" d="again" x:y="q"/>`);
    expect(a).toEqual(["a", { d: "again", s: `x "y"`, u: "plain/x", b: "", c: "spaced", "x:y": "q" }]);
    // A "/" ending an unquoted value before ">" closes the tag, as it would after a quoted one.
    expect(read("<img src=a.gif/><img src=/>t")).toEqual([["img", { src: "a.gif" }], ["img", { src: "" }], "t"]);
    expect(read("<a b='1'c=2 / = >t")).toEqual([["a", { b: "1", c: "2" }, "t"]]);
  });

  it("finds attributes by local name, and keeps __proto__ a plain name", () => {
    const el = findEl(parseXml(`<smil:img SMIL:Src="cid:1" __proto__="p" constructor="c"/>`), "img")!;
    expect(attr(el, "src")).toBe("cid:1");
    expect(attr(el, "alt")).toBeUndefined();
    expect(Object.getPrototypeOf(el.attrs)).toBeNull();
    expect(el.attrs["__proto__"]).toBe("p");
    expect(Object.keys(el.attrs)).toEqual(["SMIL:Src", "__proto__", "constructor"]);
  });
});

describe("parseXml: markup that is not elements", () => {
  it("reads CDATA as text, undecoded", () => {
    expect(read("<a>x<![CDATA[<b>&amp;]]]]>y</a>")).toEqual([["a", {}, "x", "<b>&amp;]]", "y"]]);
  });

  it("skips the declaration, processing instructions, comments and a DOCTYPE with an internal subset", () => {
    const src = `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 2.0//EN" "x.dtd" [
      <!ENTITY gt2 "]>"> <!-- a ']>' in a comment --> <!ATTLIST img src CDATA #IMPLIED> <?pi ]> ?>
    ] ><?proc x > y?><smil><!-- <img src="no.gif"/> --><body><img src="a.gif"/></body></smil><!-- end -->`;
    expect(read(src)).toEqual([["smil", {}, ["body", {}, ["img", { src: "a.gif" }]]]]);
    expect(read("<!DOCTYPE a><!ELEMENT a ANY><a/>")).toEqual([["a", {}]]);
  });
});

describe("parseXml: entities", () => {
  it("decodes the predefined entities and decimal and hex references, in text and attribute values", () => {
    expect(read(`<a t="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#X63;">&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;</a>`)).toEqual([["a", { t: `<>&"'ABc` }, `<>&"'A😀`]]);
    // Decoded once: "&amp;lt;" is "&lt;", not "<".
    expect(textOf(parseXml("<a>&amp;lt;</a>"))).toBe("&lt;");
  });

  it("makes references to characters XML does not allow U+FFFD", () => {
    expect(textOf(parseXml("<a>&#0;&#x1;&#xD800;&#xFFFE;&#x110000;&#99999999999999999999;&#9;</a>"))).toBe("\uFFFD".repeat(6) + "\t");
  });

  it("decodes the common HTML entities", () => {
    expect(textOf(parseXml("<a>&nbsp;&copy;&reg;&trade;&euro;&pound;&yen;&cent;&hellip;&ndash;&mdash;&lsquo;&rsquo;&ldquo;&rdquo;&laquo;&raquo;</a>"))).toBe(
      "\u00a0©®™€£¥¢…–—‘’“”«»",
    );
  });

  it("leaves unknown entities, malformed references and bare ampersands as written", () => {
    expect(textOf(parseXml("<a>&bogus; &AMP; &#; &#xZZ; &lt &amp Tom & Jerry &#65</a>"))).toBe("&bogus; &AMP; &#; &#xZZ; &lt &amp Tom & Jerry &#65");
  });

  it("expands no DOCTYPE entity, so an entity-expansion bomb stays as written", () => {
    const lol = (i: number) => `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const src = `<!DOCTYPE lolz [<!ENTITY lol0 "lol">${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(lol).join("")}]><lolz a="&lol9;">&lol9;&lol0;</lolz>`;
    expect(read(src)).toEqual([["lolz", { a: "&lol9;" }, "&lol9;&lol0;"]]);
  });
});

describe("parseXml: limits", () => {
  it("refuses a document over MAX_MM7_XML_BYTES", () => {
    expect(errorOf(`<a>${"x".repeat(MAX_MM7_XML_BYTES)}</a>`)).toBeInstanceOf(XmlLimitError);
    expect(errorOf(`<a>${"x".repeat(MAX_MM7_XML_BYTES)}</a>`).message).toContain("MAX_MM7_XML_BYTES");
    expect(() => parseXml(`<a>${"x".repeat(MAX_MM7_XML_BYTES - 7)}</a>`)).not.toThrow();
  });

  it("refuses more than MAX_MM7_XML_ELEMENTS elements", () => {
    const e = errorOf(`<r>${"<x/>".repeat(MAX_MM7_XML_ELEMENTS)}</r>`);
    expect(e).toBeInstanceOf(XmlLimitError);
    expect(e.message).toContain("MAX_MM7_XML_ELEMENTS");
    expect(findAll(parseXml(`<r>${"<x/>".repeat(MAX_MM7_XML_ELEMENTS - 1)}</r>`), (el) => el.name === "x")).toHaveLength(MAX_MM7_XML_ELEMENTS - 1);
  });

  it("refuses nesting deeper than MAX_MM7_XML_DEPTH, including nesting the pre-scan can't see", () => {
    expect(() => parseXml("<a>".repeat(MAX_MM7_XML_DEPTH))).not.toThrow();
    const e = errorOf("<a>".repeat(MAX_MM7_XML_DEPTH + 1));
    expect(e).toBeInstanceOf(XmlLimitError);
    expect(e.message).toContain("MAX_MM7_XML_DEPTH");
    // `<a x="/>">` looks empty to the pre-scan (a "/" before the first ">") but opens an element.
    expect(errorOf(`<a x="/>">`.repeat(MAX_MM7_XML_DEPTH + 1)).message).toContain("MAX_MM7_XML_DEPTH");
    expect(() => parseXml(`<a>${"<b/>".repeat(500)}</a>`.repeat(3))).not.toThrow();
  });
});

describe("parseXml: what can't be read", () => {
  it.each([
    ["hello < world", '"<" not starting a tag'],
    ["<a>1 << 2</a>", '"<" not starting a tag'],
    ["<", '"<" not starting a tag'],
    ["<a", "a tag never closed"],
    ["<a b='x>", "an unterminated attribute value"],
    ["<a></a", "an unterminated close tag"],
    ["<a><!-- x", "an unterminated comment"],
    ["<a><![CDATA[x", "an unterminated CDATA section"],
    ["<?xml version='1.0'", "an unterminated processing instruction"],
    ["<!DOCTYPE a", "an unterminated declaration"],
    ["<!DOCTYPE a [ <!ENTITY x 'y'> ><a/>", "an unterminated DOCTYPE"],
    ["\u0000\u0001<<<&&&", '"<" not starting a tag'],
  ])("%j is an XmlSyntaxError: %s", (src, why) => {
    const e = errorOf(src);
    expect(e).toBeInstanceOf(XmlSyntaxError);
    expect(e.message).toMatch(/^not XML: /);
    expect(e.message).toContain(why);
  });

  it("reads a document without elements as an empty or text-only one", () => {
    expect(read("")).toEqual([]);
    expect(read("just text &amp; more")).toEqual(["just text & more"]);
  });
});

describe("parseXml: pathological input ends (linear time: every scan moves on or throws)", () => {
  const near = (unit: string) => unit.repeat(Math.floor((MAX_MM7_XML_BYTES - 16) / unit.length));
  it.each([
    ["<", near("<")],
    ["<a ", near("<a ")],
    ["<a b=", near("<a b=")],
    ["<a b=\"", near('<a b="')],
    ["<!--", near("<!--")],
    ["<![CDATA[", near("<![CDATA[")],
    ["<?", near("<?")],
    ["</", near("</")],
    ["<!x [", near("<!x [")],
    ["<!x [>", near("<!x [>")],
    ["DOCTYPE of ']'", `<!DOCTYPE a [${near("] ")}`],
    ["DOCTYPE of quotes", `<!DOCTYPE a [>${near(`'"`)}`],
    ["&", near("&")],
    ["&#", near("&#1")],
    ["&a", near("&a")],
    ["attributes", `<a ${near("b ")}`],
    ["close tags", near("</a>")],
  ])("%s", (_, src) => {
    try {
      parseXml(src);
    } catch (e) {
      expect(e instanceof XmlSyntaxError || e instanceof XmlLimitError).toBe(true);
    }
  });
});
