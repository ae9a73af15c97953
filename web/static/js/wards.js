/* The duty intensivist's overview of ICU wards (/wards/overview). Per ward, one peer connection
   to the video service (services/video/wards/signalling.py) with the ward's watch token from the
   page's data attributes, never in a URL. Its offer, in this order: the bed opened full-size on
   VP8 (tablets) and on H.264 (IP cameras), that bed's sound, the doctor's voice (sent only while
   talking), then one slot per bed, the grid's tiles (a keyframe a second each). The ward's events,
   read with fetch and the token in the Authorization header, update each tile's last picture and
   raise and clear its alarm: marked on the tile in colour and in words, said in the alert region,
   and a beep repeating until silenced. A failed connection joins again by itself; a refused
   token reloads the page, which asks for a new one. Recording the bed opened full-size (where
   the ward allows it and its patient consented) goes through the console's own routes with the
   page's CSRF token, since it needs the person's access token; the events say which beds are
   being recorded, marked on their tiles. */
"use strict";
(() => {
  const root = document.getElementById("ward-overview");
  if (!root || !window.RTCPeerConnection) return;
  const HEARTBEAT_MS = 2000, GATHER_MS = 3000, EVENTS_RETRY_MS = 2000, BEEP_MS = 1500;
  const RETRY_MS = [1000, 2000, 5000, 10000];
  const $ = (id) => document.getElementById(id);
  const status = $("overview-status"), log = $("alarm-log"), panel = $("focus");
  const heading = $("focus-heading"), focusVideo = $("focus-video"), focusSound = $("focus-sound");
  const problem = $("focus-problem"), talkButton = $("talk");
  const soundOn = $("sound-on"), silence = $("silence");
  const recordStart = $("record-start"), recordStop = $("record-stop");
  const recordReason = $("record-reason"), recordSaid = $("record-said");
  const text = (name, values = {}) =>
    (root.dataset["text" + name] || "").replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const alarms = new Map();  // "ward bed" -> the tile's <li>, while its alarm is open
  let focused = null, mic = null, leaving = false;

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, GATHER_MS);  // send what we have; the server needs only one pair
    });
  }

  /* A receive slot that prefers `mime`: the full-size bed's frames pass through as the source
     encoded them, VP8 from a tablet and H.264 from an IP camera. */
  function prefer(transceiver, mime) {
    const caps = RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video");
    if (!caps || !transceiver.setCodecPreferences) return;
    const first = caps.codecs.filter((codec) => codec.mimeType.toLowerCase() === mime);
    if (first.length) {
      transceiver.setCodecPreferences([...first, ...caps.codecs.filter((c) => !first.includes(c))]);
    }
  }

  /* Splits an event stream's text into complete events; returns the unfinished rest. */
  function parseEvents(buffer, emit) {
    const blocks = buffer.split(/\r?\n\r?\n/);
    const rest = blocks.pop();
    for (const block of blocks) {
      let data = "";
      for (const line of block.split(/\r?\n/)) if (line.startsWith("data:")) data += line.slice(5);
      if (data) emit(JSON.parse(data));
    }
    return rest;
  }

  /* The alarm's sound: a short beep repeating while any alarm is open and not silenced. A
     browser lets a page sound only after the person acted on it; until then a button asks. */
  const sound = {
    context: null, timer: null, silenced: false,
    prime() {
      if (!this.context && window.AudioContext) {
        this.context = new AudioContext();
        this.context.onstatechange = () => this.update();
      }
      if (this.context && this.context.state === "suspended") this.context.resume().catch(() => {});
      this.update();
    },
    beep() {
      const ctx = this.context;
      if (!ctx || ctx.state !== "running") return;
      const tone = ctx.createOscillator(), gain = ctx.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.25;
      tone.connect(gain).connect(ctx.destination);
      tone.start();
      tone.stop(ctx.currentTime + 0.35);
    },
    update() {
      const wanted = alarms.size > 0 && !this.silenced;
      if (wanted && !this.context && window.AudioContext) { this.prime(); return; }
      const playing = wanted && this.context && this.context.state === "running";
      soundOn.hidden = !wanted || playing;
      silence.hidden = !wanted;
      if (wanted && !this.timer) {
        this.beep();
        this.timer = setInterval(() => this.beep(), BEEP_MS);
      } else if (!wanted && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
      root.dataset.sounding = playing ? "true" : "false";
    },
  };
  document.addEventListener("pointerdown", () => sound.prime(), { once: true });
  document.addEventListener("keydown", () => sound.prime(), { once: true });
  soundOn.addEventListener("click", () => sound.prime());
  silence.addEventListener("click", () => { sound.silenced = true; sound.update(); });

  function announce(message) {
    const line = document.createElement("p");
    line.textContent = message;
    log.prepend(line);
    while (log.children.length > 5) log.lastChild.remove();
  }

  function clock(iso) {
    const moment = new Date(iso);
    return isNaN(moment) ? "" : moment.toLocaleTimeString(document.documentElement.lang);
  }

  function showStatus() {
    const states = wards.map((ward) => ward.section.dataset.state);
    status.textContent = states.includes("lost") ? text("Lost")
      : states.every((state) => state === "live") ? text("Live") : text("Connecting");
  }

  class Ward {
    constructor(section) {
      this.section = section;
      this.id = section.dataset.ward;
      this.name = section.dataset.name;
      this.token = section.dataset.token;
      this.ice = JSON.parse(section.dataset.ice || "[]");
      this.beds = [...section.querySelectorAll("li[data-bed]")];
      this.base = `/api/video/wards/${this.id}`;
      this.pc = null; this.viewer = null; this.heartbeat = null; this.events = null;
      this.attempt = 0; this.retrying = false;
      section.addEventListener("click", (event) => {
        const tile = event.target.closest("button.bed-tile");
        if (tile) open(this, tile.closest("li")).catch((err) => say(err));
      });
    }

    tile(bedId) { return this.section.querySelector(`li[data-bed="${bedId}"]`); }

    request(path, { method = "GET", body, type, keepalive = false } = {}) {
      const headers = { "Authorization": `Bearer ${this.token}` };
      if (type) headers["Content-Type"] = type;
      return fetch(this.base + path, { method, body, headers, keepalive, cache: "no-store" });
    }

    /* A step of this viewer's (`focus`, `talk`): its answer, or the service's refusal thrown. */
    async put(action, body) {
      const response = await this.request(`/viewers/${this.viewer}/${action}`,
        { method: "PUT", body: JSON.stringify(body), type: "application/json" });
      if (response.status === 401) location.reload();
      const answer = await response.json().catch(() => ({}));
      if (response.status === 404) this.rejoin();
      if (!response.ok) throw new Error(answer.detail || String(response.status));
      return answer;
    }

    setState(state) { this.section.dataset.state = state; showStatus(); }

    async join() {
      const pc = new RTCPeerConnection({ iceServers: this.ice, bundlePolicy: "max-bundle" });
      this.pc = pc;
      this.focusSlots = [pc.addTransceiver("video", { direction: "recvonly" }),
                         pc.addTransceiver("video", { direction: "recvonly" })];
      prefer(this.focusSlots[0], "video/vp8");
      prefer(this.focusSlots[1], "video/h264");
      this.sound = pc.addTransceiver("audio", { direction: "recvonly" });
      this.voice = pc.addTransceiver("audio", { direction: "sendonly" });
      for (const _ of this.beds) pc.addTransceiver("video", { direction: "recvonly" });
      const channel = pc.createDataChannel("heartbeat");
      const ping = () => { if (channel.readyState === "open") channel.send("ping"); };
      channel.onopen = () => { ping(); this.heartbeat = setInterval(ping, HEARTBEAT_MS); };
      pc.onconnectionstatechange = () => {
        if (this.pc !== pc) return;
        if (pc.connectionState === "connected") { this.attempt = 0; this.setState("live"); }
        if (pc.connectionState === "failed") this.rejoin();
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const response = await this.request("/viewers",
        { method: "POST", body: pc.localDescription.sdp, type: "application/sdp" });
      if (response.status === 401) { location.reload(); return; }
      if (!response.ok) throw new Error(String(response.status));
      this.viewer = response.headers.get("X-Viewer-Id");
      await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
      const view = await (await this.request(`/viewers/${this.viewer}`)).json();
      for (const { mid, bed_id: bedId } of view.tiles || []) {
        const slot = pc.getTransceivers().find((transceiver) => transceiver.mid === mid);
        const video = this.tile(bedId) && this.tile(bedId).querySelector("video");
        if (slot && video) video.srcObject = new MediaStream([slot.receiver.track]);
      }
      if (focused && focused.ward === this) await open(this, this.tile(focused.bed)).catch(closeFocus);
    }

    close() {
      clearInterval(this.heartbeat);
      if (this.pc) this.pc.close();
      this.pc = null;
    }

    async connect() {
      this.setState("connecting");
      try {
        await this.join();
      } catch (err) {
        this.rejoin();
      }
    }

    /* Joins again after a pause that grows with each failure in a row. */
    rejoin() {
      if (this.retrying || leaving) return;
      this.retrying = true;
      this.close();
      this.setState("lost");
      const pause = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)];
      setTimeout(() => { this.retrying = false; this.connect(); }, pause);
    }

    async listen() {
      while (!leaving) {
        const controller = new AbortController();
        this.events = controller;
        try {
          const response = await fetch(`${this.base}/events`, {
            headers: { "Authorization": `Bearer ${this.token}`, "Accept": "text/event-stream" },
            signal: controller.signal, cache: "no-store",
          });
          if (response.status === 401) { location.reload(); return; }
          if (response.ok) {
            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffer = "";
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer = parseEvents(buffer + value, (event) => this.on(event));
            }
          }
        } catch (err) {
          if (leaving) return;
        }
        await sleep(EVENTS_RETRY_MS);
      }
    }

    on(event) {
      if (event.event === "ward.state") {
        for (const bed of event.beds || []) this.state(bed);
      } else if (event.event === "bed.alarm") {
        this.alarm(event.bed_id, event.raised_at);
      } else if (event.event === "bed.alarm_cleared") {
        this.clear(event.bed_id);
      } else if (event.event === "ward.roster") {
        location.reload();  // the beds changed: the page and the grid are drawn again
      }
    }

    state(bed) {
      const tile = this.tile(bed.bed_id);
      if (!tile || !bed.occupied) return;
      markRecording(tile, Boolean(bed.recording));
      const seconds = bed.seconds_since_frame;
      tile.querySelector(".bed-state").textContent = seconds === null || seconds === undefined
        ? text("Never") : text("Since", { seconds: Math.round(seconds) });
      if (bed.alarm_since) this.alarm(bed.bed_id, bed.alarm_since);
      else this.clear(bed.bed_id);
    }

    alarm(bedId, since) {
      const key = `${this.id} ${bedId}`, tile = this.tile(bedId);
      if (!tile || alarms.has(key)) return;
      alarms.set(key, tile);
      tile.querySelector(".bed-tile").classList.add("alarm");
      const flag = tile.querySelector(".bed-alarm");
      if (flag) flag.hidden = false;
      announce(text("Raised", { bed: tile.dataset.label, ward: this.name, time: clock(since) }));
      sound.silenced = false;
      sound.update();
    }

    /* Also unmarks a tile the page was drawn with an alarm that has cleared since. */
    clear(bedId) {
      const tile = this.tile(bedId);
      if (!tile) return;
      tile.querySelector(".bed-tile").classList.remove("alarm");
      const flag = tile.querySelector(".bed-alarm");
      if (flag) flag.hidden = true;
      if (!alarms.delete(`${this.id} ${bedId}`)) return;
      announce(text("Cleared", { bed: tile.dataset.label, ward: this.name }));
      sound.update();
    }

    leave() {
      if (this.viewer) this.request(`/viewers/${this.viewer}`, { method: "DELETE", keepalive: true });
      if (this.events) this.events.abort();
      this.close();
    }
  }

  function say(err) { status.textContent = `${text("Refused")} ${err.message}`; }

  function focusedTile() { return focused && focused.ward.tile(focused.bed); }

  /* The panel's recording control for the bed opened: the reason where it may not be
     recorded, else "Record" or "Stop recording". */
  function showRecording() {
    const tile = focusedTile();
    if (!tile) return;
    const reason = tile.dataset.noRecord || "", on = tile.dataset.recording === "true";
    recordReason.textContent = reason;
    recordReason.hidden = !reason;
    recordStart.hidden = Boolean(reason) || on;
    recordStop.hidden = Boolean(reason) || !on;
  }

  function markRecording(tile, on) {
    if ((tile.dataset.recording === "true") === on) return;
    tile.dataset.recording = String(on);
    const flag = tile.querySelector(".bed-recording");
    if (flag) flag.hidden = !on;
    if (tile === focusedTile()) showRecording();
  }

  for (const form of [recordStart, recordStop]) {
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const tile = focusedTile();
      if (!tile) return;
      problem.textContent = recordSaid.textContent = "";
      const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        problem.textContent = `${text("Refused")} ${answer.detail || response.status}`;
        return;
      }
      markRecording(tile, answer.recording);
      if (form === recordStop) {
        recordSaid.textContent = answer.file_id ? text("Stored", { file: answer.file_id }) : text("Empty");
      }
    });
  }

  function stopMic() {
    if (mic) {
      mic.getTracks().forEach((track) => track.stop());
      mic.sender.replaceTrack(null).catch(() => {});
    }
    mic = null;
    talkButton.setAttribute("aria-pressed", "false");
  }

  /* The bed full-size in the panel: its slot on its source's codec, and its sound. */
  async function open(ward, tile) {
    sound.prime();
    if (focused && focused.ward !== ward) await focused.ward.put("focus", { bed_id: null }).catch(() => {});
    stopMic();
    problem.textContent = "";
    const answer = await ward.put("focus", { bed_id: tile.dataset.bed });
    const slot = ward.pc.getTransceivers().find((t) => t.mid === answer.focus_mid)
      || ward.focusSlots[tile.dataset.source === "rtsp" ? 1 : 0];
    focusVideo.srcObject = new MediaStream([slot.receiver.track]);
    focusSound.srcObject = new MediaStream([ward.sound.receiver.track]);
    focusSound.play().catch(() => {});
    if (!focused || focused.bed !== tile.dataset.bed) recordSaid.textContent = "";
    focused = { ward, bed: tile.dataset.bed };
    const beds = `/wards/${ward.id}/beds/${tile.dataset.bed}/recording`;
    recordStart.action = `${beds}/start`;
    recordStop.action = `${beds}/stop`;
    showRecording();
    heading.textContent = text("Focus", { bed: tile.dataset.label, ward: ward.name });
    if (panel.hidden) {
      panel.hidden = false;
      heading.focus();
    }
  }

  async function closeFocus() {
    const was = focused;
    focused = null;
    stopMic();
    panel.hidden = true;
    focusVideo.srcObject = focusSound.srcObject = null;
    if (!was) return;
    const tile = was.ward.tile(was.bed);
    if (tile) tile.querySelector("button").focus();
    await was.ward.put("focus", { bed_id: null }).catch(() => {});
  }

  talkButton.addEventListener("click", async () => {
    if (!focused) return;
    const ward = focused.ward;
    problem.textContent = "";
    if (talkButton.getAttribute("aria-pressed") === "true") {
      stopMic();
      await ward.put("talk", { talking: false }).catch((err) => { problem.textContent = err.message; });
      return;
    }
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      problem.textContent = text("NoMic");
      return;
    }
    try {
      mic.sender = ward.voice.sender;
      await mic.sender.replaceTrack(mic.getAudioTracks()[0]);
      await ward.put("talk", { talking: true });
      talkButton.setAttribute("aria-pressed", "true");
    } catch (err) {
      stopMic();
      problem.textContent = `${text("Refused")} ${err.message}`;
    }
  });
  $("close-focus").addEventListener("click", closeFocus);
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") closeFocus(); });

  const wards = [...root.querySelectorAll("section.ward[data-ward]")].map((s) => new Ward(s));
  window.addEventListener("pagehide", () => { leaving = true; wards.forEach((w) => w.leave()); });
  for (const ward of wards) {
    ward.connect();
    ward.listen();
  }
})();
