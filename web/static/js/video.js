/* The console's video page: the waiting room (with a sound and a title alert when someone
   arrives), letting people in or sending them back, the call grid with a label and link quality
   per tile, mute and camera, consent and recording, leaving and closing. The call itself is
   TelemedCall (/join/call.js), the same client the patient's join page runs. The page holds
   only the room's short-lived join token; recording and closing go through the console's own
   POST routes with the page's CSRF token. */
"use strict";
(() => {
  const root = document.querySelector("[data-video-call]");
  if (!root || !window.TelemedCall) return;
  const config = JSON.parse(document.getElementById("video-config").textContent);
  const $ = (id) => document.getElementById(id);
  const say = (name, values = {}) => (root.dataset[`text${name}`] || "")
    .replace(/\{(\w+)\}/g, (_, key) => (key in values ? values[key] : ""));
  const REFRESH_MS = 5000;
  const pageTitle = document.title;
  const tiles = new Map();  // slot -> figure
  let view = null, quality = {}, waitingIds = null, consented = false, audio = null;

  function status(key, values) {
    $("call-status").textContent = say(key, values);
    root.dataset.state = key;
  }

  const call = new TelemedCall.RoomCall({
    roomId: config.room_id, token: config.token, iceServers: config.ice_servers,
    onSlot: () => renderTiles(), onFail: (reason) => finish(reason === "lost" ? "Lost" : "Closed"),
  });

  /* A short tone: no sound file to load, played by WebAudio (started by the join click). */
  function beep() {
    if (!audio) return;
    const tone = audio.createOscillator(), gain = audio.createGain();
    tone.frequency.value = 880; gain.gain.value = 0.15;
    tone.connect(gain).connect(audio.destination);
    tone.start(); tone.stop(audio.currentTime + 0.25);
  }

  function nameOf(id) {
    const person = view && view.participants.find((p) => p.id === id);
    return person ? person.display_name : "";
  }

  function linkText(id) {
    const q = quality[id];
    if (!q || q.round_trip_ms === null || q.round_trip_ms === undefined) return say("QualityUnknown");
    const rtt = Math.round(q.round_trip_ms);
    const level = rtt < 150 && (q.jitter_ms || 0) < 30 ? "Good" : rtt < 400 ? "Fair" : "Poor";
    return `${say(`Quality${level}`)} (${say("Rtt", { ms: rtt })})`;
  }

  function button(label, onClick, danger = false) {
    const element = document.createElement("button");
    element.type = "button"; element.textContent = label;
    if (danger) element.className = "danger";
    element.onclick = onClick;
    return element;
  }

  async function move(id, action) {
    $("action-problem").textContent = "";
    try { await call.json(`/participants/${id}/${action}`, "POST"); } catch (err) {
      $("action-problem").textContent = `${say("Refused")} ${err.status}`;
    }
    refresh();
  }

  function renderWaiting(present) {
    const list = $("waiting-list");
    if (!list) return;
    const waiting = present.filter((p) => p.state === "waiting" && p.connected);
    list.replaceChildren(...waiting.map((p) => {
      const item = document.createElement("li");
      const since = new Date(p.updated_at).toLocaleTimeString(document.documentElement.lang,
        { hour: "2-digit", minute: "2-digit" });
      const who = document.createElement("span");
      who.textContent = `${p.display_name} · ${say("Since", { time: since })}`;
      item.append(who,
        button(say("Admit", { name: p.display_name }), () => move(p.id, "admit")),
        button(say("Remove", { name: p.display_name }), () => move(p.id, "remove"), true));
      return item;
    }));
    $("waiting-empty").hidden = waiting.length > 0;
    const ids = new Set(waiting.map((p) => p.id));
    if (waitingIds) {
      const arrived = waiting.filter((p) => !waitingIds.has(p.id));
      if (arrived.length) { beep(); status("Arrived", { name: arrived[0].display_name }); }
    }
    waitingIds = ids;
    document.title = waiting.length ? `(${waiting.length}) ${pageTitle}` : pageTitle;
  }

  function renderPeople(present) {
    $("people").replaceChildren(...present.map((p) => {
      const row = document.createElement("tr");
      const cells = [p.display_name, say(p.state === "waiting" ? "StateWaiting" : "StateAdmitted"),
        say(p.consented ? "ConsentYes" : "ConsentNo"), linkText(p.id)];
      for (const text of cells) {
        const cell = document.createElement("td"); cell.textContent = text; row.append(cell);
      }
      const actions = document.createElement("td");
      if (config.admits) row.append(actions);
      if (config.admits && p.state === "admitted" && p.role !== "host") {
        actions.append(button(say("SendBack", { name: p.display_name }), () => move(p.id, "return-to-waiting")),
          button(say("Remove", { name: p.display_name }), () => move(p.id, "remove"), true));
      }
      return row;
    }));
  }

  function renderTiles() {
    const feeds = new Map(((view && view.feeds) || []).map((feed) => [feed.mid, feed.participant_id]));
    for (const slot of call.slots) {
      let figure = tiles.get(slot);
      if (!figure) {
        figure = document.createElement("figure"); figure.className = "tile remote-tile";
        figure.append(slot.video, document.createElement("figcaption"));
        tiles.set(slot, figure); $("tiles").append(figure);
      }
      const id = feeds.get(slot.transceiver.mid);
      const label = id ? `${nameOf(id)} · ${linkText(id)}` : "";
      figure.hidden = !slot.live;
      figure.querySelector("figcaption").textContent = label;
      slot.video.setAttribute("aria-label", id ? nameOf(id) : "");
    }
  }

  function renderRecording() {
    const active = Boolean(view && view.recording && view.recording.active);
    $("recording-state").hidden = !active;
    const start = root.querySelector("[data-room-action=start]");
    const stop = root.querySelector("[data-room-action=stop]");
    if (start) start.hidden = active;
    if (stop) stop.hidden = !active;
  }

  async function refresh() {
    try { view = await call.view(); } catch (err) { return; }
    const present = view.participants.filter((p) => p.state === "waiting" || p.state === "admitted");
    const mine = present.find((p) => p.id === call.me);
    if (mine) consented = mine.consented;
    $("consent").setAttribute("aria-pressed", String(consented));
    renderWaiting(present); renderPeople(present); renderTiles(); renderRecording();
  }

  function heard(name, event) {
    if (name === "network.quality") {
      quality[event.participant_id] = event.quality;
      renderTiles(); if (view) renderPeople(view.participants.filter((p) => p.state === "waiting" || p.state === "admitted"));
      return;
    }
    if (name === "room.closed") { finish("Closed"); return; }
    const mine = event.participant_id && event.participant_id === call.me;
    if (mine && name === "participant.admitted") status("InCall");
    if (mine && name === "participant.returned_to_waiting") status("WaitingSelf");
    if (mine && name === "participant.removed") { finish("Removed"); return; }
    refresh();
  }

  function finish(key) {
    call.end();
    for (const id of ["mute", "camera", "consent", "leave", "join-call"]) $(id).hidden = true;
    for (const form of root.querySelectorAll("[data-room-action]")) form.hidden = true;
    status(key);
  }

  async function join() {
    $("join-call").disabled = true;
    audio = audio || new AudioContext();
    status("Joining");
    try { $("self-view").srcObject = await call.media(); } catch (err) {
      status("NoDevices"); $("join-call").disabled = false; return;
    }
    let joined;
    try { joined = await call.join(); } catch (err) { finish(err.reason === "closed" ? "Closed" : "Lost"); return; }
    $("join-call").hidden = true;
    for (const id of ["mute", "camera", "consent", "leave"]) $(id).hidden = false;
    status(joined.state === "admitted" ? "InCall" : "WaitingSelf");
    refresh();
  }

  function toggle(element, kind) {
    const pressed = element.getAttribute("aria-pressed") !== "true";
    element.setAttribute("aria-pressed", String(pressed));
    call.setEnabled(kind, !pressed);
  }

  $("join-call").onclick = () => join();
  $("mute").onclick = () => toggle($("mute"), "audio");
  $("camera").onclick = () => toggle($("camera"), "video");
  $("consent").onclick = async () => {
    try { await call.json(`/participants/${call.me}/consent`, "PUT", { consented: !consented }); } catch (err) {
      $("action-problem").textContent = `${say("Refused")} ${err.status}`;
    }
    refresh();
  };
  $("leave").onclick = async () => { await call.leave(); finish("Left"); };
  for (const form of root.querySelectorAll("[data-room-action]")) {
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      $("action-problem").textContent = "";
      const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        $("action-problem").textContent = `${say("Refused")} ${body.detail || response.status}`;
      } else if (form.dataset.roomAction === "close") {
        finish("Closed");
      }
      refresh();
    });
  }

  status("Ready");
  refresh();
  call.listen(heard);
  setInterval(() => { if (!call.ended) refresh(); }, REFRESH_MS);
})();
