// choreo view: draws the figure of the page's #meta and #poses, plays #song, ticks on the beats.
// Units are centimetres, y up. Frame i shows at song time i / fps.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const $ = (id) => document.getElementById(id);
const meta = JSON.parse($('meta').textContent);

function bytesOf(id) {
  const s = atob($(id).textContent.trim());
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}

const T = meta.frames, J = meta.joints, fps = meta.fps, duration = T / fps, S = meta.song_start;
const P = new Float32Array(T * J * 3);
{
  const raw = bytesOf('poses');
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < P.length; i++) P[i] = dv.getFloat32(4 * i, true);
}
const beats = meta.beats.filter((b) => b >= 0 && b <= duration + 1e-9);

$('title').textContent = meta.title;
$('kind').textContent = `${J} joints, ${T} frames at ${fps} fps (${duration.toFixed(2)} s), ` +
  (beats.length ? `${beats.length} beats` : 'no beats');
if (meta.note) $('note').textContent = meta.note;

// Per frame, the centroid of the present joints; the camera follows its ±0.5 s average (x, z).
const cx = new Float64Array(T), cz = new Float64Array(T), have = new Uint8Array(T);
let minX = Infinity, maxX = -Infinity, minZ = Infinity, maxZ = -Infinity, ySum = 0, yN = 0;
for (let t = 0; t < T; t++) {
  let sx = 0, sy = 0, sz = 0, n = 0;
  for (let j = 0; j < J; j++) {
    const o = (t * J + j) * 3, x = P[o], y = P[o + 1], z = P[o + 2];
    if (Number.isNaN(x) || Number.isNaN(y) || Number.isNaN(z)) continue;
    sx += x; sy += y; sz += z; n++;
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minZ = Math.min(minZ, z); maxZ = Math.max(maxZ, z);
  }
  if (n) { cx[t] = sx / n; cz[t] = sz / n; have[t] = 1; ySum += sy / n; yN++; }
}
{
  // Frames with no joint take the previous centroid (the first ones, the first known).
  const first = have.indexOf(1);
  if (first >= 0) {
    for (let t = 0; t < first; t++) { cx[t] = cx[first]; cz[t] = cz[first]; }
    for (let t = first + 1; t < T; t++) if (!have[t]) { cx[t] = cx[t - 1]; cz[t] = cz[t - 1]; }
  }
}
const half = Math.max(1, Math.round(fps * 0.5));
const fx = new Float64Array(T), fz = new Float64Array(T);
{
  const px = new Float64Array(T + 1), pz = new Float64Array(T + 1);
  for (let t = 0; t < T; t++) { px[t + 1] = px[t] + cx[t]; pz[t + 1] = pz[t] + cz[t]; }
  for (let t = 0; t < T; t++) {
    const a = Math.max(0, t - half), b = Math.min(T, t + half + 1);
    fx[t] = (px[b] - px[a]) / (b - a); fz[t] = (pz[b] - pz[a]) / (b - a);
  }
}
const centreY = yN ? ySum / yN : 90;

// Scene.
let renderer;
try {
  renderer = new THREE.WebGLRenderer({ antialias: true });
} catch (e) {
  $('error').style.display = 'block';
  $('error').textContent = `This browser cannot draw WebGL (${e.message}).`;
  throw e;
}
renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
renderer.setSize(window.innerWidth, window.innerHeight);
renderer.shadowMap.enabled = true;
renderer.shadowMap.type = THREE.PCFSoftShadowMap;
$('stage').appendChild(renderer.domElement);

const scene = new THREE.Scene();
scene.background = new THREE.Color(0x1d2229);
scene.fog = new THREE.Fog(0x1d2229, 1200, 4500);
scene.add(new THREE.HemisphereLight(0xe4ecff, 0x40372e, 1.5));
const sun = new THREE.DirectionalLight(0xffffff, 2.4);
sun.castShadow = true;
sun.shadow.mapSize.set(1024, 1024);
Object.assign(sun.shadow.camera, { left: -260, right: 260, top: 260, bottom: -260, near: 10, far: 2500 });
sun.shadow.bias = -0.0004;
scene.add(sun, sun.target);

if (!Number.isFinite(minX)) { minX = maxX = minZ = maxZ = 0; }
const size = Math.ceil((Math.max(maxX - minX, maxZ - minZ) + 800) / 100) * 100;
const midX = (minX + maxX) / 2, midZ = (minZ + maxZ) / 2;
// The floor reaches the fog (no edge in sight); the grid covers where the dance goes.
const floor = new THREE.Mesh(new THREE.PlaneGeometry(20000, 20000),
  new THREE.MeshStandardMaterial({ color: 0x3a4048, roughness: 0.95, metalness: 0,
    polygonOffset: true, polygonOffsetFactor: 2, polygonOffsetUnits: 2 }));  // the grid stays on top
floor.rotation.x = -Math.PI / 2;
floor.position.set(midX, 0, midZ);
floor.receiveShadow = true;
scene.add(floor);
// Grid lines every 50 cm, cut into 50-cm pieces: a line that passes behind the camera is
// otherwise dropped whole by some WebGL implementations.
const grid = (() => {
  const v = [], n = size / 50, x0 = midX - size / 2, z0 = midZ - size / 2;
  for (let i = 0; i <= n; i++) {
    for (let k = 0; k < n; k++) {
      v.push(x0 + i * 50, 0, z0 + k * 50, x0 + i * 50, 0, z0 + (k + 1) * 50);
      v.push(x0 + k * 50, 0, z0 + i * 50, x0 + (k + 1) * 50, 0, z0 + i * 50);
    }
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.Float32BufferAttribute(v, 3));
  return new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: 0x6b7480 }));
})();
grid.position.y = 0.3;
scene.add(grid);

// The beat ring under the figure: bright on a beat, fading over 0.2 s.
const ring = new THREE.Mesh(new THREE.RingGeometry(34, 46, 64),
  new THREE.MeshBasicMaterial({ color: 0xffd23f, transparent: true, opacity: 0.12, depthWrite: false }));
ring.rotation.x = -Math.PI / 2;
ring.position.y = 0.6;
scene.add(ring);

// The figure: a sphere per joint, a cylinder per bone (joint → parent), coloured by side.
function side(name) {
  const n = name.toLowerCase();
  if (n.startsWith('left') || n.startsWith('l_')) return 0x3d8bfd;
  if (n.startsWith('right') || n.startsWith('r_')) return 0xf2803a;
  return 0xd9d2c3;
}
const isHead = (n) => /^(head|nose)$/i.test(n);
const isFace = (n) => /(eye|ear)/i.test(n);
const R = meta.joint_radius;
const jointMat = new THREE.MeshStandardMaterial({ color: 0xf4f1ea, roughness: 0.45 });
const headMat = new THREE.MeshStandardMaterial({ color: 0xe9dcc9, roughness: 0.5 });
const sphere = new THREE.SphereGeometry(1, 24, 16);
const cylinder = new THREE.CylinderGeometry(1, 1, 1, 16, 1);
const joints = meta.names.map((name) => {
  const r = isHead(name) ? 10 : isFace(name) ? R * 0.5 : R;
  const m = new THREE.Mesh(sphere, isHead(name) ? headMat : jointMat);
  m.scale.setScalar(r);
  m.castShadow = true;
  scene.add(m);
  return m;
});
const boneMats = new Map();
const bones = [];
meta.parents.forEach((p, j) => {
  if (p === null) return;
  const c = side(meta.names[j]);
  if (!boneMats.has(c)) boneMats.set(c, new THREE.MeshStandardMaterial({ color: c, roughness: 0.5, metalness: 0.05 }));
  const m = new THREE.Mesh(cylinder, boneMats.get(c));
  m.userData.r = isFace(meta.names[j]) ? 1.2 : 0.8 * R;
  m.castShadow = true;
  scene.add(m);
  bones.push([j, p, m]);
});

const cur = new Float32Array(J * 3);
const seen = new Uint8Array(J);
const a = new THREE.Vector3(), b = new THREE.Vector3(), dir = new THREE.Vector3(), UP = new THREE.Vector3(0, 1, 0);

// Poses at time t (linear between frames); returns the frame index.
function pose(t) {
  const f = Math.min(Math.max(t * fps, 0), T - 1);
  const i = Math.floor(f), k = Math.min(i + 1, T - 1), w = f - i;
  for (let j = 0; j < J; j++) {
    const p = (i * J + j) * 3, q = (k * J + j) * 3;
    const pOk = !Number.isNaN(P[p]), qOk = !Number.isNaN(P[q]);
    seen[j] = pOk || qOk ? 1 : 0;
    for (let c = 0; c < 3; c++) {
      cur[j * 3 + c] = pOk && qOk ? P[p + c] + (P[q + c] - P[p + c]) * w : (pOk && (w < 0.5 || !qOk)) ? P[p + c] : P[q + c];
    }
    joints[j].visible = !!seen[j];
    if (seen[j]) joints[j].position.set(cur[j * 3], cur[j * 3 + 1], cur[j * 3 + 2]);
  }
  for (const [j, p, m] of bones) {
    m.visible = !!(seen[j] && seen[p]);
    if (!m.visible) continue;
    a.set(cur[j * 3], cur[j * 3 + 1], cur[j * 3 + 2]);
    b.set(cur[p * 3], cur[p * 3 + 1], cur[p * 3 + 2]);
    dir.subVectors(b, a);
    const len = dir.length();
    if (len < 1e-3) { m.visible = false; continue; }
    m.position.addVectors(a, b).multiplyScalar(0.5);
    m.quaternion.setFromUnitVectors(UP, dir.multiplyScalar(1 / len));
    m.scale.set(m.userData.r, len, m.userData.r);
  }
  return i;
}

// Camera: from the side the dancer faces, following the figure across the floor.
const camera = new THREE.PerspectiveCamera(40, window.innerWidth / window.innerHeight, 5, 20000);
const controls = new OrbitControls(camera, renderer.domElement);
controls.enableDamping = false;
controls.maxPolarAngle = Math.PI * 0.495;
const [vx, vz] = meta.view_from;
function placeCamera(i) {
  controls.target.set(fx[i], centreY, fz[i]);
  camera.position.set(fx[i] + vx * 460, centreY + 70, fz[i] + vz * 460);
  controls.update();
}
function follow(i) {
  if (!$('follow').checked) return;
  const dx = fx[i] - controls.target.x, dz = fz[i] - controls.target.z;
  controls.target.x += dx; controls.target.z += dz;
  camera.position.x += dx; camera.position.z += dz;
  controls.update();
}
function lightAt(target) {
  // Light from above, in front of the figure and to one side.
  sun.position.set(target.x + vx * 250 - vz * 200, 650, target.z + vz * 250 + vx * 200);
  sun.target.position.copy(target);
}

// Song and clock: while playing, the song's time (less the song time of frame 0, S) drives the
// figure; a wall clock does past the song's end or when the browser will not play it.
const audio = new Audio();
audio.preload = 'auto';
audio.src = URL.createObjectURL(new Blob([bytesOf('song')], { type: meta.song_mime }));
let t = 0, playing = false, audioOk = true, dirty = true, last = performance.now();
// The song's time as last read, and since when it has not moved (a stuck audio clock).
let heard = null, heardSince = 0;

function clampT(x) { return Math.min(Math.max(Number.isFinite(x) ? x : 0, 0), duration); }
function seek(x) {
  t = clampT(x);
  try { audio.currentTime = t + S; } catch (e) { /* not loaded yet: play() seeks */ }
  dirty = true;
}
function startAudio() {
  if (!audioOk || t + S >= meta.song_secs) return;
  if (Math.abs(audio.currentTime - S - t) > 0.05) { try { audio.currentTime = t + S; } catch (e) { /* ignore */ } }
  // Refused (no user gesture, no audio device, unsupported): the wall clock takes over. A play
  // interrupted by a pause (AbortError) is no reason to give up on the song.
  audio.play().catch((e) => { if (e.name !== 'AbortError') audioOk = false; });
}
function play() {
  if (t >= duration - 1e-3) seek(0);
  playing = true;
  audioOk = true;
  heard = null;
  last = performance.now();
  $('play').textContent = '❚❚ Pause';
  startAudio();
}
function pause() {
  playing = false;
  audio.pause();
  $('play').textContent = '▶ Play';
  dirty = true;
}
$('play').addEventListener('click', () => (playing ? pause() : play()));
const slider = $('slider');
slider.max = String(duration);
slider.addEventListener('input', () => { seek(parseFloat(slider.value)); if (playing) startAudio(); });
window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type === 'range') return;
  if (e.code === 'Space') { e.preventDefault(); playing ? pause() : play(); }
  if (!playing && e.code === 'ArrowRight') seek(t + 1 / fps);
  if (!playing && e.code === 'ArrowLeft') seek(t - 1 / fps);
});
function fromHash() {
  const m = /(?:^#|&)t=([0-9]*\.?[0-9]+)/.exec(window.location.hash);
  if (m) { pause(); seek(parseFloat(m[1])); return true; }
  return false;
}
window.addEventListener('hashchange', () => { if (fromHash()) follow(Math.min(T - 1, Math.floor(t * fps))); });
controls.addEventListener('change', () => { dirty = true; });
window.addEventListener('resize', () => {
  camera.aspect = window.innerWidth / window.innerHeight;
  camera.updateProjectionMatrix();
  renderer.setSize(window.innerWidth, window.innerHeight);
  dirty = true;
});

// Index of the last beat at or before s (−1 if none).
function lastBeat(s) {
  let lo = 0, hi = beats.length - 1, k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (beats[mid] <= s) { k = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return k;
}

function draw() {
  const i = pose(t);
  follow(i);
  lightAt(controls.target);
  const k = lastBeat(t);
  const since = k >= 0 ? t - beats[k] : Infinity;
  $('beat').classList.toggle('on', since < 0.12);
  ring.material.opacity = 0.12 + 0.78 * Math.max(0, 1 - since / 0.2);
  ring.position.x = cx[i];
  ring.position.z = cz[i];
  $('beatn').textContent = beats.length ? `beat ${k + 1} / ${beats.length}` : 'no beats';
  $('time').textContent = `${t.toFixed(2)} / ${duration.toFixed(2)} s`;
  if (document.activeElement !== slider) slider.value = String(t);
  renderer.render(scene, camera);
}

function frame(now) {
  const dt = Math.min(0.25, Math.max(0, (now - last) / 1000));
  last = now;
  if (playing) {
    let next = t + dt;
    if (audioOk && !audio.paused && !audio.ended) {
      const at = audio.currentTime - S;
      if (at !== heard) { heard = at; heardSince = now; }
      // Playing but not moving for 1.5 s (the song is in memory, so this is no slow download: no
      // audio output, a decoder that will not start): the wall clock takes over, from here.
      if (audio.error || now - heardSince > 1500) { audioOk = false; audio.pause(); } else next = at;
    }
    if (next >= duration) {
      if ($('loop').checked) { seek(0); startAudio(); } else { t = duration; pause(); }
    } else {
      t = next;
    }
    dirty = true;
  }
  if (dirty) { dirty = false; draw(); }
  window.requestAnimationFrame(frame);
}

fromHash();
placeCamera(Math.min(T - 1, Math.floor(t * fps)));
window.choreoView = { seek, play, pause, get time() { return t; } };
window.requestAnimationFrame(frame);
