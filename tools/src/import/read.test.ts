import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createRandom } from "../fuzz/random.ts";
import { HeaderError, readInvoiceLines, readRecords } from "./read.ts";

const HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

/** The text in pieces of random sizes, so fields, quotes and line breaks fall across chunk edges. */
function chunked(text: string, seed: number): Readable {
  const random = createRandom(seed);
  const buffer = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < buffer.length; ) {
    const size = random.int(1, 64);
    chunks.push(buffer.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

const MESSY = [
  HEADER,
  // 2: plain sale, float customer id
  "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
  // 3: quoted comma and doubled quotes in the description, same customer without .0
  '536365,22752,"SET 7 BABUSHKA NESTING BOXES, ""LARGE""",2,2010-12-01 08:26:00,7.65,17850,United Kingdom',
  // 4: the other date format, a different invoice
  "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom",
  // 5: postage
  "536366,POST,POSTAGE,3,12/1/2010 8:28,18.00,17850,United Kingdom",
  // 6: a guest line, with a description spanning two lines (the record ends on line 7)
  '536367,84879,"ASSORTED COLOUR BIRD',
  'ORNAMENT",32,2010-12-01 08:34:00,1.69,,EIRE',
  // 8: a return
  "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:41:00,2.65,17850.0,United Kingdom",
  // 9: manual line and bank charges on the return
  "C536379,M,Manual,-1,2010-12-01 09:41:00,27.50,17850.0,United Kingdom",
  "536380,BANK CHARGES,Bank Charges,1,2010-12-01 09:45:00,15.00,,United Kingdom",
  // 11: zero price
  "536381,22139,RETROSPOT TEA SET CERAMIC 11 PC ,1,2010-12-01 09:45:00,0,14911,EIRE",
  // 12: malformed date, 13: non-numeric quantity, 14: missing fields
  "536382,22139,RETROSPOT TEA SET,1,2010-13-01 09:45:00,4.95,14911,EIRE",
  "536382,22139,RETROSPOT TEA SET,one,2010-12-01 09:45:00,4.95,14911,EIRE",
  "536382,22139,RETROSPOT TEA SET,1",
  // 15: the same product twice on one invoice, at another price
  "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,4,2010-12-01 08:26:00,3.05,17850,United Kingdom",
  // 16: an unknown country; 17: Unspecified
  "536383,21730,GLASS STAR FROSTED T-LIGHT HOLDER,6,2010-12-02 10:00:00,4.25,12345,Atlantis",
  "536384,21730,GLASS STAR FROSTED T-LIGHT HOLDER,6,2010-12-02 11:00:00,4.15,12346,Unspecified",
  // 18: a stray quote inside an unquoted field
  '536385,21730,GLASS "STAR,6,2010-12-02 11:00:00,4.15,12346,France',
  // 19: back to normal after it
  "536386,21731,RED TOADSTOOL LED NIGHT LIGHT,12,2010-12-02 12:00:00,1.65,12346,France",
].join("\r\n");

describe("readInvoiceLines", () => {
  it("reads messy RFC 4180 text, counting every line by what became of it", async () => {
    const { stats, plan } = await readInvoiceLines(chunked(`${MESSY}\r\n`, 1), 2);
    expect(stats.linesRead).toBe(17);
    expect(stats.saleLines).toBe(8);
    expect(stats.returnLines).toBe(1);
    expect(stats.guestLines).toBe(1);
    expect(Object.fromEntries([...stats.skipped].map(([reason, entry]) => [reason, entry.count]))).toEqual({
      "non-product-code": 3,
      "zero-price": 1,
    });
    expect(stats.skipped.get("non-product-code")?.codes).toEqual(
      new Map([
        ["POST", 1],
        ["M", 1],
        ["BANK CHARGES", 1],
      ]),
    );
    expect(Object.fromEntries(stats.malformed)).toEqual({
      "bad-date": { count: 1, firstLines: [12] },
      "bad-quantity": { count: 1, firstLines: [13] },
      "field-count": { count: 1, firstLines: [14] },
      "csv-syntax": { count: 1, firstLines: [18] },
    });

    expect(plan.orders.map((order) => order.externalId)).toEqual([
      "536365",
      "536366",
      "536367",
      "536383",
      "536384",
      "536386",
    ]);
    const first = plan.orders[0];
    expect(first).toEqual({
      externalId: "536365",
      customerExternalId: "17850",
      at: Date.parse("2010-12-01T08:26:00Z"),
      countryCode: "GB",
      lines: [
        // 6 at 2.55 and 4 at 3.05: one line of 10 at their mean, 2.75.
        { sku: "85123A", quantity: 10, unitPrice: 275 },
        { sku: "22752", quantity: 2, unitPrice: 765 },
      ],
    });
    expect(plan.mergedLines).toBe(1);
    expect(plan.orders[2]).toMatchObject({
      customerExternalId: null,
      countryCode: "IE",
      lines: [{ sku: "84879", quantity: 32 }],
    });
    expect(plan.returns).toEqual([
      {
        externalId: "C536379",
        customerExternalId: "17850",
        at: Date.parse("2010-12-01T09:41:00Z"),
        countryCode: "GB",
        lines: [{ sku: "85123A", quantity: 2, unitPrice: 265 }],
      },
    ]);
    expect(plan.products.find((product) => product.sku === "22752")?.name).toBe(
      'SET 7 BABUSHKA NESTING BOXES, "LARGE"',
    );
    expect(plan.products.find((product) => product.sku === "84879")?.name).toBe(
      "ASSORTED COLOUR BIRD ORNAMENT",
    );
    expect(plan.unknownCountries).toEqual(new Map([["Atlantis", 1]]));
    expect(plan.customers).toEqual(
      expect.arrayContaining([
        { externalId: "17850", countryCode: "GB" },
        { externalId: "12345", countryCode: null },
        { externalId: "12346", countryCode: "FR" },
      ]),
    );
    expect(plan.customers).toHaveLength(3);
  });

  it("reads the same however the text is cut into chunks, with LF or CRLF line ends", async () => {
    const reference = await readInvoiceLines(chunked(MESSY, 1), 2);
    for (const seed of [2, 3, 4]) {
      const crlf = await readInvoiceLines(chunked(MESSY, seed), 2);
      expect(crlf).toEqual(reference);
      const lf = await readInvoiceLines(chunked(MESSY.replaceAll("\r\n", "\n"), seed), 2);
      // The line break inside the quoted description differs, and becomes a space in the name.
      expect(lf).toEqual(reference);
    }
  });

  it("reads a byte-order mark, a reordered header and blank lines", async () => {
    const text =
      "\uFEFFCountry,CustomerID,UnitPrice,InvoiceDate,Quantity,Description,StockCode,InvoiceNo\n\nFrance,12680.0,1.25,2011-12-09 12:50:00,12,CHILDRENS APRON DOLLY GIRL,23256,581587\n\n";
    const { stats, plan } = await readInvoiceLines(Readable.from([text]), 2);
    expect(stats.linesRead).toBe(1);
    expect(plan.orders).toEqual([
      {
        externalId: "581587",
        customerExternalId: "12680",
        at: Date.parse("2011-12-09T12:50:00Z"),
        countryCode: "FR",
        lines: [{ sku: "23256", quantity: 12, unitPrice: 125 }],
      },
    ]);
  });

  it("counts a quote left open at the end of the file as one broken record", async () => {
    const text = `${HEADER}\n536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n536366,22633,"HAND WARMER,6,12/1/2010 8:28,1.85,17850,United Kingdom\n`;
    const { stats, plan } = await readInvoiceLines(Readable.from([text]), 2);
    expect(stats.saleLines).toBe(1);
    expect(stats.malformed.get("csv-syntax")?.count).toBe(1);
    expect(plan.orders).toHaveLength(1);
  });

  it("keeps only the first few line numbers of a malformed reason", async () => {
    const bad = Array.from(
      { length: 9 },
      () => "536365,85123A,HEART,x,2010-12-01 08:26:00,2.55,17850,United Kingdom",
    );
    const { stats } = await readInvoiceLines(Readable.from([[HEADER, ...bad].join("\n")]), 2);
    expect(stats.malformed.get("bad-quantity")).toEqual({ count: 9, firstLines: [2, 3, 4, 5, 6] });
  });

  it("refuses a file without the columns, or empty", async () => {
    await expect(readInvoiceLines(Readable.from(["InvoiceNo,StockCode\n1,2\n"]), 2)).rejects.toThrow(
      HeaderError,
    );
    await expect(readInvoiceLines(Readable.from([""]), 2)).rejects.toThrow(/empty/);
  });

  it("fails when the source fails", async () => {
    const failing = Readable.from(
      (async function* () {
        yield `${HEADER}\n`;
        throw new Error("disk gone");
      })(),
    );
    await expect(readInvoiceLines(failing, 2)).rejects.toThrow(/disk gone/);
  });
});

describe("readInvoiceLines on generated messy files", () => {
  /**
   * Records whose fate is known when they are made, written with random quoting (plain fields
   * quoted too), commas and quotes in descriptions and either date format: the counts read
   * back must be the counts made.
   */
  it.each([[11], [12], [13]])("reads back what was written (seed %i)", async (seed) => {
    const random = createRandom(seed);
    const quote = (value: string) =>
      /[",\n]/.test(value) || random.chance(0.2) ? `"${value.replaceAll('"', '""')}"` : value;
    const expected = { sale: 0, return: 0, guest: 0, nonProduct: 0, zero: 0, badDate: 0, badQuantity: 0 };
    const lines = [HEADER];
    for (let i = 0; i < 2_000; i++) {
      const roll = random.next();
      const invoice = String(540_000 + random.int(0, 300));
      const customer = random.chance(0.2)
        ? ""
        : `${random.int(12_346, 12_400)}${random.chance(0.5) ? ".0" : ""}`;
      const minute = random.int(0, 59);
      const date = random.chance(0.5)
        ? `2011-05-0${random.int(1, 9)} 10:${String(minute).padStart(2, "0")}:00`
        : `5/${random.int(1, 9)}/2011 10:${String(minute).padStart(2, "0")}`;
      const description = random.pick(["PLAIN", 'SET OF 3, "BIG"', "A, B, C", 'QUOTE ""', "TRAILING  "]);
      let fields: string[];
      if (roll < 0.6) {
        fields = [
          invoice,
          `${random.int(10_000, 10_050)}`,
          description,
          `${random.int(1, 24)}`,
          date,
          "1.25",
          customer,
          "United Kingdom",
        ];
        expected.sale++;
        if (customer === "") expected.guest++;
      } else if (roll < 0.7) {
        fields = [
          `C${invoice}`,
          `${random.int(10_000, 10_050)}`,
          description,
          `-${random.int(1, 5)}`,
          date,
          "1.25",
          customer,
          "France",
        ];
        expected.return++;
        if (customer === "") expected.guest++;
      } else if (roll < 0.8) {
        fields = [
          invoice,
          random.pick(["POST", "M", "DOT", "BANK CHARGES", "C2"]),
          "POSTAGE",
          "1",
          date,
          "18.00",
          customer,
          "Germany",
        ];
        expected.nonProduct++;
      } else if (roll < 0.86) {
        fields = [invoice, "10001", description, "1", date, "0.00", customer, "EIRE"];
        expected.zero++;
      } else if (roll < 0.93) {
        fields = [invoice, "10001", description, "1", "13/45/2011 99:00", "1.00", customer, "EIRE"];
        expected.badDate++;
      } else {
        fields = [
          invoice,
          "10001",
          description,
          random.pick(["one", "1.5", ""]),
          date,
          "1.00",
          customer,
          "EIRE",
        ];
        expected.badQuantity++;
      }
      lines.push(fields.map(quote).join(","));
    }
    const { stats } = await readInvoiceLines(
      chunked(lines.join(random.chance(0.5) ? "\r\n" : "\n"), seed),
      2,
    );
    expect({
      sale: stats.saleLines,
      return: stats.returnLines,
      guest: stats.guestLines,
      nonProduct: stats.skipped.get("non-product-code")?.count ?? 0,
      zero: stats.skipped.get("zero-price")?.count ?? 0,
      badDate: stats.malformed.get("bad-date")?.count ?? 0,
      badQuantity: stats.malformed.get("bad-quantity")?.count ?? 0,
    }).toEqual(expected);
    expect(stats.linesRead).toBe(2_000);
  });
});

describe("readRecords", () => {
  it("reads records already split into fields as the CSV reader reads their text", async () => {
    const fromText = await readInvoiceLines(Readable.from([MESSY.split("\r\n").slice(0, 5).join("\n")]), 2);
    const fromRecords = readRecords(
      [
        HEADER.split(","),
        [
          "536365",
          "85123A",
          "WHITE HANGING HEART T-LIGHT HOLDER",
          "6",
          "2010-12-01 08:26:00",
          "2.55",
          "17850.0",
          "United Kingdom",
        ],
        [
          "536365",
          "22752",
          'SET 7 BABUSHKA NESTING BOXES, "LARGE"',
          "2",
          "2010-12-01 08:26:00",
          "7.65",
          "17850",
          "United Kingdom",
        ],
        [
          "536366",
          "22633",
          "HAND WARMER UNION JACK",
          "6",
          "12/1/2010 8:28",
          "1.85",
          "17850",
          "United Kingdom",
        ],
        ["536366", "POST", "POSTAGE", "3", "12/1/2010 8:28", "18.00", "17850", "United Kingdom"],
      ],
      2,
    );
    expect(fromRecords).toEqual(fromText);
  });
});
