// textpro page: record or upload audio, send it to /v1/chat/completions with stream:true, and show what the first
// chunk says was heard (transcript, per-word pitch/energy, pitch contour, readout) while the answer streams in.
"use strict";

const $ = (id) => document.getElementById(id);
const TARGET_RATE = 16000; // what WhisperPro wants; converting in the browser keeps uploads small and in a format
                           // the server reads (MediaRecorder gives webm/opus, which libsndfile does not)
let modelId = null;

// ------------------------------------------------------------------------------------------------ model info
async function loadModelInfo() {
  try {
    const health = await (await fetch("/health")).json();
    modelId = health.model;
    $("model").textContent = `model: ${health.model}` + (health.trained ? "" : ` — ${health.description}`);
    $("model").classList.toggle("untrained", !health.trained);
  } catch (e) {
    $("model").textContent = "server not reachable";
    return;
  }
  // a server started with TEXTPRO_API_KEY answers 401 without it: open the key field instead of failing later
  const key = $("apikey").value.trim();
  const probe = await fetch("/v1/models", { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  if (probe.status === 401) {
    document.querySelector("details.key").open = true;
    $("apikey").placeholder = "this server needs its API key";
  }
}

// ------------------------------------------------------------------------------------------------ audio
async function toWav16k(arrayBuffer) {
  // decodeAudioData resamples to the context's rate; an OfflineAudioContext needs no user gesture or device
  const ctx = new OfflineAudioContext(1, 1, TARGET_RATE);
  const decoded = await ctx.decodeAudioData(arrayBuffer);
  const mono = new Float32Array(decoded.length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const data = decoded.getChannelData(c);
    for (let i = 0; i < data.length; i++) mono[i] += data[i] / decoded.numberOfChannels;
  }
  return encodeWav(mono, decoded.sampleRate);
}

function encodeWav(samples, rate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => { for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Uint8Array(buffer);
}

function base64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function audioPart(blob, name) {
  const raw = await blob.arrayBuffer();
  try {
    return { data: base64(await toWav16k(raw.slice(0))), format: "wav" };
  } catch (e) {
    // the browser could not decode it: let the server try (and say precisely what is wrong)
    const ext = (name || "").split(".").pop().toLowerCase();
    return { data: base64(new Uint8Array(raw)), format: ["wav", "mp3", "flac", "ogg"].includes(ext) ? ext : "wav" };
  }
}

// ------------------------------------------------------------------------------------------------ request
async function ask(blob, name) {
  resetOutput();
  setStatus("sending…");
  $("player").src = URL.createObjectURL(blob);
  $("player").hidden = false;
  const content = [{ type: "input_audio", input_audio: await audioPart(blob, name) }];
  const prompt = $("prompt").value.trim();
  if (prompt) content.unshift({ type: "text", text: prompt });
  const headers = { "Content-Type": "application/json" };
  const key = $("apikey").value.trim();
  if (key) headers["Authorization"] = `Bearer ${key}`;

  let response;
  try {
    response = await fetch("/v1/chat/completions", {
      method: "POST", headers,
      body: JSON.stringify({ model: modelId || undefined, stream: true, messages: [{ role: "user", content }] }),
    });
  } catch (e) {
    return fail(`network error: ${e.message}`);
  }
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    return fail(message);
  }
  setStatus("listening done; answering…");
  await readEvents(response.body, onChunk);
  setStatus("done");
  document.body.dataset.state = "done";
}

async function readEvents(stream, handle) {
  // Server-sent events over fetch (EventSource cannot POST): blocks separated by a blank line, `data: ` lines
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = pending.indexOf("\n\n")) >= 0) {
      const block = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        handle(JSON.parse(data));
      }
    }
  }
}

let answerStarted = false;
function onChunk(chunk) {
  if (chunk.error) return fail(chunk.error.message);
  if (chunk.textpro) showHeard(chunk.textpro);
  const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
  if (delta && delta.content) {
    if (!answerStarted) { $("answer").textContent = ""; answerStarted = true; }
    $("answer").textContent += delta.content;
  }
}

// ------------------------------------------------------------------------------------------------ display
function resetOutput() {
  answerStarted = false;
  document.body.dataset.state = "busy";
  $("error").hidden = true;
  $("transcript").innerHTML = '<span class="placeholder">listening…</span>';
  $("answer").innerHTML = '<span class="placeholder">waiting for the answer…</span>';
  $("readout").innerHTML = "";
  const canvas = $("contour");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

function fail(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  setStatus("");
  document.body.dataset.state = "error";
}

function setStatus(text) { $("status").textContent = text; }

function showHeard(heard) {
  const words = heard.words;
  const pitches = words.map((w) => w.f0_mean).filter((f) => f != null);
  const energies = words.map((w) => w.energy_db);
  const [fLo, fHi] = [Math.min(...pitches), Math.max(...pitches)];
  const [eLo, eHi] = [Math.min(...energies), Math.max(...energies)];
  const box = $("transcript");
  box.innerHTML = "";
  if (!words.length) box.textContent = heard.transcript || "(nothing heard)";
  for (const w of words) {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = w.text;
    // pitch -> hue from blue (lowest word) to red (highest); unvoiced words stay grey
    const p = w.f0_mean == null ? null : (fHi > fLo ? (w.f0_mean - fLo) / (fHi - fLo) : 0.5);
    span.style.color = p == null ? "#888" : `hsl(${230 - 230 * p} 70% 42%)`;
    // energy -> size from 0.9em (quietest word) to 1.8em (loudest)
    const e = eHi > eLo ? (w.energy_db - eLo) / (eHi - eLo) : 0.5;
    span.style.fontSize = `${0.9 + 0.9 * e}em`;
    span.title = `${w.start.toFixed(2)}–${w.end.toFixed(2)} s · ` +
      (w.f0_mean == null ? "unvoiced" : `F0 ${w.f0_mean.toFixed(0)} Hz`) + ` · ${w.energy_db.toFixed(1)} dB`;
    box.append(span, " ");
  }
  showReadout(heard.utterance);
  drawContour(heard.pitch_contour, words, heard.duration);
}

function showReadout(u) {
  const hz = (v) => (v == null ? "—" : `${v.toFixed(0)} Hz`);
  const items = [
    ["pitch (mean F0)", hz(u.f0_mean)],
    ["pitch range", u.f0_range == null ? "—" : `${hz(u.f0_min)}–${hz(u.f0_max)}`],
    ["loudness", `${u.energy_db.toFixed(1)} dBFS`],
    ["speaking rate", u.speaking_rate_wps == null ? "—" : `${u.speaking_rate_wps.toFixed(1)} words/s`],
    ["duration", `${u.duration.toFixed(2)} s`],
    ["voiced", `${Math.round(u.voiced * 100)} %`],
  ];
  $("readout").innerHTML = "";
  for (const [label, value] of items) {
    const div = document.createElement("div");
    div.innerHTML = "<dt></dt><dd></dd>";
    div.querySelector("dt").textContent = label;
    div.querySelector("dd").textContent = value;
    $("readout").append(div);
  }
}

function drawContour(contour, words, duration) {
  const canvas = $("contour");
  const g = canvas.getContext("2d");
  const [W, H, pad] = [canvas.width, canvas.height, 28];
  g.clearRect(0, 0, W, H);
  const f0 = contour.f0;
  const voiced = f0.filter((f) => f > 0);
  if (!voiced.length) { g.fillStyle = "#999"; g.fillText("no voiced speech", pad, H / 2); return; }
  const lo = Math.max(0, Math.min(...voiced) - 20), hi = Math.max(...voiced) + 20;
  const x = (t) => pad + (t / duration) * (W - 2 * pad);
  const y = (f) => H - pad - ((f - lo) / (hi - lo)) * (H - 2 * pad);
  g.font = "11px system-ui"; g.fillStyle = "#6b7385"; g.strokeStyle = "#e1e5ee";
  for (const f of [lo, (lo + hi) / 2, hi]) {  // grid with Hz labels
    g.beginPath(); g.moveTo(pad, y(f)); g.lineTo(W - pad, y(f)); g.stroke();
    g.fillText(`${f.toFixed(0)}`, 2, y(f) + 4);
  }
  for (const w of words) {  // word boundaries and labels
    g.strokeStyle = "#eef0f5"; g.beginPath(); g.moveTo(x(w.start), pad / 2); g.lineTo(x(w.start), H - pad); g.stroke();
    g.fillStyle = "#6b7385"; g.fillText(w.text, x(w.start) + 2, H - 8);
  }
  g.strokeStyle = "#3056d3"; g.lineWidth = 2; g.beginPath();
  let drawing = false;
  f0.forEach((f, i) => {  // unvoiced frames break the line
    const t = i * contour.hop_seconds;
    if (f > 0) { drawing ? g.lineTo(x(t), y(f)) : g.moveTo(x(t), y(f)); drawing = true; } else drawing = false;
  });
  g.stroke(); g.lineWidth = 1;
}

// ------------------------------------------------------------------------------------------------ inputs
$("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) ask(file, file.name);
  event.target.value = "";  // choosing the same file again should ask again
});

let recorder = null;
$("record").addEventListener("click", async () => {
  if (recorder && recorder.state === "recording") { recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    return fail(`microphone not available: ${e.message}`);
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    $("record").textContent = "● Record";
    $("record").classList.remove("recording");
    ask(new Blob(chunks, { type: recorder.mimeType }), "recording");
  };
  recorder.start();
  $("record").textContent = "■ Stop";
  $("record").classList.add("recording");
  setStatus("recording… click Stop when done");
});

$("apikey").value = localStorage.getItem("textpro-api-key") || "";
$("apikey").addEventListener("change", () => localStorage.setItem("textpro-api-key", $("apikey").value.trim()));
loadModelInfo();
