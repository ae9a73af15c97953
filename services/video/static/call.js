/* The browser side of a video room, shared by the patient's join page (/join/{token}) and the
   console's video page (/video/{room_id}): one peer connection to the video service (WHIP-style
   signalling, services/video/signalling.py), own camera and microphone sendonly, a fixed number
   of receive slots the server points at the others, a heartbeat, and the room's events read as
   Server-Sent Events with the join token in the Authorization header, never in a URL. */
"use strict";
(() => {
  // The server answers every slot the client offers; seven show everyone else in the largest
  // room (eight participants, services/video/enums.py CAPACITY).
  const SLOTS = 7;
  const HEARTBEAT_MS = 2000;
  const GATHER_MS = 3000;
  const RECONNECT_MS = 2000;

  class CallError extends Error {
    constructor(reason, status) { super(reason); this.reason = reason; this.status = status; }
  }

  function gathered(peer) {
    if (peer.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      peer.addEventListener("icegatheringstatechange", () => {
        if (peer.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, GATHER_MS);  // send what we have; the server needs only one pair
    });
  }

  /* Splits an event stream's text into complete events; returns the unfinished rest. */
  function parseEvents(buffer, emit) {
    const blocks = buffer.split(/\r?\n\r?\n/);
    const rest = blocks.pop();
    for (const block of blocks) {
      let name = "message", data = "";
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) emit(name, JSON.parse(data));
    }
    return rest;
  }

  class RoomCall {
    /* `onSlot(slot)` is told when a receive slot starts or stops showing someone, `onFail(reason)`
       when the connection is lost. */
    constructor({ roomId, token, iceServers, onSlot, onFail }) {
      this.base = `/api/video/rooms/${roomId}`;
      this.token = token;
      this.iceServers = iceServers || [];
      this.onSlot = onSlot || (() => {});
      this.onFail = onFail || (() => {});
      this.pc = null; this.stream = null; this.me = null; this.slots = [];
      this.heartbeat = null; this.events = null; this.ended = false;
    }

    request(path, { method = "GET", body, type } = {}) {
      const headers = { "Authorization": `Bearer ${this.token}` };
      if (type) headers["Content-Type"] = type;
      return fetch(`${this.base}${path}`, { method, body, headers, cache: "no-store" });
    }

    async json(path, method, body) {
      const response = await this.request(path, {
        method, body: body === undefined ? undefined : JSON.stringify(body),
        type: body === undefined ? undefined : "application/json",
      });
      if (!response.ok) throw new CallError("refused", response.status);
      return response.json();
    }

    view() { return this.json(""); }

    async media() {
      this.stream = await navigator.mediaDevices.getUserMedia(
        { audio: true, video: { width: 640, height: 480 } });
      return this.stream;
    }

    /* Joins with the stream from `media()`; the answer says whether we wait or are in. */
    async join() {
      // max-bundle: one transport for everything, as aiortc answers; nothing else connects.
      const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
      this.pc = pc;
      for (const track of this.stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly" });
      const audio = [];
      for (let i = 0; i < SLOTS; i++) {
        audio.push(pc.addTransceiver("audio", { direction: "recvonly" }));
        this.slots.push(this.slot(pc.addTransceiver("video", { direction: "recvonly" })));
      }
      // Every voice plays through one sink; the video tiles stay muted, so they autoplay.
      const sink = new Audio(); sink.autoplay = true;
      sink.srcObject = new MediaStream(audio.map((transceiver) => transceiver.receiver.track));
      this.sink = sink;
      const channel = pc.createDataChannel("heartbeat");
      const ping = () => { if (channel.readyState === "open") channel.send("ping"); };
      channel.onopen = () => { ping(); this.heartbeat = setInterval(ping, HEARTBEAT_MS); };
      pc.onconnectionstatechange = () => {
        if (this.pc && this.pc.connectionState === "failed") this.fail("lost");
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const response = await this.request("/sessions",
        { method: "POST", body: pc.localDescription.sdp, type: "application/sdp" });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new CallError(problem.reason || (response.status === 410 ? "closed" : "invalid"),
                            response.status);
      }
      this.me = response.headers.get("X-Participant-Id");
      await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
      return { participantId: this.me, state: response.headers.get("X-Participant-State") };
    }

    slot(transceiver) {
      const video = document.createElement("video");
      video.autoplay = true; video.playsInline = true; video.muted = true;
      video.className = "remote";
      const track = transceiver.receiver.track;
      video.srcObject = new MediaStream([track]);
      const slot = { transceiver, video, live: false };
      track.onunmute = () => { slot.live = true; this.onSlot(slot); };
      track.onmute = () => { slot.live = false; this.onSlot(slot); };
      return slot;
    }

    /* The slot whose transceiver has this SDP mid (the room view's `feeds` name them). */
    slotOf(mid) { return this.slots.find((slot) => slot.transceiver.mid === mid); }

    /* Reads the room's events until `end()`, reconnecting after a dropped stream; `on(name,
       data)` gets each. A closed room (410) or a refused token ends the reading. */
    async listen(on) {
      while (!this.ended) {
        const controller = new AbortController();
        this.events = controller;
        try {
          const response = await fetch(`${this.base}/events`, {
            headers: { "Authorization": `Bearer ${this.token}`, "Accept": "text/event-stream" },
            signal: controller.signal, cache: "no-store",
          });
          if (response.status === 410) { on("room.closed", {}); return; }
          if (!response.ok) { on("events.refused", { status: response.status }); return; }
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer = parseEvents(buffer + value, on);
          }
        } catch (err) {
          if (this.ended) return;
        }
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    }

    setEnabled(kind, enabled) {
      for (const track of this.stream ? this.stream.getTracks() : []) {
        if (track.kind === kind) track.enabled = enabled;
      }
    }

    async leave() {
      if (this.me) {
        await this.request(`/sessions/${this.me}`, { method: "DELETE" }).catch(() => null);
      }
      this.end();
    }

    fail(reason) {
      if (this.ended) return;
      this.end();
      this.onFail(reason);
    }

    end() {
      this.ended = true;
      clearInterval(this.heartbeat);
      if (this.events) { this.events.abort(); this.events = null; }
      if (this.pc) { this.pc.close(); this.pc = null; }
      if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    }
  }

  window.TelemedCall = { RoomCall, CallError, SLOTS };
})();
