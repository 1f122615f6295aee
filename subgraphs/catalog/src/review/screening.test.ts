import { describe, expect, it } from "vitest";
import { DEFAULT_BLOCKED_WORDS, type HoldReason, parseWordList, screenReview } from "./screening.model.ts";

const words = parseWordList(DEFAULT_BLOCKED_WORDS);
const screen = (body: string, title = "My review") => screenReview({ title, body }, words);

/** Real-looking reviews that must pass: decimals, units, abbreviations, emphasis, prices, model names. */
const GOOD = [
  "Great headphones, e.g. the 3.5mm jack works with my old amp. Battery lasts 20+ hours.",
  "Fits well, i.e. true to size. I'm 1.85m tall and the L was perfect.",
  "Sooooo comfy!!! Best purchase this year.",
  "Runs Windows 11 fine; 16GB RAM, 512GB SSD, v2.1 firmware. Boots in 8.5 s.",
  "Works great.It arrived a day early and the box was intact.",
  "Delivered at 9 a.m. as promised. Price was $49.99 vs. $59.99 elsewhere.",
  "Very very very good kettle. Boils 1.7L in about 3 minutes.",
  "I <3 this blender. Ratio of fruit to ice < 2 and it still crushes everything.",
  "Node.js developer here: the keyboard's key travel is 1.5mm, feels like a ThinkPad.",
  "Bought it for my mum (she's 80) and she loves it. 5/5 ★★★★★",
  'Screen: 6.1", 120Hz. Camera: 48MP. Storage: 256GB. No complaints at all.',
  "St.Louis winters are cold and this coat handled -15°C without trouble.",
  "Used it for work from home calls every day; the mic is clear and the casino-style lights are fun.",
  "Model no. XB-3000 replaces the XB-2000; fits the same 12.5cm mount.",
  "Phone number 0123456789 on the box was useful, order 1000000 shipped fast.",
  "Great for a cocktail party; my Ford Escort's speakers never sounded this good.",
  "The price<10 and weight>5 rule of thumb holds here.",
  "Size <M> fits like an L.",
  "Ha ha, my cat loves it. Hahaha!",
  "Good. Good. Good value for money, would buy again.",
  "Holds 1,000,000,000,000,000 grains of rice, or so it feels; 2x2x2x2 cm cube.",
];

/** Spam and abuse that must be held, each with the reasons it must give. */
const BAD: [string, HoldReason[]][] = [
  ["Best deals at https://cheap-stuff.example/offer now", ["LINK"]],
  ["Visit www.cheapstuff.biz for more", ["LINK"]],
  ["Order from cheapwatches.com, half the price", ["LINK"]],
  ["Short link: bit.ly/3xYz", ["LINK"]],
  ["Buy at AMAZON.COM instead", ["LINK"]],
  ["Write me: deals@spam-mail.net", ["LINK"]],
  ["Get it at example.me/offer", ["LINK"]],
  ["Nice <script>alert(1)</script>", ["MARKUP"]],
  ['<a href="x">click</a> for a discount', ["MARKUP"]],
  ['<img src=x onerror="alert(1)">', ["MARKUP"]],
  ["Bold <b>claim</b>", ["MARKUP"]],
  ["[url=spam]cheap[/url]", ["MARKUP"]],
  ["Tom &amp; Jerry edition", ["MARKUP"]],
  ["click javascript:alert(1)", ["MARKUP"]],
  ["aaaaaaaaaaaaaaaaaaaaaaaa", ["REPEATED_TEXT"]],
  ["Wow!!!!!!!!!!!!!!!!", ["REPEATED_TEXT"]],
  ["buy buy buy buy buy buy now", ["REPEATED_TEXT"]],
  ["great product great product great product great product", ["REPEATED_TEXT"]],
  ["lolololololololololol", ["REPEATED_TEXT"]],
  ["Serial 121212121212121212 and then lalalalalalalalala", ["REPEATED_TEXT"]],
  [
    "Call now for the best price. I said call now for the best price. Yes call now for the best price. Really, call now for the best price.",
    ["REPEATED_TEXT"],
  ],
  ["Cheap Viagra without prescription", ["BLOCKED_WORD"]],
  ["This is fucking useless", ["BLOCKED_WORD"]],
  ["Best ONLINE CASINO bonus", ["BLOCKED_WORD"]],
  ["Shít product", ["BLOCKED_WORD"]],
  [
    "Free viagra at www.pills.ru <b>now</b> now now now now now",
    ["LINK", "MARKUP", "REPEATED_TEXT", "BLOCKED_WORD"],
  ],
];

describe("screenReview", () => {
  it.each(GOOD)("passes %j", (text) => {
    expect(screen(text)).toEqual({ reasons: [], detail: "" });
  });

  it.each(BAD)("holds %j", (text, reasons) => {
    const result = screen(text);
    expect(result.reasons).toEqual(reasons);
    expect(result.detail).not.toBe("");
  });

  it("screens the title as well as the body", () => {
    expect(screen("Fine.", "see spam.com").reasons).toEqual(["LINK"]);
  });

  it("says what it found, for moderators", () => {
    expect(screen("Buy at cheapwatches.com, viagra too").detail).toBe(
      'link "cheapwatches.com"; blocked word "viagra"',
    );
    expect(screen("buy buy buy buy buy").detail).toBe('repeated text "buy" 5 times in a row');
  });

  it("matches whole words and their endings, never inside other words", () => {
    expect(screen("Shitake mushrooms and a scunthorpe mug").reasons).toEqual([]);
    expect(screen("Fucked up delivery").reasons).toEqual(["BLOCKED_WORD"]);
    expect(screen("Shits").reasons).toEqual(["BLOCKED_WORD"]);
  });

  it("uses the configured list instead of the default", () => {
    const custom = parseWordList(["Refurbished", "  ", "knock off", "Crème"]);
    expect(custom).toEqual([["refurbished"], ["knock", "off"], ["creme"]]);
    expect(screenReview({ title: "t", body: "A knock off, sold as new" }, custom).reasons).toEqual([
      "BLOCKED_WORD",
    ]);
    expect(screenReview({ title: "t", body: "creme brulee torch" }, custom).reasons).toEqual([
      "BLOCKED_WORD",
    ]);
    expect(screenReview({ title: "t", body: "Viagra" }, custom).reasons).toEqual([]);
    expect(screenReview({ title: "t", body: "knock it off" }, custom).reasons).toEqual([]);
    expect(screenReview({ title: "t", body: "viagra" }, []).reasons).toEqual([]);
  });

  it("gives the same verdict for the same text every time", () => {
    const text = "See example.com: buy buy buy buy buy";
    expect(screen(text)).toEqual(screen(text));
  });
});
