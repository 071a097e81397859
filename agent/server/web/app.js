// HumanSense companion page: microphone + camera up, captions, emotions and the agent's voice down (protocol 1).
"use strict";

const $ = (id) => document.getElementById(id);
const SR = 16000;
const JITTER_S = 0.06;          // initial playback buffer
const CAMERA_FPS = 5;
const MAX_BUFFERED = 512 * 1024; // skip camera frames while the socket is backed up

// Test hook: what the page sent, played and showed.
const hs = window.hs = {
  state: "idle", connected: false, hello: null, framesSent: 0, jpegSent: 0, samplesScheduled: 0,
  samplesPlayed: 0, outRms: 0, maxOutRms: 0, captions: [], sentences: 0, events: 0, errors: [], stops: 0,
  lastLatencyMs: null, face: null, busy: null, failure: null,
};

let ws = null, capture = null, player = null, camTimer = null, stream = null, muted = false;
let answer = null;  // the agent's answer being spoken: its bubble grows sentence by sentence until the turn ends
const LATENCY_PARTS = { asr: "speech recognition", brain_first_sentence: "brain's first sentence",
  tts_first_audio: "voice's first audio" };

function setState(state) {
  hs.state = state;
  const el = $("state");
  el.textContent = { idle: "idle", connecting: "connecting…", listening: "listening", hearing: "hearing you",
    thinking: "thinking…", speaking: "speaking" }[state] || state;
  el.className = "state " + state;
  $("orb").className = "orb " + state;
}

function setConn(ok, text) {
  hs.connected = ok;
  $("conn").className = "dot " + (ok ? "on" : "off");
  $("conn-text").textContent = text;
}

function showError(text) {
  hs.errors.push(text);
  $("error").textContent = text;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { $("error").textContent = ""; }, 6000);
}

function addCaption(who, text) {
  const caption = { who, text };
  hs.captions.push(caption);
  const li = document.createElement("li");
  li.className = "cap " + who;
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = who === "user" ? "You" : "Agent";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  li.append(name, body);
  const list = $("captions");
  list.append(li);
  while (list.children.length > 60) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  return { caption, li, body };
}

function agentSays(text, emotion) {
  if (!text) return;
  hs.sentences += 1;
  if (!answer) {
    answer = addCaption("agent", text);
    answer.tag = document.createElement("span");
    answer.tag.className = "tag";
    answer.li.append(answer.tag);
  } else {
    answer.caption.text += " " + text;
    answer.body.textContent = answer.caption.text;
    $("captions").scrollTop = $("captions").scrollHeight;
  }
  answerFeels(emotion);
}

function answerFeels(emotion) {
  // one label per answer: the emotion it is spoken with (an acknowledgement's is replaced by the decided one)
  if (!answer || !emotion) return;
  answer.caption.emotion = emotion;
  answer.tag.textContent = emotion;
  answer.tag.hidden = emotion === "neutral";
}

// ---- playback: sentence chunks back to back on the AudioContext timeline ----------------------
class Player {
  constructor() {
    this.ctx = new AudioContext({ latencyHint: "interactive" });
    this.gain = this.ctx.createGain();
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.gain.connect(this.analyser);
    this.analyser.connect(this.ctx.destination);
    this.next = 0;
    this.nodes = new Set();
    this.buf = new Float32Array(this.analyser.fftSize);
    setInterval(() => this.measure(), 50);
  }
  play(pcm) {
    const n = pcm.length;
    if (!n) return;
    const buffer = this.ctx.createBuffer(1, n, SR);
    const ch = buffer.getChannelData(0);
    for (let i = 0; i < n; i++) ch[i] = pcm[i] / 32768;
    const node = this.ctx.createBufferSource();
    node.buffer = buffer;
    node.connect(this.gain);
    const now = this.ctx.currentTime;
    const start = this.next > now ? this.next : now + JITTER_S;
    const end = start + n / SR;
    node.start(start);
    this.next = end;
    hs.samplesScheduled += n;
    this.nodes.add(node);
    node.onended = () => {
      this.nodes.delete(node);
      const heard = Math.min(this.ctx.currentTime, end) - start;
      if (heard > 0) hs.samplesPlayed += Math.round(Math.min(heard, n / SR) * SR);
      if (!this.nodes.size && hs.state === "speaking") setState("listening");
    };
  }
  stop() {
    for (const node of this.nodes) { try { node.stop(); } catch (e) { /* already stopped */ } }
    this.next = 0;
    hs.stops += 1;
  }
  get playing() { return this.nodes.size > 0; }
  measure() {
    this.analyser.getFloatTimeDomainData(this.buf);
    let s = 0;
    for (let i = 0; i < this.buf.length; i++) s += this.buf[i] * this.buf[i];
    hs.outRms = Math.sqrt(s / this.buf.length);
    hs.maxOutRms = Math.max(hs.maxOutRms, hs.outRms);
    $("orb").style.setProperty("--level", Math.min(1, hs.outRms * 6).toFixed(3));
  }
}

// ---- capture ----------------------------------------------------------------------------
async function startCapture() {
  stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    video: { width: 640, height: 480, frameRate: 15 },
  }).catch(() => navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } }));
  const ctx = new AudioContext({ latencyHint: "interactive" });
  await ctx.audioWorklet.addModule("worklet.js");
  const src = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, "capture-16k", { numberOfInputs: 1, numberOfOutputs: 0 });
  node.port.onmessage = (e) => sendAudio(new Int16Array(e.data));
  src.connect(node);
  capture = { ctx, node, src };
  if (stream.getVideoTracks().length) {
    $("preview").srcObject = stream;
    $("no-camera").hidden = true;
    startCamera();
  }
}

function stopCapture() {
  // the microphone and camera are released between conversations: the browser's recording light goes off
  clearInterval(camTimer);
  camTimer = null;
  if (stream) for (const track of stream.getTracks()) track.stop();
  if (capture) capture.ctx.close();
  stream = null;
  capture = null;
  $("preview").srcObject = null;
  $("no-camera").hidden = false;
  $("mic-level").value = 0;
  clearReadouts();
}

function clearReadouts() {
  hs.face = null;
  const canvas = $("overlay");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  $("face-gauges").classList.add("off");
  $("user-face").textContent = "—";
  $("user-emotion").textContent = "—";
  delete $("user-emotion").dataset.valence;
  $("agent-emotion").textContent = "neutral";
}

function sendAudio(pcm) {
  let peak = 0;
  for (let i = 0; i < pcm.length; i += 8) peak = Math.max(peak, Math.abs(pcm[i]));
  $("mic-level").value = peak / 32768;
  if (!ws || ws.readyState !== WebSocket.OPEN || !hs.hello) return;
  if (muted) pcm.fill(0);   // keep the timeline going: silence, not a gap
  const msg = new Uint8Array(1 + pcm.byteLength);
  msg[0] = 0x01;
  msg.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), 1);
  ws.send(msg);
  hs.framesSent += 1;
}

function startCamera() {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 240;
  const g = canvas.getContext("2d");
  const video = $("preview");
  let busy = false;
  camTimer = setInterval(() => {
    if (busy || !ws || ws.readyState !== WebSocket.OPEN || !hs.hello || ws.bufferedAmount > MAX_BUFFERED) return;
    if (video.readyState < 2) return;
    busy = true;
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(async (blob) => {
      busy = false;
      if (!blob || !ws || ws.readyState !== WebSocket.OPEN) return;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const msg = new Uint8Array(1 + bytes.length);
      msg[0] = 0x02;
      msg.set(bytes, 1);
      ws.send(msg);
      hs.jpegSent += 1;
    }, "image/jpeg", 0.7);
  }, 1000 / CAMERA_FPS);
}

// ---- the socket --------------------------------------------------------------------------
function connect() {
  const token = new URLSearchParams(location.search).get("token");
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = token ? "?token=" + encodeURIComponent(token) : "";
  const sock = ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  hs.busy = null;
  hs.failure = null;
  setConn(false, "connecting…");
  setState("connecting");
  ws.onmessage = (e) => {
    if (typeof e.data === "string") onJson(JSON.parse(e.data));
    else if (new Uint8Array(e.data, 0, 1)[0] === 0x01) {
      player.play(new Int16Array(e.data.slice(1)));
    }
  };
  ws.onclose = (e) => {
    if (sock !== ws) return;  // ended from this page: already back at the start
    // 1013 comes after a "busy" message: its text says more than the close reason
    finish(hs.busy ? "server busy · try again in " + hs.busy.retry_after_s + " s"
      : "disconnected" + (e.reason ? ": " + e.reason : ""), "Reconnect");
  };
}

// Back to the start: no socket, no capture, nothing playing, only the start button live.
function finish(status, startLabel) {
  ws = null;
  hs.hello = null;
  answer = null;
  if (player) player.stop();
  stopCapture();
  setConn(false, status);
  setState("idle");
  setMuted(false);
  setControls(false);
  $("start").textContent = startLabel;
  $("partial").textContent = "";
}

function endConversation() {
  const sock = ws;
  finish("not connected", "Start conversation");
  if (sock && sock.readyState <= WebSocket.OPEN) sock.close(1000, "conversation ended");
}

// Stop, mute, speed and end act only on a live conversation; start only without one.
function setControls(live) {
  $("start").disabled = live;
  for (const id of ["stop", "mute", "speed", "end"]) $(id).disabled = !live;
}

function onJson(m) {
  hs.events += 1;
  switch (m.type) {
    case "hello":
      hs.hello = m;
      setConn(true, "connected · " + m.brain);
      setState("listening");
      setControls(true);
      $("speed").value = m.speed;
      $("speed-out").textContent = Number(m.speed).toFixed(2) + "×";
      break;
    case "speech_started":
      if (hs.state !== "speaking") setState("hearing");
      break;
    case "speech_ended":
      if (hs.state !== "speaking") setState("thinking");
      break;
    case "transcript":
      if (m.final) { $("partial").textContent = ""; addCaption("user", m.text); }
      else $("partial").textContent = m.text ? "… " + m.text : "";
      break;
    case "agent_text":
      agentSays(m.text, m.emotion);
      break;
    case "decision":
      if (m.emotion) $("agent-emotion").textContent = m.emotion;
      answerFeels(m.emotion);
      if (m.decision !== "respond" && hs.state === "thinking") setState("listening");
      break;
    case "agent_speech_started":
      setState("speaking");
      break;
    case "agent_speech_ended":
      if (!player.playing) setState("listening");
      break;
    case "barge_in":
    case "response_dropped":
      player.stop();
      setState("listening");
      break;
    case "emotion_state":
      $("user-emotion").textContent = m.label + (m.confidence != null ? " · " + Math.round(m.confidence * 100) + "%" : "");
      $("user-emotion").dataset.valence = m.valence > 0.15 ? "pos" : m.valence < -0.15 ? "neg" : "neu";
      break;
    case "face_cue":
      showFace(m);
      break;
    case "turn": {
      answer = null;  // the answer is over: the next sentence starts a new bubble
      const lat = m.latency_ms || {};
      if (lat.voice_to_voice != null) {
        hs.lastLatencyMs = lat.voice_to_voice;
        $("latency").textContent = Math.round(lat.voice_to_voice) + " ms";
        $("latency-detail").textContent = Object.keys(LATENCY_PARTS).filter((k) => lat[k] != null)
          .map((k) => LATENCY_PARTS[k] + " " + Math.round(lat[k]) + " ms").join(" · ");
      }
      break;
    }
    case "error":
      showError((m.code ? m.code + ": " : "") + (m.message || "error"));
      break;
    case "busy":
      hs.busy = m;
      showError(m.message || "The server is busy; try again later.");
      break;
    case "session_failed":
      hs.failure = m.reason || "server error";
      showError("The conversation stopped: " + hs.failure);
      break;
    default:
      break;
  }
}

// ---- face cues: landmarks over the preview, gauges for smile, gaze and head ------------------
const clamp1 = (v) => Math.max(-1, Math.min(1, v));

function setDial(id, yaw, pitch, alert) {
  // The preview is mirrored, so the dial is too: turning to your left moves the dot to your left.
  const el = $(id);
  el.style.setProperty("--x", clamp1(-(yaw || 0) / 45));
  el.style.setProperty("--y", clamp1(-(pitch || 0) / 45));
  el.classList.toggle("alert", !!alert);
}

function drawOverlay(m) {
  const canvas = $("overlay"), video = $("preview");
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, w, h);
  if (!m.face_present || !m.points || !m.points.length || !video.videoWidth) return;
  // Points are relative to the whole camera frame; the preview covers the box (object-fit: cover).
  const s = Math.max(w / video.videoWidth, h / video.videoHeight);
  const ox = (w - video.videoWidth * s) / 2, oy = (h - video.videoHeight * s) / 2;
  g.fillStyle = m.gaze_away ? "#ffb35c" : "#4cd6a0";
  for (const [x, y] of m.points) {
    g.beginPath();
    g.arc(ox + x * video.videoWidth * s, oy + y * video.videoHeight * s, 1.8, 0, 2 * Math.PI);
    g.fill();
  }
}

function showFace(m) {
  hs.face = m;
  $("user-face").textContent = !m.face_present ? "no face" : (m.expression || "face") + (m.smiling ? " · smiling" : "");
  drawOverlay(m);
  const read = m.face_present && m.smile != null;
  $("face-gauges").classList.toggle("off", !read);
  if (!read) return;
  $("g-smile").value = m.smile;
  setDial("g-gaze", m.gaze_yaw, m.gaze_pitch, m.gaze_away);
  $("g-gaze-text").textContent = m.gaze_away ? "away" : "with you";
  setDial("g-head", m.head_yaw, m.head_pitch, m.nod || m.shake);
  $("g-head-text").textContent = m.nod ? "nodding" : m.shake ? "shaking" : Math.abs(m.head_yaw) > 25 ? "turned" : "level";
  for (const [id, on] of [["c-nod", m.nod], ["c-shake", m.shake], ["c-mouth", m.mouth_open], ["c-blink", m.blink]]) {
    $(id).classList.toggle("on", !!on);
  }
}

// ---- controls ----------------------------------------------------------------------------
$("start").addEventListener("click", async () => {
  $("start").disabled = true;
  try {
    if (!player) player = new Player();
    await player.ctx.resume();
    if (!capture) await startCapture();
    $("captions").replaceChildren();
    hs.captions = [];
    connect();
    $("end").disabled = false;  // ending also cancels a connection still being made
  } catch (err) {
    stopCapture();
    $("start").disabled = false;
    showError("could not start: " + (err && err.message ? err.message : err));
  }
});
$("end").addEventListener("click", endConversation);

function stopAgent() {
  if (player) player.stop();
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
  setState("listening");
}
$("stop").addEventListener("click", stopAgent);
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("stop").disabled) stopAgent(); });

function setMuted(on) {
  muted = on;
  $("mute").setAttribute("aria-pressed", String(muted));
  $("mute").textContent = muted ? "Unmute mic" : "Mute mic";
}
$("mute").addEventListener("click", () => setMuted(!muted));

$("speed").addEventListener("input", () => {
  $("speed-out").textContent = Number($("speed").value).toFixed(2) + "×";
});
$("speed").addEventListener("change", () => {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "settings", speed: Number($("speed").value) }));
});

setState("idle");
setControls(false);
