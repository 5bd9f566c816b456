// Drives the studio page in the system's headless Chromium and prints one JSON line of findings.
// Env: STUDIO_URL, CHROMIUM, MODE (full | no-model | models), and for full: PHOTOS (two paths, |-separated), NOT_IMAGE, BOMB, BIG_FILE,
// OUT_DIR (the download is saved there), SCREENSHOT (raw PNG of the page), SATURATION.
import { chromium } from "playwright-core";

const env = process.env;
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

const browser = await chromium.launch({ executablePath: env.CHROMIUM, args: FLAGS, headless: true });
const findings = { mode: env.MODE, console_errors: [], external_requests: [] };
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1180, height: 900 } });
  const page = await context.newPage();
  const origin = new URL(env.STUDIO_URL).origin;
  page.on("console", (m) => { if (m.type() === "error") findings.console_errors.push(m.text()); });
  page.on("request", (r) => { if (!r.url().startsWith(origin)) findings.external_requests.push(r.url()); });
  await page.goto(env.STUDIO_URL);
  await page.waitForFunction(() => document.querySelectorAll("#samples button").length > 0);

  // The last error shown after an action (the page clears old ones on each new choice of files).
  const errorAfter = async (action) => {
    await page.evaluate(() => document.getElementById("messages").replaceChildren());
    await action();
    const box = page.locator("#messages .error").first();
    await box.waitFor({ timeout: 30000 });
    return box.textContent();
  };

  if (env.MODE === "models") {  // the working-size knob follows the chosen bundle
    findings.first_size = await page.locator("#working-size").inputValue();
    findings.sizes = {};
    for (const option of await page.locator("#model option").all()) {
      const [label, value] = [await option.textContent(), await option.getAttribute("value")];
      await page.locator("#model").selectOption(value);
      findings.sizes[label.split(" ")[0]] = [await page.locator("#working-size").inputValue(),
                                            await page.locator("#working-size-value").textContent()];
    }
  } else if (env.MODE === "no-model") {
    await page.locator("#no-model").waitFor({ state: "visible" });
    findings.banner = await page.locator("#no-model").textContent();
    findings.sample_error = await errorAfter(() => page.locator("#samples button").first().click());
  } else {
    findings.banner_hidden = await page.locator("#no-model").isHidden();
    findings.models = await page.locator("#model option").allTextContents();
    await page.locator("#saturation").fill(env.SATURATION);
    await page.evaluate(() => {  // remember every stage text the job list shows
      window.stages = [];
      new MutationObserver(() => document.querySelectorAll("#jobs .stage").forEach((s) => window.stages.push(s.textContent)))
        .observe(document.getElementById("jobs"), { subtree: true, childList: true, characterData: true });
    });
    const input = page.locator("#file-input");
    findings.errors = {
      not_image: await errorAfter(() => input.setInputFiles(env.NOT_IMAGE)),
      bomb: await errorAfter(() => input.setInputFiles(env.BOMB)),
      too_big: await errorAfter(() => input.setInputFiles(env.BIG_FILE)),
    };
    // The server is still up: two real photos chosen at once both go through.
    await input.setInputFiles(env.PHOTOS.split("|"));
    await page.waitForFunction(() => document.querySelectorAll("#jobs li[data-state=done]").length === 2, null, { timeout: 120000 });
    await page.locator("#compare-panel").waitFor({ state: "visible" });
    await page.waitForFunction(() => ["before-image", "after-image"].every((id) => {
      const image = document.getElementById(id);
      return image.complete && image.naturalWidth > 0;
    }));
    await page.locator("#slider").fill("40");
    findings.clip = await page.locator("#before-image").evaluate((e) => e.style.clipPath);
    findings.job_id = await page.locator("#compare").getAttribute("data-job");
    findings.stages = await page.evaluate(() => [...new Set(window.stages)]);
    findings.result_info = await page.locator("#result-info").textContent();
    await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download").click()]);
    findings.download_name = download.suggestedFilename();
    findings.download_path = `${env.OUT_DIR}/${findings.download_name}`;
    await download.saveAs(findings.download_path);
    // A sample after all that: three jobs done on the page.
    await page.locator("#samples button").first().click();
    await page.waitForFunction(() => document.querySelectorAll("#jobs li[data-state=done]").length === 3, null, { timeout: 120000 });
    findings.jobs_done = await page.locator("#jobs li[data-state=done]").count();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(findings));
