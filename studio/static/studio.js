// tintype studio page: upload or pick a sample, follow the job's progress, compare, download.
// Plain browser JavaScript, no build step and nothing fetched from outside this server.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 400;
let config = null;

function megabytes(bytes) { return (bytes / 1e6).toFixed(1) + " MB"; }

function showError(text) {
  const item = document.createElement("div");
  item.className = "error";
  item.setAttribute("role", "alert");
  item.textContent = text;
  $("messages").prepend(item);
}

function clearErrors() { $("messages").replaceChildren(); }

function knobQuery() {
  const query = new URLSearchParams({ working_size: $("working-size").value, saturation: $("saturation").value });
  if ($("model").value) query.set("model", $("model").value);
  return query;
}

async function loadConfig() {
  const response = await fetch("/api/config", { cache: "no-store" });
  config = await response.json();
  const select = $("model");
  select.replaceChildren(...config.models.map((m) => new Option(m.label, m.id)));
  const banner = $("no-model");
  banner.hidden = !config.no_model_message;
  banner.textContent = config.no_model_message || "";
  document.body.classList.toggle("no-model", !!config.no_model_message);
  select.disabled = !config.models.length;
  for (const [id, knob] of [["working-size", config.working_size], ["saturation", config.saturation]]) {
    const input = $(id);
    if (!input.dataset.ready) {
      const start = id === "working-size" && config.models.length ? config.models[0].working_size : knob.default;
      Object.assign(input, { min: knob.min, max: knob.max, value: start });
      input.dataset.ready = "1";
    }
    input.dispatchEvent(new Event("input"));
  }
  $("limits").textContent = `${config.accepted_formats.join(", ")}; at most ${megabytes(config.max_upload_bytes)} and ` +
    `${Math.round(config.max_pixels / 1e6)} megapixels each`;
  $("samples").replaceChildren(...config.samples.map((sample) => {
    const button = document.createElement("button");
    button.type = "button";
    button.title = "colorize " + sample.name;
    button.dataset.sample = sample.name;
    const image = document.createElement("img");
    image.src = sample.url;
    image.alt = sample.name;
    button.append(image);
    button.addEventListener("click", () => submit(sample.name, null));
    return button;
  }));
}

function jobItem(job) {
  let item = document.querySelector(`#jobs li[data-job="${job.id}"]`);
  if (!item) {
    item = document.createElement("li");
    item.dataset.job = job.id;
    item.innerHTML = '<div><strong class="name"></strong> <span class="size"></span></div>' +
      '<progress max="1" value="0"></progress><div class="stage"></div><div class="actions"></div>';
    $("jobs").prepend(item);
    $("no-jobs").hidden = true;
  }
  item.dataset.state = job.state;
  item.querySelector(".name").textContent = job.name;
  item.querySelector(".size").textContent = `${job.width}x${job.height}, size ${job.working_size}, saturation ${job.saturation}`;
  item.querySelector("progress").value = job.progress;
  const stage = job.state === "queued" && job.queue_position ? `waiting: ${job.queue_position} in the queue`
    : job.state === "failed" ? job.error
    : job.state === "done" ? `done in ${job.seconds} s` : `${Math.round(job.progress * 100)}%: ${job.stage}`;
  item.querySelector(".stage").textContent = stage;
  if (job.state === "done" && !item.querySelector("button")) {
    const show = document.createElement("button");
    show.type = "button";
    show.textContent = "compare";
    show.addEventListener("click", () => showComparison(job));
    const link = document.createElement("a");
    link.href = `/api/jobs/${job.id}/result`;
    link.textContent = "download";
    link.setAttribute("download", job.result_name);
    item.querySelector(".actions").append(show, " ", link);
  }
  return item;
}

function showComparison(job) {
  const stamp = `?t=${Date.now()}`;
  $("before-image").src = `/api/jobs/${job.id}/before${stamp}`;
  $("after-image").src = `/api/jobs/${job.id}/after${stamp}`;
  $("compare-title").textContent = `Before and after: ${job.name}`;
  const link = $("download");
  link.href = `/api/jobs/${job.id}/result`;
  link.setAttribute("download", job.result_name);
  $("result-info").textContent = `${job.result_name}, ${job.width}x${job.height}, model ${job.model}`;
  $("compare-panel").hidden = false;
  $("compare").dataset.job = job.id;
}

async function follow(job) {
  jobItem(job);
  let misses = 0;
  while (job.state === "queued" || job.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      const response = await fetch(`/api/jobs/${job.id}`, { cache: "no-store" });
      if (!response.ok) { showError(`${job.name}: ${(await response.json()).error}`); return; }
      job = await response.json();
      misses = 0;
    } catch (error) {
      if (++misses * POLL_MS > 30000) {  // a busy server answers late; a stopped one never does
        showError(`${job.name}: lost contact with the studio server (is it still running?)`);
        return;
      }
      continue;
    }
    jobItem(job);
  }
  if (job.state === "done") showComparison(job);
  else showError(`${job.name}: ${job.error}`);
}

async function submit(sampleName, file) {
  const query = knobQuery();
  let url, body = null;
  if (file) {
    if (file.size > config.max_upload_bytes) {  // the server refuses it too; this saves the upload
      showError(`${file.name}: file too large: ${megabytes(file.size)} is over the ${megabytes(config.max_upload_bytes)} upload limit`);
      return;
    }
    query.set("name", file.name);
    url = `/api/jobs?${query}`;
    body = file;
  } else {
    url = `/api/samples/${encodeURIComponent(sampleName)}/jobs?${query}`;
  }
  const name = file ? file.name : sampleName;
  let response;
  try {
    response = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/octet-stream" } });
  } catch (error) {
    showError(`${name}: the upload failed (${error.message}); is the studio still running?`);
    return;
  }
  let answer;
  try { answer = await response.json(); } catch (error) { answer = { error: `the server answered ${response.status}` }; }
  if (!response.ok) {
    showError(`${name}: ${answer.error}`);
    if (response.status === 409 || response.status === 404) loadConfig();  // models changed on disk
    return;
  }
  follow(answer);
}

function submitFiles(files) {
  clearErrors();
  for (const file of files) submit(null, file);
}

function setup() {
  $("working-size").addEventListener("input", (e) => { $("working-size-value").textContent = e.target.value; });
  $("saturation").addEventListener("input", (e) => { $("saturation-value").textContent = Number(e.target.value).toFixed(2); });
  $("file-input").addEventListener("change", (e) => { submitFiles([...e.target.files]); e.target.value = ""; });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); submitFiles([...e.dataTransfer.files]); });
  $("slider").addEventListener("input", (e) => {
    const position = Number(e.target.value);
    $("before-image").style.clipPath = `inset(0 ${100 - position}% 0 0)`;
    $("divider").style.left = `${position}%`;
  });
  $("model").addEventListener("focus", loadConfig);  // a bundle trained meanwhile shows up
  $("model").addEventListener("change", (e) => {  // each bundle starts at its own working size
    const chosen = config.models.find((m) => m.id === e.target.value);
    if (chosen) {
      $("working-size").value = chosen.working_size;
      $("working-size").dispatchEvent(new Event("input"));
    }
  });
  loadConfig().catch((error) => showError(`cannot reach the studio server: ${error.message}`));
}

setup();
