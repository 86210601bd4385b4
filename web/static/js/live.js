/*
 * The online counter: the citizen's page (templates/live_call.html) and the
 * operator's console (templates/live_console.html). One script for both:
 * data-live on #live-root says which page it runs on ("call" or "console").
 *
 * The page talks to the host over one WebSocket (path in data-ws) in JSON
 * text messages, each with a "type". Media go through the host's relay and
 * the SERVER offers: on "offer" this script gets the camera and microphone,
 * answers with all its ICE candidates (waiting at most two seconds for them)
 * and trickles any later one. Chat and documents never use WebRTC. A call
 * only goes down: video → voice → chat.
 *
 * A dropped socket comes back by itself after 1, 2, 4, 8 and then every 10
 * seconds; the host keeps the citizen's place for 30 seconds meanwhile.
 *
 * document.body.dataset.liveState says where the page is: "waiting" (the
 * citizen is in the queue) or "idle" (the operator has no call), "calling"
 * (the call started, media not flowing yet), "connected" (ICE connected and
 * the other side's media arriving, or at once for a chat) and "ended".
 *
 * Every text shown comes from the page (the data- attributes of the
 * [data-live-texts] elements, with {n}-style placeholders), so it is in the
 * page's language; nothing a message carries is ever read as HTML.
 */
(function () {
  'use strict';

  const root = document.getElementById('live-root');
  if (!root || !root.dataset.live || !root.dataset.ws) {
    return;
  }
  const isConsole = root.dataset.live === 'console';

  // Lowest first: a call may only move to a lower index.
  const MODES = ['chat', 'voice', 'video'];
  const MAX_CHAT = 2000;
  const GATHER_MS = 2000;
  const MAX_RETRY_MS = 10000;
  // The queue's waiting times move on between two "state" messages.
  const WAIT_TICK_MS = 15000;
  // After "leave" the host answers "ended"; if it does not, the page ends
  // the call itself rather than hang.
  const LEAVE_GRACE_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const el = {
    notice: $('live-notice'),
    modeLabel: $('live-mode-label'),
    waiting: $('live-waiting'),
    position: $('live-position'),
    eta: $('live-eta'),
    operators: $('live-operators'),
    desk: $('live-desk'),
    leaveForm: $('live-leave-form'),
    leave: $('live-leave'),
    call: $('live-call'),
    operator: $('live-operator'),
    media: $('live-media'),
    videos: $('live-videos'),
    remote: $('live-remote'),
    local: $('live-local'),
    voice: $('live-voice'),
    play: $('live-play'),
    mute: $('live-mute'),
    share: $('live-share'),
    toVoice: $('live-to-voice'),
    toChat: $('live-to-chat'),
    end: $('live-end'),
    chatLog: $('live-chat-log'),
    chatForm: $('live-chat-form'),
    chatText: $('live-chat-text'),
    files: $('live-files'),
    filesNone: $('live-files-none'),
    uploadForm: $('live-upload-form'),
    file: $('live-file'),
    upload: $('live-upload'),
    linksSection: $('live-links-section'),
    links: $('live-links'),
    ended: $('live-ended'),
    endedText: $('live-ended-text'),
    // The console's own.
    statusCurrent: $('live-status-current'),
    setAvailable: $('live-status-available'),
    setAway: $('live-status-away'),
    desks: $('live-desks'),
    desksNone: $('live-desks-none'),
    colleagues: $('live-colleagues'),
    colleaguesNone: $('live-colleagues-none'),
    queue: $('live-queue'),
    queueBody: $('live-queue-body'),
    queueEmpty: $('live-queue-empty'),
    queueCount: $('live-queue-count'),
    takeNext: $('live-take-next'),
    citizen: $('live-citizen'),
    topic: $('live-topic'),
    waited: $('live-waited'),
    dossier: $('live-dossier'),
    intake: $('live-intake'),
    actions: $('live-actions'),
    paymentForm: $('live-payment-form'),
    amount: $('live-payment-amount'),
    reason: $('live-payment-reason'),
    paySend: $('live-payment-send'),
    payResult: $('live-payment-result'),
    transferForm: $('live-transfer-form'),
    transferTo: $('live-transfer-to'),
    transferColleagues: $('live-transfer-colleagues'),
    transferDesks: $('live-transfer-desks'),
  };

  // ---- texts ----

  const texts = {};
  for (const node of document.querySelectorAll('[data-live-texts]')) {
    Object.assign(texts, node.dataset);
  }

  // T returns the page's text for key with its {placeholders} filled in.
  function T(key, vars) {
    let s = texts[key] || '';
    for (const k in vars || {}) {
      s = s.split('{' + k + '}').join(String(vars[k]));
    }
    return s;
  }

  function notice(text, bad) {
    if (!el.notice || !text) {
      return;
    }
    el.notice.className = 'sp-live-notice alert ' + (bad ? 'alert-danger' : 'alert-info');
    el.notice.textContent = text;
  }

  function setLabel(button, text) {
    const span = button && button.querySelector('span');
    if (span && text) {
      span.textContent = text;
    }
  }

  function setState(name) {
    document.body.dataset.liveState = name;
  }

  const lang = document.documentElement.lang || undefined;

  function clock(date) {
    try {
      return date.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return date.toTimeString().slice(0, 5);
    }
  }

  // modeNode is the icon and name of a mode, copied from #live-modes.
  function modeNode(mode) {
    const frag = document.createDocumentFragment();
    const item = MODES.includes(mode) && document.querySelector('#live-modes [data-mode="' + mode + '"]');
    if (item) {
      for (const child of item.childNodes) {
        frag.append(child.cloneNode(true));
      }
    }
    return frag;
  }

  // safeURL keeps only http(s) links (absolute or relative to the page):
  // a URL from a message never runs script.
  function safeURL(u) {
    if (typeof u !== 'string' || u === '') {
      return '';
    }
    try {
      const url = new URL(u, location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '';
    } catch (e) {
      return '';
    }
  }

  function csrf() {
    const input = document.querySelector('input[name="_csrf"]');
    return input ? input.value : '';
  }

  // failure is the host's explanation of a refused request, or fallback.
  async function failure(res, fallback) {
    try {
      const type = res.headers.get('Content-Type') || '';
      if (type.includes('json')) {
        const body = await res.json();
        const text = body && (body.error || body.text || body.message);
        if (typeof text === 'string' && text) {
          return text;
        }
      } else if (type.startsWith('text/plain')) {
        const text = (await res.text()).trim();
        if (text && text.length < 300) {
          return text;
        }
      }
    } catch (e) {
      // An unreadable answer: the fallback says enough.
    }
    return fallback;
  }

  function on(node, event, fn) {
    if (node) {
      node.addEventListener(event, fn);
    }
  }

  let iceServers = [];
  try {
    const list = JSON.parse(root.dataset.ice || '[]');
    if (Array.isArray(list)) {
      iceServers = list;
    }
  } catch (e) {
    // No usable ICE servers: the browser still offers its host candidates.
  }

  // ---- the call's state ----

  const call = {
    active: false, // between "call" and "ended" (or back to the queue)
    ended: false,
    mode: MODES.includes(root.dataset.mode) ? root.dataset.mode : 'video',
    entry: 0, // the console's current call
    filesURL: '',
    pc: null,
    remote: null, // the other side's MediaStream
    local: null, // camera and microphone
    localMode: '', // the mode call.local was taken for
    screen: null, // the shared screen's track
    muted: false,
    iceOK: false,
    flowing: false, // the other side's media arrive
    answered: false,
    leaving: false,
    leaveTimer: 0,
  };

  const canShare = !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);

  // ---- the socket ----

  const sock = { ws: null, tries: 0, timer: 0, dropped: false, stopped: false };

  function wsURL() {
    const path = root.dataset.ws;
    if (/^wss?:\/\//.test(path)) {
      return path;
    }
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }

  function connect() {
    sock.timer = 0;
    if (sock.stopped) {
      return;
    }
    let ws;
    try {
      ws = new WebSocket(wsURL());
    } catch (e) {
      retry();
      return;
    }
    sock.ws = ws;
    ws.addEventListener('open', () => {
      if (sock.ws !== ws) {
        return;
      }
      sock.tries = 0;
      if (sock.dropped) {
        sock.dropped = false;
        notice(T('reconnected'));
      }
      refresh();
    });
    ws.addEventListener('message', (ev) => {
      if (sock.ws !== ws || typeof ev.data !== 'string') {
        return;
      }
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (msg && typeof msg.type === 'string') {
        handle(msg);
      }
    });
    ws.addEventListener('close', () => {
      if (sock.ws !== ws) {
        return;
      }
      sock.ws = null;
      refresh();
      if (call.leaving && !call.ended) {
        onEnded({ text: T('left') });
        return;
      }
      if (sock.stopped) {
        return;
      }
      if (!sock.dropped) {
        sock.dropped = true;
        notice(T('reconnecting'), true);
      }
      retry();
    });
  }

  function retry() {
    if (sock.stopped || sock.timer) {
      return;
    }
    const delay = Math.min(1000 * Math.pow(2, sock.tries), MAX_RETRY_MS);
    sock.tries++;
    sock.timer = setTimeout(connect, delay);
  }

  function stopSocket() {
    sock.stopped = true;
    clearTimeout(sock.timer);
    sock.timer = 0;
    const ws = sock.ws;
    sock.ws = null;
    if (ws) {
      ws.close(1000);
    }
  }

  function isOpen() {
    return !!sock.ws && sock.ws.readyState === WebSocket.OPEN;
  }

  // send writes msg on the socket; it says so (unless quiet) and returns
  // false when the socket is down.
  function send(msg, quiet) {
    if (!isOpen()) {
      if (!quiet) {
        notice(T('offline'), true);
      }
      return false;
    }
    sock.ws.send(JSON.stringify(msg));
    return true;
  }

  function handle(m) {
    switch (m.type) {
      case 'queue':
        onQueue(m);
        break;
      case 'state':
        onState(m);
        break;
      case 'call':
        onCall(m);
        break;
      case 'offer':
        if (typeof m.sdp === 'string') {
          onOffer(m.sdp).catch(() => notice(T('mediaFailed'), true));
        }
        break;
      case 'candidate':
        if (call.pc && m.candidate && typeof m.candidate === 'object') {
          call.pc.addIceCandidate(m.candidate).catch(() => {});
        }
        break;
      case 'chat':
        addChat(m);
        break;
      case 'file':
        addFile(m);
        break;
      case 'mode':
        switchDown(m.mode);
        break;
      case 'link':
        addLink(m);
        break;
      case 'notice':
        notice(m.text);
        break;
      case 'error':
        notice(m.text, true);
        refresh();
        break;
      case 'ended':
        onEnded(m);
        break;
    }
  }

  // ---- the queue (citizen) ----

  function onQueue(m) {
    if (isConsole || call.ended) {
      return;
    }
    if (call.active) {
      // The call fell through and the host put the citizen back in the
      // queue (its "notice" says why).
      teardown();
      call.active = false;
      if (el.call) {
        el.call.hidden = true;
      }
    }
    if (el.waiting) {
      el.waiting.hidden = false;
    }
    setState('waiting');
    if (el.position && Number.isInteger(m.position) && m.position > 0) {
      el.position.dataset.position = String(m.position);
      el.position.textContent = m.position === 1 ? T('positionNext') : T('positionMany', { n: m.position });
    }
    if (el.eta && typeof m.eta_minutes === 'number' && m.eta_minutes >= 0) {
      const n = Math.round(m.eta_minutes);
      el.eta.textContent = n < 1 ? T('etaZero') : n === 1 ? T('etaOne') : T('etaMany', { n });
    }
    if (el.operators && typeof m.operators === 'number' && m.operators >= 0) {
      const n = m.operators;
      el.operators.textContent = n === 0 ? T('operatorsNone') : n === 1 ? T('operatorsOne') : T('operatorsMany', { n });
    }
    if (el.desk && typeof m.desk === 'string' && m.desk) {
      el.desk.textContent = m.desk;
    }
  }

  // ---- the call ----

  function onCall(m) {
    const mode = MODES.includes(m.mode) ? m.mode : 'video';
    // The host says "call" again after a reconnection: same call, keep it.
    const again = call.active && !call.ended && (!isConsole || m.entry === call.entry);
    if (!again) {
      teardown();
      if (isConsole) {
        resetCallPanel();
      }
    }
    call.active = true;
    call.ended = false;
    call.leaving = false;
    call.mode = mode;
    if (isConsole) {
      call.entry = Number(m.entry) || 0;
      call.filesURL = typeof m.files_url === 'string' && m.files_url ? m.files_url : entryURL(root.dataset.files);
      showFacts(m);
    } else if (el.operator && typeof m.operator === 'string' && m.operator) {
      el.operator.textContent = T('callWith', { name: m.operator });
    }
    if (el.waiting) {
      el.waiting.hidden = true;
    }
    if (el.ended) {
      el.ended.hidden = true;
    }
    el.call.hidden = false;
    showActive(true);
    showMode();
    if (!again) {
      el.call.focus();
    }
    if (mode === 'chat') {
      setState('connected');
    } else if (!(call.pc && call.iceOK && call.flowing)) {
      setState('calling');
    }
    refresh();
  }

  // showActive shows what works only while the call is on.
  function showActive(on) {
    for (const node of [el.media, el.chatForm, el.uploadForm, el.actions]) {
      if (node) {
        node.hidden = !on;
      }
    }
  }

  // showMode shows the media and the buttons of the call's mode: only the
  // switches to a lower mode.
  function showMode() {
    const m = call.mode;
    if (el.videos) el.videos.hidden = m !== 'video';
    if (el.voice) el.voice.hidden = m !== 'voice';
    if (el.mute) el.mute.hidden = m === 'chat';
    if (el.share) el.share.hidden = m !== 'video' || !canShare;
    if (el.toVoice) el.toVoice.hidden = m !== 'video';
    if (el.toChat) el.toChat.hidden = m === 'chat';
    if (el.modeLabel) el.modeLabel.replaceChildren(modeNode(m));
    root.dataset.mode = m;
    updateMute();
  }

  function onEnded(m) {
    const text = (m && typeof m.text === 'string' && m.text) || T('endedDefault');
    clearTimeout(call.leaveTimer);
    teardown();
    call.active = false;
    call.ended = true;
    call.leaving = false;
    showActive(false);
    if (el.endedText) {
      el.endedText.textContent = text;
    }
    // The ended panel says it all: an older notice would only confuse.
    if (el.notice) {
      el.notice.className = 'sp-live-notice';
      el.notice.textContent = '';
    }
    if (!isConsole) {
      stopSocket();
      if (el.waiting) {
        el.waiting.hidden = true;
      }
      // What was said and sent stays readable; an empty panel goes.
      const said = el.chatLog.children.length + el.files.children.length + (el.links ? el.links.children.length : 0);
      el.call.hidden = said === 0;
    }
    if (el.ended) {
      el.ended.hidden = false;
      el.ended.focus();
    }
    setState('ended');
    refresh();
  }

  function teardown() {
    closePeer();
    stopLocal();
    call.muted = false;
    updateMute();
  }

  // ---- WebRTC ----

  function videoTransceiver(pc) {
    return pc.getTransceivers().find((t) => t.receiver && t.receiver.track && t.receiver.track.kind === 'video') || null;
  }

  // gathered resolves when pc has all its ICE candidates, or after
  // GATHER_MS: the answer then carries what there is and the rest trickles.
  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer = 0;
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === 'complete') {
          done();
        }
      };
      timer = setTimeout(done, GATHER_MS);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  async function onOffer(sdp) {
    if (call.ended || call.mode === 'chat') {
      return;
    }
    closePeer();
    const pc = new RTCPeerConnection({ iceServers });
    call.pc = pc;
    pc.addEventListener('track', (ev) => onTrack(pc, ev));
    pc.addEventListener('iceconnectionstatechange', () => onIce(pc));
    pc.addEventListener('icecandidate', (ev) => {
      if (pc === call.pc && call.answered && ev.candidate) {
        send({ type: 'candidate', candidate: ev.candidate.toJSON() }, true);
      }
    });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const stream = await localMedia();
    if (pc !== call.pc) {
      return;
    }
    if (stream) {
      for (const track of stream.getTracks()) {
        pc.addTrack(track, stream);
      }
    }
    if (call.mode === 'video') {
      // Without a camera the video line still sends, so that a shared
      // screen can go out later by replaceTrack, with no new offer.
      const v = videoTransceiver(pc);
      if (v && v.direction === 'recvonly') {
        v.direction = 'sendrecv';
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (pc !== call.pc) {
      return;
    }
    if (send({ type: 'answer', sdp: pc.localDescription.sdp })) {
      call.answered = true;
    }
  }

  // localMedia returns the camera and microphone for the call's mode (the
  // ones already taken when they fit), or null when the browser gives none:
  // the call then goes on receiving only, and the person is told.
  async function localMedia() {
    if (call.local && call.localMode === call.mode) {
      return call.local;
    }
    stopLocal();
    const md = navigator.mediaDevices;
    if (!md || !md.getUserMedia) {
      notice(T('mediaUnavailable'), true);
      return null;
    }
    const wantVideo = call.mode === 'video';
    let stream = null;
    try {
      stream = await md.getUserMedia({ audio: true, video: wantVideo });
    } catch (e) {
      if (wantVideo) {
        try {
          stream = await md.getUserMedia({ audio: true, video: false });
          notice(T('cameraUnavailable'), true);
        } catch (e2) {
          stream = null;
        }
      }
      if (!stream) {
        notice(T('mediaUnavailable'), true);
      }
    }
    if (!stream) {
      return null;
    }
    if (call.ended) {
      // The call ended while the browser was asking for permission.
      for (const track of stream.getTracks()) {
        track.stop();
      }
      return null;
    }
    call.local = stream;
    call.localMode = call.mode;
    applyMute();
    showLocal();
    return stream;
  }

  function onTrack(pc, ev) {
    if (pc !== call.pc) {
      return;
    }
    let stream = ev.streams && ev.streams[0];
    if (!stream) {
      stream = call.remote || new MediaStream();
      stream.addTrack(ev.track);
    }
    call.remote = stream;
    if (el.remote.srcObject !== stream) {
      el.remote.srcObject = stream;
    }
    // A remote track is muted until its first packets arrive.
    const flowing = () => {
      if (pc === call.pc) {
        call.flowing = true;
        checkConnected();
      }
    };
    if (ev.track.muted) {
      ev.track.addEventListener('unmute', flowing, { once: true });
    } else {
      flowing();
    }
    play();
  }

  function onIce(pc) {
    if (pc !== call.pc) {
      return;
    }
    const st = pc.iceConnectionState;
    if (st === 'connected' || st === 'completed') {
      call.iceOK = true;
      checkConnected();
    } else if (st === 'failed' || st === 'disconnected') {
      call.iceOK = false;
      if (st === 'failed') {
        notice(T('iceFailed'), true);
      }
      if (call.active && !call.ended && call.mode !== 'chat') {
        setState('calling');
      }
    }
  }

  function checkConnected() {
    if (call.active && !call.ended && call.pc && call.iceOK && call.flowing) {
      setState('connected');
    }
  }

  // play starts the other side's media; a browser that wants a click first
  // gets the "play" button.
  function play() {
    const p = el.remote.play();
    if (p && p.then) {
      p.then(
        () => {
          el.play.hidden = true;
        },
        (e) => {
          if (e && e.name === 'NotAllowedError') {
            el.play.hidden = false;
          }
        },
      );
    }
  }

  function closePeer() {
    stopShare(false);
    const pc = call.pc;
    call.pc = null;
    if (pc) {
      try {
        pc.close();
      } catch (e) {
        // Already closed.
      }
    }
    call.remote = null;
    call.iceOK = false;
    call.flowing = false;
    call.answered = false;
    if (el.remote) {
      el.remote.srcObject = null;
    }
    if (el.play) {
      el.play.hidden = true;
    }
  }

  function stopLocal() {
    if (call.local) {
      for (const track of call.local.getTracks()) {
        track.stop();
      }
    }
    call.local = null;
    call.localMode = '';
    showLocal();
    updateMute();
  }

  // showLocal puts the camera, or the shared screen, in the preview.
  function showLocal() {
    if (!el.local) {
      return;
    }
    let stream = null;
    if (call.screen) {
      stream = new MediaStream([call.screen]);
    } else if (call.local && call.local.getVideoTracks().length > 0) {
      stream = call.local;
    }
    if (el.local.srcObject !== stream) {
      el.local.srcObject = stream;
    }
    el.local.hidden = stream === null;
  }

  function applyMute() {
    if (call.local) {
      for (const track of call.local.getAudioTracks()) {
        track.enabled = !call.muted;
      }
    }
    updateMute();
  }

  function updateMute() {
    if (!el.mute) {
      return;
    }
    setLabel(el.mute, call.muted ? T('unmute') : T('mute'));
    el.mute.disabled = !(call.local && call.local.getAudioTracks().length > 0);
  }

  // switchDown moves the call to a lower mode: voice stops the camera (the
  // video line stays, sending nothing), chat closes the connection.
  function switchDown(mode) {
    if (!MODES.includes(mode) || MODES.indexOf(mode) >= MODES.indexOf(call.mode)) {
      return;
    }
    call.mode = mode;
    if (mode === 'voice') {
      stopShare(false);
      const v = call.pc && videoTransceiver(call.pc);
      if (v) {
        v.sender.replaceTrack(null).catch(() => {});
      }
      if (call.local) {
        for (const track of call.local.getVideoTracks()) {
          track.stop();
          call.local.removeTrack(track);
        }
        call.localMode = 'voice';
      }
      showLocal();
    } else {
      closePeer();
      stopLocal();
      if (call.active && !call.ended) {
        setState('connected');
      }
    }
    showMode();
  }

  async function toggleShare() {
    if (call.screen) {
      stopShare(true);
      return;
    }
    const pc = call.pc;
    const v = pc && videoTransceiver(pc);
    if (!v || call.mode !== 'video' || !canShare) {
      notice(T('shareFailed'), true);
      return;
    }
    let screen;
    try {
      screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch (e) {
      // Refusing the browser's dialog is a choice, not a failure.
      if (!e || (e.name !== 'NotAllowedError' && e.name !== 'AbortError')) {
        notice(T('shareFailed'), true);
      }
      return;
    }
    const track = screen.getVideoTracks()[0];
    if (!track) {
      return;
    }
    if (pc !== call.pc || call.mode !== 'video') {
      track.stop();
      return;
    }
    try {
      await v.sender.replaceTrack(track);
    } catch (e) {
      track.stop();
      notice(T('shareFailed'), true);
      return;
    }
    call.screen = track;
    // The browser's own "stop sharing" ends the track: back to the camera.
    track.addEventListener('ended', () => {
      if (call.screen === track) {
        stopShare(true);
      }
    });
    setLabel(el.share, T('shareStop'));
    showLocal();
  }

  function stopShare(restore) {
    const track = call.screen;
    if (!track) {
      return;
    }
    call.screen = null;
    track.stop();
    if (restore && call.pc && call.mode === 'video') {
      const v = videoTransceiver(call.pc);
      const camera = (call.local && call.local.getVideoTracks()[0]) || null;
      if (v) {
        v.sender.replaceTrack(camera).catch(() => {});
      }
    }
    setLabel(el.share, T('share'));
    showLocal();
  }

  // ---- chat, documents, links ----

  function addChat(m) {
    if (typeof m.text !== 'string' || !el.chatLog) {
      return;
    }
    const from = ['operator', 'citizen', 'system'].includes(m.from) ? m.from : 'system';
    const mine = from === (isConsole ? 'operator' : 'citizen');
    const fallback = { operator: T('nameOperator'), citizen: T('nameCitizen'), system: T('nameSystem') }[from];
    const li = document.createElement('li');
    li.className = 'sp-live-msg sp-live-msg-' + from;
    const name = document.createElement('span');
    name.className = 'sp-live-msg-name';
    name.textContent = mine ? T('nameYou') : (typeof m.name === 'string' && m.name) || fallback;
    li.append(name, ' ');
    const at = typeof m.at === 'string' && m.at ? new Date(m.at) : new Date();
    if (!isNaN(at.getTime())) {
      const time = document.createElement('time');
      time.dateTime = at.toISOString();
      time.textContent = clock(at);
      li.append(time);
    }
    const p = document.createElement('p');
    p.className = 'mb-0';
    p.textContent = m.text;
    li.append(p);
    el.chatLog.append(li);
    el.chatLog.scrollTop = el.chatLog.scrollHeight;
  }

  function addFile(m) {
    const url = safeURL(m.url);
    if (!url || !el.files) {
      return;
    }
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = url;
    a.setAttribute('download', '');
    a.textContent = typeof m.name === 'string' && m.name ? m.name : url;
    li.append(a);
    const mine = m.from === (isConsole ? 'operator' : 'citizen');
    const by = mine ? T('fileFromYou') : m.from === 'operator' ? T('fileFromOperator') : m.from === 'citizen' ? T('fileFromCitizen') : '';
    if (by) {
      const span = document.createElement('span');
      span.className = 'text-muted small';
      span.textContent = by;
      li.append(span);
    }
    el.files.append(li);
    if (el.filesNone) {
      el.filesNone.hidden = true;
    }
  }

  function addLink(m) {
    const url = safeURL(m.url);
    if (!url || !el.links) {
      return;
    }
    const label = typeof m.label === 'string' && m.label ? m.label : url;
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.className = 'btn btn-primary btn-sm';
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = label;
    const hint = document.createElement('span');
    hint.className = 'visually-hidden';
    hint.textContent = ' ' + T('newTab');
    a.append(hint);
    li.append(a);
    el.links.append(li);
    if (el.linksSection) {
      el.linksSection.hidden = false;
    }
    notice(T('linkReceived', { label }));
  }

  function entryURL(pattern) {
    return (pattern || '').replace(/\{entry\}|%7Bentry%7D/gi, encodeURIComponent(String(call.entry)));
  }

  function filesURL() {
    return isConsole ? call.filesURL : root.dataset.files || '';
  }

  // ---- the console: presence, desks, queue, colleagues ----

  const desk = {
    status: root.dataset.status === 'available' ? 'available' : 'away',
    queue: [],
    queueAt: 0,
  };

  function statusText(status) {
    if (status === 'available') return T('statusAvailable');
    if (status === 'away') return T('statusAway');
    return T('statusBusy');
  }

  function statusClass(status) {
    if (status === 'available') return 'badge bg-success';
    if (status === 'away') return 'badge bg-secondary';
    return 'badge bg-warning text-dark';
  }

  function badge(className, text) {
    const li = document.createElement('li');
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    li.append(span);
    return li;
  }

  function fmtWait(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    return s < 60 ? T('waitSeconds', { n: s }) : T('waitMinutes', { n: Math.floor(s / 60) });
  }

  function onState(m) {
    if (!isConsole) {
      return;
    }
    if (m.status === 'available' || m.status === 'away') {
      desk.status = m.status;
      showPresence();
    }
    if (Array.isArray(m.desks)) {
      showDesks(m.desks.filter((d) => d && typeof d === 'object'));
    }
    if (Array.isArray(m.queue)) {
      desk.queue = m.queue.filter((e) => e && typeof e === 'object');
      desk.queueAt = Date.now();
      showQueue();
    }
    if (Array.isArray(m.colleagues)) {
      showColleagues(m.colleagues.filter((c) => c && typeof c === 'object'));
    }
    refresh();
  }

  function showPresence() {
    const available = desk.status === 'available';
    el.statusCurrent.textContent = statusText(desk.status);
    el.statusCurrent.className = statusClass(desk.status);
    el.statusCurrent.dataset.status = desk.status;
    el.setAvailable.className = 'btn btn-sm ' + (available ? 'btn-primary' : 'btn-outline-primary');
    el.setAvailable.setAttribute('aria-pressed', String(available));
    el.setAway.className = 'btn btn-sm ' + (available ? 'btn-outline-primary' : 'btn-primary');
    el.setAway.setAttribute('aria-pressed', String(!available));
  }

  // fillOptions replaces the options of a transfer group, keeping the
  // choice already made when it is still there.
  function fillOptions(group, options) {
    const chosen = el.transferTo.value;
    group.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
    if ([...el.transferTo.options].some((o) => o.value === chosen)) {
      el.transferTo.value = chosen;
    }
  }

  function showDesks(list) {
    el.desks.replaceChildren(
      ...list.map((d) => {
        const li = document.createElement('li');
        li.dataset.desk = String(d.id);
        const name = document.createElement('span');
        name.textContent = d.name || d.id;
        const open = document.createElement('span');
        open.className = d.open ? 'badge bg-success' : 'badge bg-secondary';
        open.textContent = d.open ? T('deskOpen') : T('deskClosed');
        li.append(name, ' ', open);
        return li;
      }),
    );
    if (el.desksNone) {
      el.desksNone.hidden = list.length > 0;
    }
    fillOptions(el.transferDesks, list.map((d) => ['desk:' + d.id, d.name || String(d.id)]));
  }

  function cell(row, content) {
    const td = document.createElement('td');
    if (content instanceof Node) {
      td.append(content);
    } else {
      td.textContent = content == null ? '' : String(content);
    }
    row.append(td);
    return td;
  }

  function queueRow(e) {
    const row = document.createElement('tr');
    row.dataset.entry = String(e.entry);
    cell(row, e.position);
    cell(row, e.desk_name || e.desk);
    const mode = document.createElement('span');
    mode.className = 'sp-live-mode';
    mode.append(modeNode(e.mode));
    cell(row, mode);
    cell(row, e.citizen);
    cell(row, e.topic);
    const wait = cell(row, fmtWait(e.waiting_seconds));
    wait.dataset.seconds = String(Number(e.waiting_seconds) || 0);
    const badges = document.createElement('ul');
    badges.className = 'sp-badges';
    if (e.for_me) badges.append(badge('badge bg-primary', T('badgeForMe')));
    if (e.returning) badges.append(badge('badge sp-badge-outline', T('badgeReturning')));
    if (e.away) badges.append(badge('badge bg-warning text-dark', T('badgeAway')));
    if (typeof e.appointment === 'string' && e.appointment) {
      badges.append(badge('badge bg-info text-dark', T('badgeAppointment', { time: e.appointment })));
    }
    cell(row, badges);
    const action = cell(row, '');
    if (e.for_me) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn btn-primary btn-sm';
      b.dataset.take = String(e.entry);
      b.textContent = T('take');
      const who = document.createElement('span');
      who.className = 'visually-hidden';
      who.textContent = ' ' + (e.citizen || '');
      b.append(who);
      action.append(b);
    }
    return row;
  }

  function showQueue() {
    el.queueBody.replaceChildren(...desk.queue.map(queueRow));
    el.queue.hidden = desk.queue.length === 0;
    el.queueEmpty.hidden = desk.queue.length > 0;
    el.queueCount.textContent = String(desk.queue.length);
  }

  function tickQueue() {
    const extra = (Date.now() - desk.queueAt) / 1000;
    for (const td of el.queueBody.querySelectorAll('td[data-seconds]')) {
      td.textContent = fmtWait(Number(td.dataset.seconds) + extra);
    }
  }

  function showColleagues(list) {
    el.colleagues.replaceChildren(
      ...list.map((c) => {
        const li = document.createElement('li');
        const name = document.createElement('span');
        name.textContent = c.name || '';
        const st = document.createElement('span');
        st.className = statusClass(c.status);
        st.textContent = statusText(c.status);
        li.append(name, ' ', st);
        return li;
      }),
    );
    el.colleaguesNone.hidden = list.length > 0;
    fillOptions(
      el.transferColleagues,
      list.map((c) => ['op:' + c.id, (c.name || String(c.id)) + ' (' + statusText(c.status) + ')']),
    );
  }

  function showFacts(m) {
    el.citizen.textContent = m.citizen || '';
    el.topic.textContent = m.topic || '';
    el.waited.textContent = typeof m.waited_seconds === 'number' ? fmtWait(m.waited_seconds) : '';
    const dossier = safeURL(m.dossier_url);
    el.dossier.textContent = m.dossier_number || '';
    if (dossier) {
      el.dossier.href = dossier;
    } else {
      el.dossier.removeAttribute('href');
    }
    const intake = safeURL(entryURL(root.dataset.intake));
    el.intake.hidden = !intake || !root.dataset.intake;
    if (intake) {
      el.intake.href = intake;
    }
  }

  function resetCallPanel() {
    el.chatLog.replaceChildren();
    el.files.replaceChildren();
    el.filesNone.hidden = false;
    el.payResult.textContent = '';
    el.payResult.className = 'mt-2 mb-0';
    el.paymentForm.reset();
    el.transferTo.value = '';
    el.ended.hidden = true;
    el.endedText.textContent = '';
  }

  // refresh enables what the operator can do now: take somebody only when
  // available, connected and not in a call.
  function refresh() {
    if (!isConsole) {
      return;
    }
    const can = isOpen() && desk.status === 'available' && !call.active;
    el.takeNext.disabled = !(can && desk.queue.length > 0);
    for (const b of el.queueBody.querySelectorAll('button[data-take]')) {
      b.disabled = !can;
    }
  }

  function paymentResult(text, bad, url) {
    el.payResult.className = 'mt-2 mb-0 ' + (bad ? 'text-danger' : 'text-success');
    el.payResult.replaceChildren(text);
    if (url) {
      const a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = T('paymentOpen');
      const hint = document.createElement('span');
      hint.className = 'visually-hidden';
      hint.textContent = ' ' + T('newTab');
      a.append(hint);
      el.payResult.append(' ', a);
    }
  }

  function setInvalid(input, bad) {
    input.classList.toggle('is-invalid', bad);
    if (bad) {
      input.setAttribute('aria-invalid', 'true');
    } else {
      input.removeAttribute('aria-invalid');
    }
  }

  // ---- what the person does ----

  on(el.chatForm, 'submit', (ev) => {
    ev.preventDefault();
    const text = el.chatText.value.trim();
    if (!text) {
      el.chatText.focus();
      return;
    }
    if (text.length > MAX_CHAT) {
      notice(T('chatTooLong'), true);
      return;
    }
    // The host sends the line back to both sides: it shows then.
    if (send({ type: 'chat', text })) {
      el.chatText.value = '';
      el.chatText.focus();
    }
  });

  on(el.uploadForm, 'submit', async (ev) => {
    ev.preventDefault();
    const file = el.file.files && el.file.files[0];
    if (!file) {
      notice(T('uploadEmpty'), true);
      el.file.focus();
      return;
    }
    const url = filesURL();
    if (!url) {
      return;
    }
    const body = new FormData();
    body.append('file', file, file.name);
    el.upload.disabled = true;
    notice(T('uploadSending'));
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'X-CSRF-Token': csrf(), Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!res.ok) {
        notice(await failure(res, T('uploadFailed')), true);
        return;
      }
      // The document shows when the host's "file" message comes.
      el.file.value = '';
      notice(T('uploadDone'));
    } catch (e) {
      notice(T('uploadFailed'), true);
    } finally {
      el.upload.disabled = false;
    }
  });

  on(el.mute, 'click', () => {
    call.muted = !call.muted;
    applyMute();
  });
  on(el.share, 'click', () => {
    toggleShare().catch(() => notice(T('shareFailed'), true));
  });
  on(el.toVoice, 'click', () => {
    if (send({ type: 'mode', mode: 'voice' })) {
      switchDown('voice');
      el.toChat.focus();
    }
  });
  on(el.toChat, 'click', () => {
    if (send({ type: 'mode', mode: 'chat' })) {
      switchDown('chat');
      el.chatText.focus();
    }
  });
  on(el.play, 'click', play);

  on(el.end, 'click', () => {
    if (isConsole) {
      send({ type: 'end' });
      return;
    }
    if (!send({ type: 'leave' }, true)) {
      // No socket: the form leaves all the same.
      el.leaveForm.submit();
      return;
    }
    call.leaving = true;
    clearTimeout(call.leaveTimer);
    call.leaveTimer = setTimeout(() => {
      if (!call.ended) {
        onEnded({ text: T('left') });
      }
    }, LEAVE_GRACE_MS);
  });

  // Leaving the queue tells the host at once over the socket, then posts
  // the form as it would without JavaScript.
  on(el.leaveForm, 'submit', (ev) => {
    if (!send({ type: 'leave' }, true)) {
      return;
    }
    ev.preventDefault();
    call.leaving = true;
    sock.stopped = true;
    el.leave.disabled = true;
    const form = el.leaveForm;
    const ws = sock.ws;
    const since = Date.now();
    (function flush() {
      if (ws && ws.bufferedAmount > 0 && Date.now() - since < 1000) {
        setTimeout(flush, 50);
        return;
      }
      form.submit();
    })();
  });

  if (isConsole) {
    on(el.setAvailable, 'click', () => send({ type: 'status', status: 'available' }));
    on(el.setAway, 'click', () => send({ type: 'status', status: 'away' }));
    on(el.takeNext, 'click', () => {
      if (send({ type: 'take' })) {
        // Once: the next "state" or "call" enables it again.
        el.takeNext.disabled = true;
      }
    });
    on(el.queueBody, 'click', (ev) => {
      const b = ev.target.closest('button[data-take]');
      if (b && !b.disabled && send({ type: 'take', entry: Number(b.dataset.take) })) {
        b.disabled = true;
      }
    });
    on(el.paymentForm, 'submit', async (ev) => {
      ev.preventDefault();
      const amount = el.amount.value.trim();
      const reason = el.reason.value.trim();
      setInvalid(el.amount, false);
      setInvalid(el.reason, false);
      if (!/^\d+([.,]\d{1,2})?$/.test(amount) || Number(amount.replace(',', '.')) <= 0) {
        setInvalid(el.amount, true);
        paymentResult(T('paymentInvalid'), true);
        el.amount.focus();
        return;
      }
      if (!reason) {
        setInvalid(el.reason, true);
        paymentResult(T('paymentReasonMissing'), true);
        el.reason.focus();
        return;
      }
      if (!call.active || !call.entry) {
        return;
      }
      el.paySend.disabled = true;
      try {
        const res = await fetch(entryURL(root.dataset.payment), {
          method: 'POST',
          body: new URLSearchParams({ amount, reason, _csrf: csrf() }),
          headers: { 'X-CSRF-Token': csrf(), Accept: 'application/json' },
          credentials: 'same-origin',
        });
        if (!res.ok) {
          paymentResult(await failure(res, T('paymentFailed')), true);
          return;
        }
        let answer = null;
        try {
          answer = await res.json();
        } catch (e) {
          answer = null;
        }
        paymentResult(T('paymentDone'), false, answer && safeURL(answer.url));
        el.amount.value = '';
        el.reason.value = '';
      } catch (e) {
        paymentResult(T('paymentFailed'), true);
      } finally {
        el.paySend.disabled = false;
      }
    });
    on(el.transferForm, 'submit', (ev) => {
      ev.preventDefault();
      const value = el.transferTo.value;
      const i = value.indexOf(':');
      if (i < 0) {
        notice(T('transferChoose'), true);
        el.transferTo.focus();
        return;
      }
      const kind = value.slice(0, i);
      const id = value.slice(i + 1);
      if (kind === 'op') {
        send({ type: 'transfer', operator: id });
      } else if (kind === 'desk') {
        send({ type: 'transfer', desk: id });
      }
    });
    setInterval(tickQueue, WAIT_TICK_MS);
  }

  // A page restored from the browser's cache reconnects; one being left
  // does not.
  window.addEventListener('pagehide', () => {
    sock.stopped = true;
    clearTimeout(sock.timer);
    sock.timer = 0;
  });
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted && !call.ended && !call.leaving) {
      sock.stopped = false;
      connect();
    }
  });

  // ---- start ----

  // Times written by the server are UTC: show them in the person's own.
  for (const time of root.querySelectorAll('.sp-live-log time[datetime]')) {
    const at = new Date(time.dateTime);
    if (!isNaN(at.getTime())) {
      time.textContent = clock(at);
    }
  }

  if (isConsole) {
    setState('idle');
    refresh();
    connect();
    return;
  }
  const status = root.dataset.status;
  if (status === 'ended' || status === 'left') {
    call.ended = true;
    setState('ended');
    return;
  }
  call.active = status === 'in_call';
  setState(call.active ? 'calling' : 'waiting');
  showMode();
  connect();
})();
