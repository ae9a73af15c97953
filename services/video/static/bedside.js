/* The bedside tablet's page (/bedside): a bed's standing camera. Opened once with the link the
   ward's coordinator issues (/bedside#ward=…&bed=…&key=…), it keeps the ward, the bed and the
   device credential in localStorage and takes them out of the address bar; from then on it
   publishes the camera to the video service (WHIP-style signalling,
   services/video/wards/signalling.py), sends the microphone only while a doctor talks to the bed,
   plays the doctor's voice, and reconnects by itself, for good, whenever the connection or the
   event stream is lost, until the credential is revoked. */
"use strict";
(() => {
  const HEARTBEAT_MS = 2000;  // the server drops a tablet silent for longer than its timeout
  // No pong for this long, or no open channel this long after the answer: the link is gone.
  const SILENCE_MS = 8000;
  const CONNECT_MS = 20000;
  const GATHER_MS = 3000;
  // Short at first (a Wi-Fi blip, the service restarting), then every 8 s, forever; spread a
  // little so a ward's tablets do not all knock at the same instant after a restart.
  const BACKOFF_MS = [1000, 2000, 4000, 8000];
  const STORE = "telemed.bedside";
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const KEY = /^[\w-]+$/;

  const TEXT = {
    ru: {
      starting: ["Включаем камеру…", ""],
      connecting: ["Подключаемся…", ""],
      live: ["Камера этой койки включена",
             "Изображение видят врачи, которые наблюдают за отделением."],
      reconnecting: ["Переподключение…",
                     "Нет связи с сервером. Камера подключится сама, ничего нажимать не нужно."],
      noCamera: ["Нет доступа к камере или микрофону",
                 "Разрешите браузеру камеру и микрофон. Страница попробует снова сама."],
      wrongSource: ["Эта койка настроена на IP-камеру",
                    "Попросите координатора отделения переключить койку на планшет."],
      revoked: ["Ссылка этого планшета больше не действует",
                "Попросите у координатора отделения новую ссылку для этой койки."],
      noLink: ["Планшет не подключён к койке",
               "Откройте на нём ссылку для койки, которую выдаёт координатор отделения."],
      talk: "С вами говорит врач регионального центра",
      sound: "Нажмите, чтобы включить звук",
      preview: "Изображение с камеры",
    },
    en: {
      starting: ["Starting the camera…", ""],
      connecting: ["Connecting…", ""],
      live: ["Camera of this bed is on", "The doctors who watch this ward can see the picture."],
      reconnecting: ["Reconnecting…",
                     "No connection to the server. The camera reconnects by itself; there is " +
                     "nothing to press."],
      noCamera: ["No access to the camera or microphone",
                 "Allow this browser to use the camera and microphone. The page tries again " +
                 "by itself."],
      wrongSource: ["This bed is set up for an IP camera",
                    "Ask the ward's coordinator to switch the bed to a tablet."],
      revoked: ["This tablet's link is no longer valid",
                "Ask the ward's coordinator for a new link for this bed."],
      noLink: ["This tablet is not connected to a bed",
               "Open the bed's link from the ward's coordinator on this tablet."],
      talk: "A doctor of the regional centre is talking",
      sound: "Tap to turn on the sound",
      preview: "Camera picture",
    },
  };
  const lang = (navigator.language || "ru").toLowerCase().startsWith("ru") ? "ru" : "en";
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const backoff = (attempt) =>
    BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + 0.4 * Math.random());

  let link = null;          // { ward, bed, key }
  let stream = null;        // the camera and microphone, kept across reconnects
  let microphone = null;    // the sender the microphone goes out on while a doctor talks
  let talking = false;
  let stopped = false;
  let events = null;        // the event stream's AbortController
  let peer = null;
  let iceServers = [];      // from the previous answer's Link header (TURN, if any)

  function show(state) {
    const [status, detail] = TEXT[lang][state];
    document.body.dataset.state = state;
    $("status").textContent = status;
    $("detail").textContent = detail;
  }

  function render() {
    document.documentElement.lang = lang;
    $("talk").textContent = TEXT[lang].talk;
    $("sound").textContent = TEXT[lang].sound;
    $("preview").setAttribute("aria-label", TEXT[lang].preview);
  }

  /* The link's fragment, kept for good; the address bar keeps nothing secret. */
  function remembered() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const given = { ward: fragment.get("ward"), bed: fragment.get("bed"), key: fragment.get("key") };
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    if (valid(given)) localStorage.setItem(STORE, JSON.stringify(given));
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem(STORE) || "null"); } catch (err) { kept = null; }
    return valid(kept) ? kept : null;
  }

  function valid(value) {
    return Boolean(value && UUID.test(value.ward || "") && UUID.test(value.bed || "") &&
                   KEY.test(value.key || ""));
  }

  function url(path) { return `/api/video/wards/${link.ward}/beds/${link.bed}${path}`; }

  function request(path, options = {}) {
    const headers = { "Authorization": `Bearer ${link.key}`, ...(options.headers || {}) };
    return fetch(url(path), { ...options, headers, cache: "no-store" });
  }

  /* The camera at the size and rate the overview is built for; asked again until allowed. */
  async function camera() {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        return await navigator.mediaDevices.getUserMedia({
          video: { width: { ideal: 640 }, height: { ideal: 480 },
                   frameRate: { ideal: 15, max: 15 } },
          audio: true,
        });
      } catch (err) {
        show("noCamera");
        await sleep(backoff(attempt));
      }
    }
    return null;
  }

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, GATHER_MS);  // send what we have; the server needs only one pair
    });
  }

  /* The ICE servers of a WHIP answer's `Link: <url>; rel="ice-server"; username=…` list. */
  function linkedIceServers(header) {
    const servers = [];
    for (const [, address, params] of (header || "").matchAll(/<([^>]*)>([^<]*)/g)) {
      const fields = {};
      for (const [, name, quoted, bare] of params.matchAll(/([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*))/g)) {
        fields[name] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare;
      }
      if (fields.rel !== "ice-server") continue;
      const server = { urls: address };
      if (fields.username && fields.credential) {
        server.username = fields.username; server.credential = fields.credential;
      }
      servers.push(server);
    }
    return servers;
  }

  /* Resolves when the connection is lost: the channel closes, the peer fails, or the server
     stops answering the pings. */
  function heartbeat(pc, channel) {
    let timer = null, opened = false;
    const lost = new Promise((resolve) => {
      let heard = Date.now();
      const started = Date.now();
      channel.onopen = () => {
        opened = true; heard = Date.now(); channel.send("ping"); show("live");
      };
      channel.onmessage = () => { heard = Date.now(); };
      channel.onclose = () => resolve();
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed" || pc.connectionState === "closed") resolve();
      };
      timer = setInterval(() => {
        if (channel.readyState === "open") {
          channel.send("ping");
          if (Date.now() - heard > SILENCE_MS) resolve();
        } else if (Date.now() - started > CONNECT_MS) {
          resolve();
        }
      }, HEARTBEAT_MS);
    });
    return { lost, stop: () => clearInterval(timer), opened: () => opened };
  }

  /* One peer connection from offer to loss; answers why it ended. */
  async function publishOnce() {
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    peer = pc;
    const channel = pc.createDataChannel("heartbeat");
    const beat = heartbeat(pc, channel);
    try {
      pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly", streams: [stream] });
      const mic = pc.addTransceiver("audio", { direction: "sendonly" }).sender;
      const voice = pc.addTransceiver("audio", { direction: "recvonly" });
      play(voice.receiver.track);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const response = await request("/source", {
        method: "POST", body: pc.localDescription.sdp,
        headers: { "Content-Type": "application/sdp" },
      });
      if (response.status === 401) return { ended: "revoked" };
      if (response.status === 409) return { ended: "wrongSource" };
      if (!response.ok) return { ended: "lost" };
      const linked = linkedIceServers(response.headers.get("Link"));
      if (linked.length) iceServers = linked;
      await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
      microphone = mic;
      await mic.replaceTrack(talking ? stream.getAudioTracks()[0] : null);
      await beat.lost;
      return { ended: "lost", connected: beat.opened() };
    } catch (err) {
      return { ended: "lost", connected: false };
    } finally {
      beat.stop();
      microphone = null;
      peer = null;
      pc.close();
    }
  }

  async function publish() {
    for (let attempt = 0; !stopped;) {
      const result = await publishOnce();
      if (stopped) return;
      if (result.ended === "revoked") { revoked(); return; }
      show(result.ended === "wrongSource" ? "wrongSource" : "reconnecting");
      attempt = result.connected ? 0 : attempt + 1;
      await sleep(backoff(result.ended === "wrongSource" ? BACKOFF_MS.length : attempt));
    }
  }

  function play(track) {
    const voice = $("voice");
    voice.srcObject = new MediaStream([track]);
    voice.play().catch(() => { $("sound").hidden = false; });
  }

  /* The microphone goes out only while a doctor talks to the bed: no track, nothing sent. */
  function setTalking(on) {
    talking = on;
    document.body.dataset.talking = on ? "yes" : "no";
    $("talk").hidden = !on;
    if (microphone && stream) {
      microphone.replaceTrack(on ? stream.getAudioTracks()[0] : null).catch(() => null);
    }
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

  function heard(name, data) {
    if (name === "bed.talk") setTalking(Boolean(data.talking));
  }

  /* The bed's events until the credential is revoked, the stream reopened whenever it ends;
     while it is down nobody is known to be talking, so the microphone is off. */
  async function listen() {
    for (let attempt = 0; !stopped; attempt++) {
      const controller = new AbortController();
      events = controller;
      try {
        const response = await request("/events", {
          headers: { "Accept": "text/event-stream" }, signal: controller.signal,
        });
        if (response.status === 401) { revoked(); return; }
        if (response.ok) {
          attempt = 0;
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer = parseEvents(buffer + value, heard);
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      if (stopped) return;
      setTalking(false);
      await sleep(backoff(attempt));
    }
  }

  /* The credential was revoked (or replaced by a newer link): say so and stop for good. */
  function revoked() {
    if (stopped) return;
    stopped = true;
    setTalking(false);
    if (events) events.abort();
    if (peer) peer.close();
    if (stream) stream.getTracks().forEach((track) => track.stop());
    $("preview").srcObject = null;
    $("preview").hidden = true;
    show("revoked");
  }

  /* A bedside screen stays on; the lock is let go whenever the page is hidden, so ask again. */
  async function stayAwake() {
    if (!navigator.wakeLock || document.visibilityState !== "visible" || stopped) return;
    try { await navigator.wakeLock.request("screen"); } catch (err) { /* not allowed here */ }
  }

  async function start() {
    render();
    link = remembered();
    if (!link) { show("noLink"); return; }
    show("starting");
    document.addEventListener("visibilitychange", stayAwake);
    stayAwake();
    $("sound").onclick = () => {
      $("voice").play().then(() => { $("sound").hidden = true; }).catch(() => null);
    };
    stream = await camera();
    if (!stream || stopped) return;
    $("preview").srcObject = stream;
    $("preview").hidden = false;
    show("connecting");
    listen();
    publish();
  }

  start();
})();
